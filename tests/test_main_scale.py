"""main.py at scale: exact mid-epoch resume after a SIGKILL, the new flags (--cache, --checkpoint_every_n_steps,
--limit_val_batches, dashed spellings) and their one-line errors.

The resume test runs main.py's `train` in a child process that records the (clip, t) of every trained sample and
kills itself with SIGKILL in the middle of an epoch, right after a step checkpoint; `--resume` then finishes the run.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from dataset.frames import write_frame

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ["--train_resolution", "64", "--batch_size", "4", "--learning_rate", "0.001", "--num_workers", "0",
        "--target", "gap1_and_curr_frame", "--val_fraction", "0"]

RECORDER = textwrap.dedent("""
    import json, os, signal, sys
    sys.path.insert(0, {repo!r})
    import torch
    torch.set_num_threads(1)
    from pytorch_lightning.callbacks import Callback
    from main import parse_args
    from models.training import train

    LOG, KILL_AT = os.environ["RECORD_LOG"], int(os.environ.get("KILL_AT_STEP", "-1"))

    class Record(Callback):
        def on_train_batch_start(self, trainer, module, batch, batch_idx):
            if trainer.global_step == KILL_AT:
                os.kill(os.getpid(), signal.SIGKILL)  # no clean-up of any kind, as a pre-emption

        def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
            pairs = [[int(c), int(t)] for c, t in zip(batch["clip"], batch["t"])]
            with open(LOG + (f".rank{{trainer.global_rank}}" if trainer.global_rank else ""), "a") as f:
                f.write(json.dumps({{"epoch": trainer.current_epoch, "step": trainer.global_step, "items": pairs}}) + "\\n")

    train(parse_args(sys.argv[1:]), callbacks=(Record(),))
""")


def make_clips(root: str, lengths=(14, 10), h: int = 40, w: int = 20) -> str:
    rng = np.random.default_rng(1)
    for c, n in enumerate(lengths):
        for i in range(n):
            write_frame(os.path.join(root, f"dom-clip{c}", f"{i}.png"), rng.integers(0, 256, (h, w), np.uint8))
    return root


def run_recorded(script: str, log: str, argv: list[str], kill_at: int | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "RECORD_LOG": log, "OMP_NUM_THREADS": "1"}
    if kill_at is not None:
        env["KILL_AT_STEP"] = str(kill_at)
    return subprocess.run([sys.executable, script, *argv], env=env, cwd=REPO, capture_output=True, text=True,
                          timeout=600)


def test_sigkill_mid_epoch_then_resume_trains_every_sample_of_each_epoch_once(tmp_path):
    base = make_clips(str(tmp_path / "data"))  # 24 samples, batch 4: 6 steps per epoch
    script, log = str(tmp_path / "record.py"), str(tmp_path / "log.jsonl")
    with open(script, "w") as f:
        f.write(RECORDER.format(repo=REPO))
    argv = ["--base_folder", base, "--results_path", str(tmp_path / "run"), "--epochs", "3", *TINY,
            "--checkpoint-every-n-steps", "2"]
    killed = run_recorded(script, log, argv, kill_at=10)  # epoch 1, after its 4th batch (checkpoint at step 10)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    with open(log) as f:
        before = [json.loads(line) for line in f]
    assert [r["step"] for r in before] == list(range(1, 11))
    resumed = run_recorded(script, log, argv + ["--resume"])
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    with open(log) as f:
        rows = [json.loads(line) for line in f]
    assert [r["step"] for r in rows] == list(range(1, 19))  # no step repeated, none lost
    every = sorted([c, t] for c, n in enumerate((14, 10)) for t in range(n))
    orders = []
    for epoch in range(3):
        seen = [p for r in rows if r["epoch"] == epoch for p in r["items"]]
        assert sorted(seen) == every, f"epoch {epoch}"  # each sample exactly once, the killed epoch included
        orders.append(seen)
    assert orders[0] != orders[1] != orders[2]  # still shuffled per epoch


def test_two_ddp_ranks_split_each_epoch_without_overlap(tmp_path):
    base = make_clips(str(tmp_path / "data"))  # 24 samples: 12 per rank, 3 steps of 4 per epoch
    script, log = str(tmp_path / "record.py"), str(tmp_path / "log.jsonl")
    with open(script, "w") as f:
        f.write(RECORDER.format(repo=REPO))
    r = run_recorded(script, log, ["--base_folder", base, "--results_path", str(tmp_path / "run"), "--epochs", "2",
                                   *TINY, "--accelerator", "cpu", "--devices", "2"])
    assert r.returncode == 0, r.stderr[-2000:]
    every = sorted([c, t] for c, n in enumerate((14, 10)) for t in range(n))
    ranks = []
    for path in (log, log + ".rank1"):
        with open(path) as f:
            ranks.append([json.loads(line) for line in f])
    for epoch in range(2):
        shares = [[p for r in rows if r["epoch"] == epoch for p in r["items"]] for rows in ranks]
        assert len(shares[0]) == len(shares[1]) == 12 and sorted(shares[0] + shares[1]) == every


def test_new_flags_parse_with_underscores_and_dashes():
    from main import parse_args

    a = parse_args(["--base_folder", "x", "--checkpoint-every-n-steps", "50", "--limit-val-batches", "0.5",
                    "--cache", "none", "--cache-workers", "3", "--checkpoint_every_n_minutes", "30"])
    b = parse_args(["--base_folder", "x", "--checkpoint_every_n_steps", "50", "--limit_val_batches", "12"])
    assert (a.checkpoint_every_n_steps, a.limit_val_batches, a.cache, a.cache_workers) == (50, 0.5, "none", 3)
    assert (a.checkpoint_every_n_minutes, b.checkpoint_every_n_steps, b.limit_val_batches) == (30.0, 50, 12)
    assert parse_args(["--base_folder", "x"]).cache == "disk"


@pytest.mark.parametrize("flag", [["--checkpoint_every_n_steps", "0"], ["--cache", "ram"],
                                  ["--checkpoint-every-n-minutes", "-1"]])
def test_bad_values_stop_at_the_command_line(flag):
    r = subprocess.run([sys.executable, "main.py", "--base_folder", ".", *flag], cwd=REPO, capture_output=True,
                       text=True)
    assert r.returncode == 2 and flag[0].replace("-", "_").lstrip("_") in r.stderr.replace("-", "_")


def test_cache_none_and_limit_val_batches_train_without_a_frame_cache(tmp_path):
    from main import parse_args
    from models.training import train

    base = make_clips(str(tmp_path / "data"), lengths=(8, 8, 8))
    results = str(tmp_path / "run")
    summary = train(parse_args(["--base_folder", base, "--results_path", results, "--epochs", "1", *TINY[:-2],
                                "--val_fraction", "0.34", "--cache", "none", "--limit_val_batches", "1"]))
    assert summary["val_samples"] == 8 and os.path.exists(os.path.join(results, "last.ckpt"))
    cached = [n for _, _, files in os.walk(os.path.join(results, "cache")) for n in files]
    assert cached and all(n.endswith(".json") for n in cached)  # one small record per clip, no frames
    import csv
    import glob

    with open(glob.glob(os.path.join(results, "logs", "version_*", "metrics.csv"))[0]) as f:
        assert any(row.get("val_loss") for row in csv.DictReader(f))
