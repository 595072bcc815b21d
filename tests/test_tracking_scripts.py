"""track.py, track_eval.py, count.py, eval_count.py run as a user would, on the synthetic CFC22 benchmark."""
from __future__ import annotations

import json
import os
import re
import shutil

import numpy as np
import pytest

DOMAIN = "kenai-val"


def gt_as_detections(root: str, results: str, domain: str = DOMAIN) -> list[str]:
    """Copy every GT track file as preds.txt with confidence 0.9 (a perfect detector)."""
    from common.mot import read_mot, write_mot

    clips = sorted(os.listdir(os.path.join(root, "annotations_mot", domain)))
    for clip in clips:
        rows = read_mot(os.path.join(root, "annotations_mot", domain, clip, "gt.txt"))
        rows[:, 6] = 0.9
        write_mot(os.path.join(results, domain, clip, "preds.txt"), rows)
    return clips


def value(stdout: str, label: str) -> float:
    m = re.search(rf"^{re.escape(label)}: (-?[0-9.]+)", stdout, re.M)
    assert m, f"{label!r} not in output:\n{stdout}"
    return float(m.group(1))


def readme_args(root: str, results: str) -> dict[str, list[str]]:
    frames = os.path.join(root, "frames", "raw")
    return {
        "track": ["track.py", "--dataset", DOMAIN, "--frames_dir", frames, "--detections_dir", results],
        "track_eval": ["track_eval.py", "--dataset", DOMAIN, "--frames_dir", frames, "--track_dir", results,
                       "--annos_root", os.path.join(root, "annotations_mot")],
        "count": ["count.py", "--dataset", DOMAIN, "--frames_dir", frames, "--track_dir", results],
        "eval_count": ["eval_count.py", "--dataset", DOMAIN, "--frames_dir", frames, "--track_dir", results],
    }


def test_perfect_detections_give_perfect_scores_through_the_readme_commands(synthetic_cfc22, run, tmp_path):
    results = str(tmp_path / "results")
    clips = gt_as_detections(synthetic_cfc22, results)
    cmd = readme_args(synthetic_cfc22, results)

    # Synthetic fish are visible for fewer than the paper's 11 frames, hence --min_hits 3.
    p = run(*cmd["track"], "--min_hits", "3")
    assert p.returncode == 0, p.stderr
    for clip in clips:
        assert os.path.getsize(os.path.join(results, DOMAIN, clip, "tracks.txt")) > 0

    p = run(*cmd["track_eval"])
    assert p.returncode == 0, p.stderr
    assert value(p.stdout, "MOTA") == 1.0 and value(p.stdout, "IDF1") == 1.0
    assert value(p.stdout, "HOTA") == pytest.approx(1.0, abs=1e-3)
    assert value(p.stdout, "paper-way MOTA") == 1.0
    summary = json.load(open(os.path.join(results, DOMAIN, "metrics_track.json")))
    assert set(summary["clips"]) == set(clips)
    with open(os.path.join(results, DOMAIN, "metrics_track.csv")) as f:
        assert len(f.read().strip().splitlines()) == 1 + len(clips)

    p = run(*cmd["count"])
    assert p.returncode == 0, p.stderr
    counts = json.load(open(os.path.join(results, DOMAIN, "counts.json")))
    expected = json.load(open(os.path.join(synthetic_cfc22, "counts", f"{DOMAIN}.json")))
    assert {c: {k: v[k] for k in ("left", "right")} for c, v in counts.items()} == expected
    assert all("upstream" in v for v in counts.values())  # metadata found upward from --frames_dir

    p = run(*cmd["eval_count"])  # GT found upward from --frames_dir (annotations_mot/<domain>)
    assert p.returncode == 0, p.stderr
    assert value(p.stdout, "nMAE") == 0.0

    # Resume: a second run skips finished clips; --overwrite redoes them (with SORT this time).
    p = run(*cmd["track"], "--min_hits", "3")
    assert "skipped 2" in p.stdout
    p = run(*cmd["track"], "--min_hits", "3", "--tracker", "sort", "--overwrite")
    assert p.returncode == 0 and "tracked 2" in p.stdout


def test_counts_of_gt_tracks_equal_the_benchmark_counts(synthetic_cfc22):
    from downstream.tracking.stages import gt_counts_from_mot, load_counts

    frames = os.path.join(synthetic_cfc22, "frames", "raw")
    for domain in ("kenai-train", "kenai-val", "elwha"):
        got = gt_counts_from_mot(os.path.join(synthetic_cfc22, "annotations_mot"), frames, domain)
        expected = load_counts(os.path.join(synthetic_cfc22, "counts", f"{domain}.json"))
        assert {c: {k: v[k] for k in ("left", "right")} for c, v in got.items()} == expected


def test_counting_errors_and_nmae(synthetic_cfc22, run, tmp_path):
    results = str(tmp_path / "results")
    clips = gt_as_detections(synthetic_cfc22, results)
    expected = json.load(open(os.path.join(synthetic_cfc22, "counts", f"{DOMAIN}.json")))
    pred = {c: dict(v) for c, v in expected.items()}
    pred[clips[0]]["left"] += 2  # two extra fish counted in one clip
    with open(os.path.join(results, DOMAIN, "counts.json"), "w") as f:
        json.dump(pred, f)
    gt_total = sum(v["left"] + v["right"] for v in expected.values())
    p = run(*readme_args(synthetic_cfc22, results)["eval_count"], "--gt_counts",
            os.path.join(synthetic_cfc22, "counts", f"{DOMAIN}.json"))
    assert p.returncode == 0, p.stderr
    assert value(p.stdout, "nMAE") == pytest.approx(2 / gt_total, abs=1e-3)

    zero = str(tmp_path / "zero.json")
    with open(zero, "w") as f:
        json.dump({c: {"left": 0, "right": 0} for c in clips}, f)
    p = run(*readme_args(synthetic_cfc22, results)["eval_count"], "--gt_counts", zero)
    assert p.returncode != 0 and "undefined" in p.stderr and "Traceback" not in p.stderr


def test_bad_inputs_give_one_line_errors(synthetic_cfc22, run, tmp_path):
    results = str(tmp_path / "results")
    clips = gt_as_detections(synthetic_cfc22, results)
    cmd = readme_args(synthetic_cfc22, results)
    # An empty preds.txt gives an empty tracks.txt; a malformed line is reported with file:line.
    open(os.path.join(results, DOMAIN, clips[0], "preds.txt"), "w").close()
    with open(os.path.join(results, DOMAIN, clips[1], "preds.txt"), "a") as f:
        f.write("3,1,abc,4,5,6,0.9,-1,-1,-1\n")
    p = run(*cmd["track"])
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert re.search(r"clip\d+/preds.txt:\d+: non-numeric", p.stderr), p.stderr
    assert os.path.getsize(os.path.join(results, DOMAIN, clips[0], "tracks.txt")) == 0

    p = run(*cmd["track"][:-1], str(tmp_path / "nowhere"))
    assert p.returncode == 2 and "not found" in p.stderr
    p = run("count.py", "--dataset", "no-such-domain", *cmd["count"][3:])
    assert p.returncode == 2 and "no-such-domain" in p.stderr
    shutil.rmtree(os.path.join(results, DOMAIN, clips[1]))
    p = run(*cmd["eval_count"])
    assert p.returncode == 2 and "run count.py first" in p.stderr


def test_help_is_light(run):
    code = ("import sys, importlib\n"
            "for m in ('track', 'track_eval', 'count', 'eval_count'): importlib.import_module(m)\n"
            "print(sorted(m for m in ('torch', 'ultralytics', 'trackeval', 'cv2', 'motmetrics') if m in sys.modules))")
    p = run("-c", code)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "[]"
    for script in ("track.py", "track_eval.py", "count.py", "eval_count.py"):
        p = run(script, "--help")
        assert p.returncode == 0 and "--dataset" in p.stdout
