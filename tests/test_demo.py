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
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}
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
