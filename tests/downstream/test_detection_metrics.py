"""downstream/detection_metrics.py: IoU, matching, best-F1 P/R and torchmetrics mAP on hand-computed cases,
and the file-level evaluation (every frame, per-clip CSV) on the synthetic benchmark."""
from __future__ import annotations

import math
import os
import shutil

import numpy as np
import pytest

from downstream import detection_metrics as dm

BOX = np.array([[0.0, 0.0, 10.0, 10.0]])
# 101-point interpolated AP of a ranking TP, FP with 2 GT boxes: precision 1 up to recall 0.5 → 51 of 101 points.
AP_HALF = 51 / 101


def _frame(gt, pred=(), scores=()) -> dm.FrameDets:
    return dm.FrameDets(np.asarray(gt, float).reshape(-1, 4), np.asarray(pred, float).reshape(-1, 4),
                        np.asarray(scores, float))


def test_match_frame_is_greedy_by_score_and_one_to_one():
    f = _frame([[0, 0, 10, 10]], [[0, 0, 10, 10], [1, 0, 11, 10]], [0.2, 0.9])
    assert dm.match_frame(f).tolist() == [False, True]  # the higher score takes the only GT box


def test_best_f1_hand_computed():
    # ranking TP(0.9), FP(0.8), TP(0.7) against 3 GT: F1 = 0.5, 0.4, 2/3 → threshold 0.7, P = R = 2/3
    frames = [_frame([[0, 0, 10, 10], [50, 50, 60, 60]], [[0, 0, 10, 10], [30, 30, 40, 40]], [0.9, 0.8]),
              _frame([[0, 0, 10, 10]], [[0, 0, 10, 10]], [0.7])]
    r = dm.best_f1(frames)
    assert r["conf"] == 0.7 and (r["tp"], r["fp"], r["fn"]) == (2, 1, 1)
    assert r["precision"] == pytest.approx(2 / 3) and r["recall"] == pytest.approx(2 / 3)
    assert dm.best_f1([_frame(BOX)])["conf"] is None


def test_map_is_one_for_ground_truth_as_predictions_including_empty_frames():
    frames = [_frame(BOX, BOX, [1.0]), _frame([]), _frame([[20, 20, 40, 30]], [[20, 20, 40, 30]], [1.0])]
    m = dm.mean_average_precision(frames)
    assert m["mAP50"] == pytest.approx(1.0) and m["mAP50-95"] == pytest.approx(1.0)


def test_map_of_shifted_boxes_hand_computed():
    # frame 1 exact (score 0.9); frame 2 shifted 2 px on a 10 px box: IoU 80/120 = 0.667 → a hit at IoU
    # thresholds 0.50..0.65 (4 of 10, AP 1) and a miss + false positive above (AP 51/101).
    frames = [_frame(BOX, BOX, [0.9]), _frame(BOX, [[2, 0, 12, 10]], [0.8])]
    m = dm.mean_average_precision(frames)
    assert m["mAP50"] == pytest.approx(1.0)
    assert m["mAP50-95"] == pytest.approx((4 * 1.0 + 6 * AP_HALF) / 10, abs=1e-4)
    # shifted 5 px: IoU 1/3 < 0.5 → TP then FP with 2 GT at every threshold
    m = dm.mean_average_precision([_frame(BOX, BOX, [0.9]), _frame(BOX, [[5, 0, 15, 10]], [0.8])])
    assert m["mAP50"] == pytest.approx(AP_HALF, abs=1e-4)


def test_all_frames_rule_counts_false_positives_the_paper_rule_ignores():
    # frame A: GT + exact prediction (0.5); frame B: no fish, a prediction (0.9) → ranking FP, TP: AP = 0.5
    frames = [_frame(BOX, BOX, [0.5]), _frame([], [[30, 30, 40, 40]], [0.9]), _frame([[50, 5, 60, 15]])]
    s = dm.detection_summary(frames, paper_compat=True)
    # all frames: 2 GT, ranking FP(0.9), TP(0.5): precision 1/2 up to recall 1/2 → 51/101 · 0.5
    assert s["mAP50"] == pytest.approx(0.5 * AP_HALF, abs=1e-4)
    assert s["paper_compat_frames"] == 1 and s["paper_compat_mAP50"] == pytest.approx(1.0)
    assert (s["frames"], s["frames_with_gt"], s["gt_boxes"], s["predictions"]) == (3, 2, 2, 2)


def test_map_is_nan_without_any_ground_truth():
    assert math.isnan(dm.mean_average_precision([_frame([], BOX, [0.5])])["mAP50"])


def test_evaluate_domain_gt_as_predictions_writes_csv(synthetic_cfc22, tmp_path):
    gt_dir = os.path.join(synthetic_cfc22, "annotations_mot")
    frames_dir = os.path.join(synthetic_cfc22, "frames", "raw")
    for clip in os.listdir(os.path.join(gt_dir, "kenai-val")):
        os.makedirs(tmp_path / "kenai-val" / clip)
        shutil.copy(os.path.join(gt_dir, "kenai-val", clip, "gt.txt"), tmp_path / "kenai-val" / clip / "preds.txt")

    res = dm.evaluate_domain(gt_dir, frames_dir, str(tmp_path), "kenai-val", paper_compat=True)

    assert res["all"]["mAP50"] == pytest.approx(1.0) and res["all"]["paper_compat_mAP50"] == pytest.approx(1.0)
    assert res["all"]["frames"] == 48 and res["all"]["precision"] == 1.0 and res["all"]["recall"] == 1.0
    lines = open(tmp_path / "kenai-val" / "metrics_det.csv").read().splitlines()
    assert lines[0].startswith("clip,frames,frames_with_gt,gt_boxes,predictions,mAP50")
    assert [ln.split(",")[0] for ln in lines[1:]] == ["clip000", "clip001", "ALL"]
    assert "mAP50: 1.000" in dm.format_report("kenai-val", res["all"]).splitlines()


def test_draw_frame_colours_gt_green_and_confident_predictions_red():
    img = np.zeros((20, 20), np.uint8)
    out = dm.draw_frame(img, _frame([[2, 2, 8, 8]], [[10, 10, 18, 18], [0, 12, 5, 18]], [0.9, 0.1]), min_conf=0.5)
    assert out.shape == (20, 20, 3)
    assert out[2, 2].tolist() == [0, 255, 0] and out[10, 10].tolist() == [0, 0, 255]
    assert out[12, 0].tolist() == [0, 0, 0]  # below min_conf: not drawn


def test_worst_clips_orders_by_map_with_undefined_last():
    per = {"a": {"mAP50": 0.9}, "b": {"mAP50": math.nan}, "c": {"mAP50": 0.1}}
    assert dm.worst_clips(per, 3) == ["c", "a", "b"]
