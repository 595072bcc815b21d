"""setup/slurm/: the rendered job scripts run the commands they claim (no scheduler here: a stand-in `srun`
and SLURM_* variables), and two array shards side by side write the same bytes as one unsharded run."""
from __future__ import annotations

import filecmp
import os
import re
import shlex
import subprocess
import sys

import numpy as np
import pytest

from tests.inference.helpers import TINY_CNN, save_checkpoint
from tests.setup.conftest import write_clip

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RENDER = os.path.join(REPO, "setup", "slurm", "render.py")


def render(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, RENDER, *argv], cwd=REPO, capture_output=True, text=True)


def last_command(script: str, env: dict[str, str]) -> list[str]:
    """The script's final command line, with the SLURM variables a task would see substituted."""
    with open(script) as f:
        line = f.read().rstrip().splitlines()[-1]
    line = re.sub(r'"?\$(\w+)"?', lambda m: env.get(m.group(1), ""), line)
    return shlex.split(line)


def test_train_template_asks_for_the_nodes_and_gpus_and_runs_main_py_under_srun(tmp_path):
    out = str(tmp_path / "train.sbatch")
    r = render("train", "--out", out, "--nodes", "2", "--gpus_per_node", "4", "--results_path", "ck/run 1",
               "--", "--base_folder", "data/raw_all", "--epochs", "20", "--batch_size", "16")
    assert r.returncode == 0, r.stderr
    text = open(out).read()
    for line in ("#SBATCH --nodes=2", "#SBATCH --ntasks-per-node=4", "#SBATCH --gres=gpu:4", "#SBATCH --requeue"):
        assert line in text.splitlines()
    cmd = last_command(out, {"SLURM_NTASKS_PER_NODE": "4", "SLURM_NNODES": "2"})
    assert cmd[:3] == ["srun", os.path.join(REPO, ".venv", "bin", "python"), "main.py"]
    from main import parse_args

    args = parse_args(cmd[3:])
    assert (args.devices, args.num_nodes, args.accelerator, args.results_path) == ("4", 2, "gpu", "ck/run 1")
    assert (args.epochs, args.batch_size, args.checkpoint_every_n_steps, args.resume) == (20, 16, 2000, False)
    assert args.cache_dir == "ck/run 1/cache" and args.num_workers == 7


def test_rendered_train_job_trains_then_resumes_on_resubmission(tmp_path):
    rng = np.random.default_rng(0)
    for c in range(2):
        write_clip(str(tmp_path / "data" / f"d-c{c}"), rng.integers(0, 256, (6, 64, 32), np.uint8))
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "srun").write_text('#!/bin/bash\nexec "$@"\n')  # one task: srun just runs the command
    (fake / "srun").chmod(0o755)
    out, results = str(tmp_path / "train.sbatch"), str(tmp_path / "run")
    r = render("train", "--out", out, "--gpus_per_node", "0", "--cpus_per_task", "1", "--results_path", results,
               "--python", sys.executable, "--checkpoint_every_n_steps", "1", "--",
               "--base_folder", str(tmp_path / "data"), "--epochs", "1", "--batch_size", "4", "--train_resolution", "64",
               "--target", "gap1_and_curr_frame", "--val_fraction", "0")
    assert r.returncode == 0, r.stderr
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}", "SLURM_NNODES": "1", "SLURM_NTASKS_PER_NODE": "1",
           "OMP_NUM_THREADS": "1"}
    first = subprocess.run(["bash", out], env=env, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr[-2000:]
    assert os.path.exists(os.path.join(results, "last.ckpt"))
    again = subprocess.run(["bash", out], env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]  # without the template's --resume this run would refuse


def test_two_array_shards_side_by_side_equal_one_unsharded_run(tmp_path):
    rng = np.random.default_rng(1)
    tree = tmp_path / "elwha"
    for c in range(3):
        write_clip(str(tree / f"clip{c}"), rng.integers(0, 256, (4, 64, 32), np.uint8))
    ckpt = save_checkpoint(str(tmp_path / "tiny.ckpt"), TINY_CNN)
    out, sharded, whole = str(tmp_path / "denoise.sbatch"), str(tmp_path / "sharded"), str(tmp_path / "whole")
    r = render("denoise", "--out", out, "--shards", "2", "--gpus_per_node", "0", "--python", sys.executable,
               "--model", ckpt, "--input_dir", str(tree), "--output_dir", sharded, "--", "--device", "cpu", "--quiet")
    assert r.returncode == 0, r.stderr
    assert "#SBATCH --array=1-2" in open(out).read().splitlines()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    tasks = [subprocess.Popen(["bash", out], env={**env, "SLURM_ARRAY_TASK_ID": str(k)}, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for k in (1, 2)]
    for t in tasks:
        _, err = t.communicate(timeout=600)
        assert t.returncode == 0, err[-2000:]
    one = subprocess.run([sys.executable, "denoise.py", "--model", ckpt, "--input_dir", str(tree), "--output_dir",
                          whole, "--device", "cpu", "--quiet"], cwd=REPO, env=env, capture_output=True, text=True)
    assert one.returncode == 0, one.stderr[-2000:]
    files = sorted(os.path.relpath(os.path.join(d, f), whole) for d, _, fs in os.walk(whole) for f in fs)
    assert len(files) == 12 and files == sorted(
        os.path.relpath(os.path.join(d, f), sharded) for d, _, fs in os.walk(sharded) for f in fs)
    match, mismatch, errors = filecmp.cmpfiles(whole, sharded, files, shallow=False)
    assert (mismatch, errors) == ([], [])


@pytest.mark.parametrize("argv,message", [
    (["denoise", "--shards", "2", "--model", "m", "--input_dir", "i", "--output_dir", "o", "--", "--shard", "1/2"],
     "--shard is set by the template"),
    (["train", "--results_path", "r", "--", "--devices", "2"], "--devices is set by the template"),
])
def test_flags_the_template_owns_are_refused_in_one_line(tmp_path, argv, message):
    r = render(argv[0], "--out", str(tmp_path / "x.sbatch"), *argv[1:])
    assert r.returncode == 2 and message in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not os.path.exists(tmp_path / "x.sbatch")
