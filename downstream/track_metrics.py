"""Tracking metrics: HOTA, CLEAR (MOTA) and Identity (IDF1) from TrackEval, fed per-frame IoU matrices.

We build TrackEval's per-sequence `data` dict ourselves (ids, per-frame GT×tracker IoU) and call each metric's
`eval_sequence`, then `combine_sequences` for the domain score, as TrackEval's own evaluator does; no temporary
MOTChallenge folder tree is needed (the paper copies files into one, reference §7.7).

Two summaries are reported (reference §7.7, §9.13):
- **combined** (TrackEval's): the metrics computed over all clips pooled: MOTA = 1 − Σ(FN + FP + IDSW)/Σ GT,
  IDF1 = 2·IDTP/(2·IDTP + IDFP + IDFN), HOTA = mean over α ∈ {0.05, …, 0.95} of √(DetA·AssA).
- **paper way**: the unweighted mean over clips of per-clip MOTA, IDF1 and of HOTA at α = 0.05 only.
Like the paper (DO_PREPROC off), GT rows are filtered only by the MOTChallenge "zero-marked" rule (conf = 0).
"""
from __future__ import annotations

import numpy as np

from downstream.tracking.sort import box_iou

IOU_THRESHOLD = 0.5
CLIP_FIELDS = ("HOTA", "DetA", "AssA", "HOTA_alpha005", "MOTA", "MOTP", "IDF1", "IDP", "IDR",
               "TP", "FP", "FN", "IDSW", "gt_dets", "tracker_dets", "gt_ids", "tracker_ids")


def xywh_to_xyxy(rows: np.ndarray) -> np.ndarray:
    """MOT rows → [x1, y1, x2, y2] boxes."""
    rows = np.asarray(rows, dtype=np.float64).reshape(-1, 10)
    return np.column_stack([rows[:, 2], rows[:, 3], rows[:, 2] + rows[:, 4], rows[:, 3] + rows[:, 5]])


def _dense_ids(ids: np.ndarray) -> tuple[np.ndarray, int]:
    uniq, inverse = np.unique(ids, return_inverse=True)
    return inverse.astype(int), len(uniq)


def sequence_data(gt: np.ndarray, tracks: np.ndarray, num_frames: int) -> dict:
    """TrackEval's per-sequence input: 0-based contiguous ids per frame and GT×tracker IoU per frame."""
    gt = np.asarray(gt, dtype=np.float64).reshape(-1, 10)
    tracks = np.asarray(tracks, dtype=np.float64).reshape(-1, 10)
    gt = gt[gt[:, 6] != 0]  # MOTChallenge zero-marked rows are ignore regions
    num_frames = int(max([num_frames, *gt[:, 0], *tracks[:, 0]])) if len(gt) + len(tracks) else int(num_frames)
    gt_ids, n_gt = _dense_ids(gt[:, 1])
    tr_ids, n_tr = _dense_ids(tracks[:, 1])
    gt_boxes, tr_boxes = xywh_to_xyxy(gt), xywh_to_xyxy(tracks)
    data = {"num_timesteps": num_frames, "num_gt_ids": n_gt, "num_tracker_ids": n_tr,
            "num_gt_dets": len(gt), "num_tracker_dets": len(tracks),
            "gt_ids": [], "tracker_ids": [], "similarity_scores": []}
    for frame in range(1, num_frames + 1):
        g = gt[:, 0] == frame
        t = tracks[:, 0] == frame
        data["gt_ids"].append(gt_ids[g])
        data["tracker_ids"].append(tr_ids[t])
        data["similarity_scores"].append(box_iou(gt_boxes[g], tr_boxes[t]))
    return data


def _metrics(threshold: float):
    import trackeval

    cfg = {"THRESHOLD": threshold, "PRINT_CONFIG": False}
    return {"HOTA": trackeval.metrics.HOTA(), "CLEAR": trackeval.metrics.CLEAR(cfg),
            "Identity": trackeval.metrics.Identity(cfg)}


def summarize(res: dict) -> dict[str, float]:
    """The headline numbers of one TrackEval result (per clip or combined), as plain floats/ints."""
    h, c, i = res["HOTA"], res["CLEAR"], res["Identity"]
    return {"HOTA": float(np.mean(h["HOTA"])), "DetA": float(np.mean(h["DetA"])), "AssA": float(np.mean(h["AssA"])),
            "HOTA_alpha005": float(h["HOTA"][0]), "MOTA": float(c["MOTA"]), "MOTP": float(c["MOTP"]),
            "IDF1": float(i["IDF1"]), "IDP": float(i["IDP"]), "IDR": float(i["IDR"]),
            "TP": int(c["CLR_TP"]), "FP": int(c["CLR_FP"]), "FN": int(c["CLR_FN"]), "IDSW": int(c["IDSW"])}


def evaluate(sequences: dict[str, tuple[np.ndarray, np.ndarray, int]], threshold: float = IOU_THRESHOLD) -> dict:
    """Evaluate {clip: (gt_rows, track_rows, num_frames)}.

    Returns {"clips": {clip: summary + counts}, "combined": summary, "paper_way": {MOTA, IDF1, HOTA_alpha005}}.
    """
    if not sequences:
        raise ValueError("no sequences to evaluate")
    metrics = _metrics(threshold)
    raw: dict[str, dict] = {}
    clips = {}
    for clip, (gt, tracks, n) in sequences.items():
        data = sequence_data(gt, tracks, n)
        raw[clip] = {name: m.eval_sequence(data) for name, m in metrics.items()}
        clips[clip] = {**summarize(raw[clip]), "gt_dets": data["num_gt_dets"],
                       "tracker_dets": data["num_tracker_dets"], "gt_ids": data["num_gt_ids"],
                       "tracker_ids": data["num_tracker_ids"]}
    combined = summarize({name: m.combine_sequences({c: raw[c][name] for c in raw}) for name, m in metrics.items()})
    paper = {k: float(np.mean([clips[c][k] for c in clips])) for k in ("MOTA", "IDF1", "HOTA_alpha005")}
    return {"clips": clips, "combined": combined, "paper_way": paper}
