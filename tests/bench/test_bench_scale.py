"""bench/bench_scale.py runs on a tiny set and prints every figure it promises (values are not asserted: speed
lives in bench/, not in tests); the hard-linked dataset it builds has the asked-for layout."""
from __future__ import annotations

import os
import re
import sys


def test_bench_scale_prints_its_figures(run, tmp_path):
    r = run("bench/bench_scale.py", "--frames", "24", "--clips", "2", "--height", "64", "--width", "32",
            "--distinct", "2", "--workers", "1", "--index_frames", "40", "--index_clips", "2", "--model", "small",
            "--ram_clips", "1", "3", "--work_dir", str(tmp_path / "w"), timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    out = r.stdout
    per_frame = {name: int(v.replace(",", "")) for name, v in
                 re.findall(r"^(before|after) \(.*?\)\s+[0-9.]+\s+[0-9.]+\s+([0-9,]+) ", out, re.M)}
    assert per_frame["before"] >= 2 * 64 * 32, out  # the decoded and the resized copy
    assert 64 * 32 <= per_frame["after"] < 1.2 * 64 * 32, out  # one copy (+ headers and records)
    for figure in ("frames/CPU-s", "speed-up", "peak RAM (largest process)", "time to first training step", "checkpoint write",
                   "CFC22 527k"):
        assert figure in out, out


def test_dataset_is_hard_links_in_cfc22_clip_folders(tmp_path):
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))
    from bench_scale import make_frames

    base = make_frames(str(tmp_path), frames=7, clips=3, h=8, w=4, distinct=2, ext=".png")
    clips = sorted(os.listdir(base))
    assert [len(os.listdir(os.path.join(base, c))) for c in clips] == [3, 2, 2]
    inodes = {os.stat(os.path.join(base, c, f)).st_ino for c in clips for f in os.listdir(os.path.join(base, c))}
    assert len(inodes) == 2
