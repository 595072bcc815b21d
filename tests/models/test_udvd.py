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
