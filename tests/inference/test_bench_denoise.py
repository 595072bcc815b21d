"""bench/bench_denoise.py runs end to end at a tiny size and prints its figures (the figures are not asserted)."""
from __future__ import annotations

import re


def test_bench_prints_speed_ratio_and_gflop(run):
    r = run("bench/bench_denoise.py", "--configs", "demo", "--demo_resolution", "128", "--frames", "4",
            "--batch_size", "4", "--threads", "1", env={"OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stderr
    line = next(l for l in r.stdout.splitlines() if l.startswith("demo"))
    assert re.search(r"ratio \d+\.\d\dx", line) and "GFLOP/frame plain" in line
    plain, reuse = (float(v) for v in re.search(r"plain ([\d.]+), reuse ([\d.]+)", line).groups())
    assert 0 < reuse < plain  # encoder reuse removes two of the three encodings per frame
    assert re.search(r"max output difference [01] gray levels", line)


def test_bench_rejects_unknown_config(run):
    r = run("bench/bench_denoise.py", "--configs", "huge")
    assert r.returncode == 2 and r.stderr.strip() == "error: unknown config 'huge'; choose from paper, demo"
