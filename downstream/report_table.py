"""The results table: its columns with their valid ranges, one Row per input kind, validation, the Markdown table,
and report.md + metrics.json (docs/report.md).
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field

from common.atomic import write_json, write_text

# Column key → (header, valid range, format). Ranges are what a sane value must satisfy (tests check them).
COLUMNS = {
    "psnr": ("PSNR (dB)", (0.0, 100.0), "{:.2f}"),
    "ssim": ("SSIM", (-1.0, 1.0), "{:.3f}"),
    "map50": ("mAP50", (0.0, 1.0), "{:.3f}"),
    "map50_95": ("mAP50-95", (0.0, 1.0), "{:.3f}"),
    "hota": ("HOTA", (0.0, 1.0), "{:.3f}"),
    "mota": ("MOTA", (-math.inf, 1.0), "{:.3f}"),
    "idf1": ("IDF1", (0.0, 1.0), "{:.3f}"),
    "nmae": ("nMAE", (0.0, math.inf), "{:.3f}"),
    "count_mae": ("count MAE/frame", (0.0, math.inf), "{:.3f}"),
    "train_s": ("train (s)", (0.0, math.inf), "{:.0f}"),
    "infer_s": ("inference (s)", (0.0, math.inf), "{:.0f}"),
}


@dataclass
class Row:
    """One input kind of the comparison (raw, Baseline++, SAVeD, median, ...)."""

    kind: str
    metrics: dict[str, float] = field(default_factory=dict)
    clip_quality: dict[str, list] = field(default_factory=dict)   # {clip: [(psnr, ssim) per frame]} for the bootstrap
    notes: list[str] = field(default_factory=list)                # why some of its columns are empty


def kind_key(kind: str) -> str:
    """The folder name of an input kind in the run (demo.sh: Baseline++ → Baselinepp)."""
    return kind.replace("+", "p")


def validate(rows: list[Row]) -> list[str]:
    """Problems with the table: non-finite values or values outside their valid range."""
    problems = []
    for row in rows:
        for key, value in row.metrics.items():
            if key not in COLUMNS:
                continue
            lo, hi = COLUMNS[key][1]
            if value is None or not isinstance(value, (int, float)) or not math.isfinite(value):
                problems.append(f"{row.kind}.{key} is not a finite number: {value!r}")
            elif not lo - 1e-9 <= value <= hi + 1e-9:
                problems.append(f"{row.kind}.{key} = {value} is outside [{lo}, {hi}]")
    return problems


def format_table(rows: list[Row], columns: list[str] | None = None, ci: dict | None = None) -> str:
    """A Markdown table; missing values show as '—'; with `ci` ({kind: {metric: [lo, hi]}}) `value [lo, hi]`."""
    cols = columns or [c for c in COLUMNS if any(c in r.metrics for r in rows)]
    head = "| input | " + " | ".join(COLUMNS[c][0] for c in cols) + " |"
    sep = "|---|" + "|".join("---:" for _ in cols) + "|"
    body = []
    for r in rows:
        cells = []
        for c in cols:
            v = r.metrics.get(c)
            cells.append("—" if v is None else COLUMNS[c][2].format(v))
            iv = (ci or {}).get(r.kind, {}).get(c)
            if v is not None and iv is not None:
                cells[-1] += " [" + ", ".join(COLUMNS[c][2].format(x) for x in iv) + "]"
        body.append(f"| {r.kind} | " + " | ".join(cells) + " |")
    return "\n".join([head, sep, *body])


def write_report(run_dir: str, rows: list[Row], info: dict, figures: dict[str, str], boot: dict | None = None) -> str:
    """Write metrics.json and report.md under run_dir; return the console text (the table, and with `boot`,
    a result of downstream.bootstrap, the paired differences and what was resampled)."""
    table = format_table(rows)
    extra = {} if boot is None else {k: _json_safe(boot[k]) for k in ("ci", "paired", "bootstrap")}
    write_json(os.path.join(run_dir, "metrics.json"),
               {"rows": {r.kind: r.metrics for r in rows}, **extra, **info, "figures": figures})
    lines = [f"# SAVeD results: {info.get('run', os.path.basename(run_dir))}", "",
             info.get("description", ""), "", format_table(rows, ci=boot and boot["ci"]), ""]
    if boot is not None:
        from downstream.bootstrap import report_sections

        markdown, console = report_sections(boot)
        lines += markdown
        table += console
    if info.get("missing"):
        lines += ["## Missing from this table", "", *(f"- {m}" for m in info["missing"]), ""]
    for title, rel in figures.items():
        lines += [f"## {title}", "", f"![{title}]({rel})", ""]
    lines += ["## Metric definitions", "",
              "PSNR/SSIM: the denoiser's output (raw: the noisy frame) vs the synthetic clean frame, after a per-frame "
              "least-squares gain/offset fit (denoised outputs are min-max stretched, so their scale is arbitrary). "
              "Baseline++ is not a denoised image and has none. mAP50 and mAP50-95: every frame of every test clip (COCO-style, torchmetrics). "
              "HOTA, MOTA, IDF1: TrackEval combined over the test clips at IoU 0.5. nMAE: "
              "Σ|Δleft|+|Δright| / Σ(gt left+right) by the CFC counting rule. count MAE/frame (data without "
              "left/right crossings): mean over every frame of the test clips of |tracked boxes − ground-truth boxes|. "
              "Times: wall-clock seconds on this machine.",
              ""]
    write_text(os.path.join(run_dir, "report.md"), "\n".join(lines))
    return table


def _json_safe(obj):
    """NaN/inf → None (strict JSON), recursively."""
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    return None if isinstance(obj, float) and not math.isfinite(obj) else obj


def load_json(path: str) -> dict:
    """A pipeline JSON file of the run folder, {} when it was not written (that stage did not run)."""
    if not os.path.isfile(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)
