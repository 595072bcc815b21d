"""Detection metrics for CFC22-style clips: mAP (torchmetrics), precision/recall at the best-F1 confidence, per clip.

The paper's evaluator (docs/paper_code_behaviour.md#detection-map and #defect-9-11-map-skips-frames) updates the metric
only on frames that have both a prediction and a GT
box, so false positives on empty frames and misses on frames without detections are ignored and mAP is inflated.
Here every frame of every annotated clip is fed (empty GT and empty predictions included); the paper's rule is
kept behind `paper_compat` and labelled as such. Boxes are 0-based pixel corners x1, y1, x2, y2 throughout.

The top half is pure maths on arrays; the bottom half reads preds.txt/gt.txt, writes the per-clip CSV and draws
the worst clips.
"""
from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass

import numpy as np

from common.atomic import atomic_path, write_json, write_text
from common.boxes import box_iou, mot_to_xyxy
from common.imaging import write_gif
from common.mot import by_frame, preds_path, read_mot
from dataset.annotations import AnnotatedClip, load_domain, warn_box_fixes

IOU_MATCH = 0.5


@dataclass
class FrameDets:
    """One frame's GT boxes and scored predictions (0-based pixel corners)."""

    gt: np.ndarray                      # G×4
    pred: np.ndarray                    # P×4
    scores: np.ndarray                  # P

    @property
    def has_both(self) -> bool:
        return len(self.gt) > 0 and len(self.pred) > 0


# ------------------------------------------------------------------------------------------------ pure maths
def match_frame(frame: FrameDets, iou_thr: float = IOU_MATCH) -> np.ndarray:
    """True-positive flag per prediction (in the input order): greedy by decreasing score, each prediction takes the
    unmatched GT box of highest IoU ≥ `iou_thr` (the COCO matching rule)."""
    tp = np.zeros(len(frame.pred), dtype=bool)
    if not len(frame.pred) or not len(frame.gt):
        return tp
    ious = box_iou(frame.pred, frame.gt)
    free = np.ones(len(frame.gt), dtype=bool)
    for p in np.argsort(-np.asarray(frame.scores), kind="stable"):
        cand = np.where(free, ious[p], -1.0)
        g = int(np.argmax(cand))
        if cand[g] >= iou_thr:
            tp[p] = True
            free[g] = False
    return tp


def best_f1(frames: list[FrameDets], iou_thr: float = IOU_MATCH) -> dict:
    """Precision, recall and F1 at the confidence threshold that maximises F1 over all frames.

    Thresholds are taken only between distinct scores (tied predictions are kept or dropped together).
    With no prediction every figure is 0 and `conf` is None.
    """
    n_gt = int(sum(len(f.gt) for f in frames))
    scores = np.concatenate([np.asarray(f.scores, dtype=np.float64) for f in frames] + [np.zeros(0)])
    tps = np.concatenate([match_frame(f, iou_thr) for f in frames] + [np.zeros(0, dtype=bool)])
    out = {"precision": 0.0, "recall": 0.0, "f1": 0.0, "conf": None, "tp": 0, "fp": 0, "fn": n_gt, "gt": n_gt}
    if not len(scores):
        return out
    order = np.argsort(-scores, kind="stable")
    scores, tps = scores[order], tps[order]
    ctp = np.cumsum(tps)
    cfp = np.cumsum(~tps)
    last_of_tie = np.r_[scores[1:] != scores[:-1], True]
    precision = ctp / (ctp + cfp)
    recall = ctp / n_gt if n_gt else np.zeros_like(precision)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros_like(precision),
                   where=(precision + recall) > 0)
    f1 = np.where(last_of_tie, f1, -1.0)
    k = int(np.argmax(f1))
    return {"precision": float(precision[k]), "recall": float(recall[k]), "f1": float(max(f1[k], 0.0)),
            "conf": float(scores[k]), "tp": int(ctp[k]), "fp": int(cfp[k]), "fn": n_gt - int(ctp[k]), "gt": n_gt}


def mean_average_precision(frames: list[FrameDets]) -> dict:
    """COCO-style mAP with torchmetrics (101 recall points, up to 100 detections per frame, one class).

    Returns {"mAP50", "mAP50-95", "mAR100"}; NaN when there is no GT box at all (AP is undefined).
    """
    import torch
    from torchmetrics.detection import MeanAveragePrecision

    metric = MeanAveragePrecision(box_format="xyxy", iou_type="bbox")
    preds, target = [], []
    for f in frames:
        preds.append({"boxes": torch.as_tensor(np.asarray(f.pred, dtype=np.float32).reshape(-1, 4)),
                      "scores": torch.as_tensor(np.asarray(f.scores, dtype=np.float32).reshape(-1)),
                      "labels": torch.zeros(len(f.pred), dtype=torch.long)})
        target.append({"boxes": torch.as_tensor(np.asarray(f.gt, dtype=np.float32).reshape(-1, 4)),
                       "labels": torch.zeros(len(f.gt), dtype=torch.long)})
    if not any(len(f.gt) for f in frames):
        return {"mAP50": math.nan, "mAP50-95": math.nan, "mAR100": math.nan}
    metric.update(preds, target)
    res = metric.compute()
    return {"mAP50": float(res["map_50"]), "mAP50-95": float(res["map"]), "mAR100": float(res["mar_100"])}


@dataclass
class MatchTable:
    """The sufficient statistic of pooled COCO AP for a set of frames (one clip): its kept predictions in COCO
    order (frame by frame, each frame's top `max_dets` by decreasing score), a TP flag per prediction and IoU
    threshold, and its GT box count. AP over any union of clips follows from their tables alone."""

    scores: np.ndarray                  # D
    tp: np.ndarray                      # T×D bool
    n_gt: int


def coco_thresholds() -> tuple[np.ndarray, np.ndarray, int]:
    """The IoU thresholds, recall points and detections-per-frame cap `mean_average_precision` uses.

    torchmetrics builds its grids with torch.linspace in float32, and a recall exactly on a grid point decides
    which precision is read, so the grids are made the same way here (float64 0.55, 0.01, ... would differ at
    the last bit, and so can a float32 re-derivation: torch's vectorised linspace rounds differently per CPU).
    Importing torch alone spares the seconds torchmetrics' own import takes; a test checks the values agree.
    """
    import torch

    iou = torch.linspace(0.5, 0.95, round((0.95 - 0.5) / 0.05) + 1).tolist()
    rec = torch.linspace(0.0, 1.00, round(1.00 / 0.01) + 1).tolist()
    return np.asarray(iou, dtype=np.float64), np.asarray(rec, dtype=np.float64), 100


def match_table(frames: list[FrameDets], iou_thrs: np.ndarray, max_dets: int = 100) -> MatchTable:
    """Match every frame at each IoU threshold with `match_frame`, as COCOeval does before pooling."""
    scores, tps = [np.zeros(0)], [np.zeros((len(iou_thrs), 0), dtype=bool)]
    for f in frames:
        s = np.asarray(f.scores, dtype=np.float64).reshape(-1)
        keep = np.argsort(-s, kind="stable")[:max_dets]
        kept = FrameDets(f.gt, np.asarray(f.pred, dtype=np.float64).reshape(-1, 4)[keep], s[keep])
        scores.append(kept.scores)
        tps.append(np.stack([match_frame(kept, t) for t in iou_thrs]).reshape(len(iou_thrs), -1))
    return MatchTable(np.concatenate(scores), np.concatenate(tps, axis=1), int(sum(len(f.gt) for f in frames)))


def pooled_average_precision(tables: list[MatchTable], weights: np.ndarray, rec_thrs: np.ndarray,
                             chunk: int = 64) -> np.ndarray:
    """COCO AP (all-points interpolated at `rec_thrs`) per IoU threshold of the union of clips where clip c is
    taken `weights[b, c]` times, for every row b of `weights` (B×C) → B×T; NaN where the union has no GT box.

    With all weights 1 this is the AP `mean_average_precision` returns for the clips' frames in order (COCOeval's
    rule: predictions pooled over frames, stably sorted by decreasing score, precision made monotone, read at the
    first prediction reaching each recall point). Copies of a clip sit next to each other in the sorted list.
    """
    weights = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    scores = np.concatenate([t.scores for t in tables])
    clip = np.concatenate([np.full(len(t.scores), i) for i, t in enumerate(tables)]).astype(int)
    tp = np.concatenate([t.tp for t in tables], axis=1)
    order = np.argsort(-scores, kind="stable")
    tp, clip = tp[:, order], clip[order]
    n_gt = weights @ np.asarray([t.n_gt for t in tables], dtype=np.float64)
    out = np.full((len(weights), tp.shape[0]), np.nan)
    for start in range(0, len(weights), chunk):
        rows = slice(start, start + chunk)
        w = weights[rows][:, clip]
        for k in range(tp.shape[0]):
            ctp = np.cumsum(w * tp[k], axis=1)
            cfp = np.cumsum(w * ~tp[k], axis=1)
            precision = ctp / (ctp + cfp + np.spacing(1))
            envelope = np.maximum.accumulate(precision[:, ::-1], axis=1)[:, ::-1]
            envelope = np.hstack([envelope, np.zeros((len(envelope), 1))])   # past the last prediction: 0
            for b, g in enumerate(n_gt[rows]):
                if g > 0:
                    at = np.searchsorted(ctp[b] / g, rec_thrs, side="left")
                    out[start + b, k] = envelope[b, at].mean()
    return out


def detection_summary(frames: list[FrameDets], paper_compat: bool = False) -> dict:
    """Every figure eval_detector_tm.py prints for a set of frames (with the paper's mAP when asked)."""
    out = {"frames": len(frames), "frames_with_gt": sum(len(f.gt) > 0 for f in frames),
           "gt_boxes": int(sum(len(f.gt) for f in frames)), "predictions": int(sum(len(f.pred) for f in frames))}
    out.update(mean_average_precision(frames))
    out.update({k: v for k, v in best_f1(frames).items() if k in ("precision", "recall", "f1", "conf")})
    if paper_compat:
        both = [f for f in frames if f.has_both]
        out["paper_compat_frames"] = len(both)
        out["paper_compat_mAP50"] = mean_average_precision(both)["mAP50"] if both else math.nan
    return out


# ---------------------------------------------------------------------------------------- files → frames
def clip_frame_dets(clip: AnnotatedClip, pred_rows: np.ndarray) -> tuple[list[FrameDets], int]:
    """FrameDets for every frame image of an annotated clip given its preds.txt rows; also returns the number of
    prediction rows naming frames that have no image (ignored)."""
    preds = by_frame(pred_rows)
    orphans = sum(len(r) for fr, r in preds.items() if fr - 1 not in clip.frames)
    frames = []
    for i in sorted(clip.frames):
        rows = preds.get(i + 1, np.zeros((0, 10)))
        frames.append(FrameDets(clip.boxes_at(i), mot_to_xyxy(rows), rows[:, 6].copy()))
    return frames, orphans


CSV_FIELDS = ("clip", "frames", "frames_with_gt", "gt_boxes", "predictions", "mAP50", "mAP50-95", "mAR100",
              "precision", "recall", "f1", "conf")


def _fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return "nan" if math.isnan(v) else f"{v:.4f}"
    return str(v)


def format_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for r in rows:
        writer.writerow([_fmt(r.get(k)) for k in CSV_FIELDS])
    return buf.getvalue()


def evaluate_domain(gt_dir: str, input_dir: str, output_dir: str, dataset: str, paper_compat: bool = False) -> dict:
    """Evaluate `output_dir/<dataset>/<clip>/preds.txt` against `gt_dir/<dataset>/<clip>/gt.txt` over every frame
    image in `input_dir/<dataset>/<clip>`; writes metrics_det.csv (per clip + ALL) and metrics_det.json beside
    the predictions. Returns {"all": summary, "clips": {clip: summary}, "frames": {clip: [FrameDets]}}.
    """
    clips = load_domain(gt_dir, input_dir, dataset)
    warn_box_fixes(clips)
    per_clip, frames_by_clip, orphans = {}, {}, 0
    for c in clips:
        frames, n = clip_frame_dets(c, read_mot(preds_path(output_dir, dataset, c.name)))
        orphans += n
        frames_by_clip[c.name] = frames
        per_clip[c.name] = detection_summary(frames)
    if orphans:
        print(f"warning: {orphans} prediction row(s) name frames that have no image and were ignored")
    all_frames = [f for fs in frames_by_clip.values() for f in fs]
    overall = detection_summary(all_frames, paper_compat)
    rows = [{"clip": k, **v} for k, v in per_clip.items()] + [{"clip": "ALL", **overall}]
    out_dir = os.path.join(output_dir, dataset)
    write_text(os.path.join(out_dir, "metrics_det.csv"), format_csv(rows))
    write_json(os.path.join(out_dir, "metrics_det.json"),
               {"dataset": dataset, "all_frames_rule": True, "all": _jsonable(overall),
                "clips": {k: _jsonable(v) for k, v in per_clip.items()}})
    return {"all": overall, "clips": per_clip, "frames": frames_by_clip, "annotated": clips}


def _jsonable(d: dict) -> dict:
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in d.items()}


def format_report(dataset: str, overall: dict) -> str:
    """The lines eval_detector_tm.py prints (`mAP50: 0.xxx` first, so `| grep mAP` keeps the headline)."""
    conf = "n/a" if overall["conf"] is None else f"{overall['conf']:.3f}"
    lines = [f"{dataset}: {overall['frames']} frames ({overall['frames_with_gt']} with fish), "
             f"{overall['gt_boxes']} GT boxes, {overall['predictions']} predictions; every frame evaluated",
             f"mAP50: {overall['mAP50']:.3f}",
             f"mAP50-95: {overall['mAP50-95']:.3f}",
             f"precision: {overall['precision']:.3f}  recall: {overall['recall']:.3f}  F1: {overall['f1']:.3f}  "
             f"(best-F1 confidence {conf}, IoU 0.5)"]
    if "paper_compat_mAP50" in overall:
        lines.append(f"paper-compat mAP50 (only the {overall['paper_compat_frames']} frames with both GT and "
                     f"predictions, as the paper's evaluator; inflated): {overall['paper_compat_mAP50']:.3f}")
    return "\n".join(lines)


# -------------------------------------------------------------------------------------------- visualisation
GT_COLOUR = (0, 255, 0)     # BGR green
PRED_COLOUR = (0, 0, 255)   # BGR red


def draw_frame(image: np.ndarray, frame: FrameDets, min_conf: float) -> np.ndarray:
    """A BGR copy of `image` with GT boxes in green and predictions with score ≥ min_conf in red (no text)."""
    import cv2

    img = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image.copy()
    for x1, y1, x2, y2 in np.round(frame.gt).astype(int):
        cv2.rectangle(img, (x1, y1), (x2 - 1, y2 - 1), GT_COLOUR, 1)
    for (x1, y1, x2, y2), s in zip(np.round(frame.pred).astype(int), frame.scores):
        if s >= min_conf:
            cv2.rectangle(img, (x1, y1), (x2 - 1, y2 - 1), PRED_COLOUR, 1)
    return img


def write_clip_visuals(frame_paths: list[str], frames: list[FrameDets], out_stem: str, min_conf: float,
                       mp4: bool, gif: bool, fps: float = 10.0, max_frames: int = 300) -> list[str]:
    """Write `<out_stem>.mp4` and/or `<out_stem>.gif` (atomically) of a clip with its boxes drawn."""
    import cv2

    from dataset.frames import read_frame

    drawn = [draw_frame(read_frame(p, gray=False), f, min_conf) for p, f in zip(frame_paths[:max_frames], frames)]
    written = []
    if mp4 and drawn:
        h, w = drawn[0].shape[:2]
        with atomic_path(out_stem + ".mp4") as tmp:
            writer = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
            for img in drawn:
                writer.write(img)
            writer.release()
        written.append(out_stem + ".mp4")
    if gif and drawn:
        written.append(write_gif(out_stem + ".gif", drawn, fps))
    return written


def worst_clips(per_clip: dict[str, dict], n: int) -> list[str]:
    """The `n` clips with the lowest mAP50 (clips without GT, whose AP is undefined, last)."""
    def key(name: str) -> tuple:
        v = per_clip[name]["mAP50"]
        return (math.isnan(v), v, name)

    return sorted(per_clip, key=key)[:n]
