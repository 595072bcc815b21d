"""The results table: its columns with their valid ranges, one Row per input kind, validation, the Markdown table,
and report.md + metrics.json (docs/report.md).
"""
from __future__ import annotations

import json
import math
import os
import statistics
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


# The columns that depend on the detector, hence on its training seed (PSNR, SSIM and the times do not).
SEED_METRICS = ("map50", "map50_95", "hota", "mota", "idf1", "nmae", "count_mae")
# The per-seed table of report.md shows these (the rest are in metrics.json).
SEED_TABLE = ("map50", "hota", "mota", "idf1", "nmae", "count_mae")
LEARNED_THRESHOLD = 0.1    # a detector "learned" when its final validation mAP50 exceeds this
MAP_CONF = 0.001           # demo.sh runs detect.py with --conf 0.001: the mAP columns see every detection down to it


@dataclass
class Row:
    """One input kind of the comparison (raw, Baseline++, SAVeD, median, ...).

    `metrics` holds the table's values: for the columns of SEED_METRICS the mean over the detector seeds that
    have the value, whose own values are in `per_seed` (aligned with `seeds`). A run without the seed level
    (one detector per row) has `seeds == [None]`."""

    kind: str
    metrics: dict[str, float] = field(default_factory=dict)
    clip_quality: dict[str, list] = field(default_factory=dict)   # {clip: [(psnr, ssim) per frame]} for the bootstrap
    notes: list[str] = field(default_factory=list)                # why some of its columns are empty
    seeds: list = field(default_factory=lambda: [None])           # detector seeds read (None: the legacy layout)
    per_seed: dict[str, list] = field(default_factory=dict)       # {metric: [value or None, one per seed]}
    val_map50: list = field(default_factory=list)                 # final validation mAP50 per seed (None: unknown)
    min_conf: float | None = None                                 # lowest detection confidence in its preds.txt

    def has(self, metric: str, i: int) -> bool:
        """Whether seed number `i` (an index into `seeds`) has a value of `metric`."""
        if metric in self.per_seed:
            return self.per_seed[metric][i] is not None
        return metric in self.metrics

    def learned(self, threshold: float = LEARNED_THRESHOLD) -> list:
        """Per seed: True when the detector's final validation mAP50 exceeds `threshold`, None when unknown."""
        return [None if v is None else bool(v > threshold) for v in self.val_map50]


def kind_key(kind: str) -> str:
    """The folder name of an input kind in the run (demo.sh: Baseline++ → Baselinepp)."""
    return kind.replace("+", "p")


def results_dir(run_dir: str, kind: str, seed: int | None = None) -> str:
    """Where the pipeline wrote a kind's detections, tracks and evaluations: downstream/<key>/seed<s>, or
    downstream/<key> for a run without the detector-seed level (seed None)."""
    base = os.path.join(run_dir, "downstream", kind_key(kind))
    return base if seed is None else os.path.join(base, f"seed{seed}")


def training_dir(run_dir: str, kind: str, seed: int | None = None) -> str:
    """The ultralytics training folder of a kind's detector (yolo_train/<key>/seed<s>, legacy yolo_train/<key>)."""
    base = os.path.join(run_dir, "yolo_train", kind_key(kind))
    return base if seed is None else os.path.join(base, f"seed{seed}")


def spread(values: list) -> dict | None:
    """{"sd", "min", "max"} of the known values (sd with ddof=1, None below two values); None without any."""
    known = [float(v) for v in values if v is not None and math.isfinite(v)]
    if not known:
        return None
    sd = statistics.stdev(known) if len(known) > 1 else None
    return {"sd": sd, "min": min(known), "max": max(known)}


def seed_summary(rows: list[Row], threshold: float = LEARNED_THRESHOLD) -> dict:
    """metrics.json's detector-seed part: {"per_seed": {kind: {metric: [..]}}, "spread": {kind: {metric: {sd,
    min, max}}}, "learned": {kind: [..]}, "val_map50": {kind: [..]}} (one list entry per seed of the row)."""
    out: dict[str, dict] = {"per_seed": {}, "spread": {}, "learned": {}, "val_map50": {}}
    for r in rows:
        out["per_seed"][r.kind] = {m: list(r.per_seed[m]) for m in SEED_METRICS if m in r.per_seed}
        out["spread"][r.kind] = {m: s for m, v in out["per_seed"][r.kind].items() if (s := spread(v)) is not None}
        out["learned"][r.kind] = r.learned(threshold)
        out["val_map50"][r.kind] = list(r.val_map50)
    return out


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


def _cell(metric: str, value) -> str:
    return "—" if value is None or not math.isfinite(value) else COLUMNS[metric][2].format(value)


def seeded(rows: list[Row]) -> bool:
    """Whether the rows come from the detector-seed layout (downstream/<key>/seed<s>)."""
    return any(s is not None for r in rows for s in r.seeds)


def learned_count(row: Row, threshold: float = LEARNED_THRESHOLD) -> str:
    """`k/n`: seeds whose detector learned out of the row's seeds, `k/n (m unknown)` when m have no results.csv."""
    flags = row.learned(threshold) + [None] * (len(row.seeds) - len(row.val_map50))
    unknown = sum(f is None for f in flags)
    return f"{sum(f is True for f in flags)}/{len(flags)}" + (f" ({unknown} unknown)" if unknown else "")


def format_seed_table(rows: list[Row], threshold: float = LEARNED_THRESHOLD, val_domain: str = "kenai-val") -> str:
    """Markdown table of every detector seed's values (one line per row and seed), then per row the mean, the
    sd and the min–max over its seeds; the last columns give each detector's final validation mAP50 and
    whether it learned (`k/n` on the mean line)."""
    cols = [m for m in SEED_TABLE if any(m in r.per_seed for r in rows)]
    head = ("| input | detector seed | " + " | ".join(COLUMNS[m][0] for m in cols)
            + f" | val mAP50 ({val_domain}) | learned (> {threshold:g}) |")
    lines = [head, "|---|---|" + "|".join("---:" for _ in cols) + "|---:|---:|"]
    for r in rows:
        flags = r.learned(threshold)
        for i, s in enumerate(r.seeds):
            val = r.val_map50[i] if i < len(r.val_map50) else None
            flag = flags[i] if i < len(flags) else None
            cells = [_cell(m, r.per_seed.get(m, [None] * len(r.seeds))[i]) for m in cols]
            lines.append(f"| {r.kind} | {'—' if s is None else s} | " + " | ".join(cells)
                         + f" | {_cell('map50', val)} | {'?' if flag is None else 'yes' if flag else 'no'} |")
        summary = {m: spread(r.per_seed.get(m, [])) for m in cols}
        val = spread(r.val_map50)
        known_val = [v for v in r.val_map50 if v is not None]
        lines.append(f"| {r.kind} | mean | " + " | ".join(_cell(m, r.metrics.get(m)) for m in cols)
                     + f" | {_cell('map50', sum(known_val) / len(known_val) if known_val else None)} | "
                       f"{learned_count(r, threshold)} |")
        lines.append(f"| {r.kind} | sd | " + " | ".join(_cell(m, (summary[m] or {}).get("sd")) for m in cols)
                     + f" | {_cell('map50', (val or {}).get('sd'))} | |")
        ranges = ["—" if summary[m] is None else f"{_cell(m, summary[m]['min'])} – {_cell(m, summary[m]['max'])}"
                  for m in cols]
        val_range = "—" if val is None else f"{_cell('map50', val['min'])} – {_cell('map50', val['max'])}"
        lines.append(f"| {r.kind} | min–max | " + " | ".join(ranges) + f" | {val_range} | |")
    return "\n".join(lines)


def threshold_line(min_conf: float | None = None) -> str:
    """Which detection threshold each column uses (mAP: the low --conf of the detections; tracking and counting:
    the tracker's own), with the lowest confidence actually found in the run's detections when known."""
    from downstream.tracking import TrackerConfig

    cfg = TrackerConfig()
    found = ""
    if min_conf is not None:
        found = f"; the lowest confidence in this run's detections is {min_conf:.4f}"
        if min_conf > 10 * MAP_CONF:
            found += (", so they were written with a higher --conf and the mAP columns miss the low-confidence "
                      "tail the convention counts")
    return (f"Detection thresholds: mAP50 and mAP50-95 score every detection kept at confidence ≥ {MAP_CONF:g} (the "
            f"COCO/ultralytics convention for mAP; demo.sh runs detect.py with --conf {MAP_CONF:g}{found}). HOTA, "
            f"MOTA, IDF1, nMAE and count MAE score the tracker's output, which applies its own thresholds: "
            f"detections below {cfg.det_thresh:g} are dropped, and only those ≥ {cfg.high_thresh:g} (ByteTrack's "
            f"high band) take part in the first association and start new tracks (track.py's defaults, "
            f"downstream/tracking TrackerConfig).")


def pretraining_line(record: dict | None) -> str | None:
    """The one line on the shared pretrained detector (its time belongs to no row); None when the run has none."""
    if not record or record.get("seconds") is None:
        return None
    how = {True: "reused from the cache", False: "trained in this run"}.get(
        record.get("cache_hit"), "the pretrain_detector step; no detector_pretrained.pt.json record")
    return (f"shared detector pretraining: {float(record['seconds']):.0f} s ({how}); every row's detectors are "
            f"fine-tuned from it, so this time is in no row's train (s).")


def learned_line(rows: list[Row], threshold: float, val_domain: str) -> str | None:
    """Which detectors learned, in one line (None when no row knows its validation mAP50)."""
    if not any(v is not None for r in rows for v in r.val_map50):
        return None
    if seeded(rows):
        parts = [f"{r.kind} {learned_count(r, threshold)}" for r in rows]
    else:
        parts = [f"{r.kind} " + ("?" if not r.val_map50 or r.val_map50[0] is None else
                                 f"{'yes' if r.val_map50[0] > threshold else 'no'} ({r.val_map50[0]:.3f})")
                 for r in rows]
    return (f"Detectors that learned (final validation mAP50 on {val_domain} > {threshold:g}): "
            + ", ".join(parts) + ".")


def seed_line(rows: list[Row], seeds: list | None) -> str | None:
    """What the main table's detector-dependent cells are (None without the seed level)."""
    if not seeded(rows):
        return None
    seeds = seeds if seeds is not None else sorted({s for r in rows for s in r.seeds if s is not None})
    return (f"Detection, tracking and counting columns: the mean over the {len(seeds)} detector "
            f"seed{'s' if len(seeds) != 1 else ''} {', '.join(str(s) for s in seeds)} (one detector fine-tuned per "
            f"row and seed, the same seeds for every row); each seed's values are under \"Per detector seed\". "
            f"PSNR and SSIM do not depend on the "
            f"detector; train (s) and inference (s) add the row's frame-making steps to the mean over seeds of its "
            f"detector's training and detection.")


def write_report(run_dir: str, rows: list[Row], info: dict, figures: dict[str, str], boot: dict | None = None) -> str:
    """Write metrics.json and report.md under run_dir; return the console text (the table, the lines under it,
    and with `boot`, a result of downstream.bootstrap, the paired differences and what was resampled).

    `info` keys read here besides the text ones: "learned_threshold", "val_domain", "detector_seeds",
    "detector_pretraining" (the record of the shared pretrained detector) and "min_conf"."""
    threshold = float(info.get("learned_threshold", LEARNED_THRESHOLD))
    val_domain = info.get("val_domain", "kenai-val")
    table = format_table(rows)
    extra = {} if boot is None else {k: _json_safe(boot[k]) for k in ("ci", "paired", "bootstrap", "bootstrap_seeds")}
    seeds_part = _json_safe(seed_summary(rows, threshold))
    write_json(os.path.join(run_dir, "metrics.json"),
               {"rows": {r.kind: r.metrics for r in rows}, **extra, **seeds_part,
                "learned_threshold": threshold, **info, "figures": figures})
    # the lines under the table: (text, also printed on the console)
    under = [(line, console) for line, console in (
        (seed_line(rows, info.get("detector_seeds")), False), (threshold_line(info.get("min_conf")), False),
        (pretraining_line(info.get("detector_pretraining")), True), (learned_line(rows, threshold, val_domain), True))
        if line]
    per_seed = []
    if seeded(rows):
        per_seed = ["## Per detector seed", "", format_seed_table(rows, threshold, val_domain), "",
                    f"learned: the detector's final validation mAP50 on {val_domain} (last line of its ultralytics "
                    f"results.csv) is above {threshold:g}; `?`: no results.csv. sd: sample standard deviation over "
                    f"the seeds (ddof = 1; — with a single seed).", ""]
    lines = [f"# SAVeD results: {info.get('run', os.path.basename(run_dir))}", "",
             info.get("description", ""), "", format_table(rows, ci=boot and boot["ci"]), ""]
    for line, _ in under:
        lines += [line, ""]
    console = "".join(f"\n\n{line}" for line, printed in under if printed)
    if boot is not None:
        from downstream.bootstrap import report_sections

        markdown, boot_console = report_sections(boot, middle=per_seed)
        lines += markdown
        console += boot_console
    else:
        lines += per_seed
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
              "Times: wall-clock seconds on this machine; train (s) = the denoiser's training (if any) + the mean "
              "over detector seeds of the row's detector training, inference (s) = making the row's frames + the "
              "mean over seeds of its detection steps; the shared detector pretraining is in no row.",
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
