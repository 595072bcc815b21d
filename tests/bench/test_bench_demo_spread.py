"""bench/bench_demo_spread.py: the spread over runs computed from hand-made metrics.json files (the demo runs
themselves take minutes each and are the lead's to run), its files, and its flag errors."""
from __future__ import annotations

import importlib.util
import json
import math
import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _bench():
    spec = importlib.util.spec_from_file_location("bench_demo_spread", os.path.join(REPO, "bench", "bench_demo_spread.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _metrics(map50: float, nmae: float, diff: float, significant: bool) -> dict:
    return {"rows": {"raw": {"map50": map50, "nmae": nmae, "train_s": 100.0}, "SAVeD": {"map50": 0.85, "nmae": 0.375}},
            "paired": {"raw": {"map50": {"diff": diff, "lo": diff - 0.1, "hi": diff + 0.1, "significant": significant}}}}


def test_aggregate_hand_computed():
    s = _bench().aggregate({0: _metrics(0.620, 0.5, 0.23, True), 1: _metrics(0.577, 0.25, 0.28, False),
                            2: _metrics(0.599, 0.75, 0.25, True)})
    m = s["rows"]["raw"]["map50"]
    assert m["mean"] == pytest.approx(0.598667, abs=1e-6) and m["n"] == 3
    assert m["std"] == pytest.approx(math.sqrt(((0.620 - 0.598667) ** 2 + (0.577 - 0.598667) ** 2
                                                + (0.599 - 0.598667) ** 2) / 2), abs=1e-6)
    assert (m["min"], m["max"], m["values"]) == (0.577, 0.620, [0.620, 0.577, 0.599])
    assert s["rows"]["raw"]["nmae"]["std"] == pytest.approx(0.25)              # values 0.5, 0.25, 0.75
    assert s["rows"]["SAVeD"]["map50"]["std"] == 0.0                           # the same value in every run
    p = s["paired"]["raw"]["map50"]
    assert p["mean"] == pytest.approx(0.76 / 3) and p["significant_runs"] == 2 and s["seeds"] == [0, 1, 2]
    one = _bench().aggregate({4: _metrics(0.6, 0.5, 0.2, False)})
    assert one["rows"]["raw"]["map50"]["std"] is None and one["paired"]["raw"]["map50"]["significant_runs"] == 0
    assert "| mAP50 | 0.600 | — | 0.600 – 0.600 | 0.600 |" in _bench().format_spread(one, "quick")


def test_aggregate_only_reads_runs_and_writes_summary(tmp_path, run):
    for seed, (m, n) in {3: (0.620, 0.5), 7: (0.577, 0.25)}.items():
        (tmp_path / f"seed_{seed}").mkdir()
        (tmp_path / f"seed_{seed}" / "metrics.json").write_text(json.dumps(_metrics(m, n, 0.2, True)))
    r = run("bench/bench_demo_spread.py", "--seeds", "3", "7", "--preset", "quick", "--out", str(tmp_path),
            "--aggregate-only")
    assert r.returncode == 0, r.stderr
    summary = json.loads((tmp_path / "spread.json").read_text())
    assert summary["seeds"] == [3, 7] and summary["preset"] == "quick"
    assert summary["rows"]["raw"]["map50"]["mean"] == pytest.approx(0.5985)
    md = (tmp_path / "spread.md").read_text()
    assert "| mAP50 | 0.599 | 0.030 | 0.577 – 0.620 | 0.620, 0.577 |" in md
    assert "| raw | mAP50 | +0.200 | 0.000 | +0.200 – +0.200 | 2/2 |" in md
    assert "| mAP50 | 0.599 | 0.030 |" in r.stdout and "seeds 3, 7" in r.stdout


def test_flag_errors_are_one_line(tmp_path, run):
    r = run("bench/bench_demo_spread.py", "--repeats", "2", "--seeds", "1", "--out", str(tmp_path))
    assert r.returncode == 2 and r.stderr.strip() == "error: --repeats 2 disagrees with the 1 seeds given by --seeds"
    r = run("bench/bench_demo_spread.py", "--seeds", "1", "1", "--out", str(tmp_path))
    assert r.returncode == 2 and "distinct" in r.stderr
    r = run("bench/bench_demo_spread.py", "--seeds", "4", "--out", str(tmp_path), "--aggregate-only")
    assert r.returncode == 2 and r.stderr.strip().startswith("error: no metrics.json under")
