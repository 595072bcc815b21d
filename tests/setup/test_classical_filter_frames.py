"""setup/classical_filter_frames*.py and median_filter_frames.py: hand-made clips and every dataset layout."""
from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

from dataset.filters import filter_clip
from tests.setup.conftest import read, write_clip


def ramp_clip() -> np.ndarray:
    rng = np.random.default_rng(1)
    return rng.integers(0, 256, (5, 6, 7)).astype(np.uint8)


@pytest.mark.parametrize("script,extra", [
    ("setup/classical_filter_frames.py", ["--filter-type", "median"]),
    ("setup/median_filter_frames.py", []),
])
def test_median_output_matches_filter_and_is_three_channel(tree, run, script, extra):
    clip = ramp_clip()
    src = os.path.join(tree, "raw")
    write_clip(os.path.join(src, "d", "c"), clip)
    out = os.path.join(tree, "med")
    proc = run(script, "--frames-dir", src, "--output-dir", out, *extra)
    assert proc.returncode == 0, proc.stderr
    got = np.stack([read(os.path.join(out, "d", "c", f"{i}.png")) for i in range(5)])
    assert got.shape == (5, 6, 7, 3) and (got == got[..., :1]).all()
    assert np.array_equal(got[..., 0], filter_clip(clip, "median"))
    # hand check of one pixel: temporal median of 3 then per-frame min-max
    med = np.median(np.stack([clip[0], clip[1], clip[2]]), axis=0)
    assert got[1, 0, 0, 0] == np.rint((med[0, 0] - med.min()) / (med.max() - med.min()) * 255)  # rounded


def test_fluo_keeps_single_channel_unnormalised_and_scales_16_bit(tree, run):
    import cv2

    src = os.path.join(tree, "Fluo")
    clip16 = (np.arange(3 * 4 * 4).reshape(3, 4, 4) * 10 + 1000).astype(np.uint16)
    os.makedirs(os.path.join(src, "train", "msc_01"))
    for i, f in enumerate(clip16):
        assert cv2.imwrite(os.path.join(src, "train", "msc_01", f"t{i:03d}.tif"), f)
    flat40 = np.full((3, 4, 4), 40, np.uint8)
    write_clip(os.path.join(src, "test", "gowt_01"), flat40, ext=".tif", name=lambda i: f"t{i:03d}")
    out = os.path.join(tree, "Fluo_median")
    proc = run("setup/classical_filter_frames_Fluo.py", "--frames-dir", src, "--output-dir", out, "--filter-type", "median")
    assert proc.returncode == 0, proc.stderr
    t0 = read(os.path.join(out, "test", "gowt_01", "t000.tif"))
    assert t0.dtype == np.uint8 and t0.ndim == 2 and (t0 == 40).all()  # not normalised
    m = np.stack([read(os.path.join(out, "train", "msc_01", f"t{i:03d}.tif")) for i in range(3)])
    assert m.dtype == np.uint8 and m.min() == 0 and m.max() >= 250  # 16-bit range stretched per clip


@pytest.mark.parametrize("layout,script,root", [
    ("cva", "setup/classical_filter_frames_CVA.py", "rawframes"),
    ("pocus", "setup/classical_filter_frames_POCUS.py", "pocus_videos_frames"),
    ("custom", "setup/classical_filter_frames.py", "domain_1"),
])
def test_layouts_mirror_tree_and_names(make_synthetic, tmp_path, run, layout, script, root):
    data = make_synthetic(layout, clips_per_domain=1, frames=6, height=32, width=16)
    src = os.path.join(data, root)
    out = str(tmp_path / "filtered")
    proc = run(script, "--frames-dir", src, "--output-dir", out, "--filter-type", "gaussian", "--quiet")
    assert proc.returncode == 0, proc.stderr
    for cur, _dirs, files in os.walk(src):
        frames = sorted(f for f in files if f.endswith((".png", ".jpg")))
        if frames:
            rel = os.path.relpath(cur, src)
            assert sorted(os.listdir(os.path.join(out, rel))) == frames
            assert read(os.path.join(out, rel, frames[0])).shape[-1] == 3


def test_fluo_flow_on_real_fluorescence(shared_data, tmp_path, run):
    """Real CTC frames: classical_filter_frames_Fluo → create_dataset_with_all_frames (the setup_Fluo.sh flow)."""
    src = tmp_path / "Fluo" / "train" / "fluoro_01"
    os.makedirs(src)
    names = sorted(os.listdir(os.path.join(shared_data, "fluoro_ctc")))[:12]
    for n in names:
        shutil.copy(os.path.join(shared_data, "fluoro_ctc", n), src / n)
    out = str(tmp_path / "Fluo_median")
    assert run("setup/classical_filter_frames_Fluo.py", "--frames-dir", str(tmp_path / "Fluo"), "--output-dir", out,
               "--filter-type", "median", "--quiet").returncode == 0
    flat = str(tmp_path / "Fluo_median_flat")
    proc = run("setup/create_dataset_with_all_frames.py", "--frames_dir", out, "--frames_output_dir", flat)
    assert proc.returncode == 0, proc.stderr
    assert os.listdir(flat) == ["train-fluoro_01"]
    linked = os.path.join(flat, "train-fluoro_01")
    assert sorted(os.listdir(linked)) == names
    img = read(os.path.join(linked, names[5]))
    assert img.shape == (200, 200) and img.dtype == np.uint8
