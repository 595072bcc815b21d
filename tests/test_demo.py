"""demo.sh --quick end to end (the README's main job, smoke preset): every stage runs as a user would run it,
the report exists, every metric is a finite number in its valid range, the table has every row, and a re-run
resumes (skips every finished step)."""
from __future__ import annotations

import json
import os
import subprocess

import pytest

from downstream.report_table import COLUMNS, Row, validate
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_demo_quick_end_to_end(tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2"),
           "SAVED_DETECTOR_CACHE": str(tmp_path / "detector_cache")}
    r = subprocess.run(["bash", "demo.sh", "--quick", "--out", str(out)], cwd=REPO, capture_output=True, text=True,
                       timeout=900, env=env)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    report = (out / "report.md").read_text()
    metrics = json.loads((out / "metrics.json").read_text())
    assert list(metrics["rows"]) == ["raw", "Baseline++", "SAVeD"]
    rows = [Row(k, v) for k, v in metrics["rows"].items()]
    assert validate(rows) == []
    for kind, values in metrics["rows"].items():
        for key in ("map50", "map50_95", "hota", "mota", "idf1", "nmae", "train_s", "infer_s"):
            assert key in values, f"{kind} lacks {key}"
    for key in ("psnr", "ssim"):
        assert key in metrics["rows"]["raw"] and key in metrics["rows"]["SAVeD"]
    # bootstrap intervals over the test clips (the quick preset has one elwha clip: each interval is the value)
    assert metrics["bootstrap"] == {"resamples": 2000, "clips": 1, "seed": 0}
    for kind, values in metrics["rows"].items():
        for key in ("map50", "map50_95", "hota", "mota", "idf1", "nmae"):
            lo, hi = metrics["ci"][kind][key]
            assert lo == pytest.approx(values[key], abs=1e-6) and hi == pytest.approx(values[key], abs=1e-6)
    for kind in ("raw", "Baseline++"):
        p = metrics["paired"][kind]["map50"]
        assert p["diff"] == pytest.approx(metrics["rows"]["SAVeD"]["map50"] - metrics["rows"][kind]["map50"], abs=1e-6)
        assert p["significant"] is False
    # the detector protocol: one seed in the quick preset, the shared pretrained start made once (cache miss)
    assert metrics["detector_seeds"] == [0]
    for kind in ("raw", "Baseline++", "SAVeD"):
        assert metrics["per_seed"][kind]["map50"] == [pytest.approx(metrics["rows"][kind]["map50"])]
        assert len(metrics["learned"][kind]) == 1
    record = json.loads((out / "detector_pretrained.pt.json").read_text())
    assert record["cache_hit"] is False and os.path.isfile(out / "detector_pretrained.pt")
    assert os.listdir(tmp_path / "detector_cache") == [record["key"]]
    saved = metrics["rows"]["SAVeD"]
    assert f"| SAVeD | {saved['psnr']:.2f} [" in report and "## SAVeD − row (paired bootstrap)" in report
    assert "SAVeD − row" in r.stdout
    assert [ln for ln in r.stdout.splitlines() if ln.startswith("warning:") and "bootstrap" in ln] == []
    for kind in ("raw", "Baseline++", "SAVeD"):
        assert f"| {kind} |" in report and f"| {kind} |" in r.stdout  # the table is printed at the end
    assert COLUMNS["nmae"][0] in r.stdout
    for fig in ("loss_curve.png", "metrics_bars.png", "crops_grid.png", "side_by_side.gif"):
        assert (out / fig).stat().st_size > 0, fig
    assert os.path.isfile(out / "logs" / "train_saved.log")
    times = json.loads((out / "timings.json").read_text())  # setup/steps.sh: {step: seconds}, one per step run
    assert times["train_saved"] > 0 and len(times) == len(os.listdir(out / ".done"))

    again = subprocess.run(["bash", "demo.sh", "--quick", "--out", str(out)], cwd=REPO, capture_output=True,
                           text=True, timeout=300, env=env)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "[run ]" not in again.stdout and again.stdout.count("[done]") >= 20
    assert json.loads((out / "timings.json").read_text()) == times  # skipped steps keep their times


def _dry_run(tmp_path, *flags: str) -> list[list[str]]:
    """demo.sh's step commands without running them (setup/steps.sh's STEPS_DRY_RUN), split into words."""
    import shlex

    env = {**os.environ, "STEPS_DRY_RUN": "1"}
    r = subprocess.run(["bash", "demo.sh", *flags, "--out", str(tmp_path / "run")], cwd=REPO, capture_output=True,
                       text=True, timeout=60, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    return [shlex.split(line[2:]) for line in r.stdout.splitlines() if line.startswith("+ ") and "(report)" not in line]


def _flag(cmd: list[str], name: str) -> str:
    return cmd[cmd.index(name) + 1]


def test_demo_detector_protocol_pairs_seeds_and_shares_the_pretrained_start(tmp_path):
    cmds = _dry_run(tmp_path, "--detector-seeds", "3")
    pretrain = [c for c in cmds if c[1].endswith("setup/pretrain_detector.py")]
    assert len(pretrain) == 1  # once per run, not per row
    start = _flag(pretrain[0], "--output")
    train = [c for c in cmds if c[1] == "train_detector.py"]
    seeds_of: dict[str, list[str]] = {}
    for c in train:
        assert _flag(c, "--weights") == start  # every row fine-tunes from the same weights
        assert "--val-last-only" in c
        seeds_of.setdefault(_flag(c, "--project"), []).append(_flag(c, "--seed"))
    assert len(seeds_of) == 3 and all(s == ["0", "1", "2"] for s in seeds_of.values())  # paired seeds
    detect = [c for c in cmds if c[1] == "detect.py"]
    assert len(detect) == 9 and all(_flag(c, "--conf") == "0.001" for c in detect)
    assert all(_flag(c, "--dataset") == "elwha" for c in detect)


def test_demo_pretrain_none_trains_from_scratch(tmp_path):
    cmds = _dry_run(tmp_path, "--quick", "--pretrain", "none")
    assert not [c for c in cmds if c[1].endswith("setup/pretrain_detector.py")]
    train = [c for c in cmds if c[1] == "train_detector.py"]
    assert train and all(_flag(c, "--weights") == "yolov8n.pt" for c in train)  # not on disk: built from its yaml


def test_demo_rejects_bad_protocol_flags(tmp_path):
    for flags in (["--detector-seeds", "0"], ["--pretrain", "coco"]):
        r = subprocess.run(["bash", "demo.sh", *flags], cwd=REPO, capture_output=True, text=True, timeout=30)
        assert r.returncode == 2 and r.stderr.startswith("error:"), flags
