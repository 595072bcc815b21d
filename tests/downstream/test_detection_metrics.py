"""downstream/detection_metrics.py: IoU, matching, best-F1 P/R and mAP on hand-computed cases, the same mAP as
torchmetrics' MeanAveragePrecision (bit for bit, IoU threshold edge cases included) on random frames, and the
file-level evaluation (every frame, per-clip CSV) on the synthetic benchmark."""
from __future__ import annotations

import math
import os
import shutil

import numpy as np
import pytest

from common.boxes import box_iou
from downstream import detection_metrics as dm

BOX = np.array([[0.0, 0.0, 10.0, 10.0]])
# 101-point interpolated AP of a ranking TP, FP with 2 GT boxes: precision 1 up to recall 0.5 → 51 of 101 points.
AP_HALF = 51 / 101


def _frame(gt, pred=(), scores=()) -> dm.FrameDets:
    return dm.FrameDets(np.asarray(gt, float).reshape(-1, 4), np.asarray(pred, float).reshape(-1, 4),
                        np.asarray(scores, float))


def torchmetrics_map(frames: list[dm.FrameDets], extended: bool = False) -> dict:
    """The reference: torchmetrics' MeanAveragePrecision fed frame by frame, as eval_detector_tm.py once did."""
    import torch
    from torchmetrics.detection import MeanAveragePrecision

    metric = MeanAveragePrecision(box_format="xyxy", iou_type="bbox", extended_summary=extended)
    metric.warn_on_many_detections = False
    metric.update([{"boxes": torch.as_tensor(np.asarray(f.pred, dtype=np.float32).reshape(-1, 4)),
                    "scores": torch.as_tensor(np.asarray(f.scores, dtype=np.float32).reshape(-1)),
                    "labels": torch.zeros(len(f.pred), dtype=torch.long)} for f in frames],
                  [{"boxes": torch.as_tensor(np.asarray(f.gt, dtype=np.float32).reshape(-1, 4)),
                    "labels": torch.zeros(len(f.gt), dtype=torch.long)} for f in frames])
    res = metric.compute()
    out = {"mAP50": float(res["map_50"]), "mAP50-95": float(res["map"]), "mAR100": float(res["mar_100"])}
    if extended:
        out["precision"] = res["precision"][:, :, 0, 0, -1].numpy()            # T×R, all areas, 100 detections
    return out


def random_frames(rng, n_frames: int, decimals: int | None = 4, crowded: float = 0.0) -> list[dm.FrameDets]:
    """Frames as the pipeline sees them: integer GT boxes, predictions with the 2 decimals of preds.txt (GT boxes
    jittered, duplicates, boxes far from any fish); some frames empty, some without GT, some without predictions;
    with probability `crowded` a frame also gets 100-160 low-scored boxes, as at confidence 0.001. Scores are
    rounded to `decimals` (4 as in preds.txt, 1 for many ties, None for none)."""
    frames = []
    for _ in range(n_frames):
        kind = rng.integers(0, 8)                  # 0: empty, 1: GT only, 2: predictions only, else both
        n = 0 if kind in (0, 2) else int(rng.integers(1, 5))
        xy = rng.integers(0, 80, (n, 2)).astype(float)
        gt = np.hstack([xy, xy + rng.integers(4, 20, (n, 2))])
        pred = np.zeros((0, 4))
        if kind != 1:
            hits = gt[rng.uniform(size=n) < 0.8]
            dup = hits[rng.uniform(size=len(hits)) < 0.3]
            far_xy = rng.uniform(0, 90, (int(rng.integers(0, 4)), 2))
            pred = np.vstack([hits + rng.normal(0, 1.5, hits.shape), dup + rng.normal(0, 3, dup.shape),
                              np.hstack([far_xy, far_xy + rng.uniform(3, 15, far_xy.shape)])])
        scores = rng.uniform(0.05, 1, len(pred))
        if rng.uniform() < crowded:
            extra = rng.uniform(0, 90, (int(rng.integers(100, 160)), 2))
            pred = np.vstack([pred, np.hstack([extra, extra + rng.uniform(3, 15, extra.shape)])])
            scores = np.r_[scores, rng.uniform(0.001, 0.2, len(extra))]
        pred = np.round(pred, 2)
        pred[:, 2:] = np.maximum(pred[:, 2:], pred[:, :2] + 0.5)
        frames.append(dm.FrameDets(gt, pred, scores if decimals is None else np.round(scores, decimals)))
    return frames


def test_match_table_is_greedy_by_score_and_one_to_one():
    f = _frame([[0, 0, 10, 10]], [[0, 0, 10, 10], [1, 0, 11, 10]], [0.2, 0.9])
    t = dm.match_table([f], np.array([0.5]))
    assert t.scores.tolist() == [0.9, 0.2] and t.tp.tolist() == [[True, False]]  # the higher score takes it
    assert t.rank.tolist() == [0, 1] and t.n_gt == 1


def test_iou_on_a_threshold_falls_where_torchmetrics_puts_it():
    # Integer boxes, IoU exactly 0.6: exact in double, below torchmetrics' float32-derived threshold 0.6000000238
    # (a float32 IoU would equal it and match): a hit at 0.50 and 0.55 only.
    iou, _, _ = dm.coco_thresholds()
    gt, pred = [[0, 0, 10, 10]], [[0, 0, 10, 6]]
    assert dm.coco_iou(np.array(pred, float), np.array(gt, float))[0, 0] == 0.6 < iou[2]
    frames = [_frame(gt, pred, [0.9])]
    assert dm.match_table(frames, iou).tp[:, 0].tolist() == [True] * 2 + [False] * 8
    assert dm.mean_average_precision(frames) == torchmetrics_map(frames)
    # 2-decimal corners (preds.txt): IoU 0.5 and 0.6 in decimals. From the float64 corners the first pair sits on
    # 0.5 (a hit) and the second just under 0.6000000238 (a miss); through torchmetrics' float32 boxes it is
    # the other way round, and so it is here.
    for gt, pred, expected in (([[2.03, 10, 62.03, 30]], [[2.03, 10, 32.03, 30]], [False] * 10),
                               ([[4.06, 10, 64.06, 30]], [[4.06, 10, 40.06, 30]], [True] * 3 + [False] * 7)):
        float64_iou = box_iou(np.array(pred), np.array(gt))[0, 0]
        assert (float64_iou >= iou).tolist() != expected                       # the old rule disagreed
        frames = [_frame(gt, pred, [0.9])]
        assert dm.match_table(frames, iou).tp[:, 0].tolist() == expected
        assert dm.mean_average_precision(frames) == torchmetrics_map(frames)
    assert dm.best_f1([_frame([[2.03, 10, 62.03, 30]], [[2.03, 10, 32.03, 30]], [0.9])])["f1"] == 0.0


def test_coco_iou_is_pycocotools_on_the_boxes_torchmetrics_hands_it():
    import torch
    from pycocotools import mask
    from torchvision.ops import box_convert

    rng = np.random.default_rng(4)
    a = np.round(rng.uniform(0, 300, (60, 2)), 2)
    b = np.round(rng.uniform(0, 300, (40, 2)), 2)
    a = np.hstack([a, a + np.round(rng.uniform(1, 60, a.shape), 2)])
    b = np.hstack([b, b + np.round(rng.uniform(1, 60, b.shape), 2)])
    b[:10] = a[:10] + np.round(rng.normal(0, 1, (10, 4)), 2)                # overlapping pairs
    xywh = [box_convert(torch.as_tensor(x.astype(np.float32)), "xyxy", "xywh").tolist() for x in (a, b)]
    ref = np.asarray(mask.iou(xywh[0], xywh[1], [0] * len(b)))
    got = dm.coco_iou(a, b)
    assert (ref > 0).sum() > 10 and np.array_equal(got, ref)


def test_matching_breaks_a_tie_between_gt_boxes_as_cocoeval():
    # The first prediction overlaps both GT boxes equally (IoU 90/110): COCOeval gives it the LAST of them,
    # leaving the first GT box (IoU 80/120 with the second prediction) for the second prediction up to IoU
    # 0.65, and the second GT box out of its reach until the first prediction drops out above IoU 0.80.
    frames = [_frame([[0, 0, 10, 10], [2, 0, 12, 10]], [[1, 0, 11, 10], [2, 0, 12, 10]], [0.9, 0.8])]
    t = dm.match_table(frames, dm.coco_thresholds()[0])
    assert t.tp[:, 0].tolist() == [True] * 7 + [False] * 3
    assert t.tp[:, 1].tolist() == [True] * 4 + [False] * 3 + [True] * 3
    assert dm.mean_average_precision(frames) == torchmetrics_map(frames)


def test_scores_equal_in_float32_tie_as_in_torchmetrics():
    # 0.3 and 0.3 + 1e-9 are one float32 score: torchmetrics ranks the first frame's false positive before the
    # second frame's hit (input order), so precision is 1/2 at the only recall point reached (AP 0.5, not 1).
    frames = [_frame([], [[50, 50, 60, 60]], [0.3]), _frame(BOX, BOX, [0.3 + 1e-9])]
    assert dm.mean_average_precision(frames)["mAP50"] == torchmetrics_map(frames)["mAP50"] == 0.5


@pytest.mark.parametrize("decimals", [4, 1])
def test_map_equals_torchmetrics_bit_for_bit_on_random_frames(decimals):
    rng = np.random.default_rng(decimals)
    frames = random_frames(rng, 400, decimals, crowded=0.03)
    assert any(len(f.pred) > 100 for f in frames)                   # torchmetrics keeps a frame's top 100
    assert any(not len(f.gt) and len(f.pred) for f in frames) and any(not len(f.gt) and not len(f.pred)
                                                                       for f in frames)
    ref = torchmetrics_map(frames, extended=True)
    assert dm.mean_average_precision(frames) == {k: ref[k] for k in ("mAP50", "mAP50-95", "mAR100")}
    iou, rec, max_dets = dm.coco_thresholds()
    precision = dm.interpolated_precision([dm.match_table(frames, iou, max_dets)], np.ones((1, 1)), rec)[0]
    assert np.array_equal(precision, ref["precision"])            # every threshold and recall point
    # uncapped per-clip tables, as evaluate_domain makes them, pool into the same figures and the same best F1
    tables = [dm.match_table(frames[i:i + 100], iou, None) for i in range(0, 400, 100)]
    assert dm.coco_map(tables) == dm.mean_average_precision(frames)
    assert dm.best_f1_of_tables(tables) == dm.best_f1(frames)


def test_map_equals_torchmetrics_without_predictions_and_with_one_frame():
    assert dm.mean_average_precision([_frame(BOX), _frame([])]) == torchmetrics_map([_frame(BOX), _frame([])])
    assert dm.mean_average_precision([_frame(BOX), _frame([])])["mAP50"] == 0.0
    f = [_frame([[0, 0, 10, 10], [30, 30, 40, 40]], [[0, 0, 10, 10], [1, 1, 9, 11], [30, 30, 40, 41]],
                [0.5, 0.5, 0.4])]
    assert dm.mean_average_precision(f) == torchmetrics_map(f)


def test_coco_thresholds_are_torchmetrics_own():
    from torchmetrics.detection import MeanAveragePrecision

    m = MeanAveragePrecision(box_format="xyxy", iou_type="bbox")
    iou, rec, max_dets = dm.coco_thresholds()
    assert iou.tolist() == m.iou_thresholds and rec.tolist() == m.rec_thresholds   # bit for bit
    assert max_dets == max(m.max_detection_thresholds) == 100


def test_match_table_keeps_the_top_100_predictions_of_a_frame_and_top_equals_the_cap():
    gt = np.array([[0.0, 0, 10, 10]])
    pred = np.tile([[50.0, 50, 60, 60]], (101, 1))
    pred[100] = gt[0]                                  # the lowest-scored prediction is the only hit
    frame = dm.FrameDets(gt, pred, np.linspace(1, 0.1, 101))
    t = dm.match_table([frame], np.array([0.5]), max_dets=100)
    assert t.tp.shape == (1, 100) and not t.tp.any() and t.n_gt == 1
    full = dm.match_table([frame], np.array([0.5]), max_dets=None)
    assert full.tp.shape == (1, 101) and full.tp[0, 100]
    rng = np.random.default_rng(5)
    frames = random_frames(rng, 60, crowded=0.3)
    iou = dm.coco_thresholds()[0]
    for k in (1, 3, 100):
        capped, top = dm.match_table(frames, iou, k), dm.match_table(frames, iou, None).top(k)
        assert np.array_equal(capped.tp, top.tp) and np.array_equal(capped.scores, top.scores)


def test_pooled_ap_of_a_resample_equals_torchmetrics_on_the_repeated_clips():
    # Untied scores: the pooled AP puts the copies of a clip's prediction next to each other, torchmetrics fed
    # the repeated clips one after the other would not, and AP depends on the order within a tie.
    rng = np.random.default_rng(2)
    clips = [random_frames(rng, 40, decimals=None, crowded=0.05) for _ in range(4)]
    iou, rec, max_dets = dm.coco_thresholds()
    tables = [dm.match_table(c, iou, max_dets) for c in clips]
    w = np.array([[1, 1, 1, 1], [2, 0, 1, 1], [0, 3, 0, 1], [0, 0, 0, 0]])
    ap = dm.pooled_average_precision(tables, w, rec)
    assert np.isnan(ap[3]).all()                                  # no clip: no GT box, AP undefined
    for b in range(3):
        ref = torchmetrics_map([f for i, c in enumerate(clips) for _ in range(w[b, i]) for f in c])
        assert ap[b, 0] == pytest.approx(ref["mAP50"], abs=1e-6)
        assert ap[b].mean() == pytest.approx(ref["mAP50-95"], abs=1e-6)


def test_best_f1_counts_every_prediction_not_only_the_top_100():
    gt = np.array([[0.0, 0, 10, 10]])
    pred = np.tile([[50.0, 50, 60, 60]], (120, 1))
    pred[110] = gt[0]
    frames = [dm.FrameDets(gt, pred, np.linspace(1, 0.1, 120))]
    r = dm.best_f1(frames)
    assert (r["tp"], r["fp"], r["fn"]) == (1, 110, 0) and r["conf"] == pytest.approx(frames[0].scores[110])
    assert dm.mean_average_precision(frames)["mAP50"] == 0.0        # the hit is past mAP's 100 per frame


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
