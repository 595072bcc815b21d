"""Detection metrics for CFC22-style clips: COCO mAP (the numbers torchmetrics' MeanAveragePrecision gives),
precision/recall at the best-F1 confidence, per clip.

The paper's evaluator (docs/paper_code_behaviour.md#detection-map and #defect-9-11-map-skips-frames) updates the metric
only on frames that have both a prediction and a GT
box, so false positives on empty frames and misses on frames without detections are ignored and mAP is inflated.
Here every frame of every annotated clip is fed (empty GT and empty predictions included); the paper's rule is
kept behind `paper_compat` and labelled as such. Boxes are 0-based pixel corners x1, y1, x2, y2 throughout.

mAP is computed here from one match table per clip rather than by torchmetrics: detections are kept down to
confidence 0.001, and torchmetrics (pycocotools underneath) matches every kept prediction in Python, about 6 s
per mAP on 12 clips of 100 frames, and a domain's evaluation takes one per clip, one overall and one paper-compat.
The tables give the same numbers (tests compare them with torchmetrics), and the best-F1 figures and the report's
bootstrap reuse them.

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
from common.boxes import mot_to_xyxy
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
def coco_thresholds() -> tuple[np.ndarray, np.ndarray, int]:
    """The IoU thresholds, recall points and detections-per-frame cap of torchmetrics' MeanAveragePrecision.

    torchmetrics builds its grids with torch.linspace in float32, and a recall exactly on a grid point decides
    which precision is read, so the grids are made the same way here (float64 0.55, 0.01, ... would differ at
    the last bit, and so can a float32 re-derivation: torch's vectorised linspace rounds differently per CPU).
    Importing torch alone spares the seconds torchmetrics' own import takes; a test checks the values agree.
    """
    import torch

    iou = torch.linspace(0.5, 0.95, round((0.95 - 0.5) / 0.05) + 1).tolist()
    rec = torch.linspace(0.0, 1.00, round(1.00 / 0.01) + 1).tolist()
    return np.asarray(iou, dtype=np.float64), np.asarray(rec, dtype=np.float64), 100


def _coco_xywh(boxes: np.ndarray) -> np.ndarray:
    """Corners → x, y, w, h as pycocotools receives them from torchmetrics: float32 corners, w and h subtracted
    in float32 (torchvision's box_convert), then read as doubles."""
    b = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    return np.concatenate([b[:, :2], b[:, 2:] - b[:, :2]], axis=1).astype(np.float64)


def coco_iou(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """P×G IoU of corner boxes, bit for bit the IoU torchmetrics' mAP compares with its thresholds.

    A pair can sit exactly on a threshold (2-decimal corners from preds.txt, IoU 0.5 in decimals): computed from
    the float64 corners it may land on the other side than torchmetrics' value, which goes through float32 boxes
    and pycocotools' double arithmetic (bbIou in maskApi.c, reproduced operation for operation)."""
    d, g = _coco_xywh(pred), _coco_xywh(gt)
    w = (np.minimum(d[:, None, 2] + d[:, None, 0], g[None, :, 2] + g[None, :, 0])
         - np.maximum(d[:, None, 0], g[None, :, 0]))
    h = (np.minimum(d[:, None, 3] + d[:, None, 1], g[None, :, 3] + g[None, :, 1])
         - np.maximum(d[:, None, 1], g[None, :, 1]))
    inter = w * h
    union = (d[:, 2] * d[:, 3])[:, None] + (g[:, 2] * g[:, 3])[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=(w > 0) & (h > 0))


def _score_order(scores: np.ndarray) -> np.ndarray:
    """Indices by decreasing score, ties in input order: COCOeval's stable sort of the float32 scores
    torchmetrics hands it (distinct float64 scores can be equal in float32)."""
    return np.argsort(-np.asarray(scores, dtype=np.float64).astype(np.float32), kind="stable")


def _match_sorted(ious: np.ndarray, iou_thrs: np.ndarray) -> np.ndarray:
    """T×P true-positive flags of predictions already sorted by decreasing score (`ious` P×G), every IoU
    threshold at once, by COCOeval's greedy rule: each prediction takes the free GT box of highest IoU ≥ the
    threshold, the last such box on a tie.

    Only predictions whose best IoU reaches the lowest threshold can match, and none can once every GT box is
    taken, so only those few are walked (at confidence 0.001 a frame holds a hundred boxes, nearly all far from
    any fish)."""
    n_pred, n_gt = ious.shape
    tp = np.zeros((len(iou_thrs), n_pred), dtype=bool)
    if not n_pred or not n_gt:
        return tp
    thr = np.minimum(iou_thrs, 1 - 1e-10)           # as COCOeval caps them
    rows = np.arange(len(thr))
    free = np.ones((len(thr), n_gt), dtype=bool)
    for p in np.flatnonzero(ious.max(axis=1) >= thr.min()):
        cand = np.where(free, ious[p], -1.0)
        g = n_gt - 1 - np.argmax(cand[:, ::-1], axis=1)       # the last GT box of the highest IoU
        hit = cand[rows, g] >= thr
        tp[hit, p] = True
        free[rows[hit], g[hit]] = False
        if not free.any():
            break
    return tp


@dataclass
class MatchTable:
    """The sufficient statistic of pooled COCO AP (and of best-F1) for a set of frames, e.g. one clip: its
    predictions in COCO order (frame by frame, each frame's by decreasing score), a TP flag per prediction and
    IoU threshold, and the GT box count. AP over any union of clips follows from their tables alone."""

    scores: np.ndarray                  # D, as given
    tp: np.ndarray                      # T×D bool
    n_gt: int
    rank: np.ndarray                    # D: place of the prediction in its frame (0: the frame's best score)
    iou_thrs: np.ndarray                # T

    def top(self, max_dets: int) -> MatchTable:
        """The table of each frame's `max_dets` best predictions. Matching walks a frame's predictions by
        decreasing score, so a prediction's flags never depend on those below it: this equals matching the
        frames with the cap, as COCOeval does."""
        keep = self.rank < max_dets
        return MatchTable(self.scores[keep], self.tp[:, keep], self.n_gt, self.rank[keep], self.iou_thrs)


def match_table(frames: list[FrameDets], iou_thrs: np.ndarray, max_dets: int | None = 100) -> MatchTable:
    """Match every frame at each IoU threshold as torchmetrics' mAP does (its IoU, score order and greedy rule),
    keeping each frame's `max_dets` best predictions (None: all of them, for best-F1 and `MatchTable.top`)."""
    iou_thrs = np.asarray(iou_thrs, dtype=np.float64).reshape(-1)
    scores, tps, ranks = [np.zeros(0)], [np.zeros((len(iou_thrs), 0), dtype=bool)], [np.zeros(0, dtype=int)]
    n_gt = 0
    for f in frames:
        s = np.asarray(f.scores, dtype=np.float64).reshape(-1)
        order = _score_order(s)[:max_dets]
        gt = np.asarray(f.gt, dtype=np.float64).reshape(-1, 4)
        n_gt += len(gt)
        pred = np.asarray(f.pred, dtype=np.float64).reshape(-1, 4)[order]
        tps.append(_match_sorted(coco_iou(pred, gt), iou_thrs))
        scores.append(s[order])
        ranks.append(np.arange(len(order)))
    return MatchTable(np.concatenate(scores), np.concatenate(tps, axis=1), int(n_gt), np.concatenate(ranks),
                      iou_thrs)


def interpolated_precision(tables: list[MatchTable], weights: np.ndarray, rec_thrs: np.ndarray,
                           chunk: int = 32) -> np.ndarray:
    """B×T×R precision read at the recall points (COCOeval's `precision` array) of the union of clips where clip
    c is taken `weights[b, c]` times; NaN rows where the union has no GT box.

    COCOeval pools the predictions, sorts them stably by decreasing score, computes the precision after each,
    makes it monotone and reads it at the first prediction reaching each recall point. Only the true positives
    matter: a recall point is first reached at a true positive, and the precision after a false positive is
    never above the one after the last true positive before it, so the envelope read at the recall points is
    the same over the true positives alone. Their cumulative true- and false-positive counts are clip-count
    matrices times the weights, so a bootstrap resample costs two small matrix products per threshold instead
    of a pass over every prediction. With integer weights every count is exact, so the values are COCOeval's
    bit for bit."""
    weights = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    rec_thrs = np.asarray(rec_thrs, dtype=np.float64)
    n_clips = weights.shape[1]
    scores = np.concatenate([np.zeros(0)] + [t.scores for t in tables])
    clip = np.concatenate([np.zeros(0, dtype=int)] + [np.full(len(t.scores), i) for i, t in enumerate(tables)])
    tp = np.concatenate([t.tp for t in tables], axis=1)
    order = _score_order(scores)
    tp, clip = tp[:, order], clip[order]
    n_gt = weights @ np.asarray([t.n_gt for t in tables], dtype=np.float64)
    onehot = np.zeros((n_clips, len(clip)))
    onehot[clip, np.arange(len(clip))] = 1.0
    seen = np.cumsum(onehot, axis=1)                   # C×N: predictions of each clip up to each position
    out = np.full((len(weights), tp.shape[0], len(rec_thrs)), np.nan)
    for k in range(tp.shape[0]):
        hits = np.flatnonzero(tp[k])
        seen_at_hits = seen[:, hits]
        for start in range(0, len(weights), chunk):
            rows = slice(start, start + chunk)
            ctp = np.cumsum(weights[rows][:, clip[hits]], axis=1)            # B×M true positives so far
            # einsum, not @: a threaded BLAS on a busy machine costs more than these small products
            precision = ctp / (np.einsum("bc,cm->bm", weights[rows], seen_at_hits) + np.spacing(1))
            envelope = np.maximum.accumulate(precision[:, ::-1], axis=1)[:, ::-1]
            envelope = np.hstack([envelope, np.zeros((len(envelope), 1))])   # past the last hit: 0
            at = np.zeros((len(envelope), len(rec_thrs)), dtype=int)
            defined = np.flatnonzero(n_gt[rows] > 0)
            for b in defined:
                at[b] = np.searchsorted(ctp[b] / n_gt[start + b], rec_thrs, side="left")
            out[start + defined, k] = np.take_along_axis(envelope, at, axis=1)[defined]
    return out


def pooled_average_precision(tables: list[MatchTable], weights: np.ndarray, rec_thrs: np.ndarray,
                             chunk: int = 32) -> np.ndarray:
    """COCO AP (all-points interpolated at `rec_thrs`) per IoU threshold of the union of clips where clip c is
    taken `weights[b, c]` times, for every row b of `weights` (B×C) → B×T; NaN where the union has no GT box.

    The tables hold the predictions COCO keeps (`match_table` with its cap, or `MatchTable.top`); with all
    weights 1 this is torchmetrics' AP for the clips' frames in order."""
    return interpolated_precision(tables, weights, rec_thrs, chunk).mean(axis=2)


def coco_map(tables: list[MatchTable], max_dets: int = 100) -> dict:
    """{"mAP50", "mAP50-95", "mAR100"} of the frames of `tables` (uncapped or capped), the float32 values
    torchmetrics' MeanAveragePrecision returns for them; NaN when there is no GT box at all (AP is undefined).

    The means are taken as COCOeval takes them (over the flat threshold × recall-point array), so that not even
    the float32 rounding can differ."""
    n_gt = sum(t.n_gt for t in tables)
    if not n_gt:
        return {"mAP50": math.nan, "mAP50-95": math.nan, "mAR100": math.nan}
    _, rec_thrs, _ = coco_thresholds()
    kept = [t.top(max_dets) for t in tables]
    iou_thrs = kept[0].iou_thrs
    precision = interpolated_precision(kept, np.ones((1, len(kept))), rec_thrs)[0]         # T×R
    at50 = np.flatnonzero(iou_thrs == 0.5)
    if len(at50) != 1:
        raise ValueError("coco_map needs match tables with an IoU threshold of exactly 0.5")
    recall = np.sum([t.tp.sum(axis=1) for t in kept], axis=0) / n_gt                      # T
    return {"mAP50": float(np.float32(np.mean(precision[at50[0]]))),
            "mAP50-95": float(np.float32(np.mean(precision.ravel()))),
            "mAR100": float(np.float32(np.mean(recall)))}


def mean_average_precision(frames: list[FrameDets]) -> dict:
    """COCO mAP of frames (101 recall points, up to 100 detections per frame, one class): `coco_map` of their
    match table."""
    iou_thrs, _, max_dets = coco_thresholds()
    return coco_map([match_table(frames, iou_thrs, max_dets)], max_dets)


def best_f1_of_tables(tables: list[MatchTable], iou_thr: float = IOU_MATCH) -> dict:
    """Precision, recall and F1 at the confidence threshold that maximises F1 over the frames of uncapped match
    tables (every prediction counts), matched at IoU `iou_thr` (one of the tables' thresholds).

    Thresholds are taken only between distinct scores (tied predictions are kept or dropped together).
    With no prediction every figure is 0 and `conf` is None.
    """
    n_gt = int(sum(t.n_gt for t in tables))
    out = {"precision": 0.0, "recall": 0.0, "f1": 0.0, "conf": None, "tp": 0, "fp": 0, "fn": n_gt, "gt": n_gt}
    if not tables or not sum(len(t.scores) for t in tables):
        return out
    row = np.flatnonzero(tables[0].iou_thrs == iou_thr)
    if len(row) != 1:
        raise ValueError(f"the match tables have no IoU threshold {iou_thr}")
    scores = np.concatenate([t.scores for t in tables])
    tps = np.concatenate([t.tp[row[0]] for t in tables])
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


def best_f1(frames: list[FrameDets], iou_thr: float = IOU_MATCH) -> dict:
    """`best_f1_of_tables` of frames, every prediction matched at IoU `iou_thr`."""
    return best_f1_of_tables([match_table(frames, np.array([iou_thr]), max_dets=None)], iou_thr)


def detection_summary(frames: list[FrameDets], paper_compat: bool = False,
                      tables: list[MatchTable] | None = None) -> dict:
    """Every figure eval_detector_tm.py prints for a set of frames (with the paper's mAP when asked). `tables`:
    their uncapped match tables at `coco_thresholds`, when already made (evaluate_domain reuses a clip's)."""
    if tables is None:
        tables = [match_table(frames, coco_thresholds()[0], max_dets=None)]
    out = {"frames": len(frames), "frames_with_gt": sum(len(f.gt) > 0 for f in frames),
           "gt_boxes": int(sum(len(f.gt) for f in frames)), "predictions": int(sum(len(f.pred) for f in frames))}
    out.update(coco_map(tables))
    out.update({k: v for k, v in best_f1_of_tables(tables).items() if k in ("precision", "recall", "f1", "conf")})
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
    iou_thrs = coco_thresholds()[0]
    per_clip, frames_by_clip, tables, orphans = {}, {}, [], 0
    for c in clips:
        frames, n = clip_frame_dets(c, read_mot(preds_path(output_dir, dataset, c.name)))
        orphans += n
        frames_by_clip[c.name] = frames
        tables.append(match_table(frames, iou_thrs, max_dets=None))   # matched once: the clip's and ALL's figures
        per_clip[c.name] = detection_summary(frames, tables=tables[-1:])
    if orphans:
        print(f"warning: {orphans} prediction row(s) name frames that have no image and were ignored")
    all_frames = [f for fs in frames_by_clip.values() for f in fs]
    overall = detection_summary(all_frames, paper_compat, tables)
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
