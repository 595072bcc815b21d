"""The report's time columns: wall-clock seconds of the demo's steps, summed per input kind (docs/report.md).

demo.sh writes `<run>/timings.json`, a JSON object {step name: seconds} rewritten atomically after each step, and
keeps a `.done/<step>` stamp holding the same seconds. Runs made before timings.json existed have only the
stamps, so both are read and the JSON wins. A kind's train and inference times add up the steps named in
`expected_steps`; when one of them has no time (a step renamed in demo.sh, or not run yet) the column is left
empty and the report names the step, instead of printing a sum that silently lacks it.
"""
from __future__ import annotations

import json
import math
import os

from common.cli import fail
from downstream.report_table import COLUMNS, kind_key

TIMINGS_JSON = "timings.json"
STAMPS_DIR = ".done"

# Step-name prefixes of demo.sh (a trailing `_` is followed by a domain name: one step per domain, all summed).
DENOISER_TRAINING = {"SAVeD": "train_saved", "UDVD": "train_udvd", "N2V": "train_n2v"}
FRAME_MAKING = {"SAVeD": "denoise_saved_", "Baseline++": "baseline_pp", "median": "filter_median",
                "mean": "filter_mean", "gaussian": "filter_gaussian", "UDVD": "denoise_udvd", "N2V": "denoise_n2v"}


def expected_steps(kind: str) -> dict[str, list[str]]:
    """{time column: step-name prefixes whose seconds it sums} for one input kind: making its frames (denoiser
    training / inference or filtering) plus its own detector's training / detection."""
    key = kind_key(kind)
    train = [DENOISER_TRAINING[kind]] if kind in DENOISER_TRAINING else []
    infer = [FRAME_MAKING[kind]] if kind in FRAME_MAKING else []
    return {"train_s": train + [f"train_detector_{key}"], "infer_s": infer + [f"detect_{key}_"]}


def _stamps(run_dir: str) -> dict[str, float]:
    """Seconds in the `.done/<step>` stamps (an unreadable or non-numeric stamp is skipped)."""
    done = os.path.join(run_dir, STAMPS_DIR)
    out: dict[str, float] = {}
    if not os.path.isdir(done):
        return out
    for name in os.listdir(done):
        try:
            with open(os.path.join(done, name), encoding="utf-8") as f:
                out[name] = float(f.read().strip() or 0)
        except (OSError, ValueError):
            continue
    return out


def read_timings(run_dir: str) -> dict[str, float] | None:
    """{step: seconds} of a run from timings.json over the `.done/` stamps; None when the run has neither.

    A timings.json that is not a JSON object of non-negative numbers is a one-line error naming the file."""
    path = os.path.join(run_dir, TIMINGS_JSON)
    stamps = _stamps(run_dir)
    if not os.path.isfile(path):
        return stamps if os.path.isdir(os.path.join(run_dir, STAMPS_DIR)) else None
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, json.JSONDecodeError) as exc:
        fail(f"cannot read {path}: {exc}")
    if not isinstance(data, dict):
        fail(f"{path}: expected a JSON object {{step name: seconds}}, got {type(data).__name__}")
    for step, seconds in data.items():
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds) \
                or seconds < 0:
            fail(f"{path}: step {step!r} has {seconds!r}, not a number of seconds")
    return {**stamps, **{step: float(seconds) for step, seconds in data.items()}}


def step_seconds(timings: dict[str, float], prefix: str) -> float | None:
    """Sum of the seconds of the steps whose name starts with `prefix`; None when there is none."""
    values = [s for name, s in timings.items() if name.startswith(prefix)]
    return float(sum(values)) if values else None


def kind_times(timings: dict[str, float] | None, kind: str) -> tuple[dict[str, float], list[str]]:
    """({column: seconds} of the complete time columns of `kind`, notes naming the steps that have no time)."""
    if timings is None:
        return {}, [f"{COLUMNS['train_s'][0]}, {COLUMNS['infer_s'][0]}: the run has no {TIMINGS_JSON} and no "
                    f"{STAMPS_DIR}/ step stamps"]
    times, notes = {}, []
    for column, prefixes in expected_steps(kind).items():
        parts = {p: step_seconds(timings, p) for p in prefixes}
        absent = [p for p, v in parts.items() if v is None]
        if absent:
            notes.append(f"{COLUMNS[column][0]} of {kind}: no time for step {', '.join(p + '*' for p in absent)} "
                         f"in {TIMINGS_JSON} (not run yet, or renamed in demo.sh)")
        else:
            times[column] = float(sum(parts.values()))
    return times, notes
