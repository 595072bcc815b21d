"""Multi-object tracking of per-frame detections (docs/paper_code_behaviour.md#tracking): one registry of trackers, one
clip loop.

`track_clip(dets, num_frames, name, cfg)` turns a clip's detections (MOT rows, 1-based frames and pixels) into
track rows in the same format. It steps the tracker on EVERY frame 1..num_frames, empty ones included, so
lost tracks age across gaps and trailing empty frames (the paper skips frames without detection rows,
docs/paper_code_behaviour.md#defect-9-12-tracker-skips-empty-frames).
A new tracker is one file with a class exposing `step(K×5 [x1, y1, x2, y2, conf]) -> rows` (see
`sort.STEP_COLUMNS`) plus one line in `TRACKERS`.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass

import numpy as np

from common.cli import fail

# name → "module:Class", imported on use (ultralytics costs seconds at import).
TRACKERS = {
    "bytetrack": "downstream.tracking.bytetrack:ByteTrack",
    "sort": "downstream.tracking.sort:Sort",
    "paper_bytetrack": "downstream.tracking.sort:PaperByteTrack",
}
BOX_SOURCES = ("detection", "kalman")


@dataclass
class TrackerConfig:
    """Tracking settings; defaults are the paper's `track.py` constants (docs/paper_code_behaviour.md#tracking and
    #numbers-in-the-original-repository)."""

    det_thresh: float = 0.1      # detections below are dropped before tracking
    low_thresh: float = 0.1      # ByteTrack's low band starts here
    high_thresh: float = 0.3     # first association and new tracks use detections at or above this
    max_age: int = 20            # frames a lost track survives without a match
    min_hits: int = 11           # tracks matched in fewer frames are dropped
    iou_threshold: float = 0.01  # minimum IoU of a detection–track match
    boxes: str = "detection"     # output box: the matched detection's or the Kalman filter's
    nms_thresh: float | None = None  # optional per-frame NMS IoU before tracking (detect.py already applies NMS)


def make_tracker(name: str, cfg: TrackerConfig):
    """A fresh tracker instance (one per clip: ids restart at 1)."""
    if name not in TRACKERS:
        fail(f"unknown tracker {name!r}; choose one of {', '.join(TRACKERS)}")
    module, cls = TRACKERS[name].split(":")
    return getattr(importlib.import_module(module), cls)(cfg)


def nms(xyxy_conf: np.ndarray, iou_thresh: float) -> np.ndarray:
    """Greedy class-agnostic NMS: indices of kept boxes, highest confidence first."""
    from common.boxes import box_iou

    order = np.argsort(-xyxy_conf[:, 4], kind="stable")
    keep: list[int] = []
    for i in order:
        if not keep or box_iou(xyxy_conf[i:i + 1, :4], xyxy_conf[keep, :4]).max() <= iou_thresh:
            keep.append(int(i))
    return np.asarray(keep, dtype=int)


def keep_long_tracks(rows: np.ndarray, min_hits: int) -> np.ndarray:
    """Drop tracks with fewer than `min_hits` rows (the paper's min_hits, applied to the finished track)."""
    if len(rows) == 0 or min_hits <= 1:
        return rows
    ids, counts = np.unique(rows[:, 1], return_counts=True)
    return rows[np.isin(rows[:, 1], ids[counts >= min_hits])]


def renumber_tracks(rows: np.ndarray) -> np.ndarray:
    """Track ids 1..K in order of first appearance (the paper remaps kept ids to consecutive numbers too)."""
    rows = rows.copy()
    order = np.lexsort((rows[:, 1], rows[:, 0]))
    mapping: dict[float, int] = {}
    for tid in rows[order, 1]:
        mapping.setdefault(float(tid), len(mapping) + 1)
    rows[:, 1] = [mapping[float(t)] for t in rows[:, 1]]
    return rows


def track_clip(dets: np.ndarray, num_frames: int, name: str = "bytetrack", cfg: TrackerConfig | None = None
               ) -> np.ndarray:
    """Track one clip's detections (N×10 MOT rows) over frames 1..num_frames; returns N'×10 track rows.

    Row = frame, track_id, left, top, w, h, conf, -1, -1, -1 with conf the matched detection's confidence.
    """
    cfg = cfg or TrackerConfig()
    if cfg.boxes not in BOX_SOURCES:
        fail(f"unknown box source {cfg.boxes!r}; choose one of {', '.join(BOX_SOURCES)}")
    dets = np.asarray(dets, dtype=np.float64).reshape(-1, 10)
    dets = dets[dets[:, 6] >= cfg.det_thresh]
    tracker = make_tracker(name, cfg)
    frame_of = dets[:, 0].astype(int)
    out = []
    for frame in range(1, int(num_frames) + 1):
        d = dets[frame_of == frame]
        xyxy_conf = np.column_stack([d[:, 2], d[:, 3], d[:, 2] + d[:, 4], d[:, 3] + d[:, 5], d[:, 6]])
        if cfg.nms_thresh is not None and len(xyxy_conf) > 1:
            xyxy_conf = xyxy_conf[nms(xyxy_conf, cfg.nms_thresh)]
        for tid, x1, y1, x2, y2, score, idx, confirmed in tracker.step(xyxy_conf):
            if cfg.boxes == "detection" and idx >= 0:
                x1, y1, x2, y2 = xyxy_conf[int(idx), :4]
            out.append([frame, tid, x1, y1, x2 - x1, y2 - y1, score, -1, -1, -1, confirmed])
    rows = np.asarray(out, dtype=np.float64).reshape(-1, 11)
    confirmed_ids = np.unique(rows[rows[:, 10] == 1, 1])
    rows = rows[np.isin(rows[:, 1], confirmed_ids), :10]
    return renumber_tracks(keep_long_tracks(rows, cfg.min_hits))
