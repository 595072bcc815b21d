"""inference/cpu_fusion.py: the fused CPU inference network computes what the plain one does."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from common.precision import onednn_fused_conv_available
from inference.cpu_fusion import FusedConvReLU, MaxPool2x2, fuse_for_cpu_inference
from inference.denoiser import Denoiser
from models import ModelConfig, build_model

pytestmark = pytest.mark.skipif(not onednn_fused_conv_available(), reason="this PyTorch build has no oneDNN fused conv")
CL = torch.channels_last


def _readme_cnn(h: int = 64, w: int = 128):
    torch.manual_seed(0)
    cfg = ModelConfig(model_type="cnn", resolution_target=1024, fine_layers=True, bottleneck_size=512,
                      with_skip_connections=True, input_height=h, input_width=w)
    return build_model(cfg).eval(), cfg.to_dict()


@pytest.mark.parametrize("batch_size", [1, 3])
def test_fused_denoiser_matches_the_plain_one_in_fp32_and_bf16(batch_size):
    model, cfg = _readme_cnn()
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (64, 128), dtype=np.uint8) for _ in range(5)]
    for precision, tol in (("fp32", 1e-5), ("bf16", 2e-2)):
        plain = Denoiser(model, cfg, (64, 128), precision=precision, batch_size=batch_size, fuse_cpu=False)
        fused = Denoiser(model, cfg, (64, 128), precision=precision, batch_size=batch_size)
        assert plain.fused_layers == 0 and fused.fused_layers > 20
        a, b = dict(plain.run(frames, 5)), dict(fused.run(frames, 5))
        assert sorted(a) == sorted(b) == list(range(5))
        scale = max(float(np.abs(v).max()) for v in a.values())
        assert max(float(np.abs(a[t] - b[t]).max()) for t in a) <= tol * scale, precision


def test_fusion_copies_by_default_and_keeps_the_state_dict():
    model, _ = _readme_cnn()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    fused, n = fuse_for_cpu_inference(model)
    assert n > 0 and fused is not model
    assert not any(isinstance(m, (FusedConvReLU, MaxPool2x2)) for m in model.modules())  # the input is untouched
    assert fused.state_dict().keys() == before.keys()
    assert all(torch.equal(fused.state_dict()[k], v) for k, v in before.items())


def test_forward_parts_equals_the_convolution_of_the_concatenation():
    torch.manual_seed(1)
    conv = nn.Conv2d(5 + 3 + 8, 6, 3, padding=1)
    fused = FusedConvReLU(conv)
    parts = [torch.randn(2, c, 12, 10).contiguous(memory_format=CL) for c in (5, 3, 8)]
    with torch.inference_mode():
        want = F.relu(conv(torch.cat(parts, dim=1)))
        assert torch.allclose(fused.forward_parts(parts), want, atol=1e-5)
        assert torch.allclose(fused(torch.cat(parts, dim=1)), want, atol=1e-5)
        with pytest.raises(ValueError, match="parts carry 11 channels, the convolution expects 16"):
            fused.forward_parts(parts[1:])


def test_fused_convolution_refuses_to_train():
    fused = FusedConvReLU(nn.Conv2d(2, 2, 3, padding=1))
    with pytest.raises(RuntimeError, match="for inference"):
        fused(torch.randn(1, 2, 4, 4))


def test_max_pool_2x2_is_exact_and_falls_back_where_it_does_not_apply():
    pool = MaxPool2x2()
    x = torch.randn(2, 7, 10, 14)
    for t in (x.contiguous(memory_format=CL), x.contiguous(memory_format=CL).bfloat16(),
              x,  # not channels-last: the standard kernel
              torch.randn(1, 3, 9, 14).contiguous(memory_format=CL)):  # odd height: the standard kernel
        assert torch.equal(pool(t), F.max_pool2d(t, 2))
    assert pool(x.contiguous(memory_format=CL)).is_contiguous(memory_format=CL)


def test_only_plain_sequentials_are_rewritten():
    class Custom(nn.Sequential):  # a subclass may give its layers another meaning: left alone
        def forward(self, x):
            return super().forward(x) * 2

    model = nn.Module()
    model.custom = Custom(nn.Conv2d(1, 1, 3, padding=1), nn.ReLU())
    model.plain = nn.Sequential(nn.Conv2d(1, 1, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2))
    fused, n = fuse_for_cpu_inference(model)
    assert n == 2
    assert type(fused.custom) is Custom and isinstance(fused.custom[0], nn.Conv2d)
    assert [type(m) for m in fused.plain] == [FusedConvReLU, nn.Identity, MaxPool2x2]
