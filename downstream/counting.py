"""The CFC22 counting rule and nMAE (docs/paper_code_behaviour.md#counting; Kay et al., Caltech Fish Counting).

A track counts *right* when its first box centre is left of the frame's middle (x < 0.5 of the width) and its
last is at or right of it; *left* for the reverse. Tracks whose first-to-last centre displacement is below
`min_travel` (0.05 of the width) are ignored: stationary debris and fish milling in place are not counted.
"""
from __future__ import annotations

import numpy as np

from downstream.mot import by_track

MIN_TRAVEL = 0.05


def track_direction(first_cx: float, last_cx: float, min_travel: float = MIN_TRAVEL) -> str | None:
    """'right', 'left' or None for normalised first/last centre x."""
    if abs(last_cx - first_cx) < min_travel:
        return None
    if first_cx < 0.5 <= last_cx:
        return "right"
    if first_cx >= 0.5 > last_cx:
        return "left"
    return None


def count_crossings(rows: np.ndarray, width: float, min_travel: float = MIN_TRAVEL) -> dict[str, int]:
    """Count left/right crossings of MOT rows (1-based pixels) in a frame `width` pixels wide."""
    counts = {"left": 0, "right": 0}
    for track in by_track(np.asarray(rows).reshape(-1, 10)).values():
        cx = (track[:, 2] - 1.0 + track[:, 4] / 2.0) / float(width)
        d = track_direction(float(cx[0]), float(cx[-1]), min_travel)
        if d:
            counts[d] += 1
    return counts


def with_stream_direction(counts: dict[str, int], upstream_direction: str | None) -> dict[str, int]:
    """Add upstream/downstream counts when the clip's metadata says which way is upstream ('left'/'right')."""
    out = dict(counts)
    if upstream_direction in ("left", "right"):
        down = "right" if upstream_direction == "left" else "left"
        out["upstream"] = counts[upstream_direction]
        out["downstream"] = counts[down]
    return out


def nmae(pred: dict[str, dict[str, int]], gt: dict[str, dict[str, int]]) -> tuple[float, dict[str, int]]:
    """nMAE = Σ_clips(|Δleft| + |Δright|) / Σ_clips(gt_left + gt_right); also per-clip errors.

    Clips missing from `pred` count as zero predictions. Raises ValueError if the ground truth has no fish.
    """
    errors = {}
    total = 0
    for clip, g in gt.items():
        p = pred.get(clip, {"left": 0, "right": 0})
        errors[clip] = abs(p.get("left", 0) - g["left"]) + abs(p.get("right", 0) - g["right"])
        total += g["left"] + g["right"]
    if total == 0:
        raise ValueError("nMAE is undefined: the ground truth counts no fish")
    return sum(errors.values()) / total, errors


def per_frame_count_errors(pred: np.ndarray, gt: np.ndarray, n_frames: int) -> np.ndarray:
    """|predicted − true number of objects| in each frame 1..n_frames of a clip (MOT rows; others ignored).

    The count measure for data without crossing semantics (ultrasound, microscopy, ...): its mean is the
    per-frame count MAE.
    """
    def per_frame(rows: np.ndarray) -> np.ndarray:
        f = np.asarray(rows).reshape(-1, 10)[:, 0].astype(int)
        f = f[(f >= 1) & (f <= n_frames)]
        return np.bincount(f - 1, minlength=n_frames)

    return np.abs(per_frame(pred) - per_frame(gt))
