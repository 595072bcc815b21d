"""main.py end to end: the README training commands, one-line errors, falling val loss, resume, checkpoint reload.

Fast runs use the paper's smallest CNN (res-512 class, no skips, bottleneck 16) on 64×32 frames, in-process.
"""
from __future__ import annotations

import csv
import glob
import os
import time

import numpy as np
import pytest
import torch

from common.cli import UserError
from dataset.frames import write_frame

torch.set_num_threads(2)
SMALL = ["--epochs", "3", "--batch_size", "8", "--target", "gap1_and_curr_frame", "--train_resolution", "64", "--fine_layers",
         "--limit_train_batches", "5", "--learning_rate", "0.002",
         "--num_workers", "0"]


def train_inprocess(*argv: str) -> dict:
    from main import parse_args
    from models.training import train

    return train(parse_args(list(argv)))


def epoch_metric(results: str, key: str) -> dict[int, float]:
    out = {}
    for path in sorted(glob.glob(os.path.join(results, "logs", "version_*", "metrics.csv"))):
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                if row.get(key):
                    out[int(row["epoch"])] = float(row[key])
    return out


@pytest.fixture(scope="module")
def trained(synthetic_cfc22, tmp_path_factory):
    """3 epochs of the small CNN on the synthetic CFC22 benchmark, then 1 more epoch with --resume."""
    results = str(tmp_path_factory.mktemp("run") / "small")
    base = os.path.join(synthetic_cfc22, "frames", "raw_all")
    first = train_inprocess("--base_folder", base, "--results_path", results, *SMALL)
    before = torch.load(os.path.join(results, "last.ckpt"), weights_only=True)
    val_before_resume = epoch_metric(results, "val_loss")
    resumed = train_inprocess("--base_folder", base, "--results_path", results, *SMALL[2:], "--epochs", "4", "--resume")
    after = torch.load(os.path.join(results, "last.ckpt"), weights_only=True)
    return dict(results=results, base=base, first=first, resumed=resumed, before=before, after=after,
                val=val_before_resume)


def test_validation_loss_falls_on_the_synthetic_benchmark(trained):
    val = trained["val"]
    assert sorted(val) == [0, 1, 2]
    assert val[2] < val[1] < val[0] and val[2] < 0.7 * val[0], val
    assert trained["first"]["monitor"] == "val_loss" and trained["first"]["val_samples"] == 24  # 1 of 6 clips
    for name in ("best_model.ckpt", "last.ckpt", "loss_curve.png", "training_summary.json"):
        assert os.path.getsize(os.path.join(trained["results"], name)) > 0


def test_resume_continues_at_the_next_epoch_with_the_optimizer_state(trained):
    before, after = trained["before"], trained["after"]
    assert before["epoch"] == 2 and after["epoch"] == 3
    steps = before["global_step"]
    assert after["global_step"] == steps + steps // 3 == 20  # one more epoch of the same length (5 batches)
    adam_steps = lambda ck: float(next(iter(ck["optimizer_states"][0]["state"].values()))["step"])  # noqa: E731
    assert adam_steps(after) == adam_steps(before) + steps // 3  # AdamW moments continued, not reset
    assert sorted(epoch_metric(trained["results"], "val_loss")) == [0, 1, 2, 3]


def test_checkpoint_describes_itself_and_reloads_to_identical_outputs(trained):
    from models.checkpoint import load_denoiser
    from models.module import DenoiserModule

    path = os.path.join(trained["results"], "last.ckpt")
    hp = trained["after"]["hyper_parameters"]
    assert hp["model_config"]["input_height"] == 64 and hp["model_config"]["input_width"] == 32
    assert hp["target"] == "gap1_and_curr_frame" and hp["dataset"] == "CFC22" and hp["batch_size"] == 8
    net, cfg = load_denoiser(path)
    module = DenoiserModule.load_from_checkpoint(path, map_location="cpu", weights_only=True).eval()
    x = torch.rand(2, 3, 64, 32)
    with torch.no_grad():  # the module trains channels-last (other convolution kernels): equal to float noise
        torch.testing.assert_close(module(x), net(x), rtol=1e-5, atol=1e-6)
    assert cfg == hp["model_config"]


def test_rerun_without_resume_refuses_to_overwrite(trained):
    with pytest.raises(UserError, match="--resume to continue it or --overwrite"):
        train_inprocess("--base_folder", trained["base"], "--results_path", trained["results"], *SMALL)
    with pytest.raises(UserError, match="--bottleneck_size 32 contradicts the checkpoint's 16"):
        train_inprocess("--base_folder", trained["base"], "--results_path", trained["results"], *SMALL,
                        "--resume", "--bottleneck_size", "32")


def test_readme_cfc22_command_runs(run, synthetic_cfc22, tmp_path):
    frames_dir = os.path.join(synthetic_cfc22, "frames")
    results = str(tmp_path / "all_denoised_1024_fine_bnck_512_gap1_and_curr_frame_skip_adamw_plateau_scheduler_f0.1_pat2")
    proc = run("main.py", "--base_folder", f"{frames_dir}/raw_all", "--annotations_folder",
               f"{synthetic_cfc22}/annotations_mot_all", "--epochs", "1", "--batch_size", "16", "--resolution_target",
               "1024", "--fine_layers", "--bottleneck_size", "512", "--with_skip_connections", "--target",
               "gap1_and_curr_frame", "--results_path", results, "--model_type", "cnn", "--optimizer", "adamw",
               "--scheduler", "plateau", "--factor", "0.1", "--patience", "2",
               "--train_resolution", "128", "--debug")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "best model:" in proc.stdout
    ckpt = torch.load(os.path.join(results, "best_model.ckpt"), weights_only=True)
    assert ckpt["hyper_parameters"]["model_config"]["bottleneck_size"] == 512
    assert ckpt["hyper_parameters"]["model_config"]["input_height"] == 128


def test_help_is_fast(run):
    start = time.time()
    proc = run("main.py", "--help")
    assert proc.returncode == 0 and "--annotations_folder" in proc.stdout and "--paper_targets" in proc.stdout
    assert time.time() - start < 5  # a bare interpreter start on this shared machine; no torch import


def test_a_bad_flag_is_one_line_on_stderr_and_exit_code_2(run, synthetic_cfc22, tmp_path):
    proc = run("main.py", "--base_folder", os.path.join(synthetic_cfc22, "frames", "raw_all"),
               "--results_path", str(tmp_path / "r"), "--target", "gap3")
    assert proc.returncode == 2 and proc.stderr.startswith("error: unknown --target 'gap3'")
    assert "Traceback" not in proc.stderr and proc.stderr.strip().count("\n") == 0


@pytest.mark.parametrize("extra,message", [
    (["--dataset", "MNIST"], "unknown --dataset 'MNIST'"),
    (["--model_type", "resnet50"], "unknown --model_type 'resnet50'"),
    (["--train_resolution", "60"], "multiples of"),
    (["--loss", "l1_and_obj"], "needs --annotations_folder"),
    (["--scheduler", "warmup"], "unknown --scheduler"),
])
def test_bad_flags_fail_before_any_data_is_prepared(synthetic_cfc22, tmp_path, extra, message):
    results = tmp_path / "r"
    with pytest.raises(UserError, match=message):
        train_inprocess("--base_folder", os.path.join(synthetic_cfc22, "frames", "raw_all"),
                        "--results_path", str(results), *extra)
    assert not (results / "cache").exists()


def test_missing_folder_and_mixed_frame_sizes_are_one_line_errors(tmp_path):
    with pytest.raises(UserError, match="--base_folder not found"):
        train_inprocess("--base_folder", str(tmp_path / "none"), "--results_path", str(tmp_path / "r"), *SMALL)
    clip = tmp_path / "data" / "d-c"
    write_frame(str(clip / "0.jpg"), np.zeros((64, 32), np.uint8))
    write_frame(str(clip / "1.jpg"), np.zeros((60, 32), np.uint8))
    with pytest.raises(UserError, match="mixed frame sizes"):
        train_inprocess("--base_folder", str(tmp_path / "data"), "--results_path", str(tmp_path / "r2"), *SMALL)


def test_a_single_one_frame_clip_still_trains(tmp_path):
    write_frame(str(tmp_path / "data" / "d-c" / "0.png"), np.full((64, 32), 90, np.uint8))
    summary = train_inprocess("--base_folder", str(tmp_path / "data"), "--dataset", "custom", "--results_path",
                              str(tmp_path / "r"), *SMALL, "--epochs", "1")
    assert summary["monitor"] == "train_loss" and summary["train_samples"] == 1 and summary["val_samples"] == 0


# --- the README's other training commands, verbatim apart from paths and a tiny run (slow: one CPU model each)
TINY_RUN = ["--epochs", "1", "--train_resolution", "128", "--debug"]
README = {
    "CVA": (["--dataset", "CVA", "--epochs", "40", "--batch_size", "8", "--resolution_target", "1024", "--fine_layers",
             "--bottleneck_size", "512", "--with_skip_connections", "--target", "gap1_inverted_and_curr_frame",
             "--model_type", "cnn"], lambda root: os.path.join(root, "rawframes")),
    "POCUS": (["--dataset", "POCUS", "--epochs", "120", "--batch_size", "16", "--resolution_target", "1024",
               "--fine_layers", "--bottleneck_size", "512", "--with_skip_connections", "--target", "gap1_and_curr_frame",
               "--model_type", "cnn"], lambda root: os.path.join(root, "pocus_videos_frames")),
    "Fluo": (["--dataset", "Fluo", "--epochs", "1000", "--batch_size", "8", "--resolution_target", "1024",
              "--fine_layers", "--bottleneck_size", "512", "--with_skip_connections", "--target", "identity",
              "--model_type", "cnn"], lambda root: os.path.join(root, "train")),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(README))
def test_readme_training_commands_run(run, make_synthetic, tmp_path, name):
    flags, base = README[name]
    root = make_synthetic({"CVA": "cva", "POCUS": "pocus", "Fluo": "fluo"}[name], frames=8)
    proc = run("main.py", "--base_folder", base(root), *flags, "--results_path", str(tmp_path / name), *TINY_RUN)
    assert proc.returncode == 0, proc.stderr[-2000:]
    hp = torch.load(str(tmp_path / name / "best_model.ckpt"), weights_only=True)["hyper_parameters"]
    square = name in ("CVA", "Fluo")
    assert (hp["model_config"]["input_height"], hp["model_config"]["input_width"]) == (128, 128 if square else 64)


@pytest.mark.slow
def test_readme_custom_dataset_command_runs(run, make_synthetic, tmp_path):
    root = make_synthetic("custom", frames=8)
    flat = str(tmp_path / "dataset_name_flat")
    prep = run("setup/create_dataset_with_all_frames.py", "--frames_dir", root, "--frames_output_dir", flat,
               "--exclude", "clean", "annotations_mot", "counts")
    assert prep.returncode == 0, prep.stderr
    proc = run("main.py", "--dataset", "custom_dataset", "--base_folder", flat, "--epochs", "100", "--batch_size", "8",
               "--resolution_target", "1024", "--fine_layers", "--bottleneck_size", "512", "--with_skip_connections",
               "--target", "gap1_and_curr_frame", "--results_path",
               str(tmp_path / "custom_dataset_denoised_1024_fine_bnck_512_gap1_and_curr_frame_SKIP"), "--model_type",
               "cnn", *TINY_RUN)
    assert proc.returncode == 0, proc.stderr[-2000:]
    hp = torch.load(glob.glob(str(tmp_path / "custom_*" / "best_model.ckpt"))[0], weights_only=True)["hyper_parameters"]
    assert hp["dataset"] == "custom" and len(hp["clips"]) == 4


def test_two_process_ddp_on_cpu_completes_an_epoch(run, synthetic_cfc22, tmp_path):
    results = str(tmp_path / "ddp")
    env = {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(29500 + os.getpid() % 1000), "GLOO_SOCKET_IFNAME": "lo"}
    proc = run("main.py", "--base_folder", os.path.join(synthetic_cfc22, "frames", "raw_all"), "--results_path",
               results, *SMALL, "--epochs", "1", "--accelerator", "cpu", "--devices", "2", env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("best model:") == 1  # only rank 0 reports
    ckpt = torch.load(os.path.join(results, "last.ckpt"), weights_only=True)
    assert ckpt["epoch"] == 0 and ckpt["global_step"] == 5  # each rank ran its 5 batches of the sharded data
