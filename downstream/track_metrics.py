"""Tracking metrics: HOTA, CLEAR (MOTA) and Identity (IDF1) from TrackEval, fed per-frame IoU matrices.

We build TrackEval's per-sequence `data` dict ourselves (ids, per-frame GT×tracker IoU) and call each metric's
`eval_sequence`, then `combine_sequences` for the domain score, as TrackEval's own evaluator does; no temporary
MOTChallenge folder tree is needed (the paper copies files into one, docs/paper_code_behaviour.md#track-evaluation).

Two summaries are reported (docs/paper_code_behaviour.md#track-evaluation and
#defect-9-13-track-metrics-are-per-clip-means):
- **combined** (TrackEval's): the metrics computed over all clips pooled: MOTA = 1 − Σ(FN + FP + IDSW)/Σ GT,
  IDF1 = 2·IDTP/(2·IDTP + IDFP + IDFN), HOTA = mean over α ∈ {0.05, …, 0.95} of √(DetA·AssA).
- **paper way**: the unweighted mean over clips of per-clip MOTA, IDF1 and of HOTA at α = 0.05 only.
Like the paper (DO_PREPROC off), GT rows are filtered only by the MOTChallenge "zero-marked" rule (conf = 0).
"""
from __future__ import annotations

import numpy as np

from common.boxes import box_iou, mot_to_xyxy

IOU_THRESHOLD = 0.5
CLIP_FIELDS = ("HOTA", "DetA", "AssA", "HOTA_alpha005", "MOTA", "MOTP", "IDF1", "IDP", "IDR",
               "TP", "FP", "FN", "IDSW", "gt_dets", "tracker_dets", "gt_ids", "tracker_ids")


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
    gt_boxes, tr_boxes = mot_to_xyxy(gt), mot_to_xyxy(tracks)
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


def evaluate_clips(sequences: dict[str, tuple[np.ndarray, np.ndarray, int]],
                   threshold: float = IOU_THRESHOLD) -> tuple[dict[str, dict], dict[str, dict]]:
    """TrackEval's per-sequence results {clip: {"HOTA"|"CLEAR"|"Identity": res}} and each clip's sizes
    (gt/tracker detections and ids): what `evaluate` combines, and what a bootstrap over clips re-pools."""
    metrics = _metrics(threshold)
    raw: dict[str, dict] = {}
    sizes: dict[str, dict] = {}
    for clip, (gt, tracks, n) in sequences.items():
        data = sequence_data(gt, tracks, n)
        raw[clip] = {name: m.eval_sequence(data) for name, m in metrics.items()}
        sizes[clip] = {"gt_dets": data["num_gt_dets"], "tracker_dets": data["num_tracker_dets"],
                       "gt_ids": data["num_gt_ids"], "tracker_ids": data["num_tracker_ids"]}
    return raw, sizes


# TrackEval combines sequences by summing these count fields (HOTA's per-alpha arrays have 19 entries; AssA is
# averaged with HOTA_TP as weight, so AssA·HOTA_TP is the summed field).
_HOTA_SUMMED = ("HOTA_TP", "HOTA_FN", "HOTA_FP")
_CLEAR_SUMMED = ("CLR_TP", "CLR_FN", "CLR_FP", "IDSW")
_IDENTITY_SUMMED = ("IDTP", "IDFN", "IDFP")


def pooling_vector(raw: dict) -> np.ndarray:
    """One clip's TrackEval result as the vector of fields that add up across sequences (see `pooled_scores`)."""
    h, c, i = raw["HOTA"], raw["CLEAR"], raw["Identity"]
    parts = [np.asarray(h[f], dtype=np.float64) for f in _HOTA_SUMMED]
    parts.append(np.asarray(h["AssA"], dtype=np.float64) * np.asarray(h["HOTA_TP"], dtype=np.float64))
    parts.append(np.asarray([c[f] for f in _CLEAR_SUMMED] + [i[f] for f in _IDENTITY_SUMMED], dtype=np.float64))
    return np.concatenate(parts)


def pooled_scores(sums: np.ndarray) -> dict[str, np.ndarray]:
    """HOTA, MOTA and IDF1 from summed `pooling_vector`s (one row per pooled set of clips), by the formulas of
    TrackEval's combine_sequences; equal to `evaluate(...)["combined"]` for the plain sum over all clips."""
    sums = np.atleast_2d(sums)
    a = (sums.shape[1] - len(_CLEAR_SUMMED) - len(_IDENTITY_SUMMED)) // 4
    tp, fn, fp, ass_w = (sums[:, k * a:(k + 1) * a] for k in range(4))
    clr_tp, clr_fn, clr_fp, idsw, idtp, idfn, idfp = sums[:, 4 * a:].T
    det_a = tp / np.maximum(1, tp + fn + fp)
    ass_a = ass_w / np.maximum(1.0, tp)
    return {"HOTA": np.sqrt(det_a * ass_a).mean(axis=1),
            "MOTA": (clr_tp - clr_fp - idsw) / np.maximum(1.0, clr_tp + clr_fn),
            "IDF1": idtp / np.maximum(1.0, idtp + 0.5 * idfp + 0.5 * idfn)}


def evaluate(sequences: dict[str, tuple[np.ndarray, np.ndarray, int]], threshold: float = IOU_THRESHOLD) -> dict:
    """Evaluate {clip: (gt_rows, track_rows, num_frames)}.

    Returns {"clips": {clip: summary + counts}, "combined": summary, "paper_way": {MOTA, IDF1, HOTA_alpha005}}.
    """
    if not sequences:
        raise ValueError("no sequences to evaluate")
    metrics = _metrics(threshold)
    raw, sizes = evaluate_clips(sequences, threshold)
    clips = {clip: {**summarize(raw[clip]), **sizes[clip]} for clip in raw}
    combined = summarize({name: m.combine_sequences({c: raw[c][name] for c in raw}) for name, m in metrics.items()})
    paper = {k: float(np.mean([clips[c][k] for c in clips])) for k in ("MOTA", "IDF1", "HOTA_alpha005")}
    return {"clips": clips, "combined": combined, "paper_way": paper}
