"""Bootstrap confidence intervals over detector seeds and test clips for the results report.

The test domain holds few clips (12 in the default demo) and one detector training can land well or badly, so a
difference of a few hundredths between two input kinds can be luck of the draw, of the clips or of the detector's
training seed. Each resample therefore draws, with replacement, both

- the detector seeds (as many as there are; every row trained one detector per seed, the same seeds for every
  row), and
- the test clips (as many as there are),

and a row's value on the resample is the MEAN over the drawn seeds of the metric recomputed on the drawn clips,
exactly as the pipeline defines it on the full set (pooled where the pipeline pools):

- mAP50 / mAP50-95: COCO AP over every frame of the resampled clips (`detection_metrics.pooled_average_precision`
  of the clips' match tables);
- HOTA / MOTA / IDF1: TrackEval's combination of sequences (`track_metrics.pooled_scores`);
- nMAE: Σ count errors / Σ GT fish over the resampled clips (`counting.nmae`'s definition);
- PSNR / SSIM: mean over the frames of the resampled clips (the report's frame mean; they do not depend on the
  detector, so only the clips are drawn for them).

Each (row, seed)'s per-clip sufficient statistics are computed once from the files the pipeline wrote; a resample
is then a vector of clip multiplicities and one of seed multiplicities, so B = 2000 resamples cost a few matrix
products per metric and seed. The paired comparison (reference row minus another row) uses the same drawn seeds
and clips for both rows. A run without the seed level (one detector per row) is the one-seed case: only the clips
vary, with the same resamples as before the seed level existed.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from common.cli import UserError

METRICS = ("psnr", "ssim", "map50", "map50_95", "hota", "mota", "idf1", "nmae")
SEED_FREE = frozenset({"psnr", "ssim"})     # image quality: the same for every detector seed
LOWER_IS_BETTER = frozenset({"nmae"})
DEFAULT_RESAMPLES = 2000
DEFAULT_SEED = 0
LEVEL = 0.95
POINT_TOLERANCE = 1e-6   # torchmetrics returns mAP as float32
CLIP_STREAM, SEED_STREAM = 0, 1            # independent random streams of the two levels


@dataclass
class DetStats:
    """Per-clip COCO match tables with the thresholds they were matched at."""

    tables: list                        # detection_metrics.MatchTable per clip
    iou_thrs: np.ndarray
    rec_thrs: np.ndarray


@dataclass
class ClipStats:
    """One row's (one detector seed's) per-clip sufficient statistics; every array is indexed by the same clip
    list (None: absent)."""

    quality: np.ndarray | None = None   # C×3: Σ PSNR, Σ SSIM, frames
    det: DetStats | None = None
    track: np.ndarray | None = None     # C×F TrackEval pooling vectors
    count: np.ndarray | None = None     # C×2: count errors, GT fish


# ----------------------------------------------------------------------------------------------------- maths
def resample_weights(n: int, resamples: int, seed: int = DEFAULT_SEED, stream: int = CLIP_STREAM) -> np.ndarray:
    """B×n multiplicities of n items (clips, or detector seeds) in B resamples drawn with replacement (rows sum
    to n). `stream` separates the draws of the two levels: the same `seed` gives unrelated clip and seed draws."""
    rng = np.random.default_rng(seed if stream == CLIP_STREAM else [seed, stream])
    draws = rng.integers(0, n, size=(resamples, n))
    weights = np.zeros((resamples, n))
    np.add.at(weights, (np.repeat(np.arange(resamples), n), draws.ravel()), 1.0)
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


def seed_mean(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per resample, the mean over the drawn seeds: `values` S×B (each seed's metric on each clip resample),
    `weights` B×S seed multiplicities → B. NaN where a drawn seed's value is undefined (an undrawn one does
    not count)."""
    v = np.asarray(values, dtype=np.float64).T
    drawn = weights > 0
    out = (np.where(drawn, v, 0.0) * weights).sum(axis=1) / weights.sum(axis=1)
    out[(drawn & np.isnan(v)).any(axis=1)] = np.nan
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


def _by_seed(stats) -> dict:
    """{seed: ClipStats} of a row; a bare ClipStats is a row of one detector (no seed level)."""
    return stats if isinstance(stats, dict) else {None: stats}


def bootstrap(stats: dict, n_clips: int, resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED,
              reference: str = "SAVeD", resample_seeds: bool = True) -> dict:
    """Point values, percentile intervals and paired differences (reference − row) for every row and metric.

    `stats`: {kind: {detector seed: ClipStats}} (or {kind: ClipStats} for one detector per row). A row's value
    is the mean over its seeds; on a resample, the mean over the drawn seeds of the metric on the drawn clips
    (`resample_seeds` False: every resample averages all seeds, only the clips vary). A paired difference
    uses the seeds every row has, the same drawn seeds and clips for both rows. PSNR/SSIM, the same for every
    seed, are read from the row's first seed and resampled over the clips only.

    Returns {"point": {kind: {m: v}}, "ci": {kind: {m: [lo, hi]}}, "paired": {kind: {m: {diff, lo, hi,
    significant}}}, "seed_point": {kind: {seed: {m: v}}}, "bootstrap": {"resamples", "clips", "seed"},
    "bootstrap_seeds": {"seeds": the seeds every row has (None without the seed level), "resampled": whether
    they were drawn (two or more)}}. A paired difference is significant when its interval excludes 0 and there are at least
    2 clips (one clip gives the same set on every resample); identical rows give exactly 0 on every resample.
    """
    rows = {kind: _by_seed(st) for kind, st in stats.items()}
    clip_w = resample_weights(n_clips, resamples, seed)
    seed_w_of: dict[int, np.ndarray] = {}

    def seed_weights(n: int) -> np.ndarray:
        if n not in seed_w_of:
            seed_w_of[n] = (resample_weights(n, resamples, seed, SEED_STREAM) if resample_seeds and n > 1
                            else np.ones((resamples, n)))
        return seed_w_of[n]

    full = np.ones((1, n_clips))
    seed_point = {kind: {s: {m: float(v[0]) for m, v in metric_values(st, full).items()} for s, st in by.items()}
                  for kind, by in rows.items()}
    draws = {kind: {s: metric_values(st, clip_w) for s, st in by.items()} for kind, by in rows.items()}

    def level(kind: str, m: str, seeds: list) -> tuple[float, np.ndarray]:
        """(point, B draws) of a row's metric over `seeds`."""
        if m in SEED_FREE:
            seeds = seeds[:1]
        point = float(np.mean([seed_point[kind][s][m] for s in seeds]))
        return point, seed_mean(np.stack([draws[kind][s][m] for s in seeds]), seed_weights(len(seeds)))

    point: dict[str, dict] = {}
    ci: dict[str, dict] = {}
    for kind in rows:
        point[kind], ci[kind] = {}, {}
        for m in METRICS:
            seeds = [s for s in draws[kind] if m in draws[kind][s]]
            if seeds:
                point[kind][m], values = level(kind, m, seeds)
                if (iv := percentile_interval(values)) is not None:
                    ci[kind][m] = list(iv)
    paired: dict[str, dict] = {}
    common = [s for s in rows.get(reference, {}) if all(s in by for by in rows.values())]
    if reference in rows:
        for kind in rows:
            if kind == reference:
                continue
            for m in METRICS:
                if m in SEED_FREE:
                    seeds = [s for s in draws[reference] if m in draws[reference][s]][:1]
                    other = [s for s in draws[kind] if m in draws[kind][s]][:1]
                else:
                    seeds = other = [s for s in common if m in draws[reference][s] and m in draws[kind][s]]
                if not seeds or not other:
                    continue
                (p_ref, v_ref), (p_row, v_row) = level(reference, m, seeds), level(kind, m, other)
                iv = percentile_interval(v_ref - v_row)
                if iv is None:
                    continue
                paired.setdefault(kind, {})[m] = {"diff": p_ref - p_row, "lo": iv[0], "hi": iv[1],
                                                  "significant": bool(n_clips > 1 and (iv[0] > 0 or iv[1] < 0))}
    if reference not in rows:
        common = [s for s in next(iter(rows.values()), {}) if all(s in by for by in rows.values())]
    return {"point": point, "ci": ci, "paired": paired, "seed_point": seed_point,
            "bootstrap": {"resamples": int(resamples), "clips": int(n_clips), "seed": int(seed)},
            "bootstrap_seeds": {"seeds": None if common == [None] else common,
                                "resampled": bool(resample_seeds and len(common) > 1)}}


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


def _seed_label(seed) -> str:
    return "" if seed is None else f" (detector seed {seed})"


def collect_stats(run_dir: str, rows: list, test_domain: str) -> tuple[list[str], dict[str, dict], list[str]]:
    """(clips, {kind: {detector seed: ClipStats}}, problems) for the report's rows from a demo run folder.

    Every seed of a row (`row.seeds`; [None] for a run without the seed level) is read from its own results
    folder; a component is gathered only for the metrics that seed has (so a partial run bootstraps what it
    reports); one that cannot be read is left out with a problem line naming the row, the seed and the reason.
    A row without any seed keeps its PSNR/SSIM statistics.
    """
    from dataset.annotations import annotated_clip_names, load_domain
    from downstream.report_table import results_dir

    data = os.path.join(run_dir, "data")
    gt_dir, frames_dir = os.path.join(data, "annotations_mot"), os.path.join(data, "frames", "raw")
    if not os.path.isdir(os.path.join(gt_dir, test_domain)):
        return [], {}, [f"bootstrap skipped: no ground truth under {os.path.join(gt_dir, test_domain)}"]
    clips = annotated_clip_names(gt_dir, test_domain)
    annotated = None
    stats: dict[str, dict] = {}
    problems: list[str] = []
    for row in rows:
        quality = quality_stats(row.clip_quality, clips)
        by_seed: dict = {}
        for i, s in enumerate(row.seeds):
            results = results_dir(run_dir, row.kind, s)
            st = ClipStats(quality=quality)
            try:
                if row.has("map50", i):
                    annotated = annotated if annotated is not None else load_domain(gt_dir, frames_dir, test_domain)
                    st.det = detection_stats(annotated, results, test_domain)
                if row.has("hota", i):
                    st.track = tracking_stats(results, frames_dir, gt_dir, test_domain, clips)
                if row.has("nmae", i):
                    st.count = counting_stats(results, frames_dir, gt_dir, test_domain, clips)
            except (UserError, ValueError, OSError) as exc:
                problems.append(f"bootstrap of row {row.kind}{_seed_label(s)} incomplete: {exc}")
            by_seed[s] = st
        stats[row.kind] = by_seed or {None: ClipStats(quality=quality)}
    return clips, stats, problems


def point_mismatches(rows: list, seed_point: dict[str, dict], tol: float = POINT_TOLERANCE) -> list[str]:
    """Metrics whose full-set value recomputed from the clip statistics differs from the pipeline's own, per
    detector seed (`seed_point` as `bootstrap` returns it: {kind: {seed: {metric: value}}})."""
    out = []
    for row in rows:
        for i, s in enumerate(row.seeds):
            for m, v in seed_point.get(row.kind, {}).get(s, {}).items():
                if m in SEED_FREE and i > 0:
                    continue                               # the same numbers for every seed: checked once
                ref = row.per_seed[m][i] if m in row.per_seed else row.metrics.get(m)
                if ref is not None and np.isfinite(v) and abs(v - ref) > tol:
                    label = "" if m in SEED_FREE else _seed_label(s)
                    out.append(f"{row.kind}.{m}{label}: the bootstrap's full-set value {v:.6f} differs from the "
                               f"pipeline's {ref:.6f}")
    return out


def bootstrap_rows(run_dir: str, rows: list, test_domain: str, resamples: int = DEFAULT_RESAMPLES,
                   seed: int = DEFAULT_SEED, reference: str = "SAVeD") -> tuple[dict | None, list[str]]:
    """`bootstrap` of the report's rows from a demo run folder → (result or None, problems), the problems
    including any full-set value that does not reproduce the pipeline's (which would make the intervals moot)."""
    clips, stats, problems = collect_stats(run_dir, rows, test_domain)
    if not clips:
        return None, problems or [f"bootstrap skipped: no annotated clip in {test_domain}"]
    result = bootstrap(stats, len(clips), resamples, seed, reference)
    return result, problems + point_mismatches(rows, result["seed_point"])


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


def describe(info: dict, seeds: dict | None = None) -> str:
    """The one line saying what was resampled (`info`: a result's "bootstrap", `seeds` its "bootstrap_seeds")."""
    clips = f"{info['clips']} test clip{'s' if info['clips'] != 1 else ''}"
    resampled = bool(seeds and seeds.get("resampled"))
    n_seeds = len((seeds or {}).get("seeds") or [])
    if resampled:
        text = (f"Intervals: 95 % percentile bootstrap, {info['resamples']} resamples (seed {info['seed']}). Each "
                f"resample draws the {n_seeds} detector seeds and the {clips} with replacement; a row's value on it "
                f"is the mean, over the drawn seeds, of the metric recomputed on the drawn clips as the pipeline "
                f"computes it (pooled over their frames, sequences or fish). The paired differences use the same "
                f"drawn seeds and clips for both rows. PSNR and SSIM, which no detector changes, vary with the "
                f"clips only.")
    else:
        text = (f"Intervals: 95 % percentile bootstrap, {info['resamples']} resamples (seed {info['seed']}) of the "
                f"{clips} drawn with replacement; each metric recomputed on every resampled set as the pipeline "
                f"computes it (pooled over the frames, sequences or fish of the drawn clips). One detector training "
                f"per row: the intervals leave out how much the numbers move between detector trainings.")
    if info["clips"] < 2:
        text += (" With a single test clip every resample holds that clip: no difference can be called significant"
                 + ("." if resampled else " and the intervals collapse to the values."))
    return text


def report_sections(boot: dict, reference: str = "SAVeD", middle: list[str] | tuple = ()) -> tuple[list[str], str]:
    """(Markdown lines for under the report's table, console text for under the printed table) of a
    `bootstrap` result: what was resampled, then the `middle` lines (the per-seed table), then the paired
    table with intervals and the verdicts in words."""
    line = describe(boot["bootstrap"], boot.get("bootstrap_seeds"))
    markdown, console = [line, "", *middle], ""
    if boot["paired"]:
        markdown += [f"## {reference} − row (paired bootstrap)", "", format_paired(boot["paired"], reference), "",
                     "`*`: the interval excludes 0 (significant at 95 %).", "",
                     *(f"- {v}" for v in verdicts(boot["paired"], reference)), ""]
        console = (f"\n\n{reference} − row (*: the 95 % interval excludes 0; intervals in report.md)\n\n"
                   + format_paired(boot["paired"], reference, intervals=False))
    return markdown, console + "\n\n" + line
