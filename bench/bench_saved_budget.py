"""Learning curve of SAVeD on the validation domain: how many training steps the CPU demo should spend.

    python bench/bench_saved_budget.py                                   # the default demo's data and network
    python bench/bench_saved_budget.py --rounds 12 --steps 40 --precision fp32
    python bench/bench_saved_budget.py --data results/default/data --out results/budget

Trains `main.py` in rounds of `--steps` optimizer steps (each round resumes the last; one round = one epoch of
`--limit_train_batches` batches) on every clip, self-supervised, as the demo does; after each round denoises the
validation domain with `last.ckpt` and prints the steps, the wall-clock training time, the held-out
`val_loss`, and PSNR/SSIM of the denoised frames against the synthetic clean frames (after the same gain/offset
fit as the report). The test domain is never looked at: the budget is chosen where the validation curve
flattens. Writes <out>/budget.json and <out>/budget.md. Figures are printed, never asserted in tests.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common.cli import ArgumentParser, fail, run_cli  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAIN_PRECISION = {"fp32": "32", "bf16": "bf16-mixed", "auto": "auto"}
DEMO_ARCH = ["--resolution_target", "1024", "--fine_layers", "--bottleneck_size", "64", "--with_skip_connections"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=None,
                   help="a CFC22-layout synthetic root with clean frames (default: generate the default demo's data)")
    p.add_argument("--out", default="results/saved_budget", help="work folder: checkpoints, denoised frames, tables")
    p.add_argument("--val-domain", default="kenai-val", help="domain the curve is measured on")
    p.add_argument("--rounds", type=int, default=10, help="training rounds (one epoch each)")
    p.add_argument("--steps", type=int, default=40, help="optimizer steps per round (main.py --limit_train_batches)")
    p.add_argument("--batch-size", type=int, default=8, help="training batch size (the demo's)")
    p.add_argument("--train-resolution", type=int, default=256,
                   help="training frame height (the demo's: its frames' own 256x128)")
    p.add_argument("--precision", default="auto", choices=sorted(TRAIN_PRECISION),
                   help="fp32, bf16 (training bf16-mixed, inference bf16) or auto (each script's own choice)")
    p.add_argument("--seed", type=int, default=0, help="seed of the data and of training")
    return p.parse_args(argv)


def _run(cmd: list[str], log: str) -> float:
    t0 = time.time()
    with open(log, "a", encoding="utf-8") as f:
        f.write("$ " + " ".join(cmd) + "\n")
        f.flush()
        r = subprocess.run(cmd, cwd=REPO, stdout=f, stderr=subprocess.STDOUT,
                           env={**os.environ, "PYTHONPATH": REPO})
    if r.returncode != 0:
        fail(f"command failed (exit {r.returncode}); log: {log}")
    return time.time() - t0


def last_val_loss(ckpt_dir: str) -> float | None:
    """The last logged val_loss in the newest metrics.csv under the checkpoint folder."""
    csvs = sorted((os.path.getmtime(os.path.join(d, "metrics.csv")), os.path.join(d, "metrics.csv"))
                  for d, _, files in os.walk(ckpt_dir) if "metrics.csv" in files)
    if not csvs:
        return None
    val = None
    with open(csvs[-1][1], newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row.get("val_loss"):
                val = float(row["val_loss"])
    return val


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    if a.rounds < 1 or a.steps < 1:
        fail("--rounds and --steps must be at least 1")
    py = sys.executable
    os.makedirs(a.out, exist_ok=True)
    log = os.path.join(a.out, "budget.log")
    data = a.data
    if data is None:
        data = os.path.join(a.out, "data")
        if not os.path.isfile(os.path.join(data, "summary.json")):
            print(f"generating the default demo's data in {data}")
            _run([py, "setup/make_synthetic_dataset.py", "--out", data, "--clips-per-domain", "2", "elwha=12",
                  "--frames", "100", "--height", "256", "--width", "128", "--fish-per-clip", "4",
                  "--target-scale", "4", "--seed", str(a.seed), "--quiet", "--overwrite"], log)
    val_frames = os.path.join(data, "frames", "raw", a.val_domain)
    if not os.path.isdir(val_frames) or not os.path.isdir(os.path.join(data, "clean")):
        fail(f"{data} needs frames/raw/{a.val_domain} and clean/ (a synthetic CFC22 root)")
    from downstream.report_quality import image_quality

    ckpt = os.path.join(a.out, "checkpoints")
    rows = []
    raw_q = image_quality(os.path.join(data, "frames", "raw"), os.path.join(data, "clean"), [a.val_domain])
    print(f"{'steps':>6} {'train s':>8} {'val_loss':>9} {'PSNR':>7} {'SSIM':>6}")
    print(f"{0:>6} {0:>8.0f} {'':>9} {raw_q['psnr']:>7.2f} {raw_q['ssim']:>6.3f}   (raw frames)")
    train_s = 0.0
    for k in range(1, a.rounds + 1):
        cmd = [py, "main.py", "--base_folder", os.path.join(data, "frames", "raw_all"),
               "--annotations_folder", os.path.join(data, "annotations_mot_all"), "--epochs", str(k),
               "--batch_size", str(a.batch_size), *DEMO_ARCH, "--train_resolution", str(a.train_resolution),
               "--limit_train_batches", str(a.steps), "--target", "gap1_and_curr_frame", "--results_path", ckpt,
               "--model_type", "cnn", "--optimizer", "adamw", "--scheduler", "plateau", "--factor", "0.1",
               "--patience", "2", "--seed", str(a.seed), "--precision", TRAIN_PRECISION[a.precision]]
        cmd += ["--resume"] if k > 1 else ["--overwrite"]
        train_s += _run(cmd, log)
        den = os.path.join(a.out, "denoised", f"round{k:02d}")
        _run([py, "denoise.py", "--model", os.path.join(ckpt, "last.ckpt"), "--input_dir", val_frames,
              "--output_dir", os.path.join(den, a.val_domain), "--precision", a.precision], log)
        q = image_quality(den, os.path.join(data, "clean"), [a.val_domain])
        row = {"steps": k * a.steps, "train_s": round(train_s, 1), "val_loss": last_val_loss(ckpt),
               "psnr": round(q["psnr"], 3), "ssim": round(q["ssim"], 4)}
        rows.append(row)
        vl = f"{row['val_loss']:.5f}" if row["val_loss"] is not None else "-"
        print(f"{row['steps']:>6} {train_s:>8.0f} {vl:>9} {row['psnr']:>7.2f} {row['ssim']:>6.3f}", flush=True)
    from common.atomic import write_json, write_text

    write_json(os.path.join(a.out, "budget.json"), {"raw": raw_q, "rounds": rows, "args": vars(a)})
    md = ["| steps | train (s) | val_loss | PSNR (dB) | SSIM |", "|---:|---:|---:|---:|---:|",
          f"| 0 (raw) | 0 | — | {raw_q['psnr']:.2f} | {raw_q['ssim']:.3f} |"]
    md += [f"| {r['steps']} | {r['train_s']:.0f} | {r['val_loss'] if r['val_loss'] is not None else '—'} | "
           f"{r['psnr']:.2f} | {r['ssim']:.3f} |" for r in rows]
    write_text(os.path.join(a.out, "budget.md"), "\n".join(md) + "\n")
    print(f"tables: {os.path.join(a.out, 'budget.md')}, {os.path.join(a.out, 'budget.json')}")
    return 0


if __name__ == "__main__":
    run_cli(main)
