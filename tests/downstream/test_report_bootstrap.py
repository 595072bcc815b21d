"""Bootstrap intervals over test clips (downstream/bootstrap.py) and their place in the report: hand-computed
cases, parity of the pooled per-clip statistics with the pipeline's own metric functions (torchmetrics mAP,
TrackEval's combination, nMAE), paired differences, and the files written and read back."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from downstream import bootstrap as bs
from downstream import detection_metrics as dm

DOMAIN = "elwha"


# ------------------------------------------------------------------------------------------- hand-made cases
def test_resample_weights_are_multiplicities_of_draws_with_replacement():
    w = bs.resample_weights(5, 300, seed=3)
    assert w.shape == (300, 5) and (w.sum(axis=1) == 5).all() and (w >= 0).all()
    assert (w == 0).any() and (w > 1).any()                      # some clips left out, some drawn twice
    assert np.array_equal(w, bs.resample_weights(5, 300, seed=3))  # fixed seed: the same resamples


def test_one_clip_collapses_every_interval_to_the_point():
    st = bs.ClipStats(quality=np.array([[60.0, 1.5, 3]]), count=np.array([[2.0, 5.0]]))
    r = bs.bootstrap({"SAVeD": st}, 1, resamples=50)
    assert r["point"]["SAVeD"] == pytest.approx({"psnr": 20.0, "ssim": 0.5, "nmae": 0.4})
    for m, v in r["point"]["SAVeD"].items():
        assert r["ci"]["SAVeD"][m] == pytest.approx([v, v])
    assert r["bootstrap"] == {"resamples": 50, "clips": 1, "seed": 0}
    assert r["bootstrap_seeds"] == {"seeds": None, "resampled": False}
    worse = bs.ClipStats(quality=np.array([[30.0, 0.3, 3]]), count=np.array([[4.0, 5.0]]))
    paired = bs.bootstrap({"SAVeD": st, "raw": worse}, 1, resamples=50)["paired"]["raw"]
    assert paired["nmae"] == {"diff": pytest.approx(-0.4), "lo": pytest.approx(-0.4), "hi": pytest.approx(-0.4),
                              "significant": False}            # one clip: nothing can be called significant
    assert "single test clip" in bs.describe({"resamples": 50, "clips": 1, "seed": 0})
    assert "intervals collapse" in bs.describe({"resamples": 50, "clips": 1, "seed": 0})


def test_two_clips_nmae_interval_spans_exactly_the_computable_values():
    # clip a: 1 error over 4 fish, clip b: 3 errors over 2 fish. Resamples {a,a}, {a,b}, {b,b} give nMAE 1/4,
    # 4/6 and 3/2; with 2000 draws each extreme holds about a quarter of them, so the 2.5 % and 97.5 %
    # percentiles are the extremes themselves.
    st = bs.ClipStats(count=np.array([[1.0, 4.0], [3.0, 2.0]]))
    vals = bs.metric_values(st, bs.resample_weights(2, 2000))["nmae"]
    assert set(np.round(vals, 12)) == {0.25, round(4 / 6, 12), 1.5}
    r = bs.bootstrap({"raw": st}, 2)
    assert r["point"]["raw"]["nmae"] == pytest.approx(4 / 6)
    assert r["ci"]["raw"]["nmae"] == pytest.approx([0.25, 1.5])


def test_resamples_without_fish_are_left_out_of_the_nmae_interval():
    st = bs.ClipStats(count=np.array([[1.0, 0.0], [1.0, 2.0]]))   # {a,a} has no GT fish: nMAE undefined
    vals = bs.metric_values(st, np.array([[2.0, 0.0], [0.0, 2.0]]))["nmae"]
    assert np.isnan(vals[0]) and vals[1] == pytest.approx(0.5)
    assert bs.percentile_interval(np.array([np.nan, 0.5, 1.0]), level=1.0) == (0.5, 1.0)
    assert bs.percentile_interval(np.array([np.nan])) is None


def test_paired_identical_rows_differ_by_exactly_zero_and_a_better_row_is_significant():
    rng = np.random.default_rng(0)
    gt = rng.integers(2, 6, 8).astype(float)
    same = bs.ClipStats(count=np.c_[rng.integers(0, 3, 8), gt], quality=np.c_[rng.uniform(20, 30, 8) * 10,
                                                                              rng.uniform(0, 1, 8) * 10, np.full(8, 10)])
    worse = bs.ClipStats(count=same.count + np.c_[np.full(8, 2.0), np.zeros(8)], quality=same.quality.copy())
    r = bs.bootstrap({"SAVeD": same, "twin": bs.ClipStats(same.quality.copy(), None, None, same.count.copy()),
                      "raw": worse}, 8, resamples=500)
    for m in ("psnr", "ssim", "nmae"):
        assert r["paired"]["twin"][m] == {"diff": 0.0, "lo": 0.0, "hi": 0.0, "significant": False}
    p = r["paired"]["raw"]["nmae"]
    assert p["diff"] == pytest.approx(-16 / gt.sum()) and p["hi"] < 0 and p["significant"]
    assert not r["paired"]["raw"]["psnr"]["significant"]
    text = bs.verdicts(r["paired"])
    assert text[1] == "SAVeD vs raw: SAVeD better on nMAE; no significant difference on PSNR (dB), SSIM."
    assert text[0] == "SAVeD vs twin: no significant difference on PSNR (dB), SSIM, nMAE."
    table = bs.format_paired(r["paired"])
    assert "nMAE (lower is better)" in table and " *" in table.splitlines()[3]


# ------------------------------------------------------------------------------------ the detector-seed level
def _counts(errors_per_clip: float, fish_per_clip=(4.0, 2.0, 6.0, 4.0, 8.0, 2.0)) -> bs.ClipStats:
    """Count statistics whose nMAE is errors_per_clip / 4 on every clip and every set of clips."""
    fish = np.asarray(fish_per_clip)
    return bs.ClipStats(count=np.c_[fish * errors_per_clip / 4.0, fish])


def test_seed_draws_are_deterministic_and_independent_of_the_clip_draws():
    clips, seeds = bs.resample_weights(3, 400, seed=5), bs.resample_weights(3, 400, seed=5, stream=bs.SEED_STREAM)
    assert np.array_equal(seeds, bs.resample_weights(3, 400, seed=5, stream=bs.SEED_STREAM))
    assert not np.array_equal(clips, seeds) and (seeds.sum(axis=1) == 3).all()


def test_seed_mean_averages_the_drawn_seeds_with_their_multiplicity():
    values = np.array([[0.2, 0.4], [0.6, np.nan], [1.0, 0.0]])            # S=3 seeds × B=2 clip resamples
    weights = np.array([[2.0, 0.0, 1.0], [1.0, 0.0, 2.0]])                # seed 1 (NaN on resample 2) not drawn
    assert bs.seed_mean(values, weights) == pytest.approx([(0.4 + 1.0) / 3, 0.4 / 3])
    assert np.isnan(bs.seed_mean(values, np.array([[1.0, 1.0, 1.0], [0.0, 3.0, 0.0]]))[1])


def test_paired_interval_resamples_the_detector_seeds():
    # SAVeD − raw nMAE is +1 on every clip with detector seed 0 and −1 with seed 1: on its own each seed's
    # clip bootstrap calls the difference significant; over both seeds the interval runs from −1 to +1.
    saved, raw = {0: _counts(5.0), 1: _counts(1.0)}, {0: _counts(1.0), 1: _counts(5.0)}
    both = bs.bootstrap({"SAVeD": saved, "raw": raw}, 6, resamples=2000)
    p = both["paired"]["raw"]["nmae"]
    assert p["diff"] == pytest.approx(0.0) and p["lo"] == pytest.approx(-1.0) and p["hi"] == pytest.approx(1.0)
    assert not p["significant"] and both["bootstrap_seeds"] == {"seeds": [0, 1], "resampled": True}
    for s, sign in ((0, 1.0), (1, -1.0)):
        alone = bs.bootstrap({"SAVeD": saved[s], "raw": raw[s]}, 6, resamples=2000)["paired"]["raw"]["nmae"]
        assert alone["lo"] == pytest.approx(sign) and alone["hi"] == pytest.approx(sign) and alone["significant"]
    # +1.5 on seed 0, −0.5 on seed 1: the mean difference is +0.5 on every clip set, so resampling the clips
    # only gives [+0.5, +0.5] (significant) while resampling the seeds too gives [−0.5, +1.5]
    saved, raw = {0: _counts(7.0), 1: _counts(1.0)}, {0: _counts(1.0), 1: _counts(3.0)}
    clips_only = bs.bootstrap({"SAVeD": saved, "raw": raw}, 6, resample_seeds=False)["paired"]["raw"]["nmae"]
    assert clips_only == {"diff": pytest.approx(0.5), "lo": pytest.approx(0.5), "hi": pytest.approx(0.5),
                          "significant": True}
    two_level = bs.bootstrap({"SAVeD": saved, "raw": raw}, 6)["paired"]["raw"]["nmae"]
    assert two_level == {"diff": pytest.approx(0.5), "lo": pytest.approx(-0.5), "hi": pytest.approx(1.5),
                         "significant": False}


def test_row_values_are_seed_means_and_the_paired_ones_use_the_seeds_every_row_has():
    quality = np.array([[30.0, 0.8, 1], [50.0, 0.4, 2], [20.0, 0.9, 1], [60.0, 1.2, 2], [25.0, 0.7, 1],
                        [40.0, 1.0, 2]])
    saved = {s: bs.ClipStats(quality=quality, count=_counts(e).count) for s, e in ((0, 1.0), (1, 2.0), (2, 6.0))}
    raw = {s: bs.ClipStats(quality=quality * [1, 1, 1], count=_counts(e).count) for s, e in ((0, 2.0), (1, 4.0))}
    r = bs.bootstrap({"SAVeD": saved, "raw": raw}, 6, resamples=500, seed=3)
    assert r["point"]["SAVeD"]["nmae"] == pytest.approx((0.25 + 0.5 + 1.5) / 3)   # all of SAVeD's seeds
    assert r["point"]["raw"]["nmae"] == pytest.approx((0.5 + 1.0) / 2)
    assert r["seed_point"]["SAVeD"][2]["nmae"] == pytest.approx(1.5)
    assert r["paired"]["raw"]["nmae"]["diff"] == pytest.approx((0.25 + 0.5) / 2 - (0.5 + 1.0) / 2)  # seeds 0, 1
    assert r["bootstrap_seeds"] == {"seeds": [0, 1], "resampled": True}
    lo, hi = r["ci"]["SAVeD"]["nmae"]
    assert lo == pytest.approx(0.25) and hi == pytest.approx(1.5)        # resamples of all three seeds
    # PSNR/SSIM do not depend on the detector: resampled over the clips exactly as with a single seed
    one = bs.bootstrap({"SAVeD": saved[0]}, 6, resamples=500, seed=3)
    assert r["ci"]["SAVeD"]["psnr"] == one["ci"]["SAVeD"]["psnr"]
    assert r["point"]["SAVeD"]["psnr"] == one["point"]["SAVeD"]["psnr"]
    assert r["paired"]["raw"]["psnr"] == {"diff": 0.0, "lo": 0.0, "hi": 0.0, "significant": False}


def test_a_seed_drawn_twice_counts_twice_and_draws_are_reproducible():
    saved = {0: _counts(0.0), 1: _counts(4.0), 2: _counts(8.0)}   # nMAE 0, 1, 2 on every clip set
    a = bs.bootstrap({"SAVeD": saved}, 6, resamples=300, seed=1)
    assert a == bs.bootstrap({"SAVeD": saved}, 6, resamples=300, seed=1)
    w = bs.resample_weights(3, 300, seed=1, stream=bs.SEED_STREAM)
    expected = (w @ np.array([0.0, 1.0, 2.0])) / 3                    # the clips do not matter here
    assert a["ci"]["SAVeD"]["nmae"] == pytest.approx(list(bs.percentile_interval(expected)))


# --------------------------------------------------------------- parity with the pipeline's metric functions
def test_bootstrap_map_is_torchmetrics_map_of_the_drawn_clips():
    # The match tables and pooled AP are detection_metrics' (tested there against torchmetrics); here the
    # bootstrap's use of them: the drawn clips' frames, repeated as drawn. Untied scores: see
    # test_detection_metrics.test_pooled_ap_of_a_resample_equals_torchmetrics_on_the_repeated_clips.
    from tests.downstream.test_detection_metrics import random_frames, torchmetrics_map

    rng = np.random.default_rng(3)
    clips = [random_frames(rng, 30, decimals=None, crowded=0.05) for _ in range(4)]
    iou, rec, max_dets = dm.coco_thresholds()
    st = bs.ClipStats(det=bs.DetStats([dm.match_table(c, iou, max_dets) for c in clips], iou, rec))
    w = np.array([[1, 1, 1, 1], [2, 0, 1, 1], [0, 0, 4, 0]])
    got = bs.metric_values(st, w)
    for b in range(len(w)):
        ref = torchmetrics_map([f for i, c in enumerate(clips) for _ in range(w[b, i]) for f in c])
        assert got["map50"][b] == pytest.approx(ref["mAP50"], abs=1e-6)
        assert got["map50_95"][b] == pytest.approx(ref["mAP50-95"], abs=1e-6)


def test_pooled_tracking_scores_equal_trackeval_combination():
    from downstream.track_metrics import _metrics, evaluate, evaluate_clips, pooled_scores, pooling_vector

    def rows(items):
        return np.asarray([[f, i, x, y, 10, 10, 1, -1, -1, -1] for f, i, x, y in items], np.float64).reshape(-1, 10)

    gt_a = rows([(f, 1, 5 * f, 0) for f in range(1, 7)] + [(f, 2, 40, 3 * f) for f in range(2, 6)])
    tr_a = rows([(f, 1, 5 * f + 2, 0) for f in range(1, 4)] + [(f, 3, 5 * f, 1) for f in range(4, 7)]
                + [(3, 9, 80, 80)])
    gt_b = rows([(f, 1, 0, 4 * f) for f in range(1, 5)])
    tr_b = rows([(f, 5, 1, 4 * f) for f in range(1, 5)] + [(2, 6, 60, 60), (3, 6, 61, 60)])
    seqs = {"a": (gt_a, tr_a, 6), "b": (gt_b, tr_b, 5), "c": (gt_b, np.zeros((0, 10)), 5)}
    raw, sizes = evaluate_clips(seqs)
    assert sizes["a"]["gt_dets"] == 10 and sizes["c"]["tracker_dets"] == 0
    vecs = np.stack([pooling_vector(raw[c]) for c in seqs])
    full = evaluate(seqs)["combined"]
    got = pooled_scores(vecs.sum(axis=0))
    for k in ("HOTA", "MOTA", "IDF1"):
        assert got[k][0] == pytest.approx(full[k], abs=1e-12)
    metrics = _metrics(0.5)
    w = np.array([[3, 0, 1], [0, 2, 1]])
    got = pooled_scores(w @ vecs)
    for b in range(2):
        repeated = {f"{c}{k}": raw[c] for i, c in enumerate(seqs) for k in range(w[b, i])}
        comb = {n: m.combine_sequences({s: r[n] for s, r in repeated.items()}) for n, m in metrics.items()}
        assert got["HOTA"][b] == pytest.approx(float(np.mean(comb["HOTA"]["HOTA"])), abs=1e-12)
        assert got["MOTA"][b] == pytest.approx(float(comb["CLEAR"]["MOTA"]), abs=1e-12)
        assert got["IDF1"][b] == pytest.approx(float(comb["Identity"]["IDF1"]), abs=1e-12)


# ------------------------------------------------------------------ a run folder written by the pipeline
def _detections(gt: np.ndarray, rng, quality: float, n_fp: int = 4) -> np.ndarray:
    """Detections from GT rows: each kept with probability `quality`, jittered, plus false positives (about
    `n_fp` and more for a poor quality)."""
    keep = gt[rng.uniform(size=len(gt)) < quality].copy()
    keep[:, 2:4] += rng.normal(0, 2 * (1 - quality), (len(keep), 2))
    keep[:, 6] = np.round(rng.uniform(0.4, 1.0, len(keep)), 4)
    n_fp = int(rng.integers(0, n_fp + int(10 * (1 - quality))))
    fp = np.zeros((n_fp, 10)) - 1
    if n_fp:
        fp[:, 0] = rng.integers(1, int(gt[:, 0].max()) + 1, n_fp)
        fp[:, 2:4] = rng.uniform(1, 40, (n_fp, 2))
        fp[:, 4:6] = 8
        fp[:, 6] = np.round(rng.uniform(0.05, 0.6, n_fp), 4)
    rows = np.vstack([keep, fp])
    rows[:, 1] = 0
    for f in np.unique(rows[:, 0]):                   # ids 1..N within each frame, as detect.py writes them
        sel = np.where(rows[:, 0] == f)[0]
        rows[sel, 1] = np.arange(1, len(sel) + 1)
    return rows


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> str:
    return make_run(str(tmp_path_factory.mktemp("run")))


def make_run(run: str, qualities: dict | None = None, clips: int = 4, frames: int = 24, n_fp: int = 4) -> str:
    """A demo-shaped run folder: synthetic data, then per input kind (and detector seed) the pipeline's own
    detection, tracking and counting evaluators over hand-made detections (SAVeD's close to the truth, raw's
    poor). `qualities`: {key: quality} for the layout without the seed level (downstream/<key>/<domain>), or
    {key: {seed: quality}} for downstream/<key>/seed<s>/<domain>."""
    from common.atomic import write_json
    from dataset.synthetic import generate
    from common.mot import read_mot, write_mot
    from downstream.tracking import stages

    qualities = qualities or {"raw": 0.55, "SAVeD": 0.97}
    data = os.path.join(run, "data")
    generate(data, domains=[DOMAIN], clips_per_domain=clips, frames=frames, height=128, width=64, fish_per_clip=3,
             progress=False)
    gt_dir, frames_dir = os.path.join(data, "annotations_mot"), os.path.join(data, "frames", "raw")
    os.makedirs(os.path.join(run, "frames"))
    os.symlink(os.path.join(data, "clean"), os.path.join(run, "frames", "saved"))   # SAVeD's "denoised" frames
    rng = np.random.default_rng(0)
    for key, by_seed in qualities.items():
        for seed, quality in (by_seed.items() if isinstance(by_seed, dict) else [(None, by_seed)]):
            results = os.path.join(run, "downstream", key, *([] if seed is None else [f"seed{seed}"]))
            for clip in sorted(os.listdir(os.path.join(gt_dir, DOMAIN))):
                gt = read_mot(os.path.join(gt_dir, DOMAIN, clip, "gt.txt"))
                write_mot(os.path.join(results, DOMAIN, clip, "preds.txt"), _detections(gt, rng, quality, n_fp))
            dm.evaluate_domain(gt_dir, frames_dir, results, DOMAIN)
            stages.track_domain(results, frames_dir, DOMAIN)
            stages.evaluate_tracks(results, frames_dir, gt_dir, DOMAIN)
            pred, _ = stages.count_domain(results, frames_dir, DOMAIN)
            r = stages.evaluate_counts(pred, stages.gt_counts_from_mot(gt_dir, frames_dir, DOMAIN))
            write_json(os.path.join(results, DOMAIN, "metrics_count.json"), {**r, "ground_truth": gt_dir})
    return run


def test_full_set_values_reproduce_the_pipeline_and_saved_is_significantly_better(run_dir):
    from downstream.report import collect_row

    rows = [collect_row(run_dir, k, DOMAIN) for k in ("raw", "SAVeD")]
    for r in rows:
        assert {"psnr", "ssim", "map50", "map50_95", "hota", "mota", "idf1", "nmae"} <= set(r.metrics)
    boot, problems = bs.bootstrap_rows(run_dir, rows, DOMAIN, resamples=300)
    assert problems == []
    for r in rows:
        for m in bs.METRICS:
            assert boot["point"][r.kind][m] == pytest.approx(r.metrics[m], abs=1e-6), (r.kind, m)
            lo, hi = boot["ci"][r.kind][m]
            assert lo <= hi
    p = boot["paired"]["raw"]
    assert p["map50"]["significant"] and p["map50"]["lo"] > 0
    assert p["psnr"]["significant"] and p["psnr"]["diff"] > 0
    assert p["map50"]["diff"] == pytest.approx(rows[1].metrics["map50"] - rows[0].metrics["map50"], abs=1e-6)
    assert boot["bootstrap"] == {"resamples": 300, "clips": 4, "seed": 0}
    assert boot["bootstrap_seeds"] == {"seeds": None, "resampled": False}
    rows[1].per_seed["mota"][0] += 0.01              # a value the clip statistics do not reproduce is reported
    rows[1].metrics["mota"] += 0.01
    assert bs.point_mismatches(rows, boot["seed_point"]) == [
        f"SAVeD.mota: the bootstrap's full-set value {boot['point']['SAVeD']['mota']:.6f} differs from the "
        f"pipeline's {rows[1].metrics['mota']:.6f}"]


def test_report_writes_intervals_and_paired_table_and_round_trips(run_dir, capsys):
    from downstream.report import main

    assert main(["--run-dir", run_dir, "--test-domain", DOMAIN, "--kinds", "raw", "SAVeD", "--bootstrap", "200"]) == 0
    out = capsys.readouterr().out
    assert "SAVeD − row" in out and "200 resamples" in out and "warning" not in out
    metrics = json.load(open(os.path.join(run_dir, "metrics.json")))
    first = open(os.path.join(run_dir, "metrics.json")).read()
    assert set(metrics["rows"]) == {"raw", "SAVeD"} and isinstance(metrics["rows"]["SAVeD"]["map50"], float)
    assert metrics["bootstrap"] == {"resamples": 200, "clips": 4, "seed": 0}
    assert metrics["bootstrap_seeds"] == {"seeds": None, "resampled": False}
    assert metrics["detector_seeds"] is None                              # a run without the seed level
    assert metrics["per_seed"]["SAVeD"]["map50"] == [metrics["rows"]["SAVeD"]["map50"]]
    assert metrics["spread"]["SAVeD"]["map50"]["sd"] is None
    for kind in ("raw", "SAVeD"):
        for m in bs.METRICS:
            lo, hi = metrics["ci"][kind][m]
            assert lo <= hi
    p = metrics["paired"]["raw"]["nmae"]
    assert set(p) == {"diff", "lo", "hi", "significant"} and isinstance(p["significant"], bool)
    report = open(os.path.join(run_dir, "report.md")).read()
    v, (lo, hi) = metrics["rows"]["SAVeD"]["map50"], metrics["ci"]["SAVeD"]["map50"]
    assert f"{v:.3f} [{lo:.3f}, {hi:.3f}]" in report
    assert "## SAVeD − row (paired bootstrap)" in report and "SAVeD vs raw: SAVeD better on" in report
    assert "200 resamples (seed 0) of the 4 test clips drawn with replacement" in report
    # deterministic: the same command writes the same metrics.json (bar the figures, which are not compared)
    main(["--run-dir", run_dir, "--test-domain", DOMAIN, "--kinds", "raw", "SAVeD", "--bootstrap", "200"])
    assert open(os.path.join(run_dir, "metrics.json")).read() == first
    # --bootstrap 0: the plain contract, no interval keys
    main(["--run-dir", run_dir, "--test-domain", DOMAIN, "--kinds", "raw", "SAVeD", "--bootstrap", "0"])
    metrics = json.load(open(os.path.join(run_dir, "metrics.json")))
    assert "ci" not in metrics and "paired" not in metrics and "bootstrap" not in metrics
    saved_line = [ln for ln in open(os.path.join(run_dir, "report.md")) if ln.startswith("| SAVeD |")]
    assert len(saved_line) == 1 and "[" not in saved_line[0]


def test_negative_bootstrap_is_a_one_line_error(run_dir, run):
    r = run("-m", "downstream.report", "--run-dir", run_dir, "--bootstrap", "-1")
    assert r.returncode == 2 and r.stderr.strip() == "error: --bootstrap must be >= 0 (0 = off), got -1"


# ---------------------------------------------------- a run folder with several detector seeds per row
@pytest.fixture(scope="module")
def seeded_run_dir(tmp_path_factory) -> str:
    return make_run(str(tmp_path_factory.mktemp("seeded")), {"raw": {0: 0.5, 1: 0.6}, "SAVeD": {0: 0.97, 1: 0.9}})


def test_seeded_run_reproduces_every_seeds_values_and_resamples_seeds_and_clips(seeded_run_dir):
    from downstream.report import collect_row

    rows = [collect_row(seeded_run_dir, k, DOMAIN) for k in ("raw", "SAVeD")]    # "auto": the seed folders
    for r in rows:
        assert r.seeds == [0, 1]
        for m in ("map50", "hota", "nmae"):
            assert r.metrics[m] == pytest.approx(np.mean(r.per_seed[m]))
    boot, problems = bs.bootstrap_rows(seeded_run_dir, rows, DOMAIN, resamples=300)
    assert problems == []                          # every seed's full-set value is the pipeline's own
    assert boot["bootstrap"] == {"resamples": 300, "clips": 4, "seed": 0}
    assert boot["bootstrap_seeds"] == {"seeds": [0, 1], "resampled": True}
    for r in rows:
        for m in bs.METRICS:
            assert boot["point"][r.kind][m] == pytest.approx(r.metrics[m], abs=1e-6), (r.kind, m)
            for i, s in enumerate(r.seeds):
                if m in r.per_seed:
                    assert boot["seed_point"][r.kind][s][m] == pytest.approx(r.per_seed[m][i], abs=1e-6)
    p = boot["paired"]["raw"]["map50"]
    assert p["diff"] == pytest.approx(rows[1].metrics["map50"] - rows[0].metrics["map50"], abs=1e-6)
    assert p["significant"] and p["lo"] > 0
    # with the seeds fixed (every resample averages both), the same points and clip draws give other intervals
    _, stats, _ = bs.collect_stats(seeded_run_dir, rows, DOMAIN)
    fixed = bs.bootstrap(stats, 4, resamples=300, resample_seeds=False)
    assert fixed["point"] == boot["point"] and not fixed["bootstrap_seeds"]["resampled"]
    assert fixed["ci"]["raw"]["hota"] != boot["ci"]["raw"]["hota"]
    assert fixed["ci"]["raw"]["psnr"] == boot["ci"]["raw"]["psnr"]          # no detector in PSNR
    rows[0].per_seed["idf1"][1] += 0.01
    assert bs.point_mismatches(rows, boot["seed_point"]) == [
        f"raw.idf1 (detector seed 1): the bootstrap's full-set value {boot['seed_point']['raw'][1]['idf1']:.6f} "
        f"differs from the pipeline's {rows[0].per_seed['idf1'][1]:.6f}"]


def test_seeded_report_files(seeded_run_dir, capsys):
    from downstream.report import main

    assert main(["--run-dir", seeded_run_dir, "--test-domain", DOMAIN, "--kinds", "raw", "SAVeD",
                 "--bootstrap", "200"]) == 0
    out = capsys.readouterr().out
    assert "warning" not in out and "SAVeD − row" in out
    metrics = json.load(open(os.path.join(seeded_run_dir, "metrics.json")))
    first = open(os.path.join(seeded_run_dir, "metrics.json")).read()
    assert metrics["detector_seeds"] == [0, 1]
    assert metrics["bootstrap"] == {"resamples": 200, "clips": 4, "seed": 0}
    assert metrics["bootstrap_seeds"] == {"seeds": [0, 1], "resampled": True}
    for kind in ("raw", "SAVeD"):
        assert set(metrics["per_seed"][kind]) == {"map50", "map50_95", "hota", "mota", "idf1", "nmae"}
        for m, values in metrics["per_seed"][kind].items():
            assert len(values) == 2 and metrics["rows"][kind][m] == pytest.approx(sum(values) / 2)
            s = metrics["spread"][kind][m]
            assert s["min"] == min(values) and s["max"] == max(values)
            assert s["sd"] == pytest.approx(abs(values[0] - values[1]) / 2 ** 0.5)
        assert metrics["learned"][kind] == [None, None]          # no yolo_train folder in this run
        lo, hi = metrics["ci"][kind]["map50"]
        assert lo <= metrics["rows"][kind]["map50"] <= hi
    report = open(os.path.join(seeded_run_dir, "report.md")).read()
    assert "200 resamples (seed 0). Each resample draws the 2 detector seeds and the 4 test clips" in report
    order = [report.index(h) for h in ("| input | PSNR", "Intervals:", "## Per detector seed", "## SAVeD − row")]
    assert order == sorted(order)
    assert report.count("| SAVeD | 0 |") == 1 and report.count("| SAVeD | mean |") == 1
    main(["--run-dir", seeded_run_dir, "--test-domain", DOMAIN, "--kinds", "raw", "SAVeD", "--bootstrap", "200"])
    assert open(os.path.join(seeded_run_dir, "metrics.json")).read() == first      # deterministic
