"""setup/add_denoised_to_raw_2_ch.py and add_denoised_3_ch.py: channel content checked pixel by pixel."""
from __future__ import annotations

import os

import numpy as np

from tests.setup.conftest import assert_failed, read, write_clip


def rand_clip(seed: int, n: int = 3, h: int = 8, w: int = 6) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, h, w)).astype(np.uint8)


def test_two_channel_order_and_names(tree, run):
    raw, den = rand_clip(0), rand_clip(1)
    write_clip(os.path.join(tree, "raw_bs", "clipA"), raw)
    write_clip(os.path.join(tree, "den", "clipA"), den)
    out = os.path.join(tree, "added")
    proc = run("setup/add_denoised_to_raw_2_ch.py", "--denoised_imgs", os.path.join(tree, "den"),
               "--raw_imgs", os.path.join(tree, "raw_bs"), "--added_imgs", out)
    assert proc.returncode == 0, proc.stderr
    assert sorted(os.listdir(os.path.join(out, "clipA"))) == ["0.png", "1.png", "2.png"]
    for i in range(3):
        bgr = read(os.path.join(out, "clipA", f"{i}.png"))
        assert np.array_equal(bgr[..., 0], raw[i])  # B = raw
        assert np.array_equal(bgr[..., 1], den[i]) and np.array_equal(bgr[..., 2], den[i])  # G, R = denoised
    again = run("setup/add_denoised_to_raw_2_ch.py", "--denoised_imgs", os.path.join(tree, "den"),
                "--raw_imgs", os.path.join(tree, "raw_bs"), "--added_imgs", out)
    assert "merged 0 frame(s)" in again.stdout and "3 already done" in again.stdout


def test_missing_denoised_is_an_error_unless_allowed(tree, run):
    raw = rand_clip(2)
    write_clip(os.path.join(tree, "raw", "c"), raw, ext=".jpg")
    write_clip(os.path.join(tree, "den", "c"), rand_clip(3)[:2])  # frame 2 missing; png for jpg is matched by stem
    args = ["setup/add_denoised_to_raw_2_ch.py", "--denoised_imgs", os.path.join(tree, "den"),
            "--raw_imgs", os.path.join(tree, "raw"), "--added_imgs", os.path.join(tree, "out")]
    assert_failed(run(*args), "1 frame(s) missing", os.path.join("c", "2.jpg"), "--allow-missing")
    assert not os.path.exists(os.path.join(tree, "out"))  # nothing written before the check
    proc = run(*args, "--allow-missing")
    assert proc.returncode == 0, proc.stderr
    assert sorted(os.listdir(os.path.join(tree, "out", "c"))) == ["0.jpg", "1.jpg", "2.jpg"]
    fallback = read(os.path.join(tree, "out", "c", "2.jpg")).astype(int)
    # paper fallback: the raw frame in every channel (JPEG at quality 95, so within a few levels)
    raw_jpg = read(os.path.join(tree, "raw", "c", "2.jpg")).astype(int)
    assert np.abs(fallback - raw_jpg[..., None]).max() <= 12


def test_single_clip_folder_and_resize(tree, run):
    raw = rand_clip(4, h=8, w=6)
    write_clip(os.path.join(tree, "raw_clip"), raw)
    write_clip(os.path.join(tree, "den_clip"), np.full((3, 16, 12), 77, np.uint8), name=lambda i: f"frame_{i:04d}")
    proc = run("setup/add_denoised_to_raw_2_ch.py", "--denoised_imgs", os.path.join(tree, "den_clip"),
               "--raw_imgs", os.path.join(tree, "raw_clip"), "--added_imgs", os.path.join(tree, "out"))
    assert proc.returncode == 0, proc.stderr
    img = read(os.path.join(tree, "out", "1.png"))  # matched by frame number: 1.png ↔ frame_0001.png
    assert img.shape == (8, 6, 3) and (img[..., 1] == 77).all() and np.array_equal(img[..., 0], raw[1])


def test_three_channels_in_bgr_order(tree, run):
    chans = [rand_clip(s) for s in (5, 6, 7)]
    for k, c in enumerate(chans, start=1):
        write_clip(os.path.join(tree, f"ch{k}", "dom", "c"), c)
    out = os.path.join(tree, "out")
    proc = run("setup/add_denoised_3_ch.py", *sum(([f"--channel{k}", os.path.join(tree, f"ch{k}")] for k in (1, 2, 3)), []),
               "--added_imgs", out)
    assert proc.returncode == 0, proc.stderr
    img = read(os.path.join(out, "dom", "c", "2.png"))
    for k in range(3):
        assert np.array_equal(img[..., k], chans[k][2])


def test_on_synthetic_cfc22_domain(synthetic_cfc22, tmp_path, run):
    raw = os.path.join(synthetic_cfc22, "frames", "raw", "kenai-val")
    proc = run("setup/add_denoised_to_raw_2_ch.py", "--denoised_imgs", os.path.join(synthetic_cfc22, "clean", "kenai-val"),
               "--raw_imgs", raw, "--added_imgs", str(tmp_path / "added" / "kenai-val"), "--quiet")
    assert proc.returncode == 0, proc.stderr
    for clip in os.listdir(raw):
        assert sorted(os.listdir(tmp_path / "added" / "kenai-val" / clip)) == sorted(os.listdir(os.path.join(raw, clip)))
