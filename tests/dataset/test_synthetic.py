"""The synthetic benchmark: determinism, CFC22 layout and MOT format, boxes on bright bodies, counts by the CFC
rule, the noise knob, and every other layout."""
from __future__ import annotations

import filecmp
import json
import os

import numpy as np
import pytest

from common.crossings import count_crossings
from common.mot import read_mot
from common.quality import psnr
from dataset.frames import frame_index, list_frames, read_frame
from dataset.synthetic import generate

SMALL = dict(clips_per_domain=1, frames=12, height=96, width=48, fish_per_clip=2, progress=False)


def _all_files(root):
    out = []
    for d, _, files in os.walk(root, followlinks=False):
        out += [os.path.relpath(os.path.join(d, f), root) for f in files]
    return sorted(out)


def test_same_seed_same_bytes(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    generate(str(a), seed=3, **SMALL)
    generate(str(b), seed=3, **SMALL)
    files = _all_files(a)
    assert files == _all_files(b) and files
    match, mismatch, errors = filecmp.cmpfiles(a, b, files, shallow=False)
    assert not mismatch and not errors


def test_different_seed_differs(tmp_path):
    generate(str(tmp_path / "a"), seed=1, **SMALL)
    generate(str(tmp_path / "b"), seed=2, **SMALL)
    fa = read_frame(str(tmp_path / "a/frames/raw/kenai-train/clip000/5.jpg"))
    fb = read_frame(str(tmp_path / "b/frames/raw/kenai-train/clip000/5.jpg"))
    assert not np.array_equal(fa, fb)


def test_cfc22_layout_and_mot_format(synthetic_cfc22):
    root = synthetic_cfc22
    for domain in ("kenai-train", "kenai-val", "elwha"):
        clips = sorted(os.listdir(os.path.join(root, "frames", "raw", domain)))
        assert clips == ["clip000", "clip001"]
        meta = json.load(open(os.path.join(root, "annotations", f"{domain}.json")))
        assert [m["clip_name"] for m in meta] == clips
        assert set(meta[0]) >= {"clip_name", "num_frames", "upstream_direction", "width", "height", "framerate"}
        for clip in clips:
            frames = list_frames(os.path.join(root, "frames", "raw", domain, clip))
            assert [frame_index(f) for f in frames] == list(range(24))
            assert all(f.endswith(".jpg") for f in frames)
            img = read_frame(frames[0])
            assert img.shape == (128, 64) and img.dtype == np.uint8
            assert len(os.listdir(os.path.join(root, "clean", domain, clip))) == 24
            flat = os.path.join(root, "frames", "raw_all", f"{domain}-{clip}")
            assert os.path.islink(flat) and len(list_frames(flat)) == 24
            assert os.path.isfile(os.path.join(root, "annotations_mot_all", f"{domain}-{clip}", "gt.txt"))
            lines = open(os.path.join(root, "annotations_mot", domain, clip, "gt.txt")).read().splitlines()
            for line in lines:
                parts = line.split(",")
                assert len(parts) == 10 and parts[6:] == ["-1"] * 4
                assert 1 <= int(parts[0]) <= 24


def test_boxes_inside_frame_and_on_bright_bodies(synthetic_cfc22):
    root = synthetic_cfc22
    inside_means, outside_means = [], []
    for domain in ("kenai-train", "elwha"):
        for clip in ("clip000", "clip001"):
            rows = read_mot(os.path.join(root, "annotations_mot", domain, clip, "gt.txt"))
            assert len(rows) > 0
            for r in rows:
                left, top, w, h = r[2] - 1, r[3] - 1, r[4], r[5]
                assert left >= 0 and top >= 0 and left + w <= 64 and top + h <= 128
                clean = read_frame(os.path.join(root, "clean", domain, clip, f"{int(r[0]) - 1}.png")).astype(float)
                box = clean[int(top):int(top + h), int(left):int(left + w)]
                ring = clean[max(0, int(top) - 6):int(top + h) + 6, max(0, int(left) - 6):int(left + w) + 6]
                inside_means.append(box.mean())
                outside_means.append((ring.sum() - box.sum()) / max(1, ring.size - box.size))
    assert np.mean(inside_means) > np.mean(outside_means) + 10


def test_counts_follow_the_cfc_rule(synthetic_cfc22):
    root = synthetic_cfc22
    for domain in ("kenai-train", "kenai-val", "elwha"):
        counts = json.load(open(os.path.join(root, "counts", f"{domain}.json")))
        for clip, c in counts.items():
            rows = read_mot(os.path.join(root, "annotations_mot", domain, clip, "gt.txt"))
            assert c == count_crossings(rows, 64)


def test_noise_scale_lowers_psnr(tmp_path):
    values = []
    for noise in (0.0, 0.5, 1.0, 2.0):
        out = tmp_path / f"n{noise}"
        generate(str(out), noise=noise, seed=0, **SMALL)
        noisy = read_frame(str(out / "frames/raw/kenai-train/clip000/6.jpg"))
        clean = read_frame(str(out / "clean/kenai-train/clip000/6.png"))
        values.append(psnr(noisy, clean))
    assert values[0] > 35  # only JPEG loss at noise 0
    assert values == sorted(values, reverse=True) and len(set(values)) == 4


def test_refuses_non_empty_folder(tmp_path):
    from common.cli import UserError

    (tmp_path / "x.txt").write_text("keep me")
    with pytest.raises(UserError, match="not empty"):
        generate(str(tmp_path), **SMALL)
    generate(str(tmp_path), overwrite=True, **SMALL)
    assert (tmp_path / "x.txt").read_text() == "keep me"  # --overwrite only replaces what it owns


@pytest.mark.parametrize("layout,pattern", [
    ("cva", "rawframes/benign/video000/000000.png"),
    ("pocus", "pocus_videos_frames/convex/video000.mp4/frame_0000.png"),
    ("fluo", "train/Fluo-Synth_01/t000.tif"),
    ("custom", "domain_1/video0/frame0.png"),
])
def test_other_layouts(tmp_path, layout, pattern):
    generate(str(tmp_path), layout=layout, **SMALL)
    assert (tmp_path / pattern).is_file()
    first = read_frame(str(tmp_path / pattern))
    assert first.shape == (96, 48)
    clip_dir = os.path.dirname(str(tmp_path / pattern))
    assert [frame_index(f) for f in list_frames(clip_dir)] == list(range(12))
    if layout == "pocus":
        assert (tmp_path / "pocus_videos/convex/video000.mp4").is_file()


def test_cli_prints_summary(tmp_path, run):
    out = tmp_path / "syn"
    r = run("setup/make_synthetic_dataset.py", "--out", str(out), "--clips-per-domain", "1", "--frames", "6",
            "--height", "64", "--width", "32", "--quiet", "--preview", str(tmp_path / "p.png"))
    assert r.returncode == 0, r.stderr
    assert "PSNR noisy vs clean" in r.stdout and "kenai-train" in r.stdout
    assert read_frame(str(tmp_path / "p.png")).shape == (128, 192)  # three panels, scaled x2
    r2 = run("setup/make_synthetic_dataset.py", "--out", str(out), "--quiet")
    assert r2.returncode == 2 and r2.stderr.startswith("error:") and "Traceback" not in r2.stderr


def test_clips_per_domain_override(tmp_path, run):
    out = tmp_path / "syn"
    r = run("setup/make_synthetic_dataset.py", "--out", str(out), "--clips-per-domain", "1", "elwha=3", "--frames", "5",
            "--height", "64", "--width", "32", "--quiet")
    assert r.returncode == 0, r.stderr
    assert len(os.listdir(out / "frames/raw/elwha")) == 3 and len(os.listdir(out / "frames/raw/kenai-val")) == 1
    bad = run("setup/make_synthetic_dataset.py", "--out", str(tmp_path / "b"), "--clips-per-domain", "elwha=x")
    assert bad.returncode == 2 and "DOMAIN=N" in bad.stderr
