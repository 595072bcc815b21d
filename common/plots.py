"""The SAVeD loss curve (from Lightning's CSV log) and the matplotlib plumbing every figure shares.

A leaf module: `models/training.py` draws the curve after training and the results report draws it again from
the run folder, so neither has to import the other (docs/report.md).
"""
from __future__ import annotations

import csv
import os

from common.atomic import atomic_path


def pyplot():
    """matplotlib.pyplot on the file-only Agg backend (no display needed; imported only when a figure is drawn)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: str, dpi: int = 110) -> None:
    """Lay out, write atomically (an interrupted run leaves no half PNG) and release the figure."""
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi)
    pyplot().close(fig)


def read_loss_curve(metrics_csv: str) -> dict[str, list[tuple[int, float]]]:
    """(epoch, value) series of train_loss/val_loss epoch means from a Lightning CSVLogger metrics.csv."""
    series: dict[str, list[tuple[int, float]]] = {}
    if not os.path.isfile(metrics_csv):
        return series
    with open(metrics_csv, newline="", encoding="utf-8") as f:
        for rec in csv.DictReader(f):
            for key in ("train_loss_epoch", "train_loss", "val_loss"):
                v = rec.get(key)
                if v not in (None, "") and rec.get("epoch") not in (None, ""):
                    name = "val_loss" if key == "val_loss" else "train_loss"
                    if key == "train_loss" and "train_loss_epoch" in rec:
                        continue  # per-step values: the epoch means are in train_loss_epoch
                    series.setdefault(name, []).append((int(float(rec["epoch"])), float(v)))
    return series


def plot_loss(series: dict[str, list[tuple[int, float]]], path: str) -> bool:
    """A log-scale loss-per-epoch PNG of `read_loss_curve` series; False (nothing written) when there is none."""
    if not series:
        return False
    fig, ax = pyplot().subplots(figsize=(5, 3.2))
    for name, pts in series.items():
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_yscale("log")
    ax.set_title("SAVeD training loss")
    ax.legend()
    save_figure(fig, path)
    return True
