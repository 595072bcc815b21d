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


def test_fluo_real_run_offline_and_idempotent(tmp_path):
    """The whole non-dry path of setup_Fluo.sh (download → unzip → link → median → flatten) against a fake curl that
    serves tiny local CTC-style zips; a second run skips every finished step."""
    import zipfile

    import cv2
    import numpy as np

    served = tmp_path / "served"
    for split in ("train", "test"):
        os.makedirs(served / split)
        for ds in ("Fluo-C2DL-MSC", "Fluo-N2DH-GOWT1"):
            with zipfile.ZipFile(served / split / f"{ds}.zip", "w") as z:
                for seq in ("01", "02"):
                    for t in range(4):
                        img = np.full((16, 16), 1000 + 50 * t, np.uint16)
                        ok, buf = cv2.imencode(".tif", img)
                        z.writestr(f"{ds}/{seq}/t{t:03d}.tif", buf.tobytes())
    bin_dir = tmp_path / "bin"
    os.makedirs(bin_dir)
    curl = bin_dir / "curl"
    curl.write_text(f"""#!/bin/bash
dest=""; url=""
while [ $# -gt 0 ]; do case "$1" in -o) dest="$2"; shift 2;; -C|--retry|--retry-delay) shift 2;; -*) shift;; *) url="$1"; shift;; esac; done
case "$url" in *training-datasets*) split=train;; *) split=test;; esac
echo "$url" >> {tmp_path}/calls
cp "{served}/$split/$(basename "$url")" "$dest"
""")
    curl.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    data_root = tmp_path / "Data"
    first = subprocess.run(["bash", "setup/setup_Fluo.sh", str(data_root)], cwd=REPO, env=env, capture_output=True,
                           text=True, timeout=300)
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    flat = sorted(os.listdir(data_root / "Fluo_median_flat"))
    assert flat == sorted(f"{s}-{d}_{q}" for s in ("train", "test") for d in ("Fluo-C2DL-MSC", "Fluo-N2DH-GOWT1")
                          for q in ("01", "02"))
    img = cv2.imread(str(data_root / "Fluo_median_flat" / flat[0] / "t003.tif"), cv2.IMREAD_UNCHANGED)
    assert img.dtype == np.uint8 and img.shape == (16, 16)
    assert len((tmp_path / "calls").read_text().split()) == 4
    second = subprocess.run(["bash", "setup/setup_Fluo.sh", str(data_root)], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    assert len((tmp_path / "calls").read_text().split()) == 4  # nothing downloaded again
    assert "already extracted" in second.stdout and "0 clip(s) written, 8 already done" in second.stdout
