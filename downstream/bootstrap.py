"""Bootstrap confidence intervals over the test clips for the results report.

The test domain holds few clips (8 in the default demo), so a difference of a few hundredths between two input
kinds can be luck of the draw. Here the clips are resampled with replacement and every metric is recomputed on
each resampled set exactly as the pipeline defines it on the full set (pooled where the pipeline pools):

- mAP50 / mAP50-95: COCO AP over every frame of the resampled clips (`detection_metrics.pooled_average_precision`);
- HOTA / MOTA / IDF1: TrackEval's combination of sequences (`track_metrics.pooled_scores`);
- nMAE: Σ count errors / Σ GT fish over the resampled clips (`counting.nmae`'s definition);
- PSNR / SSIM: mean over the frames of the resampled clips (the report's frame mean).

Each clip's sufficient statistics are computed once from the files the pipeline wrote; a resample is then a
vector of clip multiplicities, so B = 2000 resamples cost a few matrix products per metric. The paired
comparison (reference row minus another row) uses the same resamples for both rows.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from common.cli import UserError

METRICS = ("psnr", "ssim", "map50", "map50_95", "hota", "mota", "idf1", "nmae")
LOWER_IS_BETTER = frozenset({"nmae"})
DEFAULT_RESAMPLES = 2000
DEFAULT_SEED = 0
LEVEL = 0.95
POINT_TOLERANCE = 1e-6   # torchmetrics returns mAP as float32


@dataclass
class DetStats:
    """Per-clip COCO match tables with the thresholds they were matched at."""

    tables: list                        # detection_metrics.MatchTable per clip
    iou_thrs: np.ndarray
    rec_thrs: np.ndarray


@dataclass
class ClipStats:
    """One row's per-clip sufficient statistics; every array is indexed by the same clip list (None: absent)."""

    quality: np.ndarray | None = None   # C×3: Σ PSNR, Σ SSIM, frames
    det: DetStats | None = None
    track: np.ndarray | None = None     # C×F TrackEval pooling vectors
    count: np.ndarray | None = None     # C×2: count errors, GT fish


# ----------------------------------------------------------------------------------------------------- maths
def resample_weights(n_clips: int, resamples: int, seed: int = DEFAULT_SEED) -> np.ndarray:
    """B×C multiplicities of the clips in B resamples of C clips drawn with replacement (rows sum to C)."""
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_clips, size=(resamples, n_clips))
    weights = np.zeros((resamples, n_clips))
    np.add.at(weights, (np.repeat(np.arange(resamples), n_clips), draws.ravel()), 1.0)
    return weights


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, NaN where den is 0 (the metric is undefined on that resample)."""
    return np.divide(num, den, out=np.full(np.shape(num), np.nan), where=np.asarray(den) > 0)


def metric_values(stats: ClipStats, weights: np.ndarray) -> dict[str, np.ndarray]:
    """Every available metric of the clip sets given by the rows of `weights` (B×C multiplicities) → {metric: B}."""
    from downstream.detection_metrics import pooled_average_precision
    from downstream.track_metrics import pooled_scores

    weights = np.atleast_2d(weights)
    out: dict[str, np.ndarray] = {}
    if stats.quality is not None:
        s = weights @ stats.quality
        out["psnr"], out["ssim"] = _ratio(s[:, 0], s[:, 2]), _ratio(s[:, 1], s[:, 2])
    if stats.det is not None:
        ap = pooled_average_precision(stats.det.tables, weights, stats.det.rec_thrs)
        out["map50"] = ap[:, int(np.argmin(np.abs(stats.det.iou_thrs - 0.5)))]
        out["map50_95"] = ap.mean(axis=1)
    if stats.track is not None:
        scores = pooled_scores(weights @ stats.track)
        out.update(hota=scores["HOTA"], mota=scores["MOTA"], idf1=scores["IDF1"])
    if stats.count is not None:
        s = weights @ stats.count
        out["nmae"] = _ratio(s[:, 0], s[:, 1])
    return out


def percentile_interval(values: np.ndarray, level: float = LEVEL) -> tuple[float, float] | None:
    """The central `level` percentile interval of the finite values (undefined resamples left out); None if none."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if not len(v):
        return None
    tail = 100.0 * (1.0 - level) / 2.0
    lo, hi = np.percentile(v, [tail, 100.0 - tail])
    return float(lo), float(hi)


def bootstrap(stats: dict[str, ClipStats], n_clips: int, resamples: int = DEFAULT_RESAMPLES,
              seed: int = DEFAULT_SEED, reference: str = "SAVeD") -> dict:
    """Point values, percentile intervals and paired differences (reference − row) for every row and metric.

    Returns {"point": {kind: {m: v}}, "ci": {kind: {m: [lo, hi]}}, "paired": {kind: {m: {diff, lo, hi,
    significant}}}, "bootstrap": {"resamples", "clips", "seed"}}. A paired difference is significant when its
    interval excludes 0 and there are at least 2 clips (one clip gives the same set on every resample, so its
    interval is the point itself); identical rows give exactly 0 on every resample.
    """
    weights = resample_weights(n_clips, resamples, seed)
    full = np.ones((1, n_clips))
    point, ci, draws = {}, {}, {}
    for kind, st in stats.items():
        point[kind] = {m: float(v[0]) for m, v in metric_values(st, full).items()}
        draws[kind] = metric_values(st, weights)
        ci[kind] = {m: list(iv) for m, v in draws[kind].items() if (iv := percentile_interval(v)) is not None}
    paired: dict[str, dict] = {}
    if reference in stats:
        for kind in stats:
            if kind == reference:
                continue
            for m in METRICS:
                if m not in draws[reference] or m not in draws[kind]:
                    continue
                iv = percentile_interval(draws[reference][m] - draws[kind][m])
                if iv is None:
                    continue
                paired.setdefault(kind, {})[m] = {"diff": point[reference][m] - point[kind][m], "lo": iv[0],
                                                  "hi": iv[1], "significant": bool(n_clips > 1 and (iv[0] > 0 or iv[1] < 0))}
    return {"point": point, "ci": ci, "paired": paired,
            "bootstrap": {"resamples": int(resamples), "clips": int(n_clips), "seed": int(seed)}}


def better(metric: str, diff: float) -> bool:
    """Whether a positive-or-negative reference − row difference favours the reference."""
    return diff < 0 if metric in LOWER_IS_BETTER else diff > 0


# ------------------------------------------------------------------------------------------ run dir → stats
def quality_stats(per_clip: dict[str, list], clips: list[str]) -> np.ndarray | None:
    """C×3 [Σ PSNR, Σ SSIM, frames] from the report's per-frame image-quality values; None without any."""
    if not per_clip:
        return None
    out = np.zeros((len(clips), 3))
    for i, c in enumerate(clips):
        vals = np.asarray(per_clip.get(c, []), dtype=np.float64).reshape(-1, 2)
        out[i] = [vals[:, 0].sum(), vals[:, 1].sum(), len(vals)]
    return out


def detection_stats(annotated: list, results: str, domain: str) -> DetStats:
    """Match tables of every annotated clip's preds.txt (the frames eval_detector_tm.py scores)."""
    from common.mot import preds_path, read_mot
    from downstream.detection_metrics import clip_frame_dets, coco_thresholds, match_table

    iou_thrs, rec_thrs, max_dets = coco_thresholds()
    tables = [match_table(clip_frame_dets(c, read_mot(preds_path(results, domain, c.name)))[0], iou_thrs, max_dets)
              for c in annotated]
    return DetStats(tables, iou_thrs, rec_thrs)


def tracking_stats(results: str, frames_dir: str, gt_dir: str, domain: str, clips: list[str]) -> np.ndarray:
    """C×F TrackEval pooling vectors of every GT clip's tracks.txt (at the IoU threshold track_eval.py used)."""
    from downstream.track_metrics import IOU_THRESHOLD, evaluate_clips, pooling_vector
    from downstream.tracking.stages import TRACK_JSON, track_sequences

    threshold = _load_json(os.path.join(results, domain, TRACK_JSON)).get("iou_threshold", IOU_THRESHOLD)
    sequences, _, _ = track_sequences(results, frames_dir, gt_dir, domain)
    raw, _ = evaluate_clips(sequences, threshold)
    return np.stack([pooling_vector(raw[c]) for c in clips])


def counting_stats(results: str, frames_dir: str, gt_dir: str, domain: str, clips: list[str]) -> np.ndarray:
    """C×2 [count errors, GT fish] from counts.json and the ground truth eval_count.py used (its
    metrics_count.json names it: a counts JSON or an annotations root), else `gt_dir`."""
    from downstream.counting import nmae
    from downstream.tracking.stages import COUNT_JSON, COUNTS, gt_counts_from_mot, load_counts

    source = _load_json(os.path.join(results, domain, COUNT_JSON)).get("ground_truth")
    source = source if source and os.path.exists(source) else gt_dir
    gt = load_counts(source) if os.path.isfile(source) else gt_counts_from_mot(source, frames_dir, domain)
    gt = {c: gt[c] for c in clips if c in gt}
    _, errors = nmae(load_counts(os.path.join(results, domain, COUNTS)), gt)
    return np.asarray([[errors.get(c, 0), gt[c]["left"] + gt[c]["right"] if c in gt else 0] for c in clips],
                      dtype=np.float64)


def _load_json(path: str) -> dict:
    import json

    if not os.path.isfile(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def collect_stats(run_dir: str, rows: list, test_domain: str) -> tuple[list[str], dict[str, ClipStats], list[str]]:
    """(clips, {kind: ClipStats}, problems) for the report's rows from a demo run folder.

    A component is gathered only for the metrics the row has (so a partial run bootstraps what it reports);
    one that cannot be read is left out with a problem line naming the row and the reason.
    """
    from dataset.annotations import annotated_clip_names, load_domain
    from downstream.report_table import kind_key

    data = os.path.join(run_dir, "data")
    gt_dir, frames_dir = os.path.join(data, "annotations_mot"), os.path.join(data, "frames", "raw")
    if not os.path.isdir(os.path.join(gt_dir, test_domain)):
        return [], {}, [f"bootstrap skipped: no ground truth under {os.path.join(gt_dir, test_domain)}"]
    clips = annotated_clip_names(gt_dir, test_domain)
    annotated = None
    stats: dict[str, ClipStats] = {}
    problems: list[str] = []
    for row in rows:
        results = os.path.join(run_dir, "downstream", kind_key(row.kind))
        st = ClipStats(quality=quality_stats(row.clip_quality, clips))
        try:
            if "map50" in row.metrics:
                annotated = annotated if annotated is not None else load_domain(gt_dir, frames_dir, test_domain)
                st.det = detection_stats(annotated, results, test_domain)
            if "hota" in row.metrics:
                st.track = tracking_stats(results, frames_dir, gt_dir, test_domain, clips)
            if "nmae" in row.metrics:
                st.count = counting_stats(results, frames_dir, gt_dir, test_domain, clips)
        except (UserError, ValueError, OSError) as exc:
            problems.append(f"bootstrap of row {row.kind} incomplete: {exc}")
        stats[row.kind] = st
    return clips, stats, problems


def point_mismatches(rows: list, point: dict[str, dict[str, float]], tol: float = POINT_TOLERANCE) -> list[str]:
    """Metrics whose full-set value recomputed from the clip statistics differs from the pipeline's own."""
    out = []
    for row in rows:
        for m, v in point.get(row.kind, {}).items():
            ref = row.metrics.get(m)
            if ref is not None and np.isfinite(v) and abs(v - ref) > tol:
                out.append(f"{row.kind}.{m}: the bootstrap's full-set value {v:.6f} differs from the pipeline's {ref:.6f}")
    return out


def bootstrap_rows(run_dir: str, rows: list, test_domain: str, resamples: int = DEFAULT_RESAMPLES,
                   seed: int = DEFAULT_SEED, reference: str = "SAVeD") -> tuple[dict | None, list[str]]:
    """`bootstrap` of the report's rows from a demo run folder → (result or None, problems), the problems
    including any full-set value that does not reproduce the pipeline's (which would make the intervals moot)."""
    clips, stats, problems = collect_stats(run_dir, rows, test_domain)
    if not clips:
        return None, problems or [f"bootstrap skipped: no annotated clip in {test_domain}"]
    result = bootstrap(stats, len(clips), resamples, seed, reference)
    return result, problems + point_mismatches(rows, result["point"])


# ------------------------------------------------------------------------------------------------- output
def _signed(metric: str, value: float) -> str:
    from downstream.report_table import COLUMNS

    return COLUMNS[metric][2].replace("{:", "{:+").format(value)


def format_paired(paired: dict[str, dict], reference: str = "SAVeD", intervals: bool = True) -> str:
    """Markdown table of reference − row per metric: `+0.024 [-0.010, +0.061]`, `*` when significant."""
    from downstream.report_table import COLUMNS

    cols = [m for m in METRICS if any(m in p for p in paired.values())]
    head = f"| {reference} − row | " + " | ".join(
        COLUMNS[m][0] + (" (lower is better)" if m in LOWER_IS_BETTER and intervals else "") for m in cols) + " |"
    lines = [head, "|---|" + "|".join("---:" for _ in cols) + "|"]
    for kind, per in paired.items():
        cells = []
        for m in cols:
            p = per.get(m)
            if p is None:
                cells.append("—")
                continue
            cell = _signed(m, p["diff"])
            if intervals:
                cell += f" [{_signed(m, p['lo'])}, {_signed(m, p['hi'])}]"
            cells.append(cell + (" *" if intervals and p["significant"] else "*" if p["significant"] else ""))
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def verdicts(paired: dict[str, dict], reference: str = "SAVeD") -> list[str]:
    """One sentence per row: where the reference is significantly better or worse (nMAE: lower is better)."""
    from downstream.report_table import COLUMNS

    out = []
    for kind, per in paired.items():
        sig = {m: p for m, p in per.items() if p["significant"]}
        good = [COLUMNS[m][0] for m, p in sig.items() if better(m, p["diff"])]
        bad = [COLUMNS[m][0] for m, p in sig.items() if not better(m, p["diff"])]
        rest = [COLUMNS[m][0] for m in per if m not in sig]
        parts = [f"{reference} better on {', '.join(good)}" if good else "",
                 f"{reference} worse on {', '.join(bad)}" if bad else "",
                 f"no significant difference on {', '.join(rest)}" if rest else ""]
        out.append(f"{reference} vs {kind}: " + "; ".join(p for p in parts if p) + ".")
    return out


def describe(info: dict) -> str:
    """The one line saying what was resampled."""
    return (f"Intervals: 95 % percentile bootstrap, {info['resamples']} resamples (seed {info['seed']}) of the "
            f"{info['clips']} test clip{'s' if info['clips'] != 1 else ''} drawn with replacement; each metric recomputed on every resampled set as "
            f"the pipeline computes it (pooled over the frames, sequences or fish of the drawn clips)."
            + (" With a single test clip every resample is that clip: the intervals collapse to the values and no "
               "difference can be called significant." if info["clips"] < 2 else ""))


def report_sections(boot: dict, reference: str = "SAVeD") -> tuple[list[str], str]:
    """(Markdown lines for under the report's table, console text for under the printed table) of a
    `bootstrap` result: what was resampled, the paired table with intervals and the verdicts in words."""
    line = describe(boot["bootstrap"])
    markdown, console = [line, ""], ""
    if boot["paired"]:
        markdown += [f"## {reference} − row (paired bootstrap)", "", format_paired(boot["paired"], reference), "",
                     "`*`: the interval excludes 0 (significant at 95 %).", "",
                     *(f"- {v}" for v in verdicts(boot["paired"], reference)), ""]
        console = (f"\n\n{reference} − row (*: the 95 % interval excludes 0; intervals in report.md)\n\n"
                   + format_paired(boot["paired"], reference, intervals=False))
    return markdown, console + "\n\n" + line
