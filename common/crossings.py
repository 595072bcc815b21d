"""The CFC22 counting rule (docs/paper_code_behaviour.md#counting; Kay et al., Caltech Fish Counting).

A track counts *right* when its first box centre is left of the frame's middle (x < 0.5 of the width) and its
last is at or right of it; *left* for the reverse. Tracks whose first-to-last centre displacement is below
`min_travel` (0.05 of the width) are ignored: stationary debris and fish milling in place are not counted.

A leaf module (pure numpy on MOT rows) because the synthetic generator counts its ground truth with the same rule
the counting stage applies to tracks; nMAE and the per-frame count error are in `downstream.counting`.
"""
from __future__ import annotations

import numpy as np

from common.mot import by_track

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
