"""The four README stages over one domain: track, evaluate tracks, count, evaluate counts
(docs/paper_code_behaviour.md#downstream).

Each reads and writes the plain files of docs/tracking.md, so the scripts `track.py`, `track_eval.py`,
`count.py` and `eval_count.py` only parse flags, call one function here and print its result.
"""
from __future__ import annotations

import csv
import io
import os
import sys

import numpy as np

from common.atomic import write_json, write_text
from common.cli import fail
from common.crossings import MIN_TRAVEL, count_crossings
from common.mot import read_mot, write_mot
from dataset.annotations import read_json
from downstream.counting import nmae, with_stream_direction
from downstream.tracking import TrackerConfig, track_clip
from downstream.tracking.layout import clips_with_file, find_upward, frame_width, num_frames, resolve_metadata

PREDS, TRACKS, COUNTS = "preds.txt", "tracks.txt", "counts.json"
TRACK_CSV, TRACK_JSON, COUNT_JSON = "metrics_track.csv", "metrics_track.json", "metrics_count.json"


def _progress(items, desc: str):
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit="clip", leave=False, disable=None, file=sys.stderr)


def track_domain(detections_dir: str, frames_dir: str, domain: str, tracker: str = "bytetrack",
                 cfg: TrackerConfig | None = None, metadata: str | None = None, overwrite: bool = False) -> dict:
    """Write `tracks.txt` beside every clip's `preds.txt`; returns {"tracked", "skipped", "tracks": {clip: n}}.

    Clips are the folders under `<detections_dir>/<domain>`; one without preds.txt (or with an empty one) gets
    an empty tracks.txt. Finished clips are skipped unless `overwrite` (resume after an interruption).
    """
    from dataset.frames import list_clip_dirs

    cfg = cfg or TrackerConfig()
    base = os.path.join(detections_dir, domain)
    if not os.path.isdir(base):
        fail(f"no detections for domain {domain!r}: {base} does not exist (run detect.py first)")
    clip_dirs = list_clip_dirs(base)
    if not clip_dirs:
        fail(f"no clip folders under {base}")
    meta, _ = resolve_metadata(metadata, frames_dir, domain)
    summary = {"tracked": 0, "skipped": 0, "tracks": {}, "no_preds": []}
    for clip_dir in _progress(clip_dirs, f"track {domain}"):
        clip = os.path.basename(clip_dir)
        out = os.path.join(clip_dir, TRACKS)
        if os.path.exists(out) and not overwrite:
            summary["skipped"] += 1
            continue
        preds_path = os.path.join(clip_dir, PREDS)
        dets = read_mot(preds_path, min_cols=7, allow_missing=True)
        if not os.path.exists(preds_path):
            summary["no_preds"].append(clip)
        if len(dets):
            n = num_frames(frames_dir, domain, clip, meta.get(clip))
            last = int(dets[:, 0].max())
            if last > n:
                fail(f"{preds_path}: has frame {last} but the clip has {n} frames "
                     f"({os.path.join(frames_dir, domain, clip)})")
            rows = track_clip(dets, n, tracker, cfg)
        else:
            rows = np.zeros((0, 10))
        write_mot(out, rows)
        summary["tracked"] += 1
        summary["tracks"][clip] = len(np.unique(rows[:, 1]))
    return summary


def track_sequences(track_dir: str, frames_dir: str, annos_root: str,
                    domain: str) -> tuple[dict[str, tuple], dict[str, str], dict[str, str]]:
    """{clip: (gt rows, track rows, frame count)} for every GT clip of the domain (no tracks.txt: no rows),
    with the gt.txt and tracks.txt paths found; a UserError when either kind of file is absent altogether."""
    gt_files = clips_with_file(annos_root, domain, "gt.txt")
    if not gt_files:
        fail(f"no ground truth: no <clip>/gt.txt under {os.path.join(annos_root, domain)}")
    track_files = clips_with_file(track_dir, domain, TRACKS)
    if not track_files:
        fail(f"no tracks: no <clip>/{TRACKS} under {os.path.join(track_dir, domain)} (run track.py first)")
    meta, _ = resolve_metadata(None, frames_dir, domain)
    sequences = {}
    for clip, gt_path in gt_files.items():
        gt = read_mot(gt_path)
        tracks = read_mot(track_files[clip]) if clip in track_files else np.zeros((0, 10))
        sequences[clip] = (gt, tracks, num_frames(frames_dir, domain, clip, meta.get(clip), default=0))
    return sequences, gt_files, track_files


def evaluate_tracks(track_dir: str, frames_dir: str, annos_root: str, domain: str, threshold: float = 0.5) -> dict:
    """TrackEval HOTA/CLEAR/Identity over the domain's GT clips; writes metrics_track.csv/.json; returns the result.

    A GT clip without tracks.txt counts as all misses; tracked clips without GT are listed and left out.
    """
    from downstream.track_metrics import CLIP_FIELDS, evaluate

    sequences, gt_files, track_files = track_sequences(track_dir, frames_dir, annos_root, domain)
    out_dir = os.path.join(track_dir, domain)
    result = evaluate(sequences, threshold)
    result.update(domain=domain, iou_threshold=threshold,
                  clips_without_tracks=sorted(set(gt_files) - set(track_files)),
                  clips_without_gt=sorted(set(track_files) - set(gt_files)))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["clip", *CLIP_FIELDS])
    for clip, r in result["clips"].items():
        writer.writerow([clip, *(f"{r[k]:.6f}" if isinstance(r[k], float) else r[k] for k in CLIP_FIELDS)])
    write_text(os.path.join(out_dir, TRACK_CSV), buf.getvalue())
    write_json(os.path.join(out_dir, TRACK_JSON), result)
    return result


def count_domain(track_dir: str, frames_dir: str, domain: str, metadata: str | None = None,
                 min_travel: float = MIN_TRAVEL) -> tuple[dict[str, dict[str, int]], str | None]:
    """Apply the CFC counting rule to every clip's tracks.txt; writes `<track_dir>/<domain>/counts.json`.

    Returns (counts, metadata path used or None). upstream/downstream are added when the metadata gives the
    clip's `upstream_direction`.
    """
    track_files = clips_with_file(track_dir, domain, TRACKS)
    if not track_files:
        fail(f"no tracks: no <clip>/{TRACKS} under {os.path.join(track_dir, domain)} (run track.py first)")
    meta, meta_path = resolve_metadata(metadata, frames_dir, domain)
    counts = {}
    for clip, path in _progress(list(track_files.items()), f"count {domain}"):
        counts[clip] = count_mot_file(path, frames_dir, domain, clip, meta.get(clip), min_travel)
    write_json(os.path.join(track_dir, domain, COUNTS), counts)
    return counts, meta_path


def count_mot_file(path: str, frames_dir: str, domain: str, clip: str, meta: dict | None,
                   min_travel: float = MIN_TRAVEL) -> dict[str, int]:
    """Left/right (and, with metadata, upstream/downstream) crossings of one MOT file."""
    rows = read_mot(path)
    width = frame_width(frames_dir, domain, clip, meta) if len(rows) else 1
    counts = count_crossings(rows, width, min_travel)
    return with_stream_direction(counts, (meta or {}).get("upstream_direction"))


def load_counts(path: str) -> dict[str, dict[str, int]]:
    """Read a counts JSON ({clip: {"left": n, "right": n, ...}}), checking its shape."""
    data = read_json(path, "counts")
    if not isinstance(data, dict):
        fail(f"{path}: expected {{clip: {{\"left\": n, \"right\": n}}}}")
    for clip, c in data.items():
        if not (isinstance(c, dict) and all(isinstance(c.get(k), int) for k in ("left", "right"))):
            fail(f"{path}: clip {clip!r} needs integer 'left' and 'right' counts, got {c!r}")
    return data


def find_gt_counts_source(frames_dir: str, track_dir: str, domain: str) -> tuple[str, str]:
    """Default ground truth for eval_count: ('gt_dir', annotations_mot root) or ('gt_counts', counts json).

    Searched upward from frames_dir, then from track_dir: `annotations_mot/<domain>` first (the same rule
    applied to the GT tracks, as the paper intends), then the synthetic benchmark's `counts/<domain>.json`.
    """
    for rel, kind in ((os.path.join("annotations_mot", domain), "gt_dir"),
                      (os.path.join("counts", f"{domain}.json"), "gt_counts")):
        for start in (frames_dir, track_dir):
            found = find_upward(start, rel)
            if found:
                return kind, (os.path.dirname(found) if kind == "gt_dir" else found)
    fail(f"no ground truth found for {domain!r}: looked for annotations_mot/{domain}/ and counts/{domain}.json "
         f"in {frames_dir}, {track_dir} and their parents; pass --gt_dir or --gt_counts")


def gt_counts_from_mot(gt_dir: str, frames_dir: str, domain: str, metadata: str | None = None,
                       min_travel: float = MIN_TRAVEL) -> dict[str, dict[str, int]]:
    """Ground-truth counts: the counting rule applied to every `<gt_dir>/<domain>/<clip>/gt.txt`."""
    gt_files = clips_with_file(gt_dir, domain, "gt.txt")
    if not gt_files:
        fail(f"no ground truth: no <clip>/gt.txt under {os.path.join(gt_dir, domain)}")
    meta, _ = resolve_metadata(metadata, frames_dir, domain)
    return {clip: count_mot_file(p, frames_dir, domain, clip, meta.get(clip), min_travel)
            for clip, p in gt_files.items()}


def evaluate_counts(pred: dict[str, dict[str, int]], gt: dict[str, dict[str, int]]) -> dict:
    """nMAE over the GT clips (docs/paper_code_behaviour.md#counting) with per-clip errors; UserError when the GT has
    no fish."""
    try:
        value, errors = nmae(pred, gt)
    except ValueError as exc:
        fail(f"{exc}; nMAE undefined")
    return {"nMAE": value, "errors": errors, "gt_fish": sum(g["left"] + g["right"] for g in gt.values()),
            "clips_without_prediction": sorted(set(gt) - set(pred)),
            "clips_without_gt": sorted(set(pred) - set(gt))}
