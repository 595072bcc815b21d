"""Detector budget on the validation domain: learning curves of rows × detector seeds × schedules, with and
without the shared pretrained starting point (docs/detection.md#choosing-the-budget).

    python bench/bench_detector_budget.py --run-dir results/default --epochs 8 16 --seeds 0 1 2
    python bench/bench_detector_budget.py --run-dir results/default --epochs 30 --init scratch --seeds 0 1

It reads a finished (or at least converted) demo run: each row's `yolo/<key>/data.yaml` (train = the training
domain, val = the validation domain) and `detector_pretrained.pt`. Each (init, schedule, row, seed) trains a
detector with the protocol's recipe, validating after every epoch on the validation domain, into
<run>/budget/<init>-e<E>/<key>/seed<s> (resumable: finished trainings are read back, not redone). It prints each
curve (validation mAP50 after each epoch), seconds per epoch, and per schedule the final mAP50's mean, sd, min
and how many seeds learned, then writes <run>/budget/budget.json and budget.md. The test domain is never read.
A curve's epoch e within an E-epoch schedule is not an e-epoch schedule (learning-rate decay and the last
mosaic-free epochs differ), so budgets are compared by their final epochs.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common.cli import ArgumentParser, fail, run_cli  # noqa: E402

LEARNED = 0.1  # validation mAP50 above which a detector counts as having learned (the report's threshold)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run-dir", required=True, help="a demo run folder (results/<run>) with yolo/<key>/data.yaml")
    p.add_argument("--kinds", nargs="+", default=["raw", "Baseline++", "SAVeD"], help="rows to train")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="detector seeds")
    p.add_argument("--epochs", type=int, nargs="+", default=[8], help="schedules (epochs) to compare")
    p.add_argument("--init", nargs="+", choices=["pretrained", "scratch"], default=["pretrained", "scratch"],
                   help="starting points: the run's detector_pretrained.pt and/or random weights")
    p.add_argument("--batch-size", type=int, default=16, help="images per batch (the default preset's)")
    p.add_argument("--img-size", type=int, default=160, help="training image size (the default preset's)")
    p.add_argument("--model", default="yolov8n.yaml", help="architecture for the scratch runs")
    p.add_argument("--threshold", type=float, default=LEARNED, help="validation mAP50 that counts as learned")
    a = p.parse_args(argv)
    if min(a.epochs) < 1:
        fail("--epochs must be >= 1")
    return a


def read_curve(results_csv: str) -> tuple[list[float], list[float]]:
    """(validation mAP50 per epoch, cumulative seconds per epoch) of an ultralytics results.csv."""
    from downstream.yolo.train import VAL_MAP50, read_results_csv

    rows = read_results_csv(results_csv)
    return [float(r[VAL_MAP50]) for r in rows], [float(r.get("time") or "nan") for r in rows]


def summarise(finals: list[float], threshold: float) -> dict:
    """Mean, sd (n-1), min, max and the number above `threshold` of final validation mAP50s."""
    n = len(finals)
    mean = sum(finals) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in finals) / (n - 1)) if n > 1 else 0.0
    return {"n": n, "mean": mean, "sd": sd, "min": min(finals), "max": max(finals),
            "learned": sum(x > threshold for x in finals)}


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    from common.atomic import write_json, write_text
    from downstream.yolo.train import Recipe, train_detector

    pretrained = os.path.join(a.run_dir, "detector_pretrained.pt")
    if "pretrained" in a.init and not os.path.isfile(pretrained):
        fail(f"no {pretrained}: run demo.sh (default --pretrain) first, or pass --init scratch")
    out = os.path.join(a.run_dir, "budget")
    results: dict = {"threshold": a.threshold, "runs": [], "summary": []}
    lines = ["| init | epochs | row | seed | val mAP50 per epoch | s/epoch |", "|---|---:|---|---:|---|---:|"]
    for init in a.init:
        for epochs in a.epochs:
            finals_all = []
            for kind in a.kinds:
                key = kind.replace("+", "p")
                data = os.path.join(a.run_dir, "yolo", key, "data.yaml")
                if not os.path.isfile(data):
                    fail(f"no {data}: the demo run has not converted row {kind} yet")
                finals = []
                for seed in a.seeds:
                    project = os.path.join(out, f"{init}-e{epochs}", key)
                    weights = pretrained if init == "pretrained" else a.model.replace(".yaml", ".pt")
                    train_detector(data, epochs, a.batch_size, weights, a.img_size, project, f"seed{seed}",
                                   seed=seed, recipe=Recipe(val=True))
                    curve, times = read_curve(os.path.join(project, f"seed{seed}", "results.csv"))
                    per_epoch = times[-1] / len(times) if times else float("nan")
                    finals.append(curve[-1])
                    results["runs"].append({"init": init, "epochs": epochs, "kind": kind, "seed": seed,
                                            "val_map50": curve, "s_per_epoch": per_epoch})
                    line = (f"| {init} | {epochs} | {kind} | {seed} | {' '.join(f'{v:.2f}' for v in curve)} | "
                            f"{per_epoch:.1f} |")
                    lines.append(line)
                    print(line, flush=True)
                s = summarise(finals, a.threshold)
                results["summary"].append({"init": init, "epochs": epochs, "kind": kind, **s})
                finals_all += finals
    lines += ["", f"Final validation mAP50 over seeds (learned: > {a.threshold}):", "",
              "| init | epochs | row | mean | sd | min | max | learned |", "|---|---:|---|---:|---:|---:|---:|---:|"]
    for s in results["summary"]:
        lines.append(f"| {s['init']} | {s['epochs']} | {s['kind']} | {s['mean']:.3f} | {s['sd']:.3f} | "
                     f"{s['min']:.3f} | "
                     f"{s['max']:.3f} | {s['learned']}/{s['n']} |")
    text = "\n".join(lines) + "\n"
    write_json(os.path.join(out, "budget.json"), results)
    write_text(os.path.join(out, "budget.md"), text)
    print("\n" + "\n".join(lines[lines.index("") + 1:]))
    print(f"\nwritten: {os.path.join(out, 'budget.md')}, budget.json")
    return 0


if __name__ == "__main__":
    run_cli(main)
