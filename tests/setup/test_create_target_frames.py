"""setup/create_target_frames.py: targets from dataset/targets.py written without uint8 wrap-around
(docs/paper_code_behaviour.md#defect-9-15-uint8-wrap-around)."""
from __future__ import annotations

import os

from tests.setup.conftest import assert_failed, read, uniform_clip, write_clip


def test_gap1_no_wraparound(tree, run):
    write_clip(os.path.join(tree, "raw", "dom", "c"), uniform_clip([100, 50, 100]))
    out = os.path.join(tree, "tgt")
    proc = run("setup/create_target_frames.py", "--frames_dir", os.path.join(tree, "raw"), "--output_dir", out,
               "--domain", "dom", "--target", "gap1_and_curr_frame", "--scaling", "clip")
    assert proc.returncode == 0, proc.stderr
    vals = [int(read(os.path.join(out, "dom", "c", f"{i}.png"))[2, 2]) for i in range(3)]
    # t=1: 50 + relu(100-50) + relu(100-50) = 150; edges replicate: t=0 → 100 + relu(50-100) + 0 = 100
    assert abs(vals[1] - 150) <= 1 and abs(vals[0] - 100) <= 1 and abs(vals[2] - 100) <= 1


def test_paper_alias_and_unknown_target(tree, run):
    write_clip(os.path.join(tree, "raw", "dom", "c"), uniform_clip([10, 20, 30, 40]))
    ok = run("setup/create_target_frames.py", "--frames_dir", os.path.join(tree, "raw"),
             "--output_dir", os.path.join(tree, "t"), "--target", "sum_minus_3b")
    assert ok.returncode == 0, ok.stderr
    assert sorted(os.listdir(os.path.join(tree, "t", "dom", "c"))) == ["0.png", "1.png", "2.png", "3.png"]
    assert_failed(run("setup/create_target_frames.py", "--frames_dir", os.path.join(tree, "raw"),
                      "--output_dir", os.path.join(tree, "t2"), "--target", "nope"), "unknown --target")
