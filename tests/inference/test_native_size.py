"""Patch-trained networks (UDVD) run on each frame at its own size: no resize in, none out."""
from __future__ import annotations

import numpy as np
import torch

from inference.engine import Denoiser, network_size
from models import build_model


def test_udvd_runs_at_native_size():
    torch.manual_seed(0)
    cfg = {"model_type": "udvd"}
    assert network_size(cfg, fallback_resolution=512) is None
    assert network_size({"model_type": "cnn", "input_height": 64, "input_width": 32}) == (64, 32)
    model = build_model(cfg).eval()
    den = Denoiser(model, cfg, None, batch_size=4)
    seen = []
    original = den._prepare

    def spy(imgs):
        x = original(imgs)
        seen.append(tuple(x.shape[-2:]))
        return x

    den._prepare = spy
    frames = [np.random.default_rng(i).integers(0, 255, (24, 40), dtype=np.uint8) for i in range(6)]
    outs = dict(den.run(iter(frames), 6))
    assert seen and all(s == (24, 40) for s in seen)
    assert sorted(outs) == list(range(6)) and all(o.shape == (24, 40) for o in outs.values())
