"""SORT (Bewley et al. 2016) on filterpy's KalmanFilter and scipy's Hungarian solver, plus the paper's variant.

The state is SORT's constant-velocity 7-D vector [cx, cy, area, aspect, vcx, vcy, varea] with SORT's noise
settings, as in the paper code (docs/paper_code_behaviour.md#tracking). Maths lives in stateless functions (`associate`,
`xyxy_to_z`, `x_to_xyxy`); state lives in `KalmanBoxTrack` and `Sort`. `PaperByteTrack` overrides only the
association hook to reproduce the paper's SORT-based "ByteTrack" (`tracker_bytetrack.Associate`), defect
included (low detections matched against all tracks,
docs/paper_code_behaviour.md#defect-9-12-tracker-skips-empty-frames), for comparisons with the paper's numbers.

A tracker's `step(dets)` takes one frame's K×5 array [x1, y1, x2, y2, conf] and returns rows
[track_id, x1, y1, x2, y2, score, det_index, confirmed] for the tracks updated in that frame
(see `downstream.tracking.track_clip`, which turns them into MOT rows).
"""
from __future__ import annotations

import numpy as np

from common.boxes import box_iou

STEP_COLUMNS = ("track_id", "x1", "y1", "x2", "y2", "score", "det_index", "confirmed")


def associate(dets: np.ndarray, boxes: np.ndarray, iou_threshold: float
              ) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Hungarian matching maximising IoU; pairs below `iou_threshold` are rejected.

    Returns (matches as (det, track) pairs, unmatched det indices, unmatched track indices). The paper code
    short-cuts to a greedy pick when every row and column has at most one IoU above the threshold; that pick
    is the Hungarian optimum too, so one path suffices here.
    """
    from scipy.optimize import linear_sum_assignment

    n, m = len(dets), len(boxes)
    if n == 0 or m == 0:
        return [], list(range(n)), list(range(m))
    iou = box_iou(np.asarray(dets)[:, :4], boxes)
    rows, cols = linear_sum_assignment(-iou)
    matches = [(int(r), int(c)) for r, c in zip(rows, cols) if iou[r, c] >= iou_threshold and iou[r, c] > 0]
    md = {r for r, _ in matches}
    mt = {c for _, c in matches}
    return matches, [i for i in range(n) if i not in md], [j for j in range(m) if j not in mt]


def xyxy_to_z(box: np.ndarray) -> np.ndarray:
    """[x1, y1, x2, y2] → SORT measurement [cx, cy, area, aspect] as a 4×1 column."""
    w, h = box[2] - box[0], box[3] - box[1]
    return np.array([box[0] + w / 2.0, box[1] + h / 2.0, w * h, w / float(h)]).reshape(4, 1)


def x_to_xyxy(x: np.ndarray) -> np.ndarray:
    """SORT state [cx, cy, area, aspect, ...] → [x1, y1, x2, y2] (NaN when the area went negative)."""
    x = np.asarray(x, dtype=np.float64).ravel()
    w = np.sqrt(x[2] * x[3]) if x[2] * x[3] >= 0 else np.nan
    h = x[2] / w if w else np.nan
    return np.array([x[0] - w / 2.0, x[1] - h / 2.0, x[0] + w / 2.0, x[1] + h / 2.0])


class KalmanBoxTrack:
    """One track: a 7-D constant-velocity Kalman filter with SORT's noise settings
    (docs/paper_code_behaviour.md#tracking)."""

    def __init__(self, box: np.ndarray, score: float, det_index: int, track_id: int):
        from filterpy.kalman import KalmanFilter

        kf = KalmanFilter(dim_x=7, dim_z=4)
        kf.F = np.eye(7)
        kf.F[0, 4] = kf.F[1, 5] = kf.F[2, 6] = 1.0
        kf.H = np.eye(4, 7)
        kf.R[2:, 2:] *= 10.0
        kf.P[4:, 4:] *= 1000.0  # unobserved initial velocities: high uncertainty
        kf.P *= 10.0
        kf.Q[-1, -1] *= 0.01
        kf.Q[4:, 4:] *= 0.01
        kf.x[:4] = xyxy_to_z(box)
        self.kf = kf
        self.track_id = track_id
        self.score = float(score)
        self.det_index = det_index
        self.time_since_update = 0
        self.hits = 1
        self.hit_streak = 1

    def predict(self) -> np.ndarray:
        if self.kf.x[6, 0] + self.kf.x[2, 0] <= 0:  # the area may not shrink below zero
            self.kf.x[6, 0] = 0.0
        self.kf.predict()
        if self.time_since_update > 0:
            self.hit_streak = 0
        self.time_since_update += 1
        return x_to_xyxy(self.kf.x)

    def update(self, box: np.ndarray, score: float, det_index: int) -> None:
        self.kf.update(xyxy_to_z(box))
        self.time_since_update = 0
        self.hits += 1
        self.hit_streak += 1
        self.score = float(score)
        self.det_index = det_index

    @property
    def box(self) -> np.ndarray:
        return x_to_xyxy(self.kf.x)


class Sort:
    """SORT with one detection set: every detection the caller passes (≥ det_thresh) is matched and may start a track.

    Variants override `match` (which detections update which track, which start tracks); `step` stays shared.
    """

    def __init__(self, cfg) -> None:
        self.cfg = cfg
        self.tracks: list[KalmanBoxTrack] = []
        self.next_id = 1

    def match(self, dets: np.ndarray, boxes: np.ndarray) -> tuple[list[tuple[int, int]], list[int]]:
        """Return (det→track matches, det indices that start new tracks)."""
        matches, unmatched, _ = associate(dets, boxes, self.cfg.iou_threshold)
        return matches, unmatched

    def step(self, dets: np.ndarray) -> np.ndarray:
        dets = np.asarray(dets, dtype=np.float64).reshape(-1, 5)
        predicted = [t.predict() for t in self.tracks]
        keep = [i for i, b in enumerate(predicted) if np.all(np.isfinite(b))]
        self.tracks = [self.tracks[i] for i in keep]
        boxes = np.asarray([predicted[i] for i in keep]).reshape(-1, 4)
        matches, new = self.match(dets, boxes)
        for d, t in matches:
            self.tracks[t].update(dets[d, :4], dets[d, 4], d)
        for d in new:
            self.tracks.append(KalmanBoxTrack(dets[d, :4], dets[d, 4], d, self.next_id))
            self.next_id += 1
        out = [[t.track_id, *t.box, t.score, t.det_index, 1] for t in self.tracks if t.time_since_update == 0]
        self.tracks = [t for t in self.tracks if t.time_since_update <= self.cfg.max_age]
        return np.asarray(out, dtype=np.float64).reshape(-1, len(STEP_COLUMNS))


class PaperByteTrack(Sort):
    """The paper's SORT-based "ByteTrack" (`Associate`, docs/paper_code_behaviour.md#tracking), kept for comparison
    with its numbers.

    High detections (conf ≥ high_thresh) and low ones (low_thresh ≤ conf < high_thresh) are each matched
    against ALL tracks; a low match updates a track only if no high detection took it; only unmatched high
    detections start tracks. (Real ByteTrack matches low detections to the still-unmatched tracks only,
    docs/paper_code_behaviour.md#defect-9-12-tracker-skips-empty-frames.)
    """

    def match(self, dets: np.ndarray, boxes: np.ndarray) -> tuple[list[tuple[int, int]], list[int]]:
        high = np.flatnonzero(dets[:, 4] >= self.cfg.high_thresh)
        low = np.flatnonzero((dets[:, 4] >= self.cfg.low_thresh) & (dets[:, 4] < self.cfg.high_thresh))
        m_high, u_high, _ = associate(dets[high], boxes, self.cfg.iou_threshold)
        m_low, _, _ = associate(dets[low], boxes, self.cfg.iou_threshold)
        taken = {t for _, t in m_high}
        matches = [(int(high[d]), t) for d, t in m_high]
        matches += [(int(low[d]), t) for d, t in m_low if t not in taken]
        return matches, [int(high[d]) for d in u_high]
