"""UDVD network: the blind-spot property, shapes, the size rule and the registry wiring."""
from __future__ import annotations

import pytest
import torch

from models import build_model, input_offsets
from models.udvd import UDVD, shift_down

torch.set_num_threads(2)


def _grad_at(model: torch.nn.Module, h: int, w: int, py: int, px: int) -> torch.Tensor:
    x = torch.rand(1, 5, h, w, requires_grad=True)
    model(x)[0, 0, py, px].backward()
    return x.grad[0]


@pytest.mark.parametrize("h,w", [(16, 16), (20, 12)])  # divisible by 8, and not (zero-padded inside)
def test_output_at_p_ignores_pixel_p_of_every_frame_but_sees_its_neighbours(h, w):
    torch.manual_seed(0)
    model = UDVD().eval()
    py, px = h // 2, w // 2
    g = _grad_at(model, h, w, py, px)
    assert all(g[f, py, px].item() == 0.0 for f in range(5))  # exactly blind at p, centre frame included
    for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):  # each rotation contributes one side
        assert g[2, py + dy, px + dx].abs().item() > 0.0
    assert g[[0, 1, 3, 4], py, px].abs().sum().item() == 0.0
    assert g[1, py - 1, px].abs().item() > 0.0  # and the neighbouring frames do reach the output


def test_shift_down_moves_rows_and_fills_zeros():
    x = torch.arange(6.0).reshape(1, 1, 3, 2)
    assert shift_down(x).tolist() == [[[[0.0, 0.0], [0.0, 1.0], [2.0, 3.0]]]]


def test_registry_builds_udvd_with_its_five_frame_window():
    model = build_model({"model_type": "udvd"})
    assert isinstance(model, UDVD)
    assert input_offsets({"model_type": "udvd"}) == [-2, -1, 0, 1, 2]
    with torch.no_grad():
        out = model(torch.rand(2, 5, 24, 16))
    assert out.shape == (2, 1, 24, 16)


def test_wrong_window_is_refused():
    with pytest.raises(ValueError, match="5 x H x W"):
        UDVD()(torch.rand(1, 3, 16, 16))


@pytest.mark.parametrize("h,w", [(16, 16), (16, 24), (20, 12)])  # square: one 4x batch; else 0/180 and 90/270 pairs
def test_batched_rotations_and_triplets_give_the_loop_outputs_and_gradients(h, w):
    torch.manual_seed(0)
    loop = UDVD(batched=False)
    fast = UDVD()
    fast.load_state_dict(loop.state_dict())  # the same parameters: batching adds none
    x = torch.rand(2, 5, h, w)
    a, b = loop(x), fast(x.contiguous(memory_format=torch.channels_last))
    torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-5)
    a.square().sum().backward()
    b.square().sum().backward()
    for (name, p), q in zip(loop.named_parameters(), fast.parameters()):
        assert ((q.grad - p.grad).norm() / p.grad.norm()).item() < 1e-4, name  # sums in another order: float noise


def test_bf16_output_stays_within_a_grey_level_of_fp32():
    torch.manual_seed(0)
    model = UDVD().eval()
    x = torch.rand(1, 5, 24, 40)
    with torch.no_grad():
        ref = model(x)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            low = model(x).float()
    to8 = lambda y: ((y - ref.min()) / (ref.max() - ref.min()) * 255).round()  # one stretch for both  # noqa: E731
    assert (to8(low) - to8(ref)).abs().mean().item() <= 1.0


def test_shift_conv_equals_top_padding_then_a_valid_convolution():
    import torch.nn.functional as F

    from models.udvd import ShiftConv

    torch.manual_seed(0)
    conv = ShiftConv(3, 4)
    x = torch.rand(2, 3, 10, 7)
    expected = F.leaky_relu(F.conv2d(F.pad(x, (1, 1, 2, 0)), conv.weight, conv.bias), 0.1)  # the definition
    torch.testing.assert_close(conv(x), expected)  # training path
    with torch.no_grad():
        torch.testing.assert_close(conv(x), expected)  # inference path
