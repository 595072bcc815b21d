"""Patch-trained networks (UDVD) run on each frame at its own size: no resize in, none out."""
from __future__ import annotations

import numpy as np
import torch

from inference.denoiser import Denoiser, network_size
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


def test_denoise_script_on_a_udvd_checkpoint(tmp_path, synthetic_cfc22, run):
    """End to end: a UDVD checkpoint (no training resolution) through denoise.py keeps every frame's size."""
    import os

    from dataset.frames import read_frame
    from models.checkpoint import save_denoiser

    ckpt = str(tmp_path / "udvd.ckpt")
    save_denoiser(ckpt, build_model({"model_type": "udvd"}), {"model_type": "udvd"})
    out = tmp_path / "out"
    r = run("denoise.py", "--model", ckpt, "--input_dir", os.path.join(synthetic_cfc22, "frames/raw/elwha"),
            "--output_dir", str(out), "--quiet", env={"OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stderr[-2000:]
    assert read_frame(str(out / "clip000" / "0.png")).shape == (128, 64)
    assert len(os.listdir(out / "clip001")) == 24
