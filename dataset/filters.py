"""Classical video filters and background subtraction: the maths behind the frame-preparation tools in setup/.

Pure numpy/scipy functions on whole clips (T×H×W arrays), so each one is tested against hand-computed arrays and
the scripts only walk trees and write files. Behaviour follows the paper's setup scripts
(docs/paper_code_behaviour.md#setup-scripts):

- temporal median (size 3 along time, reflect), 3×3×3 mean, Gaussian σ=(1,1,1) over (t, y, x), reflect;
- the paper's output normalisation: global min-max over the clip, then min-max per frame, ×255 → uint8
  (common.imaging.to_uint8 rounds where the paper truncated: at most one grey level apart);
- background subtraction: background = temporal mean of 5×5-Gaussian-blurred frames, D = frame − background,
  D ← (D / max|D| + 1) / 2 so that 0.5 means "equals the background";
- the CFC "Baseline++" 3-channel frame [raw, BS, |BS_{t+1} − BS_t|].

Differences from the paper code (documented in docs/data_preparation.md): filters run in float32 (the paper filtered
uint8 arrays, so mean/Gaussian results were truncated to integers before normalisation); constant clips/frames map
to 0 instead of dividing by zero; the background blur is OpenCV's 5×5 σ=0 kernel ([1,4,6,4,1]/16, mirror border)
applied in float instead of to uint8.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from common.imaging import to_uint8

# OpenCV's GaussianBlur with ksize=5 and sigma=0 uses this fixed binomial kernel (not sampled from a Gaussian).
BLUR5_KERNEL = np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0


def _as_clip(frames: np.ndarray) -> np.ndarray:
    arr = np.asarray(frames)
    if arr.ndim != 3:
        raise ValueError(f"expected a T×H×W clip, got shape {arr.shape}")
    return arr.astype(np.float32, copy=False)


def temporal_median(frames: np.ndarray) -> np.ndarray:
    """Median over 3 consecutive frames (time only; reflect at the clip ends), the paper's median filter
    (docs/paper_code_behaviour.md#setup-scripts)."""
    from scipy.ndimage import median_filter

    return median_filter(_as_clip(frames), size=(3, 1, 1), mode="reflect")


def mean_3d(frames: np.ndarray) -> np.ndarray:
    """3×3×3 spatio-temporal box mean (reflect borders), the paper's 'mean' baseline."""
    from scipy.ndimage import uniform_filter

    return uniform_filter(_as_clip(frames), size=3, mode="reflect")


def gaussian_3d(frames: np.ndarray) -> np.ndarray:
    """Gaussian with σ=1 along t, y and x (reflect borders), the paper's 'gaussian' baseline."""
    from scipy.ndimage import gaussian_filter

    return gaussian_filter(_as_clip(frames), sigma=(1.0, 1.0, 1.0), mode="reflect")


FILTERS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "median": temporal_median,
    "mean": mean_3d,
    "gaussian": gaussian_3d,
}


def _minmax(x: np.ndarray) -> np.ndarray:
    lo, hi = float(x.min()), float(x.max())
    if hi <= lo:  # constant: the paper divided by zero here (NaN → garbage uint8)
        return np.zeros_like(x, dtype=np.float32)
    return ((x - lo) / (hi - lo)).astype(np.float32)


def normalize_global_then_per_frame(frames: np.ndarray) -> np.ndarray:
    """The paper's output normalisation: min-max over the whole clip, then min-max of each frame → [0, 1].

    The global step is kept for fidelity (it does not change the result of the per-frame step except for
    constant frames, which map to 0).
    """
    clip = _minmax(_as_clip(frames))
    return np.stack([_minmax(f) for f in clip])


def filter_clip(frames: np.ndarray, filter_type: str, normalize: bool = True) -> np.ndarray:
    """Apply a named classical filter to a uint8 clip and return uint8 T×H×W.

    normalize=True is the CFC22/CVA/POCUS path (global-then-per-frame min-max); False is the Fluo path, which
    keeps the filtered intensities.
    """
    if filter_type not in FILTERS:
        raise ValueError(f"unknown filter {filter_type!r}; choose from {', '.join(FILTERS)}")
    out = FILTERS[filter_type](frames)
    if normalize:
        return to_uint8(normalize_global_then_per_frame(out), 0.0, 1.0)
    return to_uint8(out, 0.0, 255.0)  # Fluo: the filtered grey levels themselves, rounded


def blur5(frames: np.ndarray) -> np.ndarray:
    """Per-frame 5×5 Gaussian blur equal to OpenCV's GaussianBlur(f, (5, 5), 0), in float (mirror border)."""
    from scipy.ndimage import correlate1d

    x = _as_clip(frames)
    x = correlate1d(x, BLUR5_KERNEL, axis=1, mode="mirror")
    return correlate1d(x, BLUR5_KERNEL, axis=2, mode="mirror")


def blurred_background(frames: np.ndarray, chunk: int = 64) -> np.ndarray:
    """The clip's static background: temporal mean of the blurred frames
    (docs/paper_code_behaviour.md#global-background and #setup-scripts), H×W float32.

    Blurred in chunks of frames so that a long full-resolution clip never needs a float copy of itself.
    """
    if np.asarray(frames).ndim != 3 or len(frames) == 0:
        raise ValueError(f"expected a non-empty T×H×W clip, got shape {np.shape(frames)}")
    total = np.zeros(frames.shape[1:], np.float64)
    for s in range(0, len(frames), chunk):
        total += blur5(frames[s:s + chunk]).sum(axis=0, dtype=np.float64)
    return (total / len(frames)).astype(np.float32)


def background_subtract(frames: np.ndarray) -> np.ndarray:
    """Background-subtracted clip in [0, 1], 0.5 = background (the paper's `background_subtract_frames.py`,
    docs/paper_code_behaviour.md#setup-scripts).

    D = f_t − background, scaled by one max|D| over the whole clip so that brightness stays comparable across
    frames. A clip equal to its background everywhere maps to 0.5.
    """
    x = _as_clip(frames)
    d = x - blurred_background(x)[None]
    peak = float(np.abs(d).max())
    if peak == 0.0:
        return np.full_like(d, 0.5)
    return ((d / peak + 1.0) / 2.0).astype(np.float32)


def frame_differences(frames: np.ndarray) -> np.ndarray:
    """|x_{t+1} − x_t| for every t; the last frame reuses the previous difference (a 1-frame clip gives 0)."""
    x = _as_clip(frames)
    if len(x) < 2:
        return np.zeros_like(x)
    diff = np.abs(x[1:] - x[:-1])
    return np.concatenate([diff, diff[-1:]], axis=0)


# Channel order of the Baseline++ frame, as RGB (the paper saved it with PIL): R = raw, G = BS, B = |ΔBS|.
BASELINE_PP_RGB = ("raw", "background_subtracted", "abs_bs_frame_difference")


def baseline_plus_plus(frames: np.ndarray) -> np.ndarray:
    """CFC 'Baseline++' frames (the paper's make_background_subtracted_frame_to_frame_difference_frames.py,
    docs/paper_code_behaviour.md#setup-scripts).

    Returns T×H×W×3 uint8 in RGB order `BASELINE_PP_RGB`: raw, background-subtracted, and |BS_{t+1} − BS_t|.
    """
    raw = np.asarray(frames)
    bs = background_subtract(raw)
    return np.stack([raw.astype(np.uint8), to_uint8(bs, 0.0, 1.0), to_uint8(frame_differences(bs), 0.0, 1.0)],
                    axis=-1)
