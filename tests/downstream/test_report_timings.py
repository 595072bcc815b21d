"""The report's time columns (downstream/report_timings.py) from a tiny timings.json and `.done/` stamps."""
from __future__ import annotations

import json

import pytest

from common.cli import UserError
from downstream.report_timings import expected_steps, kind_times, read_timings

# the steps demo.sh runs for the SAVeD row with two evaluation domains
SAVED_STEPS = {"train_saved": 100, "denoise_saved_kenai-train": 3, "denoise_saved_elwha": 4,
               "train_detector_SAVeD": 50, "detect_SAVeD_kenai-val": 2, "detect_SAVeD_elwha": 1.5}


def _run(tmp_path, timings=None, stamps=None):
    if timings is not None:
        (tmp_path / "timings.json").write_text(json.dumps(timings))
    for name, seconds in (stamps or {}).items():
        (tmp_path / ".done").mkdir(exist_ok=True)
        (tmp_path / ".done" / name).write_text(f"{seconds}\n")
    return str(tmp_path)


def test_times_are_sums_of_the_kinds_steps(tmp_path):
    timings = read_timings(_run(tmp_path, {**SAVED_STEPS, "train_detector_raw": 40, "detect_raw_elwha": 1}))
    assert kind_times(timings, "SAVeD") == ({"train_s": 150.0, "infer_s": 10.5}, [])
    assert kind_times(timings, "raw") == ({"train_s": 40.0, "infer_s": 1.0}, [])
    assert expected_steps("Baseline++") == {"train_s": ["train_detector_Baselinepp"],
                                            "infer_s": ["baseline_pp", "detect_Baselinepp_"]}


def test_a_missing_step_is_named_instead_of_counted_as_zero(tmp_path):
    renamed = {("saved_training" if k == "train_saved" else k): v for k, v in SAVED_STEPS.items()}
    times, notes = kind_times(read_timings(_run(tmp_path, renamed)), "SAVeD")
    assert times == {"infer_s": 10.5}
    assert notes == ["train (s) of SAVeD: no time for step train_saved* in timings.json "
                     "(not run yet, or renamed in demo.sh)"]


def test_old_runs_fall_back_to_the_stamps_and_the_json_wins(tmp_path):
    run = _run(tmp_path, stamps={"train_detector_raw": 40, "detect_raw_elwha": 2})
    assert read_timings(run) == {"train_detector_raw": 40.0, "detect_raw_elwha": 2.0}
    (tmp_path / "timings.json").write_text(json.dumps({"detect_raw_elwha": 3}))
    assert kind_times(read_timings(run), "raw")[0] == {"train_s": 40.0, "infer_s": 3.0}


def test_no_timing_at_all_leaves_the_columns_out_with_one_note(tmp_path):
    times, notes = kind_times(read_timings(str(tmp_path)), "raw")
    assert times == {} and len(notes) == 1 and "no timings.json" in notes[0]


@pytest.mark.parametrize("content", ["[1, 2]", '{"train_saved": "ten"}', '{"train_saved": -1}', "{oops"])
def test_a_bad_timings_file_is_a_one_line_error(tmp_path, content):
    (tmp_path / "timings.json").write_text(content)
    with pytest.raises(UserError, match="timings.json"):
        read_timings(str(tmp_path))


def test_missing_notes_name_each_step_once():
    from downstream.report import missing_notes
    from downstream.report_table import Row

    train, infer = "train (s) of raw: no time for step X", "inference (s) of raw: no time for step Y"
    rows = [Row("raw", {"map50": 0.5}, notes=[train]), Row("SAVeD", {"map50": 0.6}, notes=[train, infer])]
    assert missing_notes(rows, {}) == [train, infer]


# ------------------------------------------------------------------------------------ several detector seeds
SEEDED = {"train_saved": 100, "denoise_saved_elwha": 4, "train_detector_SAVeD_seed0": 40,
          "train_detector_SAVeD_seed1": 60, "train_detector_SAVeD_seed10": 1000, "detect_SAVeD_seed0_elwha": 2,
          "detect_SAVeD_seed0_kenai-val": 1, "detect_SAVeD_seed1_elwha": 3, "detect_SAVeD_seed10_elwha": 500,
          "pretrain_detector": 900}


def test_seeded_times_are_the_frames_plus_the_mean_over_seeds_of_the_detector(tmp_path):
    from downstream.report_timings import seed_steps

    timings = read_timings(_run(tmp_path, SEEDED))
    # train: 100 + mean(40, 60); inference: 4 + mean(2 + 1, 3). seed10's steps are not seed1's; the shared
    # pretraining is in neither column.
    assert kind_times(timings, "SAVeD", [0, 1]) == ({"train_s": 150.0, "infer_s": 7.0}, [])
    assert kind_times(timings, "SAVeD", [0, 1, 10])[0] == {"train_s": 100 + 1100 / 3, "infer_s": 4 + 506 / 3}
    assert seed_steps("Baseline++", 2) == {"train_s": "train_detector_Baselinepp_seed2",
                                           "infer_s": "detect_Baselinepp_seed2_"}


def test_a_seed_without_its_step_is_named(tmp_path):
    timings = read_timings(_run(tmp_path, SEEDED))
    times, notes = kind_times(timings, "SAVeD", [0, 1, 2])
    assert times == {}
    assert notes == ["train (s) of SAVeD: no time for step train_detector_SAVeD_seed2 in timings.json "
                     "(not run yet, or renamed in demo.sh)",
                     "inference (s) of SAVeD: no time for step detect_SAVeD_seed2_* in timings.json "
                     "(not run yet, or renamed in demo.sh)"]
    assert kind_times(timings, "SAVeD", [])[1] == ["train (s) of SAVeD: no detector seed of this row to time",
                                                   "inference (s) of SAVeD: no detector seed of this row to time"]


def test_the_shared_pretraining_record(tmp_path):
    from downstream.report_timings import pretraining

    run = _run(tmp_path, SEEDED)
    assert pretraining(run, read_timings(run)) == {"seconds": 900.0, "cache_hit": None, "key": None,
                                                   "step_seconds": 900.0}       # step timed, no record
    (tmp_path / "detector_pretrained.pt.json").write_text(json.dumps({"seconds": 812, "cache_hit": True,
                                                                      "key": "k", "spec": {}}))
    assert pretraining(run, {"pretrain_detector": 0.3}) == {"seconds": 812.0, "cache_hit": True, "key": "k",
                                                            "step_seconds": 0.3}
    assert pretraining(run) == {"seconds": 812.0, "cache_hit": True, "key": "k"}
    (tmp_path / "detector_pretrained.pt.json").write_text('{"cache_hit": true}')
    with pytest.raises(UserError, match="detector_pretrained.pt.json"):
        pretraining(run)
    (tmp_path / "detector_pretrained.pt.json").unlink()
    assert pretraining(run, {"train_saved": 1.0}) is None
