"""setup/prepare_downstream.py swap / --undo / refusal / --dry-run."""
from __future__ import annotations

import os

from tests.setup.conftest import assert_failed


def make(tmp_path):
    target, repl = tmp_path / "rawframes", tmp_path / "rawframes_median_denoised_2_ch"
    for d, tag in ((target, "orig"), (repl, "new")):
        os.makedirs(d)
        (d / "tag.txt").write_text(tag)
    return str(target), str(repl)


def test_swap_undo_and_refusal(tmp_path, run):
    target, repl = make(tmp_path)
    dry = run("setup/prepare_downstream.py", "swap", "--target", target, "--replacement", repl, "--dry-run")
    assert dry.returncode == 0 and "would run: mv" in dry.stdout
    assert open(os.path.join(target, "tag.txt")).read() == "orig" and os.path.isdir(repl)
    proc = run("setup/prepare_downstream.py", "swap", "--target", target, "--replacement", repl)
    assert proc.returncode == 0, proc.stderr
    assert open(os.path.join(target, "tag.txt")).read() == "new"
    assert open(target + "_baseline/tag.txt").read() == "orig" and not os.path.exists(repl)
    os.makedirs(repl)  # a second swap would overwrite the kept originals: refused
    assert_failed(run("setup/prepare_downstream.py", "swap", "--target", target, "--replacement", repl), "_baseline")
    os.rmdir(repl)
    proc = run("setup/prepare_downstream.py", "swap", "--undo", "--target", target, "--replacement", repl)
    assert proc.returncode == 0, proc.stderr
    assert open(os.path.join(target, "tag.txt")).read() == "orig"
    assert open(os.path.join(repl, "tag.txt")).read() == "new" and not os.path.exists(target + "_baseline")
