"""denoise_runs.sh: the dry run prints every recipe's commands without touching anything; the tiny default
runs end to end on synthetic data of each layout (slow)."""
from __future__ import annotations

import os
import subprocess

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


def test_unknown_dataset_is_one_line(tmp_path):
    r = _run(tmp_path, DRY_RUN="1", DATASETS="CFC23")
    assert r.returncode == 2 and "unknown dataset 'CFC23'" in r.stderr


@pytest.mark.slow
def test_tiny_default_runs_every_layout(tmp_path):
    r = _run(tmp_path)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    runs = tmp_path / "runs"
    assert any((runs / "frames" / "frames_with_denoised" / "elwha").iterdir())
    assert (runs / "data" / "buv" / "rawframes_median_denoised_2_ch" / "benign").is_dir()
    assert (runs / "data" / "pocus" / "pocus_videos" / "convex_median_denoised_2_ch").is_dir()
    assert any((runs / "frames" / "Fluo_median_denoised_identity" / "test").rglob("*.tif"))
