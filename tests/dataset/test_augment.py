"""Plain-torch augmentations: one parameter draw shared by every tensor of a call
(docs/paper_code_behaviour.md#augmentations)."""
from __future__ import annotations

import pytest
import torch

from dataset.augment import Augmenter, gaussian_blur, motion_kernel, opencv_sigma


def test_opencv_sigma_rule_for_a_5x5_kernel():
    assert opencv_sigma(5) == pytest.approx(1.1)


def test_gaussian_blur_keeps_constants_and_spreads_an_impulse_symmetrically():
    flat = torch.full((1, 2, 7, 7), 0.4)
    torch.testing.assert_close(gaussian_blur(flat), flat)
    impulse = torch.zeros(1, 1, 9, 9)
    impulse[0, 0, 4, 4] = 1.0
    out = gaussian_blur(impulse, 5, 1.0)[0, 0]
    assert float(out.sum()) == pytest.approx(1.0, abs=1e-6)
    assert torch.allclose(out, out.T) and torch.allclose(out, out.flip(0)) and out.argmax() == 4 * 9 + 4


def test_motion_kernel_is_normalised_and_horizontal_at_zero_degrees():
    k = motion_kernel(5, 0.0, 0.0)
    assert float(k.sum()) == pytest.approx(1.0)
    assert torch.allclose(k[2], torch.full((5,), 0.2)) and float(k[[0, 1, 3, 4]].abs().sum()) == 0.0


def test_no_probability_means_no_change():
    x = torch.rand(2, 3, 8, 8)
    aug = Augmenter()
    assert not aug.active and aug([x])[0] is x


@pytest.mark.parametrize("flag", ["salt_and_pepper_p", "gaussian_blur_p", "motion_blur_p", "brightness_p", "erase_p"])
def test_each_augmentation_applies_the_same_draw_to_inputs_and_target(flag):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, 16, 16, generator=g)
    aug = Augmenter(**{flag: 1.0}, generator=torch.Generator().manual_seed(1))
    inputs, target = aug([x, x[:, :1].clone()])
    assert inputs.shape == x.shape and target.shape == (2, 1, 16, 16)
    assert not torch.equal(inputs, x)
    torch.testing.assert_close(inputs[:, :1], target)  # the target got exactly what the first input got


def test_salt_and_pepper_hits_about_half_the_pixels_with_zeros_and_ones():
    x = torch.full((1, 1, 64, 64), 0.5)
    out = Augmenter(salt_and_pepper_p=1.0, generator=torch.Generator().manual_seed(0))([x])[0]
    hit = out != 0.5
    assert 0.45 < float(hit.float().mean()) < 0.55
    assert set(out[hit].unique().tolist()) == {0.0, 1.0}


def test_erase_blanks_a_small_rectangle():
    x = torch.ones(1, 1, 100, 100)
    out = Augmenter(erase_p=1.0, generator=torch.Generator().manual_seed(0))([x])[0]
    erased = int((out == 0).sum())
    assert 1 <= erased <= 40  # scale 0.001 of 10,000 pixels, ratio 0.3-3.33
