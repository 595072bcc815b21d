"""setup_<dataset>.sh --dry-run: the real URLs are listed, nothing touches the network or the disk; and every
setup/ tool answers --help quickly."""
from __future__ import annotations

import os
import stat
import subprocess
import time

import pytest

from tests.conftest import REPO

EXPECTED = {
    "setup_CFC22.sh": ["https://data.caltech.edu/records/1y23m-j8r69/files/fish_counting_frames.tar.gz",
                       "https://data.caltech.edu/records/1y23m-j8r69/files/fish_counting_annotations.tar.gz",
                       "https://data.caltech.edu/records/1y23m-j8r69/files/fish_counting_metadata.tar.gz",
                       "176648e618fc5013db972aa7ded01517", "setup/background_subtract_frames.py",
                       "setup/create_dataset_with_all_frames.py", "raw_median", "python main.py"],
    "setup_BUV.sh": ["https://github.com/jhl-Det/CVA-Net.git", "1LVXK34OJhC2LkqqyMmVFnXsXQavvZdeF", "7z x",
                     "setup/classical_filter_frames_CVA.py", "rawframes_median", "prepare_downstream.py swap"],
    "setup_POCUS.sh": ["https://github.com/jannisborn/covid19_ultrasound.git", "setup/convert_videos_to_frames.py",
                       "setup/classical_filter_frames_POCUS.py", "pocus_videos_frames_median_flat"],
    "setup_Fluo.sh": ["http://data.celltrackingchallenge.net/training-datasets/Fluo-C2DL-MSC.zip",
                      "http://data.celltrackingchallenge.net/training-datasets/Fluo-N2DH-GOWT1.zip",
                      "http://data.celltrackingchallenge.net/test-datasets/Fluo-C2DL-MSC.zip",
                      "http://data.celltrackingchallenge.net/test-datasets/Fluo-N2DH-GOWT1.zip",
                      "setup/classical_filter_frames_Fluo.py", "Fluo_median_flat"],
}


def fake_network_tools(bin_dir: str, marker: str) -> None:
    """curl/wget/git stand-ins that record any call (a dry run must make none)."""
    os.makedirs(bin_dir, exist_ok=True)
    for tool in ("curl", "wget", "git", "7z", "unzip", "tar"):
        path = os.path.join(bin_dir, tool)
        with open(path, "w") as f:
            f.write(f"#!/bin/sh\necho {tool} >> {marker}\nexit 1\n")
        os.chmod(path, os.stat(path).st_mode | stat.S_IEXEC)


@pytest.mark.parametrize("script", sorted(EXPECTED))
def test_dry_run_lists_real_urls_and_touches_nothing(tmp_path, script):
    marker = str(tmp_path / "network_calls")
    fake_network_tools(str(tmp_path / "bin"), marker)
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}"}
    data_root = tmp_path / "Data"
    proc = subprocess.run(["bash", f"setup/{script}", str(data_root), "--dry-run"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    for needle in EXPECTED[script]:
        assert needle in proc.stdout, needle
    assert not os.path.exists(marker) and not data_root.exists()
    by_env = subprocess.run(["bash", f"setup/{script}", "--dry-run"], cwd=REPO, capture_output=True, text=True,
                            env={**env, "DATA_ROOT": str(tmp_path / "Other")}, timeout=60)
    assert f"DATA_ROOT={tmp_path / 'Other'}" in by_env.stdout


def test_setup_script_rejects_unknown_option():
    proc = subprocess.run(["bash", "setup/setup_Fluo.sh", "--bogus"], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 2 and "unknown option --bogus" in proc.stderr


TOOLS = ["add_denoised_to_raw_2_ch", "add_denoised_3_ch", "background_subtract_frames", "make_baseline_plus_plus",
         "median_filter_frames", "classical_filter_frames", "classical_filter_frames_CVA",
         "classical_filter_frames_POCUS", "classical_filter_frames_Fluo", "create_dataset_with_all_frames",
         "make_flat_image_symlinks", "convert_frames_to_videos", "convert_videos_to_frames", "convert_tiff_to_jpg",
         "create_target_frames", "prepare_downstream"]


def test_every_tool_answers_help_fast(run):
    for tool in TOOLS:
        start = time.perf_counter()
        proc = run(f"setup/{tool}.py", "--help")
        assert proc.returncode == 0 and "usage:" in proc.stdout, tool
        assert time.perf_counter() - start < 1.5, tool  # no heavy imports at module level
