"""Noise2Void baseline: the normalisation fix (docs/paper_code_behaviour.md#defect-9-16-n2v-normalisation), the
main-venv guard, and (when .venv-n2v exists) training and prediction end to end into denoise.py's layout."""
from __future__ import annotations

import os
import subprocess

import numpy as np
import pytest

from common.imaging import to_uint8
from other_baselines.n2v_common import N2V_VENV, best_checkpoint, best_checkpoint_in, n_val_patches, read_for_n2v

N2V_PYTHON = os.path.join(N2V_VENV, "bin", "python")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_predictions_are_rounded_and_clipped_not_wrapped():
    pred = np.array([-5.0, 0.4, 127.6, 254.5, 300.0, 256.0])
    assert to_uint8(pred, 0.0, 255.0).tolist() == [0, 0, 128, 254, 255, 255]  # a plain uint8 cast gives 251, 44, 0
                                                                  # (docs/paper_code_behaviour.md#defect-9-16-n2v-normalisation)


def test_frames_are_read_on_the_0_255_scale(tmp_path):
    from dataset.frames import write_frame

    img = np.array([[0, 128], [200, 255]], np.uint8)
    write_frame(str(tmp_path / "0.png"), img)
    got = read_for_n2v(tmp_path / "0.png")
    assert got.dtype == np.float32 and got.tolist() == [[0.0, 128.0], [200.0, 255.0]]


def test_validation_share_is_one_percent_with_a_floor_of_five(tmp_path):
    from dataset.frames import write_frame

    write_frame(str(tmp_path / "0.png"), np.zeros((256, 512), np.uint8))
    frames = [str(tmp_path / "0.png")] * 100  # 8 patches of 128 per frame → 800 patches
    assert n_val_patches(frames, 128) == 8
    assert n_val_patches(frames[:10], 128) == 5


def _fake_checkpoints(folder, *names: str) -> None:
    for name in names:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")


def test_best_checkpoint_is_the_lowest_validation_loss_in_the_names(tmp_path):
    from common.cli import UserError

    _fake_checkpoints(tmp_path / "w", "checkpoints/n2v_CFC22/n2v_CFC22_00_step_3_0.5000.ckpt",
                      "checkpoints/n2v_CFC22/n2v_CFC22_01_step_6_0.4000.ckpt",
                      "checkpoints/n2v_CFC22/n2v_CFC22_10_step_33_0.4500.ckpt",
                      "checkpoints/n2v_CFC22/n2v_CFC22_last.ckpt")
    assert best_checkpoint_in(str(tmp_path / "w")).endswith("n2v_CFC22_01_step_6_0.4000.ckpt")
    # without a loss in the names: the latest epoch, by number (a string sort would pick epoch_9)
    assert best_checkpoint(["w/epoch_9.ckpt", "w/epoch_10.ckpt", "w/last.ckpt"]) == "w/epoch_10.ckpt"
    assert best_checkpoint(["w/a_0.3000.ckpt", "w/b_0.3000.ckpt"]) == "w/b_0.3000.ckpt"  # a tie: the later one
    assert best_checkpoint(["w/n2v_last.ckpt"]) == "w/n2v_last.ckpt" and best_checkpoint([]) is None
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no N2V checkpoint"):
        best_checkpoint_in(str(tmp_path / "empty"))


def test_predict_model_flag_takes_the_work_dir(run, tmp_path):
    _fake_checkpoints(tmp_path / "w", "n2v_00_step_3_0.2000.ckpt", "n2v_01_step_6_0.3000.ckpt", "n2v_last.ckpt")
    base = ("other_baselines/n2v_predict_cfc22.py", "--input_dir", str(tmp_path), "--output_dir", str(tmp_path / "o"))
    res = run(*base, "--model", str(tmp_path / "w"))  # the main venv: stops at the environment check
    assert f"checkpoint {tmp_path / 'w' / 'n2v_00_step_3_0.2000.ckpt'}" in res.stdout
    (tmp_path / "none").mkdir()
    res = run(*base, "--model", str(tmp_path / "none"))
    assert res.returncode == 2 and "no N2V checkpoint (*.ckpt) under" in res.stderr and "Traceback" not in res.stderr


def test_no_shell_script_chooses_the_n2v_checkpoint_itself():
    import glob

    for path in glob.glob(os.path.join(REPO, "*.sh")) + glob.glob(os.path.join(REPO, "setup", "*.sh")):
        with open(path) as f:
            text = f.read()
        assert "-name '*.ckpt'" not in text and "last.ckpt" not in text, path


def test_n2v_script_in_the_main_venv_says_which_environment_to_use(run, tmp_path):
    res = run("other_baselines/n2v_cfc22.py", "--data_dir", str(tmp_path), "--epochs", "1")
    assert res.returncode == 2
    assert "setup/setup_n2v.sh" in res.stderr and "Traceback" not in res.stderr


@pytest.mark.skipif(not os.path.exists(N2V_PYTHON),
                    reason=".venv-n2v is not installed (bash setup/setup_n2v.sh: ~2 min, ~5.5 GB; not in CI)")
def test_n2v_trains_and_denoises_every_frame_into_the_denoise_layout(make_synthetic, tmp_path):
    root = make_synthetic("cfc22", clips_per_domain=1, frames=8, height=32, width=32, domains=("elwha",))
    env = {**os.environ, "PYTHONPATH": REPO}

    def n2v(*args):
        return subprocess.run([N2V_PYTHON, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=900)

    work = str(tmp_path / "work")
    res = n2v("other_baselines/n2v_cfc22.py", "--data_dir", os.path.join(root, "frames", "raw_all"),
              "--work_dir", work, "--epochs", "1", "--patch_size", "32", "--batch_size", "8", "--min_val_patches", "2", "--no_progress")
    assert res.returncode == 0, res.stderr[-2000:]
    ckpt = res.stdout.strip().split("checkpoint ")[-1]
    assert os.path.isfile(ckpt)

    raw = os.path.join(root, "frames", "raw", "elwha")
    out = str(tmp_path / "n2v" / "elwha")
    res = n2v("other_baselines/n2v_predict_cfc22.py", "--model", ckpt, "--input_dir", raw, "--output_dir", out,
              "--tile_size", "32", "--tile_overlap", "8", "--no_progress")
    assert res.returncode == 0, res.stderr[-2000:]
    from dataset.frames import read_frame

    for clip in os.listdir(raw):
        stems = sorted(os.path.splitext(f)[0] for f in os.listdir(os.path.join(raw, clip)))
        written = sorted(os.path.splitext(f)[0] for f in os.listdir(os.path.join(out, clip)))
        assert written == stems  # every frame, same names
        img = read_frame(os.path.join(out, clip, f"{stems[0]}.png"))
        assert img.shape == (32, 32) and img.dtype == np.uint8
    again = n2v("other_baselines/n2v_predict_cfc22.py", "--model", ckpt, "--input_dir", raw, "--output_dir", out,
                "--tile_size", "32", "--tile_overlap", "8", "--no_progress")
    assert again.returncode == 0 and "0 frames written" in again.stdout  # resumes: nothing left to do
