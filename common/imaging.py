"""The one float → 8-bit mapping and the one animated-GIF writer of the project.

`to_uint8` rounds to the nearest grey level (the paper's `(x * 255).astype(np.uint8)` truncated, which darkens
by up to one level) and maps a constant image to 0 rather than dividing by zero
(docs/paper_code_behaviour.md#defect-9-10-per-frame-normalisation).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from common.atomic import atomic_path


def to_uint8(x: np.ndarray, lo: float | None = None, hi: float | None = None) -> np.ndarray:
    """Map [lo, hi] linearly onto 0..255, rounded and clipped; lo/hi default to the array's min/max.

    A constant range (hi <= lo) gives 0 everywhere, and NaN pixels give 0, never NaN or garbage.
    """
    a = np.asarray(x)
    if not np.issubdtype(a.dtype, np.floating) or a.dtype.itemsize < 4:
        a = a.astype(np.float64 if a.dtype.itemsize > 2 else np.float32)
    lo = float(np.nanmin(a)) if lo is None else float(lo)
    hi = float(np.nanmax(a)) if hi is None else float(hi)
    scale = 255.0 / (hi - lo) if hi > lo else 0.0
    y = (a - lo) * scale
    np.rint(y, out=y)
    np.clip(y, 0.0, 255.0, out=y)
    np.nan_to_num(y, copy=False, nan=0.0)
    return y.astype(np.uint8)


def write_gif(path: str, frames: Sequence[np.ndarray], fps: float = 10.0) -> str:
    """Write an animated GIF atomically (looping); frames are uint8 H×W grey or H×W×3 in OpenCV (BGR) order."""
    from PIL import Image

    if not len(frames):
        raise ValueError(f"no frames to write to {path}")
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    images = [Image.fromarray(np.ascontiguousarray(f[..., 2::-1] if f.ndim == 3 else f)) for f in frames]
    with atomic_path(path) as tmp:
        images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:],
                       duration=max(1, round(1000 / fps)), loop=0)
    return path
