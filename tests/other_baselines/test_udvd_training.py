"""UDVD training: the patch grid, reflect padding, clamped windows, and udvd_train.py end to end (loss falls,
checkpoint in the project's contract, resume)."""
from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from other_baselines.udvd_training import PatchClip, PatchWindows, crop_reflect, grid_starts

torch.set_num_threads(2)


def test_grid_starts_cover_the_frame_on_the_stride_grid():
    assert grid_starts(128, 128, 64) == [0]
    assert grid_starts(200, 128, 64) == [0, 64, 128]  # the last patch overhangs 56 px (reflect-padded)
    assert grid_starts(100, 128, 64) == [0]  # frame smaller than a patch: one padded patch


def test_crop_reflect_pads_beyond_the_border_by_mirroring():
    frames = np.arange(12, dtype=np.uint8).reshape(1, 3, 4)  # rows [0..3], [4..7], [8..11]
    patch = crop_reflect(frames, 1, 2, 4)
    assert patch.shape == (1, 4, 4)
    assert patch[0].tolist() == [[6, 7, 6, 5], [10, 11, 10, 9], [6, 7, 6, 5], [2, 3, 2, 1]]


def test_windows_replicate_the_clip_edges(tmp_path):
    frames = np.stack([np.full((8, 8), t, np.uint8) for t in range(4)])  # frame t holds the value t
    path = str(tmp_path / "clip.npy")
    np.save(path, frames)
    data = PatchWindows([PatchClip("c", path, 4, [0], [0])], [-2, -1, 0, 1, 2], 8)
    assert len(data) == 4
    first, last = data[0], data[3]
    assert first.shape == (5, 8, 8) and first.dtype == torch.float32
    assert (first[:, 0, 0] * 255).round().tolist() == [0, 0, 0, 1, 2]
    assert (last[:, 0, 0] * 255).round().tolist() == [1, 2, 3, 3, 3]


@pytest.fixture(scope="module")
def tiny_clip(make_synthetic) -> str:
    root = make_synthetic("cfc22", clips_per_domain=1, frames=6, height=32, width=32, domains=("elwha",))
    return os.path.join(root, "frames", "raw_all")


def test_udvd_train_script_loss_falls_and_writes_a_loadable_checkpoint(run, tiny_clip, tmp_path):
    ckpt_dir = str(tmp_path / "udvd")
    args = ["other_baselines/udvd_train.py", "--data-path", tiny_clip, "--checkpoint-dir", ckpt_dir,
            "--batch-size", "8", "--image-size", "16", "--stride", "16", "--num-epochs", "4", "--lr", "1e-3",
            "--num-workers", "0", "--threads", "2", "--cache-dir", str(tmp_path / "cache"), "--no-progress"]
    res = run(*args)
    assert res.returncode == 0, res.stderr[-2000:]
    from other_baselines.udvd_training import read_epoch_losses

    losses = read_epoch_losses(ckpt_dir)
    assert len(losses) == 4 and losses[-1] < losses[0]

    ckpt = torch.load(os.path.join(ckpt_dir, "best_model.ckpt"), weights_only=True)
    hp = ckpt["hyper_parameters"]
    assert hp["model_config"]["model_type"] == "udvd" and hp["target"] == "identity" and hp["dataset"] == "CFC22"
    assert all(k.startswith("model.") for k in ckpt["state_dict"])
    from models.checkpoint import load_denoiser

    model, cfg = load_denoiser(os.path.join(ckpt_dir, "best_model.ckpt"))
    assert cfg["model_type"] == "udvd"
    with torch.no_grad():
        assert model(torch.rand(1, 5, 16, 16)).shape == (1, 1, 16, 16)

    again = run(*args)  # finished run: resumes from last.ckpt and trains no further epoch
    assert again.returncode == 0, again.stderr[-2000:]
    assert len(read_epoch_losses(ckpt_dir)) == 4


def test_udvd_train_refuses_a_window_it_cannot_read(run, tmp_path):
    res = run("other_baselines/udvd_train.py", "--data-path", str(tmp_path), "--n-frames", "3")
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == ["error: --n-frames 3: the UDVD network reads exactly 5 frames (t-2..t+2)"]
