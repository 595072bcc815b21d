"""Every target of dataset/targets.py against a hand-computed 3×3 window
(docs/paper_code_behaviour.md#target-formulas)."""
from __future__ import annotations

import statistics

import pytest
import torch

from common.cli import UserError
from dataset.targets import TARGETS, make_target

F = {
    -2: [[0.0, 0.5, 1.0], [0.2, 0.2, 0.2], [0.0, 0.0, 0.0]],
    -1: [[0.5, 0.5, 0.5], [0.1, 0.3, 0.2], [0.0, 0.0, 0.0]],
    0: [[0.2, 0.4, 0.6], [0.2, 0.2, 0.2], [0.0, 0.0, 0.0]],
    1: [[0.6, 0.0, 0.6], [0.4, 0.1, 0.2], [0.0, 0.0, 0.0]],
    2: [[0.1, 0.1, 0.1], [0.2, 0.2, 0.2], [0.0, 0.0, 1.0]],
}
BG = 0.1

# Expected values worked out by hand from F (see the module docstring of dataset/targets.py for the formulas).
EXPECTED = {
    "identity": F[0],
    "identity_t-1": F[-1],
    "l1": [[0.5, 0.1, 0.5], [0.2, 0.1, 0.0], [0.0, 0.0, 1.0]],
    "l1_and_obj": [[0.5, 0.1, 0.5], [0.2, 0.1, 0.0], [0.0, 0.0, 1.0]],
    "l2": [[0.25, 0.01, 0.25], [0.04, 0.01, 0.0], [0.0, 0.0, 1.0]],
    "gap1_and_curr_frame": [[0.9, 0.5, 0.6], [0.4, 0.3, 0.2], [0.0, 0.0, 0.0]],
    "gap1_inverted_and_curr_frame": [[0.2, 0.0, 0.5], [0.1, 0.1, 0.2], [0.0, 0.0, 0.0]],
    "gap2_and_curr_frame": [[0.2, 0.5, 1.0], [0.2, 0.2, 0.2], [0.0, 0.0, 1.0]],
    "positive_diff_and_curr_frame": [[0.5, 0.6, 0.6], [0.2, 0.4, 0.2], [0.0, 0.0, 1.0]],
    "all_frame_diffs_and_curr": [[2.1, 1.1, 2.1], [0.8, 0.6, 0.2], [0.0, 0.0, 1.0]],
    "sum_minus_3_background": [[0.4, 1.1, 1.8], [0.2, 0.4, 0.3], [0.0, 0.0, 0.0]],
    "sum_minus_5_background": [[0.9, 1.0, 2.3], [0.6, 0.5, 0.5], [0.0, 0.0, 0.5]],
    "bs_global": [[0.1, 0.3, 0.5], [0.1, 0.1, 0.1], [-0.1, -0.1, -0.1]],
}
# With the paper's training bug f_{t+2} := f_t (docs/paper_code_behaviour.md#input-frames and
# #defect-9-1-wrong-frame-in-training-targets).
EXPECTED_PAPER = {
    "l1": [[0.4, 0.4, 0.0], [0.2, 0.1, 0.0], [0.0, 0.0, 0.0]],
    "gap2_and_curr_frame": [[0.2, 0.5, 1.0], [0.2, 0.2, 0.2], [0.0, 0.0, 0.0]],
    "gap1_and_curr_frame": EXPECTED["gap1_and_curr_frame"],
    "identity": F[0],
}


def window(batch: int = 1) -> dict[int, torch.Tensor]:
    return {o: torch.tensor(v).expand(batch, 1, 3, 3).clone() for o, v in F.items()}


def pixelwise_stdev(offsets) -> torch.Tensor:
    return torch.tensor([[statistics.stdev([F[o][i][j] for o in offsets]) for j in range(3)] for i in range(3)])


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_target_matches_hand_computed(name):
    bg = torch.full((1, 1, 3, 3), BG)
    out = make_target(name, window(), bg)
    assert out.shape == (1, 1, 3, 3)
    torch.testing.assert_close(out[0, 0], torch.tensor(EXPECTED[name]), atol=1e-6, rtol=0)


@pytest.mark.parametrize("name,offsets", [("stddev_3", (-1, 0, 1)), ("stddev_all", (-2, -1, 0, 1, 2))])
def test_stddev_targets_are_unbiased_temporal_std(name, offsets):
    torch.testing.assert_close(make_target(name, window())[0, 0], pixelwise_stdev(offsets), atol=1e-6, rtol=0)


@pytest.mark.parametrize("name", sorted(EXPECTED_PAPER))
def test_paper_targets_use_ft_as_frame5(name):
    out = make_target(name, window(), None, paper=True)
    torch.testing.assert_close(out[0, 0], torch.tensor(EXPECTED_PAPER[name]), atol=1e-6, rtol=0)


def test_paper_switch_leaves_stddev_all_alone():
    # the paper's CNN dataset loaded the real f_{t+2} for this target (docs/paper_code_behaviour.md#target-formulas)
    torch.testing.assert_close(make_target("stddev_all", window(), paper=True), make_target("stddev_all", window()))


def test_bs_local_of_a_constant_stack_is_one_half():
    f = {o: torch.full((2, 1, 8, 8), 0.3) for o in range(-2, 3)}
    torch.testing.assert_close(make_target("bs_local", f), torch.full((2, 1, 8, 8), 0.5))


def test_bs_local_maps_the_centre_into_unit_range_with_a_bright_spot_above_half():
    f = {o: torch.zeros(1, 1, 9, 9) for o in range(-2, 3)}
    f[0] = f[0].clone()
    f[0][0, 0, 4, 4] = 1.0  # a bright pixel appears only in f_t
    out = make_target("bs_local", f)
    assert out.shape == (1, 1, 9, 9)
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    assert float(out[0, 0, 4, 4]) == pytest.approx(1.0)  # the largest |D| of the stack maps to 1
    assert float(out[0, 0, 0, 0]) == pytest.approx(0.5)  # far from the spot: equals the local background


def test_targets_work_per_sample_on_a_batch():
    out = make_target("gap1_and_curr_frame", window(batch=4))
    assert out.shape == (4, 1, 3, 3) and torch.equal(out[0], out[3])


def test_unknown_target_lists_the_valid_ones():
    with pytest.raises(UserError, match="unknown --target 'gap3'.*gap1_and_curr_frame"):
        make_target("gap3", window())


def test_background_targets_require_a_background():
    with pytest.raises(UserError, match="background"):
        make_target("bs_global", window(), None)


def test_every_registered_target_reads_only_its_declared_offsets():
    for name, target in TARGETS.items():
        f = {o: v for o, v in window().items() if o in target.offsets}
        out = make_target(name, f, torch.full((1, 1, 3, 3), BG))  # a KeyError here means an undeclared offset
        assert out.shape == (1, 1, 3, 3), name
