"""setup/background_subtract_frames.py and setup/make_baseline_plus_plus.py on a hand-made clip."""
from __future__ import annotations

import os

import numpy as np

from tests.setup.conftest import assert_failed, read, uniform_clip, write_clip


def run_on_step_clip(tree: str, run, script: str) -> tuple[str, str]:
    """Write raw/dom/c1 = uniform frames 100, 100, 160 (background 120, D = -20, -20, 40) and run `script` on it."""
    raw, out = os.path.join(tree, "raw"), os.path.join(tree, "out")
    write_clip(os.path.join(raw, "dom", "c1"), uniform_clip([100, 100, 160]))
    proc = run(script, "--frames-dir", raw, "--output-dir", out)
    assert proc.returncode == 0, proc.stderr
    return raw, out


def test_background_subtraction_values_and_resume(tree, run):
    raw, out = run_on_step_clip(tree, run, "setup/background_subtract_frames.py")
    imgs = [read(os.path.join(out, "dom", "c1", f"{i}.png")) for i in range(3)]
    assert all(im.shape == (6, 5, 3) for im in imgs)
    assert [int(im[2, 2, 0]) for im in imgs] == [64, 64, 255]  # (D/max|D|+1)/2 = 0.25, 0.25, 1; 63.75 rounds to 64
    assert all((im == im[..., :1]).all() for im in imgs)  # 3 equal channels
    again = run("setup/background_subtract_frames.py", "--frames-dir", raw, "--output-dir", out)
    assert "0 clip(s) written, 1 already done" in again.stdout
    assert_failed(run("setup/background_subtract_frames.py", "--frames-dir", raw, "--output-dir",
                      os.path.join(raw, "dom", "bs")), "inside the input")
    assert_failed(run("setup/background_subtract_frames.py", "--frames-dir", os.path.join(tree, "nope"),
                      "--output-dir", out), "not found")


def test_background_subtraction_single_clip_jpg(tree, run):
    clip = os.path.join(tree, "c1")
    write_clip(clip, uniform_clip([90, 90, 90, 150]), ext=".jpg")
    out = os.path.join(tree, "bs")
    assert run("setup/background_subtract_frames.py", "--frames-dir", clip, "--output-dir", out).returncode == 0
    assert sorted(os.listdir(out)) == ["0.jpg", "1.jpg", "2.jpg", "3.jpg"]
    assert abs(int(read(os.path.join(out, "3.jpg"))[3, 3, 0]) - 255) <= 2


def test_baseline_plus_plus_channel_order(tree, run):
    _raw, out = run_on_step_clip(tree, run, "setup/make_baseline_plus_plus.py")
    bgr = np.stack([read(os.path.join(out, "dom", "c1", f"{i}.png")) for i in range(3)])
    rgb = bgr[..., ::-1]
    assert rgb[:, 0, 0, 0].tolist() == [100, 100, 160]   # R = raw
    assert rgb[:, 0, 0, 1].tolist() == [64, 64, 255]     # G = background-subtracted
    assert rgb[:, 0, 0, 2].tolist() == [0, 191, 191]     # B = |BS_{t+1} - BS_t|, last reuses previous


def test_on_synthetic_cfc22(synthetic_cfc22, tmp_path, run):
    raw = os.path.join(synthetic_cfc22, "frames", "raw")
    out = str(tmp_path / "raw_bs")
    assert run("setup/background_subtract_frames.py", "--frames-dir", raw, "--output-dir", out,
               "--quiet").returncode == 0
    for domain in os.listdir(raw):
        for clip in os.listdir(os.path.join(raw, domain)):
            assert sorted(os.listdir(os.path.join(out, domain, clip))) == sorted(os.listdir(os.path.join(raw, domain, clip)))
