"""bench/bench_denoise.py runs end to end at a tiny size and prints its figures (the figures are not asserted)."""
from __future__ import annotations

import re


def test_bench_prints_fp32_bf16_and_paper_loop_side_by_side(run):
    r = run("bench/bench_denoise.py", "--configs", "demo,udvd", "--demo_resolution", "128", "--frames", "2",
            "--udvd_frames", "1", "--udvd_size", "16x24", "--repeats", "1", "--batch_size", "2", "--threads", "1",
            env={"OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stderr
    line = next(l for l in r.stdout.splitlines() if l.startswith("demo"))
    for path in ("paper loop", "engine fp32", "engine bf16"):
        assert re.search(path + r" [\d.]+ frames/s \([\d.]+x\)", line), line
    plain, reuse = (float(v) for v in re.search(r"plain ([\d.]+), reuse ([\d.]+)", line).groups())
    assert 0 < reuse < plain  # encoder reuse removes two of the three encodings per frame
    assert re.search(r"engine fp32 0\.\d\d/[01]\b", line)  # same network, same precision: rounding at most
    udvd = next(l for l in r.stdout.splitlines() if l.startswith("udvd"))
    assert "loop fp32" in udvd and "batched bf16" in udvd
    assert re.search(r"batched fp32 0\.\d\d/[01]\b", udvd)  # batching rotations changes no output


def test_bench_rejects_unknown_config(run):
    r = run("bench/bench_denoise.py", "--configs", "huge")
    assert r.returncode == 2 and r.stderr.strip() == "error: unknown config 'huge'; choose from paper, demo, udvd"


def test_command_bench_times_both_paths_and_the_paper_loop_as_a_command(run):
    r = run("bench/bench_denoise_command.py", "--frames", "4", "--size", "64x128", "--repeats", "1", "--fit_steps", "1",
            env={"OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stderr
    rows = {m.group(1): float(m.group(2)) for m in re.finditer(r"^\s*([\w ]+?):\s+([\d.]+) frames/s", r.stdout, re.M)}
    assert set(rows) == {"fp32", "auto", "paper loop", "paper command"}, r.stdout
    assert rows["paper command"] < rows["paper loop"]  # the command adds start-up to the same loop
    assert re.search(r"auto: .*x paper loop, [\d.]+x paper command; \|out - fp32\| mean [\d.]+, max \d+", r.stdout)
