"""ByteTrack (Zhang et al. 2022) through ultralytics' maintained `BYTETracker`, adapted at the edges.

The paper's own "ByteTrack" is a SORT variant with two defects
(docs/paper_code_behaviour.md#defect-9-12-tracker-skips-empty-frames): it never steps the tracker on frames
without detection rows, and it matches low detections against all tracks. Using the real ByteTrack and
stepping it on every frame fixes both. How the paper's settings map (style.md, ultralytics 8.4.190):

- high/low confidence 0.3/0.1 → `track_high_thresh`/`track_low_thresh`; new tracks start from unmatched high
  detections (`new_track_thresh` = high). ultralytics' low band is `low < conf < high` (the paper: `low ≤ conf`).
- max age 20 → `track_buffer`; association IoU 0.01 → `match_thresh = 1 − 0.01` with `fuse_score=False`.
- Fixed inside ultralytics: the second (low-score) association needs IoU ≥ 0.5, and a new track is confirmed
  only if its next-frame detection overlaps it with IoU ≥ 0.3 (tracks born in frame 1 are confirmed at once).
- No `min_hits`: `track_clip` filters on track length afterwards.

`step` also reports the not-yet-confirmed tracks (confirmed=0) so that a track's first frame, which
ultralytics never outputs, is restored once the track is confirmed.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from downstream.tracking.sort import STEP_COLUMNS


class Detections:
    """The minimal results object `BYTETracker.update` reads: numpy `conf`, `cls`, `xywh` (centre), len, mask indexing."""

    def __init__(self, xyxy_conf: np.ndarray):
        d = np.asarray(xyxy_conf, dtype=np.float32).reshape(-1, 5)
        self.data = d
        self.conf = d[:, 4]
        self.cls = np.zeros(len(d), dtype=np.float32)
        self.xyxy = d[:, :4]
        self.xywh = np.concatenate([(d[:, :2] + d[:, 2:4]) / 2.0, d[:, 2:4] - d[:, :2]], axis=1)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index) -> "Detections":
        return Detections(self.data[index])


def tracker_args(cfg) -> SimpleNamespace:
    """Our flags (a TrackerConfig) → the six attributes BYTETracker reads."""
    return SimpleNamespace(
        tracker_type="bytetrack",
        track_high_thresh=cfg.high_thresh,
        track_low_thresh=cfg.low_thresh,
        new_track_thresh=cfg.high_thresh,
        track_buffer=cfg.max_age,
        match_thresh=1.0 - cfg.iou_threshold,
        fuse_score=False,
    )


class ByteTrack:
    """One ultralytics BYTETracker per clip (its track ids are per instance)."""

    def __init__(self, cfg) -> None:
        import common.offline  # noqa: F401  (before ultralytics)
        from ultralytics.trackers.byte_tracker import BYTETracker

        self.tracker = BYTETracker(tracker_args(cfg))

    def step(self, dets: np.ndarray) -> np.ndarray:
        out = np.asarray(self.tracker.update(Detections(dets))).reshape(-1, 8)  # (0,) when nothing is confirmed
        rows = [[r[4], r[0], r[1], r[2], r[3], r[5], r[7], 1] for r in out]
        frame = self.tracker.frame_id
        rows += [[t.track_id, *t.xyxy, t.score, t.idx, 0] for t in self.tracker.tracked_stracks
                 if not t.is_activated and t.frame_id == frame]
        return np.asarray(rows, dtype=np.float64).reshape(-1, len(STEP_COLUMNS))
