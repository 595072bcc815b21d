"""Trackers (downstream/tracking): identities through gaps, ageing on empty frames, min_hits, boxes, counting."""
from __future__ import annotations

import numpy as np
import pytest

from common.boxes import box_iou
from common.cli import UserError
from common.mot import write_mot
from downstream.tracking import TrackerConfig, keep_long_tracks, nms, renumber_tracks, track_clip
from downstream.tracking.sort import associate

TRACKERS = ("bytetrack", "sort", "paper_bytetrack")


def det_rows(tracks: dict[int, list[tuple[int, float, float]]], w: float = 10, h: float = 6, conf: float = 0.9):
    """MOT detection rows from {object: [(frame, left, top), ...]}."""
    rows = [[f, i, x, y, w, h, conf, -1, -1, -1] for i, pts in tracks.items() for f, x, y in pts]
    return np.asarray(rows, dtype=np.float64)


def moving(frames, x0: float, y: float, vx: float = 2.0):
    return [(f, x0 + vx * (f - 1), y) for f in frames]


def ids_per_object(out: np.ndarray, dets: np.ndarray) -> dict[int, set[int]]:
    """Map each detection object id to the track ids whose boxes coincide with it."""
    found: dict[int, set[int]] = {}
    for d in dets:
        same = out[(out[:, 0] == d[0]) & np.all(np.isclose(out[:, 2:6], d[2:6]), axis=1)]
        found.setdefault(int(d[1]), set()).update(int(t) for t in same[:, 1])
    return found


def test_associate_rejects_pairs_below_threshold():
    dets = np.array([[0, 0, 10, 10, 0.9], [100, 100, 110, 110, 0.9]])
    boxes = np.array([[1, 0, 11, 10], [50, 50, 60, 60]])
    matches, u_det, u_trk = associate(dets, boxes, 0.5)
    assert matches == [(0, 0)] and u_det == [1] and u_trk == [1]


@pytest.mark.parametrize("name", TRACKERS)
def test_identity_kept_through_short_detection_gap(name):
    # Two fish swim right in parallel; fish 1 is not detected in frames 8-10.
    fish1 = [p for p in moving(range(1, 21), 5, 10) if not 8 <= p[0] <= 10]
    dets = det_rows({1: fish1, 2: moving(range(1, 21), 5, 40)})
    out = track_clip(dets, 20, name, TrackerConfig(min_hits=3))
    found = ids_per_object(out, dets)
    assert all(len(v) == 1 for v in found.values()), found
    assert found[1] != found[2]
    assert len(np.unique(out[:, 1])) == 2
    assert len(out[out[:, 0] == 9]) == 1  # no invented row for the undetected fish


@pytest.mark.parametrize("name", TRACKERS)
def test_empty_frames_age_tracks(name):
    # One fish, undetected for 6 frames with no detection rows at all; max_age 3 must end its first track.
    # (The paper skips such frames, so its tracks never age across them,
    # docs/paper_code_behaviour.md#defect-9-12-tracker-skips-empty-frames.)
    pts = [p for p in moving(range(1, 21), 5, 10, vx=0.5) if not 8 <= p[0] <= 13]
    dets = det_rows({1: pts})
    out = track_clip(dets, 20, name, TrackerConfig(min_hits=1, max_age=3))
    assert len(np.unique(out[:, 1])) == 2
    same_gap = track_clip(dets, 20, name, TrackerConfig(min_hits=1, max_age=10))
    assert len(np.unique(same_gap[:, 1])) == 1


@pytest.mark.parametrize("name", TRACKERS)
def test_detection_boxes_are_reproduced_and_first_frame_kept(name):
    dets = det_rows({1: moving(range(5, 16), 5, 10)})  # the fish appears at frame 5
    out = track_clip(dets, 18, name, TrackerConfig(min_hits=1))
    assert out[:, 0].min() == 5 and len(out) == len(dets)
    np.testing.assert_allclose(out[:, 2:7], dets[:, 2:7])
    kalman = track_clip(dets, 18, name, TrackerConfig(min_hits=1, boxes="kalman"))
    assert len(kalman) == len(dets)
    to_xyxy = lambda r: np.column_stack([r[:, 2], r[:, 3], r[:, 2] + r[:, 4], r[:, 3] + r[:, 5]])  # noqa: E731
    ious = np.diag(box_iou(to_xyxy(kalman), to_xyxy(dets)))
    assert ious.min() > 0.5 and not np.allclose(ious, 1.0)  # filtered estimates: close to, not equal to, the boxes


def test_min_hits_drops_short_tracks_and_ids_are_consecutive():
    dets = det_rows({1: moving(range(1, 16), 5, 10), 2: moving(range(3, 7), 5, 60)})
    out = track_clip(dets, 15, "sort", TrackerConfig(min_hits=5))
    assert sorted(np.unique(out[:, 1])) == [1]
    assert len(out) == 15


def test_low_confidence_detections_dropped_and_thresholds_applied():
    dets = det_rows({1: moving(range(1, 11), 5, 10)}, conf=0.05)
    assert len(track_clip(dets, 10, "bytetrack", TrackerConfig(min_hits=1))) == 0
    assert len(track_clip(dets, 10, "sort", TrackerConfig(min_hits=1))) == 0


def test_no_detections_gives_no_tracks():
    assert track_clip(np.zeros((0, 10)), 5, "bytetrack").shape == (0, 10)


def test_unknown_tracker_is_a_user_error():
    with pytest.raises(UserError, match="unknown tracker"):
        track_clip(np.zeros((0, 10)), 3, "deepsort")


def test_helpers_nms_keep_long_renumber():
    boxes = np.array([[0, 0, 10, 10, 0.5], [1, 0, 11, 10, 0.9], [50, 50, 60, 60, 0.3]])
    assert list(nms(boxes, 0.25)) == [1, 2]
    rows = np.array([[2, 7, 0, 0, 1, 1, 1, -1, -1, -1], [1, 9, 0, 0, 1, 1, 1, -1, -1, -1],
                     [3, 7, 0, 0, 1, 1, 1, -1, -1, -1]], dtype=float)
    assert list(keep_long_tracks(rows, 2)[:, 1]) == [7, 7]
    assert list(renumber_tracks(rows)[:, 1]) == [2, 1, 2]


# ---- counting (downstream/counting.count_crossings through stages.count_mot_file) ----------------------

@pytest.mark.parametrize("xs, expected", [
    ([10, 30, 60, 80], {"left": 0, "right": 1}),    # left → right
    ([80, 60, 30, 10], {"left": 1, "right": 0}),    # right → left
    ([10, 60, 80, 30], {"left": 0, "right": 0}),    # crosses, turns back: ends where it started
    ([48, 49, 48, 49], {"left": 0, "right": 0}),    # stationary at the middle (< min_travel)
    ([45, 30, 20, 10], {"left": 1, "right": 0}),    # starts exactly at 0.5: counts as right side
    ([45, 60, 70, 80], {"left": 0, "right": 0}),    # starts exactly at 0.5 going right: no crossing
])
def test_counting_rule_hand_cases(tmp_path, xs, expected):
    # width 100, box width 10, 1-based left: centre = (left - 1 + 5) / 100; left 46 → 0.5 exactly
    xs = [x + 1 if x == 45 else x for x in xs]
    rows = [[f + 1, 1, x, 20, 10, 6, 0.9, -1, -1, -1] for f, x in enumerate(xs)]
    path = str(tmp_path / "tracks.txt")
    write_mot(path, np.asarray(rows, dtype=float))
    from downstream.tracking.stages import count_mot_file

    meta = {"width": 100, "upstream_direction": "left"}
    got = count_mot_file(path, str(tmp_path), "d", "c", meta)
    assert {k: got[k] for k in ("left", "right")} == expected
    assert got["upstream"] == expected["left"] and got["downstream"] == expected["right"]
