"""The report builder on fixed inputs: image metrics, table, validation, files written and read back."""
from __future__ import annotations

import json

import numpy as np
import pytest

from downstream.report_figures import plot_bars
from downstream.report_quality import fit_to, image_quality
from downstream.report_table import Row, format_table, validate, write_report


def test_image_quality_reads_trees(tmp_path):
    from dataset.frames import write_frame

    clean = np.full((8, 8), 100, np.uint8)
    write_frame(str(tmp_path / "clean/d/c/0.png"), clean)
    noisy = clean.copy()
    noisy[:, :4] = 110
    write_frame(str(tmp_path / "den/d/c/0.png"), noisy)
    q = image_quality(str(tmp_path / "den"), str(tmp_path / "clean"), ["d"])
    # the gain/offset fit maps the half-10/half-0 offset onto the constant clean frame exactly
    assert q["psnr"] == pytest.approx(100.0)
    ramp = np.tile(np.arange(0, 80, 10, dtype=np.uint8), (8, 1))
    write_frame(str(tmp_path / "clean/d/c/0.png"), ramp)
    write_frame(str(tmp_path / "den/d/c/0.png"), (ramp * 2 + 7).astype(np.uint8))  # same structure, other scale
    assert image_quality(str(tmp_path / "den"), str(tmp_path / "clean"), ["d"])["psnr"] == pytest.approx(100.0)


def test_fit_to_is_least_squares():
    ref = np.array([[0, 50], [100, 150]], np.uint8)
    assert np.allclose(fit_to(ref // 2, ref), ref, atol=1)
    assert np.allclose(fit_to(np.full((2, 2), 9, np.uint8), ref), ref.mean())


def test_table_validation_and_files(tmp_path):
    rows = [Row("raw", {"map50": 0.5, "mota": -0.2, "nmae": 0.4, "psnr": 20.0}),
            Row("SAVeD", {"map50": 0.7, "mota": 0.3, "nmae": 0.1})]
    table = format_table(rows)
    assert table.splitlines()[0].startswith("| input | PSNR (dB) | mAP50 | MOTA | nMAE")
    assert "| SAVeD | — | 0.700 | 0.300 | 0.100 |" in table
    assert validate(rows) == []
    assert validate([Row("bad", {"map50": 1.5, "hota": float("nan")})]) == [
        "bad.map50 = 1.5 is outside [0.0, 1.0]", "bad.hota is not a finite number: nan"]
    assert plot_bars(rows, str(tmp_path / "bars.png"))
    write_report(str(tmp_path), rows, {"run": "t"}, {"bars": "bars.png"})
    data = json.load(open(tmp_path / "metrics.json"))
    assert data["rows"]["SAVeD"]["map50"] == 0.7 and data["run"] == "t"
    assert "![bars](bars.png)" in open(tmp_path / "report.md").read()



# ------------------------------------------------------------------------- several detector seeds per row
DOMAIN = "elwha"
# per kind and detector seed: mAP50, mAP50-95, HOTA, MOTA, IDF1, nMAE as the evaluators would write them
SEED_VALUES = {
    "raw": {0: (0.4, 0.2, 0.30, 0.10, 0.35, 0.50), 1: (0.0, 0.0, 0.10, -0.30, 0.05, 1.00),
            2: (0.5, 0.3, 0.35, 0.20, 0.40, 0.25)},
    "SAVeD": {0: (0.6, 0.4, 0.50, 0.40, 0.55, 0.20), 1: (0.7, 0.5, 0.55, 0.45, 0.60, 0.10),
              2: (0.8, 0.5, 0.60, 0.50, 0.65, 0.00)},
}
# final validation mAP50 in each detector's results.csv (None: no results.csv)
VAL_MAP50 = {"raw": {0: 0.43, 1: 0.1, 2: 0.02}, "SAVeD": {0: 0.6, 1: 0.55, 2: None}}
TIMINGS = {"train_saved": 100, "denoise_saved_kenai-train": 3, "denoise_saved_elwha": 7, "pretrain_detector": 0.4,
           "train_detector_raw_seed0": 30, "train_detector_raw_seed1": 40, "train_detector_raw_seed2": 50,
           "detect_raw_seed0_elwha": 1, "detect_raw_seed1_elwha": 2, "detect_raw_seed2_elwha": 6,
           "train_detector_SAVeD_seed0": 60, "train_detector_SAVeD_seed1": 60, "train_detector_SAVeD_seed2": 90,
           "detect_SAVeD_seed0_elwha": 2, "detect_SAVeD_seed1_elwha": 2, "detect_SAVeD_seed2_elwha": 5}


def _write_results(folder, values) -> None:
    """The evaluators' JSON files of one results folder (downstream/<key>[/seed<s>]/<domain>)."""
    map50, map50_95, hota, mota, idf1, nmae = values
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metrics_det.json").write_text(json.dumps({"all": {"mAP50": map50, "mAP50-95": map50_95}}))
    (folder / "metrics_track.json").write_text(json.dumps({"combined": {"HOTA": hota, "MOTA": mota, "IDF1": idf1}}))
    (folder / "metrics_count.json").write_text(json.dumps({"nMAE": nmae}))


def _results_csv(path, val_map50: float) -> None:
    """An ultralytics results.csv: padded column names, two epochs, the last one's validation mAP50 given."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("                  epoch,         train/box_loss,   metrics/precision(B),      metrics/mAP50(B),"
                    "   metrics/mAP50-95(B)\n"
                    "                      1,                 2.3412,                0.01,                0.004,"
                    "                0.001\n"
                    f"                      2,                 1.9,                 0.3,              {val_map50},"
                    "                 0.2\n\n")


def make_seeded_run(root, values=SEED_VALUES, val_map50=VAL_MAP50, timings=TIMINGS, cache_hit=True) -> str:
    for kind, by_seed in values.items():
        for seed, v in by_seed.items():
            _write_results(root / "downstream" / kind / f"seed{seed}" / DOMAIN, v)
            if val_map50.get(kind, {}).get(seed) is not None:
                _results_csv(root / "yolo_train" / kind / f"seed{seed}" / "results.csv", val_map50[kind][seed])
    preds = root / "downstream" / "raw" / "seed0" / DOMAIN / "clip_0" / "preds.txt"
    preds.parent.mkdir(parents=True)
    preds.write_text("1,1,10,10,5,5,0.9,-1,-1,-1\n2,1,11,10,5,5,0.0012,-1,-1,-1\n")
    (root / "timings.json").write_text(json.dumps(timings))
    (root / "detector_pretrained.pt.json").write_text(json.dumps({"seconds": 812.4, "cache_hit": cache_hit,
                                                                  "key": "0123abcd", "val_map50": 0.7}))
    return str(root)


def _report(run, *extra):
    from downstream.report import main

    assert main(["--run-dir", run, "--test-domain", DOMAIN, "--kinds", "raw", "SAVeD", "--bootstrap", "0", *extra]) == 0
    with open(f"{run}/metrics.json") as f:
        metrics = json.load(f)
    with open(f"{run}/report.md") as f:
        return metrics, f.read()


def test_rows_are_means_over_detector_seeds_with_per_seed_values_spread_and_learned(tmp_path, capsys):
    metrics, report = _report(make_seeded_run(tmp_path))
    out = capsys.readouterr().out
    raw, saved = metrics["rows"]["raw"], metrics["rows"]["SAVeD"]
    assert raw["map50"] == pytest.approx(0.3) and raw["mota"] == pytest.approx(0.0)
    assert saved["nmae"] == pytest.approx(0.1) and saved["idf1"] == pytest.approx(0.6)
    assert metrics["detector_seeds"] == [0, 1, 2]
    assert metrics["per_seed"]["raw"]["map50"] == [0.4, 0.0, 0.5]
    assert metrics["per_seed"]["SAVeD"]["hota"] == [0.5, 0.55, 0.6]
    assert set(metrics["per_seed"]["raw"]) == {"map50", "map50_95", "hota", "mota", "idf1", "nmae"}
    # sd with ddof = 1: raw mAP50 0.4, 0, 0.5 → mean 0.3, squares 0.01 + 0.09 + 0.04 = 0.14, / 2 → 0.07
    assert metrics["spread"]["raw"]["map50"] == pytest.approx({"sd": 0.07 ** 0.5, "min": 0.0, "max": 0.5})
    assert metrics["spread"]["SAVeD"]["nmae"] == pytest.approx({"sd": 0.1, "min": 0.0, "max": 0.2})
    # learned: final validation mAP50 strictly above 0.1; no results.csv → unknown
    assert metrics["learned_threshold"] == 0.1
    assert metrics["learned"] == {"raw": [True, False, False], "SAVeD": [True, True, None]}
    assert metrics["val_map50"]["raw"] == [0.43, 0.1, 0.02]
    # time: the frames' steps + the mean over seeds of the detector's; the pretraining in no row
    assert raw["train_s"] == pytest.approx(40.0) and raw["infer_s"] == pytest.approx(3.0)
    assert saved["train_s"] == pytest.approx(100 + 70.0) and saved["infer_s"] == pytest.approx(10 + 3.0)
    assert metrics["detector_pretraining"] == {"seconds": 812.4, "cache_hit": True, "key": "0123abcd",
                                               "step_seconds": 0.4}
    assert report.count("shared detector pretraining: 812 s (reused from the cache)") == 1
    assert "shared detector pretraining: 812 s (reused from the cache)" in out
    assert "raw 1/3, SAVeD 2/3 (1 unknown)" in report and "raw 1/3, SAVeD 2/3 (1 unknown)" in out
    # the per-seed table: one line per seed, then mean, sd and min–max
    assert "## Per detector seed" in report
    assert "| raw | 1 | 0.000 | 0.100 | -0.300 | 0.050 | 1.000 | 0.100 | no |" in report
    assert "| SAVeD | 2 | 0.800 | 0.600 | 0.500 | 0.650 | 0.000 | — | ? |" in report
    assert "| raw | mean | 0.300 | 0.250 | 0.000 | 0.267 | 0.583 | 0.183 | 1/3 |" in report
    assert f"| raw | sd | {0.07 ** 0.5:.3f} |" in report
    assert "| raw | min–max | 0.000 – 0.500 |" in report
    # the main table shows the means; which threshold each column uses is said once, with the run's lowest conf
    assert "| raw | 0.300 | 0.167 | 0.250 | 0.000 | 0.267 | 0.583 | 40 | 3 |" in report
    assert "confidence ≥ 0.001" in report and "lowest confidence in this run's detections is 0.0012" in report
    assert "detections below 0.1 are dropped" in report and "≥ 0.3 (ByteTrack's high band)" in report
    assert "the mean over the 3 detector seeds 0, 1, 2" in report and "validated on kenai-val" in report
    assert metrics["missing"] == ["learned of SAVeD: no yolo_train/SAVeD/seed<s>/results.csv with a metrics/mAP50(B) "
                                  "column for detector seed 2"]


def test_pretraining_trained_in_this_run_and_no_pretraining(tmp_path):
    _, report = _report(make_seeded_run(tmp_path, cache_hit=False))
    assert report.count("shared detector pretraining: 812 s (trained in this run)") == 1
    (tmp_path / "detector_pretrained.pt.json").unlink()
    (tmp_path / "timings.json").write_text(json.dumps({k: v for k, v in TIMINGS.items() if k != "pretrain_detector"}))
    metrics, report = _report(str(tmp_path))
    assert metrics["detector_pretraining"] is None and "shared detector pretraining:" not in report
    assert metrics["rows"]["raw"]["train_s"] == pytest.approx(40.0)


def test_a_row_missing_a_seed_is_noted_and_the_flags_choose_the_seeds(tmp_path, capsys):
    values = {"raw": {s: v for s, v in SEED_VALUES["raw"].items() if s != 2}, "SAVeD": SEED_VALUES["SAVeD"]}
    run = make_seeded_run(tmp_path, values)
    metrics, report = _report(run)
    assert metrics["detector_seeds"] == [0, 1, 2]
    assert metrics["rows"]["raw"]["map50"] == pytest.approx(0.2)               # the mean over its seeds 0 and 1
    assert metrics["per_seed"]["raw"]["map50"] == [0.4, 0.0] and metrics["learned"]["raw"] == [True, False]
    note = ("row raw: no results for detector seed 2 (downstream/raw/seed<s> absent); its values average seeds 0, 1, "
            "the paired differences use the seeds every row has (0, 1)")
    assert note in metrics["missing"] and f"- {note}" in report
    assert f"missing: {note}" in capsys.readouterr().out
    # --detector-seeds picks the seeds: the same set for every row, no note
    metrics, _ = _report(run, "--detector-seeds", "1", "0")
    assert metrics["detector_seeds"] == [0, 1] and metrics["rows"]["SAVeD"]["map50"] == pytest.approx(0.65)
    assert not [m for m in metrics["missing"] if m.startswith("row ")]
    assert metrics["rows"]["SAVeD"]["train_s"] == pytest.approx(160.0)         # 100 + mean(60, 60)
    metrics, _ = _report(run, "--detector-seeds", "0", "7")
    assert [m.split(":")[0] for m in metrics["missing"] if "detector seed 7" in m] == ["row raw", "row SAVeD"]
    # --learned-threshold moves the line between learned and not
    metrics, report = _report(run, "--learned-threshold", "0.5", "--val-domain", "kenai-check")
    assert metrics["learned"]["SAVeD"] == [True, True, None] and metrics["learned"]["raw"] == [False, False]
    assert metrics["learned_threshold"] == 0.5 and "mAP50 on kenai-check > 0.5" in report


def test_a_missing_seed_step_leaves_the_time_empty_and_is_named(tmp_path):
    timings = {k: v for k, v in TIMINGS.items() if k != "detect_SAVeD_seed1_elwha"}
    metrics, report = _report(make_seeded_run(tmp_path, timings=timings))
    assert "infer_s" not in metrics["rows"]["SAVeD"] and metrics["rows"]["SAVeD"]["train_s"] == pytest.approx(170.0)
    assert ("inference (s) of SAVeD: no time for step detect_SAVeD_seed1_* in timings.json (not run yet, or renamed "
            "in demo.sh)") in report


def test_the_layout_without_seeds_is_one_detector_per_row(tmp_path):
    for kind, v in (("raw", SEED_VALUES["raw"][0]), ("SAVeD", SEED_VALUES["SAVeD"][1])):
        _write_results(tmp_path / "downstream" / kind / DOMAIN, v)
    _results_csv(tmp_path / "yolo_train" / "raw" / "results.csv", 0.05)
    (tmp_path / "timings.json").write_text(json.dumps({"train_detector_raw": 40, "detect_raw_elwha": 1,
                                                       "detect_raw_kenai-val": 2}))
    metrics, report = _report(str(tmp_path))
    assert metrics["rows"]["raw"]["map50"] == 0.4 and metrics["rows"]["SAVeD"]["hota"] == 0.55
    assert metrics["rows"]["raw"]["train_s"] == 40.0 and metrics["rows"]["raw"]["infer_s"] == 3.0
    assert metrics["detector_seeds"] is None and metrics["per_seed"]["raw"]["map50"] == [0.4]
    assert metrics["spread"]["raw"]["map50"] == {"sd": None, "min": 0.4, "max": 0.4}
    assert metrics["learned"] == {"raw": [False], "SAVeD": [None]}
    assert "## Per detector seed" not in report and "one YOLO detector trained per input kind" in report
    assert "raw no (0.050), SAVeD ?" in report


def test_final_validation_map50_of_a_results_csv(tmp_path):
    from downstream.report import final_val_map50

    path = tmp_path / "results.csv"
    _results_csv(path, 0.4312)
    assert final_val_map50(str(path)) == pytest.approx(0.4312)
    path.write_text("epoch,metrics/mAP50(B)\n1,0.2\n2,nan\n")
    assert final_val_map50(str(path)) is None
    path.write_text("epoch,metrics/mAP50-95(B)\n1,0.2\n")
    assert final_val_map50(str(path)) is None
    path.write_text("epoch, metrics/mAP50(B)\n")
    assert final_val_map50(str(path)) is None and final_val_map50(str(tmp_path / "absent.csv")) is None


@pytest.mark.parametrize("flags, message", [
    (["--detector-seeds", "0", "-1"], "error: --detector-seeds must be non-negative integers, got 0 -1"),
    (["--learned-threshold", "1.5"], "error: --learned-threshold must be in [0, 1), got 1.5")])
def test_bad_seed_flags_are_one_line_errors(tmp_path, run, flags, message):
    r = run("-m", "downstream.report", "--run-dir", str(tmp_path), *flags)
    assert r.returncode == 2 and r.stderr.strip() == message


def test_every_report_flag_has_help(run):
    r = run("-m", "downstream.report", "--help")
    assert r.returncode == 0
    for flag in ("--detector-seeds", "--learned-threshold", "--val-domain", "--bootstrap"):
        assert flag in r.stdout
