"""Count evaluation: upstream/downstream naming, nMAE (docs/paper_code_behaviour.md#counting) and the per-frame
count error of data without crossings. The crossing rule itself is `common.crossings` (the synthetic generator
counts its ground truth with it too).
"""
from __future__ import annotations

import numpy as np


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
