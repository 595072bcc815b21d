"""Tracking metrics (downstream/track_metrics): hand-computed MOTA/IDF1, combined vs paper way, motmetrics parity."""
from __future__ import annotations

import numpy as np
import pytest

from common.boxes import box_iou, mot_to_xyxy
from downstream.track_metrics import evaluate, sequence_data
from downstream.tracking import TrackerConfig, track_clip


def rows(items) -> np.ndarray:
    """MOT rows from (frame, id, left, top) with 10×10 boxes."""
    return np.asarray([[f, i, x, y, 10, 10, 1, -1, -1, -1] for f, i, x, y in items], dtype=np.float64).reshape(-1, 10)


GT4 = rows([(f, 1, 10 * f, 0) for f in range(1, 5)])  # one object, frames 1-4


def test_perfect_tracks_score_one():
    r = evaluate({"a": (GT4, GT4.copy(), 4)})
    for k in ("HOTA", "MOTA", "IDF1", "HOTA_alpha005"):
        assert r["combined"][k] == pytest.approx(1.0)
    assert r["clips"]["a"]["TP"] == 4 and r["clips"]["a"]["gt_ids"] == 1


def test_id_switch_hand_computed():
    # Tracker follows the object perfectly but changes id after frame 2: IDSW 1 → MOTA = 1 − 1/4;
    # IDTP 2, IDFP 2, IDFN 2 → IDF1 = 4 / (4 + 2 + 2) = 0.5.
    tr = GT4.copy()
    tr[2:, 1] = 7
    c = evaluate({"a": (GT4, tr, 4)})["clips"]["a"]
    assert c["IDSW"] == 1
    assert c["MOTA"] == pytest.approx(0.75)
    assert c["IDF1"] == pytest.approx(0.5)


def test_combined_differs_from_paper_mean_and_missing_tracks_are_misses():
    # Clip a: 4 GT, one miss + one FP → MOTA 0.5. Clip b: 2 GT, no tracks → MOTA 0.
    tr_a = np.vstack([GT4[:3], rows([(4, 1, 200, 200)])])
    gt_b = rows([(1, 1, 0, 0), (2, 1, 5, 0)])
    r = evaluate({"a": (GT4, tr_a, 4), "b": (gt_b, np.zeros((0, 10)), 2)})
    assert r["clips"]["a"]["MOTA"] == pytest.approx(0.5)
    assert r["clips"]["b"]["MOTA"] == pytest.approx(0.0) and r["clips"]["b"]["FN"] == 2
    assert r["paper_way"]["MOTA"] == pytest.approx(0.25)             # mean of 0.5 and 0
    assert r["combined"]["MOTA"] == pytest.approx(1 - (1 + 1 + 2) / 6)  # pooled: 4 errors over 6 GT boxes


def test_hota_alpha005_accepts_loose_boxes_the_mean_does_not():
    tr = GT4.copy()
    tr[:, 2] += 4  # IoU = 6·10 / (2·100 − 60) ≈ 0.43: matched at α = 0.05, not at α ≥ 0.45
    c = evaluate({"a": (GT4, tr, 4)})["clips"]["a"]
    assert c["HOTA_alpha005"] == pytest.approx(1.0)
    assert c["HOTA"] < 0.5 and c["MOTA"] == pytest.approx(-1.0)  # at IoU 0.5: 4 misses + 4 FPs


def test_zero_marked_gt_rows_are_ignored_and_frames_padded():
    gt = GT4.copy()
    gt[3, 6] = 0
    data = sequence_data(gt, GT4[:3], num_frames=6)
    assert data["num_gt_dets"] == 3 and data["num_timesteps"] == 6
    assert [len(x) for x in data["gt_ids"]] == [1, 1, 1, 0, 0, 0]


def _motmetrics_mota(gt: np.ndarray, tr: np.ndarray, n: int) -> float:
    """MOTA by motmetrics with our own IoU distance (its iou_matrix breaks on numpy 2, deps.md)."""
    import motmetrics as mm

    acc = mm.MOTAccumulator(auto_id=True)
    for f in range(1, n + 1):
        g, t = gt[gt[:, 0] == f], tr[tr[:, 0] == f]
        dist = 1.0 - box_iou(mot_to_xyxy(g), mot_to_xyxy(t))
        dist[dist > 0.5] = np.nan
        acc.update(g[:, 1].astype(int).tolist(), t[:, 1].astype(int).tolist(), dist)
    return float(mm.metrics.create().compute(acc, metrics=["mota"], name="x")["mota"].iloc[0])


def test_trackeval_mota_equals_motmetrics_mota():
    rng = np.random.default_rng(3)
    gt = rows([(f, i, 5 + 4 * f + 40 * i, 30 * i) for i in range(1, 4) for f in range(1, 31)])
    dets = gt[rng.random(len(gt)) > 0.25].copy()                     # 25 % misses
    fp = rows([(int(f), 9, float(x), 150.0) for f, x in zip(rng.integers(1, 31, 12), rng.uniform(0, 200, 12))])
    dets = np.vstack([dets, fp])
    dets[:, 2:4] += rng.normal(0, 1.0, (len(dets), 2))               # jitter
    dets[:, 6] = 0.9
    tr = track_clip(dets, 30, "sort", TrackerConfig(min_hits=1, max_age=1))
    r = evaluate({"s": (gt, tr, 30)})["clips"]["s"]
    assert r["FP"] > 0 and r["FN"] > 0                                # a non-trivial case
    assert r["MOTA"] == pytest.approx(_motmetrics_mota(gt, tr, 30), abs=1e-9)
