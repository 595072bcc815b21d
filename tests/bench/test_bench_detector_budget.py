"""bench/bench_detector_budget.py: the learning curves read back from ultralytics' results.csv, the per-schedule
summary against hand-computed values, and the run with the training replaced by a stub (the real trainings take
minutes and are the lead's to run)."""
from __future__ import annotations

import json
import math
import os

import pytest


def _results_csv(path, map50s: list[float]) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:  # ultralytics pads its column names with spaces
        f.write("                  epoch,                  time,      metrics/mAP50(B)\n")
        for i, v in enumerate(map50s):
            f.write(f"{i + 1},{10.0 * (i + 1)},{v}\n")


def test_read_curve_and_summary(tmp_path, bench_module):
    b = bench_module("bench_detector_budget")
    _results_csv(str(tmp_path / "r.csv"), [0.0, 0.25, 0.5])
    curve, times = b.read_curve(str(tmp_path / "r.csv"))
    assert curve == [0.0, 0.25, 0.5] and times == [10.0, 20.0, 30.0]
    s = b.summarise([0.5, 0.7, 0.05], threshold=0.1)
    assert s["mean"] == pytest.approx(0.4166667, abs=1e-6) and s["min"] == 0.05 and s["max"] == 0.7
    assert s["sd"] == pytest.approx(math.sqrt(((0.5 - 5 / 12) ** 2 + (0.7 - 5 / 12) ** 2 + (0.05 - 5 / 12) ** 2) / 2))
    assert s["learned"] == 2 and s["n"] == 3
    assert b.summarise([0.3], 0.1)["sd"] == 0.0


def test_budget_run_with_stub_training(tmp_path, bench_module, monkeypatch):
    b = bench_module("bench_detector_budget")
    run = tmp_path / "run"
    for key in ("raw", "SAVeD"):
        os.makedirs(run / "yolo" / key)
        (run / "yolo" / key / "data.yaml").write_text("nc: 1\n")
    (run / "detector_pretrained.pt").write_bytes(b"w")
    calls = []

    def stub(data, epochs, batch, weights, imgsz, project, name, seed=0, recipe=None, **kw):
        calls.append((os.path.basename(os.path.dirname(data)), weights, seed, recipe.val))
        _results_csv(os.path.join(project, name, "results.csv"), [0.1 * (seed + 1)] * epochs)

    import downstream.yolo.train as train_mod

    monkeypatch.setattr(train_mod, "train_detector", stub)
    assert b.main(["--run-dir", str(run), "--kinds", "raw", "SAVeD", "--seeds", "0", "1", "--epochs", "2",
                   "--init", "pretrained"]) == 0
    assert len(calls) == 4 and all(c[1].endswith("detector_pretrained.pt") and c[3] is True for c in calls)
    out = json.loads((run / "budget" / "budget.json").read_text())
    raw = [s for s in out["summary"] if s["kind"] == "raw"][0]
    assert raw["mean"] == pytest.approx(0.15) and raw["learned"] == 1  # 0.1 is not above the threshold 0.1
    assert "| pretrained | 2 | raw | 0 |" in (run / "budget" / "budget.md").read_text()


def test_budget_needs_the_pretrained_weights(tmp_path, bench_module):
    from common.cli import UserError

    b = bench_module("bench_detector_budget")
    with pytest.raises((SystemExit, UserError)):
        b.main(["--run-dir", str(tmp_path), "--init", "pretrained"])
