"""setup/sonar_stats.py on a real DIDSON clip, on a generated CFC22 dataset, and on bad input (named _cli: pytest
    needs test basenames unique across tests/, and tests/dataset/test_sonar_stats.py tests the library)."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from dataset.sonar_stats import STATS
from tests.setup.conftest import assert_failed, write_clip

SCRIPT = "setup/sonar_stats.py"


def test_real_lamprey1_lands_near_the_published_real_values(shared_data, run, tmp_path):
    clip = os.path.join(shared_data, "didson_sonar", "lamprey1.avi")
    if not os.path.isfile(clip):
        pytest.skip("lamprey1.avi is not in ../shared/data")
    out = str(tmp_path / "s.json")
    proc = run(SCRIPT, clip, "--max-frames", "60", "--json", out)
    assert proc.returncode == 0, proc.stderr
    assert "lamprey1" in proc.stdout.splitlines()[0] and "sigma_r" in proc.stdout
    s = json.load(open(out))["lamprey1"]
    assert list(s) == [k for k, _, _ in STATS]
    assert s["frames"] == 60 and (s["height"], s["width"]) == (774, 400)
    assert s["sigma_r"] == pytest.approx(9.0, abs=1.0)
    assert s["acf_x1"] == pytest.approx(0.74, abs=0.06)
    assert s["static_share"] == pytest.approx(0.93, abs=0.03)
    assert s["fan_half_angle_deg"] == pytest.approx(14.5, abs=0.5)  # DIDSON: a 29° field of view


def test_synthetic_cfc22_clip_with_gt_and_whole_root(synthetic_cfc22, run, tmp_path):
    root = synthetic_cfc22
    domain = sorted(os.listdir(os.path.join(root, "frames", "raw")))[0]
    clip_name = sorted(os.listdir(os.path.join(root, "frames", "raw", domain)))[0]
    clip = os.path.join(root, "frames", "raw", domain, clip_name)
    gt = os.path.join(root, "annotations_mot", domain, clip_name, "gt.txt")
    n_rows = sum(1 for line in open(gt) if line.strip())
    out = str(tmp_path / "one.json")
    proc = run(SCRIPT, clip, "--gt", gt, "--json", out, "--max-frames", "20")
    assert proc.returncode == 0, proc.stderr
    s = json.load(open(out))[clip_name]
    assert s["frames"] == 20
    if n_rows:  # gt boxes give every target statistic
        assert all(s[k] is not None for k in ("target_length_over_width", "target_speed_px", "target_contrast"))
    # the dataset root: every clip of frames/raw, named <domain>/<clip>, with its gt.txt found automatically
    out_all = str(tmp_path / "all.json")
    proc = run(SCRIPT, root, "--json", out_all, "--max-frames", "20", "--markdown")
    assert proc.returncode == 0, proc.stderr
    every = json.load(open(out_all))
    expected = sorted(f"{d}/{c}" for d in os.listdir(os.path.join(root, "frames", "raw"))
                      for c in os.listdir(os.path.join(root, "frames", "raw", d)))
    assert sorted(every) == expected
    assert every[f"{domain}/{clip_name}"] == s  # same gt, same frames, same numbers
    assert proc.stdout.startswith("| statistic |") and "gt " in proc.stderr


def test_clips_with_the_same_name_get_their_parent_folder(run, tmp_path):
    rng = np.random.default_rng(0)
    for parent in ("a", "b"):
        write_clip(str(tmp_path / parent / "c1"), rng.integers(60, 120, (6, 24, 32)))
    out = str(tmp_path / "s.json")
    proc = run(SCRIPT, str(tmp_path / "a" / "c1"), str(tmp_path / "b" / "c1"), "--json", out)
    assert proc.returncode == 0, proc.stderr
    stats = json.load(open(out))
    assert list(stats) == ["a/c1", "b/c1"]
    assert stats["a/c1"]["frames"] == 6 and stats["a/c1"]["target_speed_px"] is None  # no targets: null


def test_bad_inputs_fail_with_one_line(run, tmp_path):
    tree = str(tmp_path)
    assert_failed(run(SCRIPT, os.path.join(tree, "nope.avi")), "input not found", "nope.avi")
    os.makedirs(os.path.join(tree, "empty"))
    assert_failed(run(SCRIPT, os.path.join(tree, "empty")), "empty")
    os.makedirs(os.path.join(tree, "nothing", "sub"))
    open(os.path.join(tree, "nothing", "sub", "readme.md"), "w").write("no frames here")
    assert_failed(run(SCRIPT, os.path.join(tree, "nothing")), "no frames or videos found")
    txt = os.path.join(tree, "notes.txt")
    open(txt, "w").write("hello")
    assert_failed(run(SCRIPT, txt), "not a clip", "notes.txt")
    bad = os.path.join(tree, "broken.avi")
    open(bad, "wb").write(b"not a video")
    assert_failed(run(SCRIPT, bad), "broken.avi")
    clip = os.path.join(tree, "c1")
    write_clip(clip, np.full((3, 8, 8), 50, np.uint8))
    assert_failed(run(SCRIPT, clip, clip, "--gt", txt), "--gt needs one gt.txt per input clip")
    assert_failed(run(SCRIPT, clip, "--max-frames", "0"), "--max-frames")
