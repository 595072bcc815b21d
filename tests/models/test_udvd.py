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


@pytest.mark.parametrize("batched", [True, None])  # None (auto): looped in CPU training, batched in inference
@pytest.mark.parametrize("h,w", [(16, 16), (16, 24), (20, 12)])  # square: one 4x batch; else 0/180 and 90/270 pairs
def test_fast_network_gives_the_outputs_and_gradients_of_the_readable_definition(h, w, batched):
    """The fast network (fused CPU convolutions, rotations and triplets batched or auto; fp32) against the readable
    definition (loop, plain convolutions) run in float64. Gradients are compared layer by layer: float noise
    can flip a LeakyReLU whose input is within ~1e-7 of zero, which moves that layer's gradient by up to ~1e-3,
    so the median layer must agree to float precision and the worst to 1 %."""
    torch.manual_seed(0)
    truth = UDVD(batched=False, fused=False).double()
    fast = UDVD(batched=batched)
    fast.load_state_dict({k: v.float() for k, v in truth.state_dict().items()})  # batching adds no parameter
    x = torch.rand(2, 5, h, w, dtype=torch.float64)
    a, b = truth(x), fast(x.float().contiguous(memory_format=torch.channels_last))
    torch.testing.assert_close(b.double(), a, rtol=1e-4, atol=1e-5)
    a.square().sum().backward()
    b.square().sum().backward()
    errors = sorted(((q.grad.double() - p.grad).norm() / p.grad.norm()).item()
                    for p, q in zip(truth.parameters(), fast.parameters()))
    assert errors[len(errors) // 2] < 1e-5 and errors[-1] < 1e-2, errors


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


@pytest.mark.parametrize("channels_last", [True, False])
def test_fused_shift_conv_gives_the_plain_outputs_and_gradients(channels_last):
    from common.precision import onednn_fused_conv_available
    from models.udvd import ShiftConv

    if not onednn_fused_conv_available():
        pytest.skip("this PyTorch build has no oneDNN fused conv")
    torch.manual_seed(0)
    plain, fused = ShiftConv(3, 5), ShiftConv(3, 5)
    fused.load_state_dict(plain.state_dict())
    plain.fused = False
    x = torch.randn(2, 3, 9, 7)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    a, b = plain(xa), fused(xb)
    torch.testing.assert_close(b, a)
    g = torch.randn_like(a)
    a.backward(g)
    b.backward(g)
    torch.testing.assert_close(xb.grad, xa.grad)
    torch.testing.assert_close(fused.weight.grad, plain.weight.grad)
    torch.testing.assert_close(fused.bias.grad, plain.bias.grad)


def test_fused_training_step_in_bf16_autocast_is_as_close_to_fp32_as_the_plain_one():
    """Under bf16 autocast the fused kernel rounds once less (the LeakyReLU is applied before rounding): its loss
    and gradients must be as close to the fp32 ones as the plain bf16 step's, and the weights' gradients fp32."""
    torch.manual_seed(0)
    exact, plain, fused = UDVD(fused=False), UDVD(fused=False), UDVD()
    plain.load_state_dict(exact.state_dict())
    fused.load_state_dict(exact.state_dict())
    x = torch.rand(2, 5, 16, 16).contiguous(memory_format=torch.channels_last)
    losses = []
    for model, low in ((exact, False), (plain, True), (fused, True)):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=low):
            loss = torch.nn.functional.mse_loss(model(x).float(), x[:, 2:3])
        loss.backward()
        losses.append(loss.item())
    assert abs(losses[2] - losses[0]) <= 2 * abs(losses[1] - losses[0]) + 1e-3 * losses[0]

    def error(model):
        return sum(((q.grad - p.grad).norm() / p.grad.norm()).item() for p, q in zip(exact.parameters(), model.parameters()))

    assert all(q.grad.dtype == torch.float32 for q in fused.parameters())
    assert error(fused) <= 1.5 * error(plain)
