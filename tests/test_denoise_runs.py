"""denoise_runs.sh: the dry run prints every recipe's commands without touching anything; every output is under
$OUT (never in a data root); a re-run skips every finished step (with a stand-in python that only records its
command lines); the tiny default runs end to end on synthetic data of each layout (slow)."""
from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(tmp_path, **env):
    full = {**os.environ, "OUT": str(tmp_path / "runs"), "OMP_NUM_THREADS": "2", **env}
    return subprocess.run(["bash", "denoise_runs.sh"], cwd=REPO, capture_output=True, text=True, env=full, timeout=1800)


def test_dry_run_prints_every_recipe(tmp_path):
    r = _run(tmp_path, DRY_RUN="1", BASELINES="1")
    assert r.returncode == 0, r.stderr
    cmds = [line for line in r.stdout.splitlines() if line.startswith("+ ")]
    for needle in ('--dataset CVA', '--dataset POCUS', '--dataset Fluo', 'gap1_inverted_and_curr_frame',
                   'denoise.py', 'denoise_CVA.py', 'denoise_POCUS.py', 'denoise_Fluo.py', 'add_denoised_to_raw_2_ch.py',
                   'convert_frames_to_videos.py', 'classical_filter_frames.py', 'udvd_train.py'):
        assert any(needle in c for c in cmds), needle
    assert not (tmp_path / "runs").exists()  # nothing written


# The flags through which the commands of denoise_runs.sh write (every command has one).
OUTPUT_FLAGS = {"--out", "--results_path", "--output_dir", "--output-dir", "--added_imgs", "--video_dir",
                "--checkpoint-dir", "--work_dir", "--frames_output_dir"}


def test_every_output_is_under_out_even_with_real_data_roots(tmp_path):
    roots = {v: str(tmp_path / "data" / v.lower()) for v in ("CFC22_ROOT", "BUV_ROOT", "POCUS_ROOT", "FLUO_ROOT")}
    r = _run(tmp_path, DRY_RUN="1", BASELINES="1", **roots)
    assert r.returncode == 0, r.stderr
    out = str(tmp_path / "runs") + os.sep
    cmds = [shlex.split(line[2:]) for line in r.stdout.splitlines() if line.startswith("+ ")]
    assert len(cmds) > 20
    for cmd in cmds:
        outputs = [cmd[i + 1] for i, arg in enumerate(cmd) if arg in OUTPUT_FLAGS]
        assert outputs, f"no known output flag in: {' '.join(cmd)}"
        for path in outputs:
            assert path.startswith(out), f"writes outside $OUT: {path} in {' '.join(cmd)}"
    assert sum(any(a.startswith(str(tmp_path / "data")) for a in cmd) for cmd in cmds) > 10  # the roots are read


def test_a_rerun_skips_every_finished_step(tmp_path):
    calls = tmp_path / "calls.txt"
    stub = tmp_path / "python"  # records each command; runs only the step runner's own timing snippet
    stub.write_text(f'#!/usr/bin/env bash\nif [ "$1" = - ]; then exec {sys.executable} "$@"; fi\n'
                    f'echo "$*" >> {calls}\n')
    stub.chmod(0o755)
    first = _run(tmp_path, PY=str(stub), BASELINES="1")
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    n = len(calls.read_text().splitlines())
    dry = _run(tmp_path, DRY_RUN="1", BASELINES="1")
    assert n == sum(line.startswith("+ ") for line in dry.stdout.splitlines())
    times = json.loads((tmp_path / "runs" / "timings.json").read_text())
    assert len(times) == n and "buv_train" in times and "pocus_videos_convex" in times
    again = _run(tmp_path, PY=str(stub), BASELINES="1")
    assert again.returncode == 0, again.stderr[-2000:]
    assert len(calls.read_text().splitlines()) == n  # nothing ran again
    assert again.stdout.count("[done]") == n and "[run ]" not in again.stdout


def test_unknown_dataset_is_one_line(tmp_path):
    r = _run(tmp_path, DRY_RUN="1", DATASETS="CFC23")
    assert r.returncode == 2 and "unknown dataset 'CFC23'" in r.stderr


@pytest.mark.slow
def test_tiny_default_runs_every_layout(tmp_path):
    r = _run(tmp_path)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    runs = tmp_path / "runs"
    assert any((runs / "frames" / "frames_with_denoised" / "elwha").iterdir())
    assert (runs / "frames" / "buv" / "rawframes_median_denoised_2_ch" / "benign").is_dir()
    assert (runs / "videos" / "pocus" / "convex_median_denoised_2_ch").is_dir()
    assert any((runs / "frames" / "Fluo_median_denoised_identity" / "test").rglob("*.tif"))
