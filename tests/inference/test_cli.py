"""inference/cli.py and the four denoise*.py scripts, run as a user would (subprocesses)."""
from __future__ import annotations

import os
import time

import pytest

from dataset.frames import list_frames, read_clip_array
from tests.inference.helpers import TINY_CNN, save_checkpoint

README_FLAGS = ["--model_type", "cnn", "--resolution_size", "512", "--fine_layers", "--bottleneck_size", "16",
                "--with_skip_connections"]


@pytest.fixture
def run(run):
    """The conftest runner with one torch thread: on 2 shared cores, 2 spinning OpenMP threads run ~10x slower."""
    return lambda *args: run(*args, env={"OMP_NUM_THREADS": "1"})


def _names(folder: str) -> list[str]:
    return [os.path.basename(p) for p in list_frames(folder)]


def test_help_is_instant_for_every_script(run):
    for script in ("denoise.py", "denoise_CVA.py", "denoise_POCUS.py", "denoise_Fluo.py"):
        t0 = time.perf_counter()
        r = run(script, "--help")
        assert r.returncode == 0 and "--with_skip_connections" in r.stdout and "--shard" in r.stdout
        assert time.perf_counter() - t0 < 5  # interpreter start included; torch is never imported
    assert "required" not in run("denoise.py", "--help").stdout.split("--model MODEL")[1].split("\n")[0]


def test_denoise_readme_command_then_resume(run, synthetic_cfc22, tiny_ckpt, tmp_path):
    domain = os.path.join(synthetic_cfc22, "frames", "raw", "elwha")
    out = str(tmp_path / "elwha")
    r = run("denoise.py", "--model", tiny_ckpt, "--input_dir", domain, "--output_dir", out, *README_FLAGS,
            "--batch_size", "4", "--preview")
    assert r.returncode == 0, r.stderr
    assert "48 frames written, 0 already done" in r.stdout and "(encoder reuse)" in r.stdout
    for clip in sorted(os.listdir(domain)):
        assert _names(os.path.join(out, clip)) == [n.replace(".jpg", ".png") for n in _names(os.path.join(domain, clip))]
        assert os.path.exists(os.path.join(out, "_previews", f"{clip}.gif"))
    again = run("denoise.py", "--model", tiny_ckpt, "--input_dir", domain, "--output_dir", out, "--quiet")
    assert again.returncode == 0 and "0 frames written, 48 already done" in again.stdout


def test_shards_cover_the_clips_once(run, synthetic_cfc22, tiny_ckpt, tmp_path):
    domain = os.path.join(synthetic_cfc22, "frames", "raw", "kenai-train")
    out = str(tmp_path / "o")
    r1 = run("denoise_POCUS.py", "--model", tiny_ckpt, "--input_dir", domain, "--output_dir", out, "--shard", "1/2",
             "--quiet")
    assert r1.returncode == 0, r1.stderr
    assert os.listdir(out) == ["clip000"]
    r2 = run("denoise_POCUS.py", "--model", tiny_ckpt, "--input_dir", domain, "--output_dir", out, "--shard", "2/2",
             "--quiet", "--format", "jpg")
    assert r2.returncode == 0 and sorted(os.listdir(out)) == ["clip000", "clip001"]
    assert _names(os.path.join(out, "clip001"))[0] == "0.jpg"


def test_fluo_layout_keeps_tif_names(run, make_synthetic, tmp_path):
    root = make_synthetic("fluo", clips_per_domain=1, frames=6)
    ckpt = save_checkpoint(str(tmp_path / "sq.ckpt"), {**TINY_CNN, "input_height": 32, "input_width": 32})
    out = str(tmp_path / "train")
    r = run("denoise_Fluo.py", "--model", ckpt, "--input_dir", os.path.join(root, "train"), "--output_dir", out,
            "--quiet")
    assert r.returncode == 0, r.stderr
    (seq,) = os.listdir(os.path.join(root, "train"))
    assert _names(os.path.join(out, seq)) == _names(os.path.join(root, "train", seq))
    assert read_clip_array(os.path.join(out, seq)).shape == read_clip_array(os.path.join(root, "train", seq)).shape
    assert "at 32x32" in r.stdout


def test_user_errors_are_one_line(run, synthetic_cfc22, tiny_ckpt, tmp_path):
    domain = os.path.join(synthetic_cfc22, "frames", "raw", "elwha")
    base = ["--input_dir", domain, "--output_dir", str(tmp_path / "o"), "--quiet"]

    def error_of(*args: str) -> str:
        r = run("denoise_CVA.py", *args)
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ")
        return lines[0]

    assert "checkpoint" in error_of("--model", str(tmp_path / "missing.ckpt"), *base)
    corrupt = tmp_path / "corrupt.ckpt"
    corrupt.write_bytes(b"\x00garbage" * 10)
    assert "corrupt.ckpt" in error_of("--model", str(corrupt), *base)
    msg = error_of("--model", tiny_ckpt, "--bottleneck_size", "512", "--resolution_size", "1024", *base)
    assert "--bottleneck_size 512 contradicts the checkpoint's 16" in msg and "--resolution_size 1024" in msg
    assert "inside the input" in error_of("--model", tiny_ckpt, "--input_dir", domain,
                                          "--output_dir", os.path.join(domain, "x"))
    assert "--shard" in error_of("--model", tiny_ckpt, *base, "--shard", "3")


@pytest.mark.slow
def test_devices_spreads_clips_over_processes(run, synthetic_cfc22, tiny_ckpt, tmp_path):
    """--devices 2 on a CPU-only machine: two processes, one clip each, same outputs as one process."""
    domain = os.path.join(synthetic_cfc22, "frames", "raw", "kenai-val")
    two, one = str(tmp_path / "two"), str(tmp_path / "one")
    r = run("denoise.py", "--model", tiny_ckpt, "--input_dir", domain, "--output_dir", two, "--devices", "2", "--quiet")
    assert r.returncode == 0 and "2 processes" in r.stdout, r.stderr
    assert run("denoise.py", "--model", tiny_ckpt, "--input_dir", domain, "--output_dir", one, "--quiet").returncode == 0
    for clip in os.listdir(domain):
        assert (read_clip_array(os.path.join(two, clip)) == read_clip_array(os.path.join(one, clip))).all()
