"""bench/bench_train.py runs and prints its figures (values are not asserted: speed lives in bench/, not tests)."""
from __future__ import annotations

import re


def test_bench_train_prints_samples_per_second(run):
    r = run("bench/bench_train.py", "--train_resolution", "128", "--bottleneck_size", "16", "--batch_size", "2",
            "--steps", "1", "--threads", "1", timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    figures = re.findall(r"([0-9][0-9,]*\.?[0-9]*) samples/s", r.stdout)
    assert len(figures) >= 4, r.stdout  # model only, our loader, both, paper-style loader
    assert "paper" in r.stdout.lower()
