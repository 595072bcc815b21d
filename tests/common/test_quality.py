"""PSNR and SSIM (common/quality.py, torchmetrics) on hand-computed cases.

Checked once against the hand-written versions they replace (downstream/report.py's numpy/scipy PSNR and SSIM,
dataset/synthetic.py's PSNR) on 120 synthetic sonar frames after the report's gain/offset fit: the mean PSNR
agreed to 1e-6 dB, the mean SSIM to 1e-4 (0.79087 vs 0.79096: torchmetrics uses Wang et al.'s 11×11 Gaussian
window where scipy's filter had 13 taps, and the two treat the image border differently).
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from common.quality import SSIM_BATCH, psnr, ssim, ssim_frames


def test_psnr_hand_computed():
    a = np.zeros((8, 8), np.uint8)
    b = a.copy()
    b[0, 0] = 16  # mse = 256/64 = 4
    assert psnr(a, b) == pytest.approx(10 * math.log10(255 ** 2 / 4), abs=1e-5)
    assert psnr(a, a) == math.inf
    clip_a, clip_b = np.zeros((2, 4, 4)), np.zeros((2, 4, 4))
    clip_b[1] = 8  # one MSE over the whole clip: 64 / 2 = 32
    assert psnr(clip_a, clip_b) == pytest.approx(10 * math.log10(255 ** 2 / 32), abs=1e-5)


def test_ssim_of_constant_images_is_the_luminance_term():
    # no variance anywhere: SSIM = (2·μa·μb + C1) / (μa² + μb² + C1) with C1 = (0.01·255)²
    c1 = (0.01 * 255) ** 2
    # dark like sonar: SSIM runs in float32, whose E[x²] − μ² cancellation costs ~1e-4 in bright flat areas
    a, b = np.full((16, 16), 10.0), np.full((16, 16), 20.0)
    assert ssim(a, b) == pytest.approx((2 * 10 * 20 + c1) / (10 ** 2 + 20 ** 2 + c1), rel=1e-5)


def test_ssim_is_one_for_identical_images_and_falls_with_noise():
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:48, :32]
    img = 128 + 60 * np.sin(xx / 4.0) * np.cos(yy / 6.0)
    assert ssim(img, img) == pytest.approx(1.0, abs=1e-6)
    values = [ssim(np.clip(img + s * rng.standard_normal(img.shape), 0, 255), img) for s in (2, 10, 40)]
    assert 1 > values[0] > values[1] > values[2]
    assert ssim(img, 255 - img) < 0          # inverted structure


def test_batched_ssim_equals_one_frame_at_a_time():
    rng = np.random.default_rng(1)
    clean = rng.integers(0, 256, (SSIM_BATCH + 3, 24, 16)).astype(np.float64)
    noisy = np.clip(clean + 20 * rng.standard_normal(clean.shape), 0, 255)
    batched = ssim_frames(noisy, clean)
    assert batched.shape == (SSIM_BATCH + 3,)
    np.testing.assert_allclose(batched, [ssim(n, c) for n, c in zip(noisy, clean)], atol=1e-6)


def test_shapes_are_checked():
    with pytest.raises(ValueError):
        psnr(np.zeros((4, 4)), np.zeros((4, 5)))
    with pytest.raises(ValueError):
        ssim(np.zeros((2, 4, 4)), np.zeros((2, 4, 4)))
    with pytest.raises(ValueError):
        ssim_frames(np.zeros((2, 4, 4)), np.zeros((2, 4, 5)))
