"""The results report: one table (rows = input kinds, columns = image quality, detection, tracking, counting,
time), a per-detector-seed table, a metrics.json, plots and a side-by-side GIF.

It only reads the files the pipeline's scripts write (frames, preds/tracks/counts, the evaluators' JSON, the
step timings), so it can be rebuilt at any time from a finished or partial run. This module gathers a run folder
into rows and runs the CLI; the table and files are `report_table`, the figures `report_figures`, PSNR/SSIM
`report_quality`, the time columns `report_timings`, the intervals `bootstrap`.

Each row trained several detectors (one per detector seed, the same seeds for every row): their results are in
downstream/<key>/seed<s>/<domain>/ and a row's detection, tracking and counting values are the mean over them. A
run folder without any seed<s> folder (one detector per row, downstream/<key>/<domain>/) is read as one seed.
"""
from __future__ import annotations

import os
import re

import numpy as np

from common.mot import by_frame, read_mot
from common.plots import plot_loss, read_loss_curve
from downstream.report_figures import crop_grid, plot_bars, side_by_side_gif
from downstream.report_quality import image_quality
from downstream.report_table import (COLUMNS, LEARNED_THRESHOLD, SEED_METRICS, Row, kind_key, load_json,
                                     results_dir, training_dir, validate, write_report)
from downstream.report_timings import kind_times, pretraining, read_timings
from downstream.yolo.train import VAL_MAP50, final_val_map50

# demo.sh's conventions: results/<run>/{data, frames/<kind>, downstream/<key>/seed<s>, yolo_train/<key>/seed<s>,
# timings.json} with key = kind without '+' (Baseline++ → Baselinepp). PSNR/SSIM compare the image a denoiser
# produced (raw: the noisy input).
QUALITY_SOURCE = {"raw": "data/frames/raw", "SAVeD": "frames/saved", "median": "frames/median",
                  "mean": "frames/mean", "gaussian": "frames/gaussian", "UDVD": "frames/udvd", "N2V": "frames/n2v"}
SEED_DIR = re.compile(r"seed(0|[1-9]\d*)")   # as demo.sh names them: seed0, seed1, ...
AUTO = "auto"


def frame_count_mae(run_dir: str, results: str, domain: str) -> float | None:
    """Per-frame count MAE of the tracks in `results/<clip>/tracks.txt` against the run's ground truth of
    `domain`, pooled over every frame of its clips; None when no clip has tracks."""
    from downstream.counting import per_frame_count_errors
    from downstream.tracking.layout import clips_with_file, num_frames

    data = os.path.join(run_dir, "data")
    errors = []
    for clip, gt in clips_with_file(os.path.join(data, "annotations_mot"), domain, "gt.txt").items():
        tracks = os.path.join(results, clip, "tracks.txt")
        if os.path.isfile(tracks):
            n = num_frames(os.path.join(data, "frames", "raw"), domain, clip)
            errors.append(per_frame_count_errors(read_mot(tracks), read_mot(gt), n))
    return float(np.concatenate(errors).mean()) if errors else None


def seed_folders(run_dir: str, kind: str) -> list[int]:
    """The detector seeds with a downstream/<key>/seed<s> folder, sorted numerically."""
    base = results_dir(run_dir, kind)
    if not os.path.isdir(base):
        return []
    return sorted(int(m.group(1)) for name in os.listdir(base)
                  if (m := SEED_DIR.fullmatch(name)) and os.path.isdir(os.path.join(base, name)))


def choose_seeds(run_dir: str, kinds: list[str],
                 requested: list[int] | None = None) -> tuple[list[int] | None, dict[str, list], list[str]]:
    """(the detector seeds of the report, {kind: the seeds it has}, notes on rows missing some).

    `requested` None: every seed folder found under any row (the same set is expected for every row). A run
    without any seed folder, and none requested, is the layout without the seed level: (None, {kind: [None]}, [])."""
    found = {k: seed_folders(run_dir, k) for k in kinds}
    if requested is None and not any(found.values()):
        return None, {k: [None] for k in kinds}, []
    seeds = sorted(set(requested)) if requested is not None else sorted({s for v in found.values() for s in v})
    have = {k: [s for s in seeds if s in found[k]] for k in kinds}
    common = [s for s in seeds if all(s in v for v in have.values())]
    notes = []
    for k in kinds:
        missing = [s for s in seeds if s not in have[k]]
        if missing:
            averaged = f"seeds {_listed(have[k])}" if have[k] else "nothing"
            notes.append(f"row {k}: no results for detector seed{'s' if len(missing) > 1 else ''} {_listed(missing)} "
                         f"({os.path.join('downstream', kind_key(k), 'seed<s>')} absent); its values average "
                         f"{averaged}, the paired differences use the seeds every row has "
                         f"({_listed(common) or 'none'})")
    return seeds, have, notes


def _listed(values: list) -> str:
    return ", ".join(str(v) for v in values)


def lowest_confidence(results: str, domain: str) -> float | None:
    """The lowest detection confidence in the preds.txt files of `results/<domain>/<clip>/`; None without any."""
    folder = os.path.join(results, domain)
    lows = []
    for clip in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        path = os.path.join(folder, clip, "preds.txt")
        if os.path.isfile(path):
            rows = read_mot(path)
            if len(rows):
                lows.append(float(rows[:, 6].min()))
    return min(lows) if lows else None


def downstream_metrics(run_dir: str, res: str, test_domain: str, per_frame_counts: bool = False) -> dict[str, float]:
    """Detection, tracking and counting values of one results folder (`res` = downstream/<key>[/seed<s>]/<domain>)."""
    m: dict[str, float] = {}
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
    return m


def collect_row(run_dir: str, kind: str, test_domain: str, per_frame_counts: bool = False,
                timings: dict[str, float] | None = None, seeds: list[int] | None | str = AUTO) -> Row:
    """Gather one input kind's metrics from the files the pipeline wrote for `test_domain` (with
    `per_frame_counts`, the per-frame count MAE of data without crossing semantics). `timings`: the run's
    {step: seconds} (`report_timings.read_timings`, read here when not given). `seeds`: the detector seeds to
    read (downstream/<key>/seed<s>), None for the layout without the seed level (downstream/<key>), "auto" for
    the row's own seed folders (None when it has none).

    The detector-dependent values are the mean over the seeds that have them, each seed's in `Row.per_seed`;
    `Row.val_map50` holds each seed's final validation mAP50 (its results.csv)."""
    if isinstance(seeds, str):
        seeds = seed_folders(run_dir, kind) or None
    labels = [None] if seeds is None else list(seeds)
    m: dict[str, float] = {}
    notes: list[str] = []
    per_seed: dict[str, list] = {}
    lows = []
    for i, s in enumerate(labels):
        res = os.path.join(results_dir(run_dir, kind, s), test_domain)
        for key, value in downstream_metrics(run_dir, res, test_domain, per_frame_counts).items():
            per_seed.setdefault(key, [None] * len(labels))[i] = value
        if (low := lowest_confidence(results_dir(run_dir, kind, s), test_domain)) is not None:
            lows.append(low)
    for key in SEED_METRICS:
        if key not in per_seed:
            continue
        known = [v for v in per_seed[key] if v is not None]
        m[key] = float(np.mean(known))
        lacking = [str(s) for s, v in zip(labels, per_seed[key]) if v is None]
        if lacking:
            notes.append(f"{COLUMNS[key][0]} of {kind}: no value for detector seed{'s' if len(lacking) > 1 else ''} "
                         f"{', '.join(lacking)} (its stage did not run); the mean is over the other seeds")
    val = [final_val_map50(os.path.join(training_dir(run_dir, kind, s), "results.csv")) for s in labels]
    per_clip_quality: dict[str, list] = {}
    if kind in QUALITY_SOURCE:
        q = image_quality(os.path.join(run_dir, QUALITY_SOURCE[kind]), os.path.join(run_dir, "data", "clean"), [test_domain],
                          per_clip=per_clip_quality)
        m.update(q)
    times, time_notes = kind_times(read_timings(run_dir) if timings is None else timings, kind, seeds)
    m.update(times)
    return Row(kind, m, per_clip_quality, notes + time_notes, labels, per_seed, val, min(lows) if lows else None)


def missing_notes(rows: list[Row], dataset_info: dict) -> list[str]:
    """Why columns or rows are absent: the data's reasons (no clean frames, no crossings), rows without any
    downstream result (a stage that did not run) and time columns lacking a step (each note once)."""
    by_reason: dict[str, list[str]] = {}
    for key, reason in dataset_info.get("missing", {}).items():
        by_reason.setdefault(reason, []).append(COLUMNS[key][0] if key in COLUMNS else key)
    notes = [f"{', '.join(cols)}: {reason}" for reason, cols in by_reason.items()]
    for r in rows:
        if not any(k in r.metrics for k in ("map50", "hota")):
            notes.append(f"row {r.kind}: no detection or tracking results (its stages did not run)")
        notes += r.notes
    return list(dict.fromkeys(notes))


def build_demo_report(run_dir: str, kinds: list[str], test_domain: str, elapsed: float | None = None,
                      train_domain: str = "kenai-train", dataset_info: dict | None = None, resamples: int = 2000,
                      seed: int = 0, detector_seeds: list[int] | None = None,
                      learned_threshold: float = LEARNED_THRESHOLD,
                      val_domain: str = "kenai-val") -> tuple[str, list[str], list[str]]:
    """Collect every row, draw the figures and write report.md + metrics.json; return (table, problems, notes on
    what is missing from the table and why).

    `resamples` > 0 adds bootstrap intervals over the detector seeds and the test clips, and SAVeD − row
    differences (downstream.bootstrap). `detector_seeds` None: every downstream/<key>/seed<s> folder found (a
    run without any is read as one detector per row). A detector learned when its final validation mAP50 on
    `val_domain` exceeds `learned_threshold`.

    `dataset_info` (the `report` part of own_data.json, `demo.sh --data`) describes a user's data: its
    description, the missing columns with their reasons and whether counts are per frame."""
    dataset_info = dataset_info or {}
    timings = read_timings(run_dir)
    seeds, have, seed_notes = choose_seeds(run_dir, kinds, detector_seeds)
    rows = [collect_row(run_dir, k, test_domain, bool(dataset_info.get("per_frame_counts")), timings,
                        None if seeds is None else have[k]) for k in kinds]
    if seeds is not None:
        for r in rows:
            unknown = [s for s, v in zip(r.seeds, r.val_map50) if v is None]
            if unknown:
                csv_path = os.path.join("yolo_train", kind_key(r.kind), "seed<s>", "results.csv")
                seed_notes.append(f"learned of {r.kind}: no {csv_path} with a {VAL_MAP50} column for detector "
                                  f"seed{'s' if len(unknown) > 1 else ''} {_listed(unknown)}")
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
        fish_frames = sorted(by_frame(read_mot(gt, allow_missing=True)))
        picks = [f - 1 for f in fish_frames[:: max(1, len(fish_frames) // 4)]][:4]
        if crop_grid(panels, gt, picks, os.path.join(run_dir, "crops_grid.png")):
            figs["Crops around fish: raw | background-subtracted | SAVeD | clean"] = "crops_grid.png"
        if side_by_side_gif(panels, os.path.join(run_dir, "side_by_side.gif")):
            figs["Side by side: raw | background-subtracted | SAVeD | clean"] = "side_by_side.gif"
    plural = "" if seeds is not None and len(seeds) == 1 else "s"
    trained = ("one YOLO detector trained per input kind" if seeds is None else
               f"{len(seeds)} YOLO detector{plural} (detector seed{plural} {_listed(seeds)}) trained per input kind")
    data_text = dataset_info.get("description") or (f"Test domain `{test_domain}` of the synthetic sonar benchmark; "
                                                    f"{trained} on {train_domain}, validated on {val_domain}.")
    lows = [r.min_conf for r in rows if r.min_conf is not None]
    info = {"run": os.path.basename(os.path.normpath(run_dir)), "test_domain": test_domain,
            "train_domain": train_domain, "val_domain": val_domain, "detector_seeds": seeds,
            "learned_threshold": float(learned_threshold), "detector_pretraining": pretraining(run_dir, timings),
            "min_conf": min(lows) if lows else None,
            "missing": list(dict.fromkeys(seed_notes + missing_notes(rows, dataset_info))),
            "description": f"{data_text} Rows: raw frames, CFC Baseline++ (raw, background-"
                           f"subtracted, frame difference), SAVeD merged [background-subtracted, SAVeD, SAVeD]."}
    if elapsed is not None:
        info["elapsed_s"] = float(elapsed)
    from downstream.bootstrap import bootstrap_rows

    boot, boot_problems = bootstrap_rows(run_dir, rows, test_domain, resamples, seed) if resamples > 0 else (None, [])
    table = write_report(run_dir, rows, info, figs, boot)
    return table, validate(rows) + boot_problems, info["missing"]


def main(argv: list[str] | None = None) -> int:
    """python -m downstream.report --run-dir results/<run> --test-domain elwha --kinds raw Baseline++ SAVeD
    [--detector-seeds 0 1 2] [--learned-threshold 0.1] [--val-domain kenai-val]"""
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
                   help="resamples (of the detector seeds and the test clips) for the 95%% confidence intervals and "
                        "the paired differences (0 = off)")
    p.add_argument("--bootstrap-seed", type=int, default=0, help="seed of the resampling (the report is deterministic)")
    p.add_argument("--detector-seeds", type=int, nargs="+", default=None, metavar="S",
                   help="detector seeds to read, downstream/<key>/seed<S> for every row (default: every seed folder "
                        "found; a run without any is read as one detector per row)")
    p.add_argument("--learned-threshold", type=float, default=LEARNED_THRESHOLD,
                   help="a detector 'learned' when the final validation mAP50 of its results.csv is above this")
    p.add_argument("--val-domain", default="kenai-val",
                   help="domain the detectors were validated on (for the text)")
    a = p.parse_args(argv)
    from common.cli import fail

    if a.bootstrap < 0:
        fail(f"--bootstrap must be >= 0 (0 = off), got {a.bootstrap}")
    if a.detector_seeds is not None and min(a.detector_seeds) < 0:
        fail(f"--detector-seeds must be non-negative integers, got {' '.join(map(str, a.detector_seeds))}")
    if not 0.0 <= a.learned_threshold < 1.0:
        fail(f"--learned-threshold must be in [0, 1), got {a.learned_threshold}")
    info = load_json(a.dataset_info).get("report", {}) if a.dataset_info else {}
    table, problems, notes = build_demo_report(a.run_dir, a.kinds, a.test_domain, a.elapsed, a.train_domain, info,
                                               resamples=a.bootstrap, seed=a.bootstrap_seed,
                                               detector_seeds=a.detector_seeds,
                                               learned_threshold=a.learned_threshold, val_domain=a.val_domain)
    print(f"\nResults on the test domain ({a.test_domain}); report: {os.path.join(a.run_dir, 'report.md')}\n")
    print(table)
    for note in notes:
        print(f"missing: {note}")
    for prob in problems:
        print(f"warning: {prob}")
    return 0


if __name__ == "__main__":
    import sys

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from common.cli import run_cli

    run_cli(main)
