"""The one MOT reader/writer (gt.txt, preds.txt, tracks.txt), with line-numbered errors.

Rows are `frame, id, left, top, width, height, conf, x, y, z`; frames and pixels are 1-based (MOTChallenge,
CFC22). Arrays returned here keep the file's values; conversions to 0-based corners are in `common.boxes`.
A leaf module: the synthetic generator, own-data checks, training windows and every downstream stage read and
write these files through it, so it imports nothing of the project but `common`.
"""
from __future__ import annotations

import os

import numpy as np

from common.atomic import write_text
from common.cli import fail

COLUMNS = ("frame", "id", "left", "top", "width", "height", "conf", "x", "y", "z")


def preds_path(output_dir: str, dataset: str, clip: str) -> str:
    """Where detect.py writes a clip's detections: `<output_dir>/<dataset>/<clip>/preds.txt`."""
    return os.path.join(output_dir, dataset, clip, "preds.txt")


def read_mot(path: str, min_cols: int = 6, allow_missing: bool = False) -> np.ndarray:
    """Read a MOT file into an N×10 float64 array (missing trailing columns filled with -1).

    An empty or (with allow_missing) absent file gives a 0×10 array. A malformed line raises a UserError
    naming the file and the line number.
    """
    if not os.path.exists(path):
        if allow_missing:
            return np.zeros((0, 10))
        fail(f"MOT file not found: {path}")
    rows = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(",") if "," in line else line.split()
            if len(parts) < min_cols:
                fail(f"{path}:{lineno}: expected at least {min_cols} comma-separated values, got {len(parts)}: {line!r}")
            try:
                vals = [float(p) for p in parts[:10]]
            except ValueError:
                fail(f"{path}:{lineno}: non-numeric value in {line!r}")
            vals += [-1.0] * (10 - len(vals))
            if vals[0] < 1:
                fail(f"{path}:{lineno}: frame numbers are 1-based, got {parts[0]}")
            if vals[4] < 0 or vals[5] < 0:
                fail(f"{path}:{lineno}: negative box size in {line!r}")
            rows.append(vals)
    return np.asarray(rows, dtype=np.float64).reshape(-1, 10)


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.2f}".rstrip("0").rstrip(".")


def format_mot(rows: np.ndarray) -> str:
    rows = np.asarray(rows, dtype=np.float64).reshape(-1, 10)
    order = np.lexsort((rows[:, 1], rows[:, 0]))
    lines = [",".join(_fmt(v) if j != 6 else (f"{v:.4f}" if not float(v).is_integer() else _fmt(v))
                      for j, v in enumerate(r)) for r in rows[order]]
    return "\n".join(lines) + ("\n" if lines else "")


def write_mot(path: str, rows: np.ndarray) -> None:
    """Write rows (N×10 or N×7+) sorted by frame then id, atomically."""
    rows = np.asarray(rows, dtype=np.float64)
    if rows.ndim == 2 and rows.shape[1] < 10:
        rows = np.hstack([rows, -np.ones((len(rows), 10 - rows.shape[1]))])
    write_text(path, format_mot(rows.reshape(-1, 10)))


def by_frame(rows: np.ndarray) -> dict[int, np.ndarray]:
    """Group rows by their (1-based) frame number."""
    out: dict[int, list] = {}
    for r in rows:
        out.setdefault(int(r[0]), []).append(r)
    return {k: np.asarray(v) for k, v in out.items()}


def by_track(rows: np.ndarray) -> dict[int, np.ndarray]:
    """Group rows by track id, each group sorted by frame."""
    out: dict[int, np.ndarray] = {}
    for tid in np.unique(rows[:, 1]) if len(rows) else []:
        sel = rows[rows[:, 1] == tid]
        out[int(tid)] = sel[np.argsort(sel[:, 0], kind="stable")]
    return out
