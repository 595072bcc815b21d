"""The results report: one table (rows = input kinds, columns = image quality, detection, tracking, counting,
time), a metrics.json, plots and a side-by-side GIF.

It only reads the files the pipeline's scripts write (frames, preds/tracks/counts, the evaluators' JSON), so
it can be rebuilt at any time from a finished or partial run.
"""
from __future__ import annotations

import csv
import json
import math
import os
from dataclasses import dataclass, field

import numpy as np

from common.atomic import atomic_path, write_json, write_text

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


def psnr(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    """PSNR in dB of uint8-range images (inside `mask` when given); inf for identical images."""
    d = a.astype(np.float64) - b.astype(np.float64)
    if mask is not None:
        d = d[mask]
    mse = float(np.mean(d ** 2))
    return math.inf if mse == 0 else 10.0 * math.log10(255.0 ** 2 / mse)


def ssim(a: np.ndarray, b: np.ndarray, sigma: float = 1.5) -> float:
    """Mean SSIM (Wang et al. 2004: Gaussian window σ=1.5, K1=0.01, K2=0.03) of two uint8-range gray images."""
    from scipy.ndimage import gaussian_filter

    x, y = a.astype(np.float64), b.astype(np.float64)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mx, my = gaussian_filter(x, sigma), gaussian_filter(y, sigma)
    sxx = gaussian_filter(x * x, sigma) - mx * mx
    syy = gaussian_filter(y * y, sigma) - my * my
    sxy = gaussian_filter(x * y, sigma) - mx * my
    s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
    return float(s.mean())


def fit_to(img: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Least-squares gain and offset mapping `img` onto `ref`, clipped to 0..255.

    Denoiser outputs (SAVeD's, like the paper's) are min-max stretched per frame, so their intensity scale is
    arbitrary; PSNR/SSIM are computed after this fit, for every row alike, so they measure structure, not scale.
    """
    x = img.astype(np.float64).ravel()
    y = ref.astype(np.float64).ravel()
    var = x.var()
    gain = ((x - x.mean()) * (y - y.mean())).mean() / var if var > 0 else 0.0
    out = gain * (img.astype(np.float64) - x.mean()) + y.mean()
    return np.clip(out, 0, 255)


def image_quality(frames_root: str, clean_root: str, domains: list[str], channel: int | None = None,
                  max_frames_per_clip: int | None = None, per_clip: dict | None = None) -> dict[str, float]:
    """Mean PSNR and SSIM of an image tree against the synthetic clean frames (same clip and frame names).

    `channel` picks one channel of colour frames (BGR order as OpenCV reads them); None reads grayscale.
    `per_clip`, when given, receives {clip: [(psnr, ssim) per frame]} (the bootstrap over clips re-pools them).
    """
    import cv2

    from dataset.frames import frame_index, list_clip_dirs, list_frames

    ps, ss = [], []
    for domain in domains:
        droot = os.path.join(frames_root, domain)
        if not os.path.isdir(droot):
            continue
        for clip_dir in list_clip_dirs(droot):
            clean_dir = os.path.join(clean_root, domain, os.path.basename(clip_dir))
            if not os.path.isdir(clean_dir):
                continue
            frames = list_frames(clip_dir)
            clean_files = {frame_index(p): p for p in list_frames(clean_dir, required=False)}
            if max_frames_per_clip:
                frames = frames[:: max(1, len(frames) // max_frames_per_clip)]
            for f in frames:
                img = cv2.imread(f, cv2.IMREAD_UNCHANGED)
                if img is None:
                    continue
                if img.ndim == 3:
                    img = img[:, :, channel] if channel is not None else cv2.cvtColor(img[:, :, :3], cv2.COLOR_BGR2GRAY)
                clean_path = clean_files.get(frame_index(f))
                clean = cv2.imread(clean_path, cv2.IMREAD_GRAYSCALE) if clean_path else None
                if clean is None:
                    continue
                if img.shape != clean.shape:
                    img = cv2.resize(img, (clean.shape[1], clean.shape[0]), interpolation=cv2.INTER_AREA)
                img = fit_to(img, clean)
                ps.append(min(psnr(img, clean), 100.0))
                ss.append(ssim(img, clean))
                if per_clip is not None:
                    per_clip.setdefault(os.path.basename(clip_dir), []).append((ps[-1], ss[-1]))
    if not ps:
        return {}
    return {"psnr": float(np.mean(ps)), "ssim": float(np.mean(ss))}


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
    if not series:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2))
    for name, pts in series.items():
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_yscale("log")
    ax.set_title("SAVeD training loss")
    ax.legend()
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    return True


def plot_bars(rows: list[Row], path: str, keys=("map50", "hota", "mota", "idf1", "nmae")) -> bool:
    keys = [k for k in keys if any(k in r.metrics for r in rows)]
    if not keys:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.4))
    width = 0.8 / max(1, len(rows))
    x = np.arange(len(keys))
    for i, r in enumerate(rows):
        ax.bar(x + i * width, [r.metrics.get(k, np.nan) for k in keys], width, label=r.kind)
    ax.set_xticks(x + width * (len(rows) - 1) / 2)
    ax.set_xticklabels([COLUMNS[k][0] for k in keys])
    ax.axhline(0, color="k", lw=0.5)
    ax.set_title("Downstream metrics on the test domain (nMAE: lower is better)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    return True


def crop_grid(panels: dict[str, str], gt_txt: str, frame_idx: list[int], path: str, size: int = 64) -> bool:
    """A grid of crops around fish: one column per source (name → clip folder), one row per chosen frame."""
    import cv2

    from dataset.frames import list_frames
    from downstream.mot import by_frame, read_mot

    rows_by_frame = by_frame(read_mot(gt_txt, allow_missing=True))
    tiles = []
    for t in frame_idx:
        boxes = rows_by_frame.get(t + 1)
        if boxes is None:
            continue
        left, top, w, h = boxes[0][2:6]
        cx, cy = int(left - 1 + w / 2), int(top - 1 + h / 2)
        row = []
        for name, clip_dir in panels.items():
            files = {os.path.splitext(os.path.basename(f))[0]: f for f in list_frames(clip_dir, required=False)}
            f = files.get(str(t))
            img = cv2.imread(f, cv2.IMREAD_GRAYSCALE) if f else None
            if img is None:
                img = np.zeros((size, size), np.uint8)
            pad = np.pad(img, size, mode="constant")
            crop = pad[cy + size - size // 2: cy + size + size // 2, cx + size - size // 2: cx + size + size // 2]
            crop = cv2.resize(crop, (2 * size, 2 * size), interpolation=cv2.INTER_NEAREST)
            cv2.putText(crop, name, (2, 12), cv2.FONT_HERSHEY_PLAIN, 0.8, 255, 1)
            row.append(crop)
        tiles.append(np.hstack(row))
    if not tiles:
        return False
    from dataset.frames import write_frame

    write_frame(path, np.vstack(tiles))
    return True


def side_by_side_gif(panels: dict[str, str], path: str, max_frames: int = 60, fps: float = 10.0) -> bool:
    """An animated GIF with the named clip folders side by side (e.g. raw | SAVeD | clean)."""
    import cv2
    from PIL import Image

    from dataset.frames import list_frames

    lists = [list_frames(d, required=False) for d in panels.values()]
    n = min((len(x) for x in lists), default=0)
    if n == 0:
        return False
    images = []
    for i in range(min(n, max_frames)):
        parts = []
        for files in lists:
            img = cv2.imread(files[i], cv2.IMREAD_GRAYSCALE)
            if parts and img.shape != parts[0].shape:
                img = cv2.resize(img, (parts[0].shape[1], parts[0].shape[0]))
            parts.append(img)
        frame = np.hstack(parts)
        for j, name in enumerate(panels):
            cv2.putText(frame, name, (3 + j * parts[0].shape[1], 12), cv2.FONT_HERSHEY_PLAIN, 0.8, 255, 1)
        images.append(Image.fromarray(frame))
    with atomic_path(path) as tmp:
        images[0].save(tmp, save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0)
    return True


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
    if not os.path.isfile(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


# ---- the demo's run folder → report -------------------------------------------------------------------------
# demo.sh's conventions: results/<run>/{data, frames/<kind>, downstream/<key>, .done/<step>} with key = kind
# without '+' (Baseline++ → Baselinepp). PSNR/SSIM compare the image a denoiser produced (raw: the noisy input).
QUALITY_SOURCE = {"raw": "data/frames/raw", "SAVeD": "frames/saved", "median": "frames/median",
                  "mean": "frames/mean", "gaussian": "frames/gaussian", "UDVD": "frames/udvd", "N2V": "frames/n2v"}


def kind_key(kind: str) -> str:
    return kind.replace("+", "p")


def step_seconds(run_dir: str, prefix: str) -> float | None:
    """Sum of the wall-clock seconds of the finished demo steps whose name starts with `prefix`."""
    done = os.path.join(run_dir, ".done")
    if not os.path.isdir(done):
        return None
    vals = []
    for name in os.listdir(done):
        if name.startswith(prefix):
            try:
                vals.append(float(open(os.path.join(done, name)).read().strip() or 0))
            except ValueError:
                pass
    return float(sum(vals)) if vals else None


def frame_count_mae(run_dir: str, results: str, domain: str) -> float | None:
    """Per-frame count MAE of the tracks in `results/<clip>/tracks.txt` against the run's ground truth of
    `domain`, pooled over every frame of its clips; None when no clip has tracks."""
    from downstream.counting import per_frame_count_errors
    from downstream.mot import read_mot
    from downstream.tracking.layout import clips_with_file, num_frames

    data = os.path.join(run_dir, "data")
    errors = []
    for clip, gt in clips_with_file(os.path.join(data, "annotations_mot"), domain, "gt.txt").items():
        tracks = os.path.join(results, clip, "tracks.txt")
        if os.path.isfile(tracks):
            n = num_frames(os.path.join(data, "frames", "raw"), domain, clip)
            errors.append(per_frame_count_errors(read_mot(tracks), read_mot(gt), n))
    return float(np.concatenate(errors).mean()) if errors else None


def collect_row(run_dir: str, kind: str, test_domain: str, per_frame_counts: bool = False) -> Row:
    """Gather one input kind's metrics from the files the pipeline wrote for `test_domain` (with
    `per_frame_counts`, the per-frame count MAE of data without crossing semantics)."""
    key = kind_key(kind)
    res = os.path.join(run_dir, "downstream", key, test_domain)
    m: dict[str, float] = {}
    per_clip_quality: dict[str, list] = {}
    det = load_json(os.path.join(res, "metrics_det.json")).get("all", {})
    for src, dst in (("mAP50", "map50"), ("mAP50-95", "map50_95")):
        if det.get(src) is not None:
            m[dst] = float(det[src])
    trk = load_json(os.path.join(res, "metrics_track.json")).get("combined", {})
    for src, dst in (("HOTA", "hota"), ("MOTA", "mota"), ("IDF1", "idf1")):
        if trk.get(src) is not None:
            m[dst] = float(trk[src])
    cnt = load_json(os.path.join(res, "metrics_count.json"))
    if cnt.get("nMAE") is not None:
        m["nmae"] = float(cnt["nMAE"])
    if per_frame_counts and os.path.isdir(res):
        mae = frame_count_mae(run_dir, res, test_domain)
        if mae is not None:
            m["count_mae"] = mae
    if kind in QUALITY_SOURCE:
        q = image_quality(os.path.join(run_dir, QUALITY_SOURCE[kind]), os.path.join(run_dir, "data", "clean"), [test_domain],
                          per_clip=per_clip_quality)
        m.update(q)
    den = {"SAVeD": "train_saved", "UDVD": "train_udvd", "N2V": "train_n2v"}.get(kind)
    t_train = (step_seconds(run_dir, den) or 0.0) if den else 0.0
    t_train += step_seconds(run_dir, f"train_detector_{key}") or 0.0
    m["train_s"] = t_train
    infer = {"SAVeD": "denoise_saved_", "Baseline++": "baseline_pp", "median": "filter_median", "mean": "filter_mean",
             "gaussian": "filter_gaussian", "UDVD": "denoise_udvd", "N2V": "denoise_n2v"}.get(kind)
    t_inf = (step_seconds(run_dir, infer) or 0.0) if infer else 0.0
    t_inf += step_seconds(run_dir, f"detect_{key}_") or 0.0
    m["infer_s"] = t_inf
    return Row(kind, m, per_clip_quality)


def missing_notes(rows: list[Row], dataset_info: dict) -> list[str]:
    """Why columns or rows are absent: the data's reasons (no clean frames, no crossings), and rows without any
    downstream result (a stage that did not run)."""
    by_reason: dict[str, list[str]] = {}
    for key, reason in dataset_info.get("missing", {}).items():
        by_reason.setdefault(reason, []).append(COLUMNS[key][0] if key in COLUMNS else key)
    notes = [f"{', '.join(cols)}: {reason}" for reason, cols in by_reason.items()]
    for r in rows:
        if not any(k in r.metrics for k in ("map50", "hota")):
            notes.append(f"row {r.kind}: no detection or tracking results (its stages did not run)")
    return notes


def build_demo_report(run_dir: str, kinds: list[str], test_domain: str, elapsed: float | None = None,
                      train_domain: str = "kenai-train", dataset_info: dict | None = None, resamples: int = 2000,
                      seed: int = 0) -> tuple[str, list[str]]:
    """Collect every row, draw the figures and write report.md + metrics.json; return (table, problems).

    `resamples` > 0 adds bootstrap intervals over the test clips and SAVeD − row differences (downstream.bootstrap).

    `dataset_info` (the `report` part of own_data.json, `demo.sh --data`) describes a user's data: its
    description, the missing columns with their reasons and whether counts are per frame."""
    dataset_info = dataset_info or {}
    rows = [collect_row(run_dir, k, test_domain, bool(dataset_info.get("per_frame_counts"))) for k in kinds]
    figs: dict[str, str] = {}
    ckpt_dir = os.path.join(run_dir, "checkpoints", "saved")
    curves = [os.path.join(d, "metrics.csv") for d, _, files in os.walk(ckpt_dir) if "metrics.csv" in files]
    if curves and plot_loss(read_loss_curve(sorted(curves)[-1]), os.path.join(run_dir, "loss_curve.png")):
        figs["SAVeD training loss"] = "loss_curve.png"
    if plot_bars(rows, os.path.join(run_dir, "metrics_bars.png")):
        figs["Downstream metrics"] = "metrics_bars.png"
    data = os.path.join(run_dir, "data")
    clips_root = os.path.join(data, "frames", "raw", test_domain)
    if os.path.isdir(clips_root):
        clip = sorted(os.listdir(clips_root))[0]
        panels = {"raw": os.path.join(clips_root, clip),
                  "BS": os.path.join(run_dir, "frames", "raw_bs", test_domain, clip),
                  "SAVeD": os.path.join(run_dir, "frames", "saved", test_domain, clip),
                  "clean": os.path.join(data, "clean", test_domain, clip)}
        panels = {k: v for k, v in panels.items() if os.path.isdir(v)}
        gt = os.path.join(data, "annotations_mot", test_domain, clip, "gt.txt")
        from downstream.mot import by_frame, read_mot

        fish_frames = sorted(by_frame(read_mot(gt, allow_missing=True)))
        picks = [f - 1 for f in fish_frames[:: max(1, len(fish_frames) // 4)]][:4]
        if crop_grid(panels, gt, picks, os.path.join(run_dir, "crops_grid.png")):
            figs["Crops around fish: raw | background-subtracted | SAVeD | clean"] = "crops_grid.png"
        if side_by_side_gif(panels, os.path.join(run_dir, "side_by_side.gif")):
            figs["Side by side: raw | background-subtracted | SAVeD | clean"] = "side_by_side.gif"
    data_text = dataset_info.get("description") or (f"Test domain `{test_domain}` of the synthetic sonar benchmark; "
                                                    f"one YOLO detector trained per input kind on {train_domain}.")
    info = {"run": os.path.basename(os.path.normpath(run_dir)), "test_domain": test_domain,
            "train_domain": train_domain, "missing": missing_notes(rows, dataset_info),
            "description": f"{data_text} Rows: raw frames, CFC Baseline++ (raw, background-"
                           f"subtracted, frame difference), SAVeD merged [background-subtracted, SAVeD, SAVeD]."}
    if elapsed is not None:
        info["elapsed_s"] = float(elapsed)
    from downstream.bootstrap import bootstrap_rows

    boot, boot_problems = bootstrap_rows(run_dir, rows, test_domain, resamples, seed) if resamples > 0 else (None, [])
    table = write_report(run_dir, rows, info, figs, boot)
    return table, validate(rows) + boot_problems


def main(argv: list[str] | None = None) -> int:
    """python -m downstream.report --run-dir results/<run> --test-domain elwha --kinds raw Baseline++ SAVeD"""
    from common.cli import ArgumentParser

    p = ArgumentParser(description="Build results/<run>/report.md and metrics.json from a demo run.")
    p.add_argument("--run-dir", required=True, help="the demo's results/<run> folder")
    p.add_argument("--test-domain", default="elwha", help="domain whose metrics fill the table")
    p.add_argument("--kinds", nargs="+", default=["raw", "Baseline++", "SAVeD"], help="rows of the table, in order")
    p.add_argument("--elapsed", type=float, default=None, help="total wall-clock seconds of the run, for the record")
    p.add_argument("--train-domain", default="kenai-train", help="domain the detectors trained on (for the text)")
    p.add_argument("--dataset-info", default=None,
                   help="own_data.json of demo.sh --data: the data's description and missing columns with reasons")
    p.add_argument("--bootstrap", type=int, default=2000, metavar="B",
                   help="resamples of the test clips for the 95%% confidence intervals and paired differences (0 = off)")
    p.add_argument("--bootstrap-seed", type=int, default=0, help="seed of the resampling (the report is deterministic)")
    a = p.parse_args(argv)
    if a.bootstrap < 0:
        from common.cli import fail

        fail(f"--bootstrap must be >= 0 (0 = off), got {a.bootstrap}")
    info = load_json(a.dataset_info).get("report", {}) if a.dataset_info else {}
    table, problems = build_demo_report(a.run_dir, a.kinds, a.test_domain, a.elapsed, a.train_domain, info,
                                        resamples=a.bootstrap, seed=a.bootstrap_seed)
    print(f"\nResults on the test domain ({a.test_domain}); report: {os.path.join(a.run_dir, 'report.md')}\n")
    print(table)
    for note in missing_notes([], info) if info else []:
        print(f"missing: {note}")
    for prob in problems:
        print(f"warning: {prob}")
    return 0


if __name__ == "__main__":
    import sys

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from common.cli import run_cli

    run_cli(main)
