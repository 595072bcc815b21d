"""Run-to-run spread of the demo: `demo.sh` N times with different seeds, then mean, std and min–max per row
and metric over the runs (and of SAVeD − row, with how many runs' own bootstrap called it significant).

    python bench/bench_demo_spread.py --repeats 3 --preset default            # seeds 0 1 2, ~15 min per run
    python bench/bench_demo_spread.py --preset quick --seeds 5 9              # two quick runs, seeds 5 and 9
    python bench/bench_demo_spread.py --seeds 0 1 2 --aggregate-only          # only re-read finished runs

Each run is `bash demo.sh [--quick|--gpu] --seed S --out <out>/seed_S` (the seed feeds the synthetic data and
SAVeD's training; each run trains its own detector seeds 0..N-1 per row, and its rows are their means), its
console output kept in <out>/seed_S/demo.log; a finished run is resumed by demo.sh itself (finished steps are
skipped). Writes <out>/spread.json and <out>/spread.md. One run's report already resamples test clips and detector
seeds; this measures the spread due to what the data seed changes too. Figures are printed, never asserted in
tests.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common.cli import ArgumentParser, fail, run_cli  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRESET_FLAGS = {"default": [], "quick": ["--quick"], "gpu": ["--gpu"]}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=None, help="number of runs (seeds 0..N-1 unless --seeds is given)")
    p.add_argument("--seeds", type=int, nargs="+", default=None, help="the seeds to run (default: 0..repeats-1)")
    p.add_argument("--preset", choices=sorted(PRESET_FLAGS), default="default", help="demo.sh preset of every run")
    p.add_argument("--out", default=None, help="folder of the runs and the summary (default: results/spread_<preset>)")
    p.add_argument("--baselines", action="store_true", help="pass --baselines to demo.sh (more rows, much longer)")
    p.add_argument("--aggregate-only", action="store_true",
                   help="do not run demo.sh; only summarise the runs' existing metrics.json")
    a = p.parse_args(argv)
    if a.seeds is None:
        a.seeds = list(range(a.repeats if a.repeats is not None else 3))
    elif a.repeats is not None and a.repeats != len(a.seeds):
        fail(f"--repeats {a.repeats} disagrees with the {len(a.seeds)} seeds given by --seeds")
    if not a.seeds:
        fail("--repeats must be at least 1")
    if min(a.seeds) < 0 or len(set(a.seeds)) != len(a.seeds):
        fail(f"--seeds must be distinct non-negative integers, got {a.seeds}")
    a.out = a.out or os.path.join("results", f"spread_{a.preset}")
    return a


def run_demo(out: str, seed: int, preset: str, baselines: bool) -> tuple[bool, float, str]:
    """One `demo.sh` run into out/seed_<seed>; returns (success, wall-clock seconds, log path)."""
    run_dir = os.path.join(out, f"seed_{seed}")
    os.makedirs(run_dir, exist_ok=True)
    log = os.path.join(run_dir, "demo.log")
    cmd = ["bash", os.path.join(REPO, "demo.sh"), *PRESET_FLAGS[preset], "--seed", str(seed), "--out",
           os.path.abspath(run_dir), *(["--baselines"] if baselines else [])]
    t0 = time.perf_counter()
    with open(log, "w", encoding="utf-8") as f:
        rc = subprocess.run(cmd, cwd=REPO, stdout=f, stderr=subprocess.STDOUT).returncode
    return rc == 0, time.perf_counter() - t0, log


def _stats(values: list[float]) -> dict:
    """mean, sample std (None for a single value), min, max and n of finite values; None when there is none."""
    v = [float(x) for x in values if x is not None and math.isfinite(x)]
    if not v:
        return None
    mean = sum(v) / len(v)
    std = math.sqrt(sum((x - mean) ** 2 for x in v) / (len(v) - 1)) if len(v) > 1 else None
    return {"mean": mean, "std": std, "min": min(v), "max": max(v), "n": len(v), "values": v}


def aggregate(metrics_by_seed: dict[int, dict]) -> dict:
    """Spread over runs of every row's metrics and of every paired SAVeD − row difference.

    `metrics_by_seed` maps a seed to that run's metrics.json content. Returns {"seeds", "rows": {kind: {metric:
    stats}}, "paired": {kind: {metric: stats + "significant_runs"}}} with stats as in `_stats` (population of runs;
    std with n − 1).
    """
    rows: dict[str, dict[str, list]] = {}
    paired: dict[str, dict[str, list]] = {}
    for m in metrics_by_seed.values():
        for kind, vals in m.get("rows", {}).items():
            for key, v in vals.items():
                rows.setdefault(kind, {}).setdefault(key, []).append(v)
        for kind, per in m.get("paired", {}).items():
            for key, p in per.items():
                paired.setdefault(kind, {}).setdefault(key, []).append(p)
    out_rows = {k: {key: s for key, vals in per.items() if (s := _stats(vals))} for k, per in rows.items()}
    out_paired = {}
    for kind, per in paired.items():
        for key, ps in per.items():
            s = _stats([p.get("diff") for p in ps])
            if s:
                s["significant_runs"] = sum(bool(p.get("significant")) for p in ps)
                out_paired.setdefault(kind, {})[key] = s
    return {"seeds": sorted(metrics_by_seed), "rows": out_rows, "paired": out_paired}


def format_spread(summary: dict, preset: str) -> str:
    """Markdown: one table per row (metric, mean, std, min–max, per-run values) and the paired differences."""
    from downstream.report_table import COLUMNS

    def fmt(key: str, v: float | None, signed: bool = False) -> str:
        if v is None:
            return "—"
        f = COLUMNS[key][2] if key in COLUMNS else "{:.4g}"
        return (f.replace("{:", "{:+") if signed else f).format(v)

    seeds = summary["seeds"]
    lines = [f"# Demo run-to-run spread: preset `{preset}`, {len(seeds)} run(s), seeds {', '.join(map(str, seeds))}",
             ""]
    for kind, per in summary["rows"].items():
        lines += [f"## {kind}", "", "| metric | mean | std | min – max | runs |", "|---|---:|---:|---:|---|"]
        for key in [k for k in COLUMNS if k in per] + [k for k in per if k not in COLUMNS]:
            s = per[key]
            name = COLUMNS[key][0] if key in COLUMNS else key
            lines.append(f"| {name} | {fmt(key, s['mean'])} | {fmt(key, s['std'])} | {fmt(key, s['min'])} – "
                         f"{fmt(key, s['max'])} | {', '.join(fmt(key, v) for v in s['values'])} |")
        lines.append("")
    if summary["paired"]:
        lines += ["## SAVeD − row over runs", "",
                  "| row | metric | mean | std | min – max | runs significant (own bootstrap) |",
                  "|---|---|---:|---:|---:|---:|"]
        for kind, per in summary["paired"].items():
            for key in [k for k in COLUMNS if k in per]:
                s = per[key]
                lines.append(f"| {kind} | {COLUMNS[key][0]} | {fmt(key, s['mean'], True)} | {fmt(key, s['std'])} | "
                             f"{fmt(key, s['min'], True)} – {fmt(key, s['max'], True)} | "
                             f"{s['significant_runs']}/{s['n']} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    from common.atomic import write_json, write_text

    failed = []
    for seed in a.seeds:
        if a.aggregate_only:
            continue
        print(f"[seed {seed}] bash demo.sh {' '.join(PRESET_FLAGS[a.preset])} --seed {seed} "
              f"--out {os.path.join(a.out, f'seed_{seed}')}", flush=True)
        ok, seconds, log = run_demo(a.out, seed, a.preset, a.baselines)
        print(f"[seed {seed}] {'done' if ok else 'FAILED'} in {seconds:.0f} s (log: {log})", flush=True)
        if not ok:
            failed.append(seed)
    found = {}
    for seed in a.seeds:
        path = os.path.join(a.out, f"seed_{seed}", "metrics.json")
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                found[seed] = json.load(f)
    if not found:
        fail(f"no metrics.json under {a.out}/seed_<S>/ for seeds {a.seeds}")
    if len(found) < len(a.seeds):
        print(f"note: no metrics.json for seed(s) {', '.join(str(s) for s in a.seeds if s not in found)}; "
              f"summarising {len(found)} run(s)", file=sys.stderr)
    summary = aggregate(found)
    summary.update(preset=a.preset, failed_seeds=failed)
    text = format_spread(summary, a.preset)
    write_json(os.path.join(a.out, "spread.json"), summary)
    write_text(os.path.join(a.out, "spread.md"), text + "\n")
    print("\n" + text)
    print(f"wrote {os.path.join(a.out, 'spread.md')} and spread.json")
    if failed:
        print(f"error: demo.sh failed for seed(s) {', '.join(map(str, failed))}; see their demo.log", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    run_cli(main)
