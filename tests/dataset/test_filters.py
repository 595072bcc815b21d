"""dataset/filters.py against hand-computed arrays (docs/paper_code_behaviour.md#setup-scripts)."""
from __future__ import annotations

import numpy as np
import pytest

from dataset import filters


def column(values) -> np.ndarray:
    """A T×1×1 clip: one pixel over time, so spatial reflect borders leave the value unchanged."""
    return np.asarray(values, dtype=np.float32)[:, None, None]


def test_temporal_median_reflects_at_clip_ends():
    out = filters.temporal_median(column([0, 10, 4]))
    # t0: median(f0, f0, f1) = median(0, 0, 10); t1: median(0, 10, 4); t2: median(10, 4, 4)
    assert out[:, 0, 0].tolist() == [0, 4, 4]


def test_temporal_median_is_time_only():
    clip = np.zeros((3, 3, 3), np.uint8)
    clip[1, 1, 1] = 200  # a single-frame spatial impulse: removed (time median), neighbours untouched
    clip[:, 0, 0] = 50
    out = filters.temporal_median(clip)
    assert out[1, 1, 1] == 0 and (out[:, 0, 0] == 50).all()


def test_mean_3d_over_time():
    out = filters.mean_3d(column([0, 3, 6]))
    assert np.allclose(out[:, 0, 0], [1, 3, 5])  # (0+0+3)/3, (0+3+6)/3, (3+6+6)/3


def test_gaussian_3d_keeps_constant_and_linear_interior():
    assert np.allclose(filters.gaussian_3d(np.full((5, 4, 4), 7.0)), 7.0)
    ramp = filters.gaussian_3d(column(np.arange(21)))
    assert ramp[10, 0, 0] == pytest.approx(10.0, abs=1e-4)


def test_normalize_global_then_per_frame_and_constant_guard():
    clip = np.array([[[0, 2], [4, 6]], [[1, 1], [1, 1]]], np.float32)
    out = filters.normalize_global_then_per_frame(clip)
    assert np.allclose(out[0], [[0, 1 / 3], [2 / 3, 1]])
    assert (out[1] == 0).all()  # constant frame → 0 instead of a division by zero
    assert (filters.normalize_global_then_per_frame(np.full((2, 2, 2), 9.0)) == 0).all()


def test_filter_clip_paths():
    clip = np.stack([np.full((2, 2), v, np.uint8) for v in (10, 20, 30)])
    clip[:, 0, 0] += 5
    out = filters.filter_clip(clip, "median")
    assert out.dtype == np.uint8 and out.shape == clip.shape
    assert (out[:, 0, 0] == 255).all() and (out[:, 1, 1] == 0).all()  # per-frame min-max
    fluo = filters.filter_clip(clip, "mean", normalize=False)  # no normalisation: intensities kept
    assert fluo.dtype == np.uint8 and abs(int(fluo[1, 1, 1]) - 21) <= 1
    with pytest.raises(ValueError, match="unknown filter"):
        filters.filter_clip(clip, "bilateral")


def test_blur5_equals_opencv_gaussian_blur():
    import cv2

    rng = np.random.default_rng(0)
    clip = rng.integers(0, 256, (2, 9, 11)).astype(np.float32)
    expected = np.stack([cv2.GaussianBlur(f, (5, 5), 0) for f in clip])
    assert np.allclose(filters.blur5(clip), expected, atol=1e-3)


def test_background_subtract_hand_computed():
    clip = np.stack([np.full((6, 6), v, np.uint8) for v in (100, 100, 160)])
    # background M = 120 everywhere; D = [-20, -20, 40]; max|D| = 40 → (D/40 + 1)/2
    out = filters.background_subtract(clip)
    assert np.allclose(out[:, 3, 3], [0.25, 0.25, 1.0])
    assert np.allclose(filters.background_subtract(np.full((3, 4, 4), 80, np.uint8)), 0.5)


def test_frame_differences_last_frame_reuses_previous():
    assert filters.frame_differences(column([0, 1, 3]))[:, 0, 0].tolist() == [1, 2, 2]
    assert (filters.frame_differences(column([5])) == 0).all()


def test_baseline_plus_plus_channels_rgb():
    clip = np.stack([np.full((4, 4), v, np.uint8) for v in (100, 100, 160)])
    out = filters.baseline_plus_plus(clip)
    assert out.shape == (3, 4, 4, 3) and out.dtype == np.uint8
    assert out[:, 0, 0, 0].tolist() == [100, 100, 160]     # R: raw
    assert out[:, 0, 0, 1].tolist() == [64, 64, 255]       # G: BS = [0.25, 0.25, 1], ×255 rounded
    assert out[:, 0, 0, 2].tolist() == [0, 191, 191]       # B: |ΔBS| = [0, 0.75, 0.75 (reused)]
