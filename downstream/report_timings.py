"""The report's time columns: wall-clock seconds of the demo's steps per input kind (docs/report.md).

demo.sh writes `<run>/timings.json`, a JSON object {step name: seconds} rewritten atomically after each step, and
keeps a `.done/<step>` stamp holding the same seconds. Runs made before timings.json existed have only the
stamps, so both are read and the JSON wins. A kind's train and inference times add up the steps named in
`expected_steps`; when one of them has no time (a step renamed in demo.sh, or not run yet) the column is left
empty and the report names the step, instead of printing a sum that silently lacks it.

With several detector seeds per row (steps `train_detector_<key>_seed<s>` and `detect_<key>_seed<s>_<domain>`) a
column is the row's frame-making steps plus the MEAN over the seeds of the seed's detector steps: the time one
detector costs, comparable with a run of a single seed. The shared pretrained detector every row fine-tunes from
(step `pretrain_detector`, record `detector_pretrained.pt.json`) belongs to no row; `pretraining` reads it once.
"""
from __future__ import annotations

import json
import math
import os

from common.cli import fail
from downstream.report_table import COLUMNS, kind_key

TIMINGS_JSON = "timings.json"
STAMPS_DIR = ".done"
PRETRAIN_STEP = "pretrain_detector"
PRETRAIN_RECORD = "detector_pretrained.pt.json"

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


def seed_steps(kind: str, seed: int) -> dict[str, str]:
    """{time column: step name or prefix} of one detector seed of `kind`: its training step (an exact name, so
    that seed1 does not also take seed10's time) and its detection steps (a prefix, one step per domain)."""
    key = kind_key(kind)
    return {"train_s": f"train_detector_{key}_seed{seed}", "infer_s": f"detect_{key}_seed{seed}_"}


def _missing(column: str, kind: str, steps: list[str]) -> str:
    return (f"{COLUMNS[column][0]} of {kind}: no time for step {', '.join(steps)} in {TIMINGS_JSON} "
            f"(not run yet, or renamed in demo.sh)")


def kind_times(timings: dict[str, float] | None, kind: str,
               seeds: list[int] | None = None) -> tuple[dict[str, float], list[str]]:
    """({column: seconds} of the complete time columns of `kind`, notes naming the steps that have no time).

    `seeds` None: a run without the detector-seed level (one detector per row, steps `train_detector_<key>` and
    `detect_<key>_<domain>`). Otherwise each column is the frame-making steps plus the mean over `seeds` of
    that seed's detector steps (`seed_steps`)."""
    if timings is None:
        return {}, [f"{COLUMNS['train_s'][0]}, {COLUMNS['infer_s'][0]}: the run has no {TIMINGS_JSON} and no "
                    f"{STAMPS_DIR}/ step stamps"]
    times, notes = {}, []
    for column, prefixes in expected_steps(kind).items():
        if seeds is None:
            parts = {p + "*": step_seconds(timings, p) for p in prefixes}
            detector: dict[str, float | None] = {}
        elif not seeds:
            notes.append(f"{COLUMNS[column][0]} of {kind}: no detector seed of this row to time")
            continue
        else:   # the frame-making steps, then each seed's detector step (prefixes[-1] is the single-detector one)
            parts = {p + "*": step_seconds(timings, p) for p in prefixes[:-1]}
            names = [seed_steps(kind, s)[column] for s in seeds]
            detector = ({n: timings.get(n) for n in names} if column == "train_s"
                        else {n + "*": step_seconds(timings, n) for n in names})
        absent = [p for p, v in {**parts, **detector}.items() if v is None]
        if absent:
            notes.append(_missing(column, kind, absent))
            continue
        seconds = float(sum(parts.values()))
        if detector:
            seconds += sum(detector.values()) / len(detector)
        times[column] = seconds
    return times, notes


def pretraining(run_dir: str, timings: dict[str, float] | None = None) -> dict | None:
    """The shared pretrained detector's record: {"seconds", "cache_hit", "key"} from `detector_pretrained.pt.json`
    (the pretraining's own training seconds, also when this run reused it from the cache), plus "step_seconds",
    what the `pretrain_detector` step took in this run, when timed. A run with the step but without the record
    gives the step's seconds with "cache_hit" None; None when the run has neither (detectors from scratch)."""
    path = os.path.join(run_dir, PRETRAIN_RECORD)
    step = (timings or {}).get(PRETRAIN_STEP)
    record: dict = {}
    if os.path.isfile(path):
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, json.JSONDecodeError) as exc:
            fail(f"cannot read {path}: {exc}")
        if not isinstance(data, dict) or isinstance(data.get("seconds"), bool) \
                or not isinstance(data.get("seconds"), (int, float)):
            fail(f"{path}: expected a JSON object with a number \"seconds\"")
        record = {"seconds": float(data["seconds"]), "cache_hit": bool(data.get("cache_hit")), "key": data.get("key")}
    elif step is not None:
        record = {"seconds": float(step), "cache_hit": None, "key": None}
    if not record:
        return None
    if step is not None:
        record["step_seconds"] = float(step)
    return record
