"""Track fish: per-frame detections → tracks, one clip at a time (docs/paper_code_behaviour.md#tracking;
docs/tracking.md).

Usage (README):
    python track.py --dataset kenai-val --frames_dir $ADDED_FRAMES_DIR --detections_dir $RESULTS_DIR
    python track.py --dataset kenai-val --frames_dir ... --detections_dir ... --tracker sort --min_hits 5

Reads   <detections_dir>/<dataset>/<clip>/preds.txt   (frame,det_id,left,top,w,h,conf,-1,-1,-1; 1-based)
Writes  <detections_dir>/<dataset>/<clip>/tracks.txt  (frame,track_id,left,top,w,h,conf,-1,-1,-1)
The frame count comes from <frames_dir>/<dataset>/<clip>/ (so trailing empty frames still age tracks).
Clips that already have tracks.txt are skipped (resume); --overwrite redoes them.
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common.cli import ArgumentParser, fail, require_dir, run_cli  # noqa: E402

TRACKER_NAMES = ("bytetrack", "sort", "paper_bytetrack")  # downstream.tracking.TRACKERS (kept import-free here)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", required=True, help="domain (sub-folder) to track, e.g. kenai-val, elwha")
    p.add_argument("--frames_dir", required=True,
                   help="frames root holding <dataset>/<clip>/<i>.jpg|png; gives each clip's frame count")
    p.add_argument("--detections_dir", required=True,
                   help="results root holding <dataset>/<clip>/preds.txt; tracks.txt is written beside it")
    p.add_argument("--tracker", default="bytetrack", choices=TRACKER_NAMES,
                   help="bytetrack: ultralytics' ByteTrack (default); sort: SORT; paper_bytetrack: the paper's "
                        "SORT-based variant, kept to compare with its numbers")
    p.add_argument("--det_thresh", type=float, default=0.1, help="drop detections below this confidence (paper 0.1)")
    p.add_argument("--low_thresh", type=float, default=0.1, help="ByteTrack low-score band starts here (paper 0.1)")
    p.add_argument("--high_thresh", type=float, default=0.3,
                   help="first association and new tracks use detections at or above this (paper 0.3)")
    p.add_argument("--nms_thresh", type=float, default=None,
                   help="optional per-frame NMS IoU before tracking; off by default because detect.py already "
                        "applies NMS at 0.25 (the paper's track.py accepts 0.25 and ignores it)")
    p.add_argument("--max_age", type=int, default=20, help="frames a lost track survives unmatched (paper 20)")
    p.add_argument("--min_hits", type=int, default=11,
                   help="drop tracks matched in fewer frames (paper 11); lower it for short clips")
    p.add_argument("--iou_threshold", type=float, default=0.01, help="minimum detection-track IoU to match (paper 0.01)")
    p.add_argument("--boxes", default="detection", choices=("detection", "kalman"),
                   help="box written per track row: the matched detection (default) or the Kalman estimate (paper)")
    p.add_argument("--metadata", default=None,
                   help="annotations/<dataset>.json (num_frames fallback); default: found upward from --frames_dir")
    p.add_argument("--overwrite", action="store_true", help="re-track clips that already have tracks.txt")
    return p.parse_args(argv)


def check_args(a: argparse.Namespace) -> None:
    for name in ("det_thresh", "low_thresh", "high_thresh", "iou_threshold"):
        if not 0.0 <= getattr(a, name) <= 1.0:
            fail(f"--{name} must be within [0, 1], got {getattr(a, name)}")
    if a.nms_thresh is not None and not 0.0 < a.nms_thresh <= 1.0:
        fail(f"--nms_thresh must be within (0, 1], got {a.nms_thresh}")
    if a.low_thresh > a.high_thresh:
        fail(f"--low_thresh {a.low_thresh} is above --high_thresh {a.high_thresh}")
    if a.min_hits < 1 or a.max_age < 0:
        fail(f"--min_hits must be >= 1 and --max_age >= 0, got {a.min_hits} and {a.max_age}")


def main() -> int:
    a = parse_args()
    check_args(a)
    require_dir(a.frames_dir, "frames dir (--frames_dir)")
    require_dir(a.detections_dir, "detections dir (--detections_dir)")
    from downstream.tracking import TrackerConfig
    from downstream.tracking.stages import track_domain

    cfg = TrackerConfig(det_thresh=a.det_thresh, low_thresh=a.low_thresh, high_thresh=a.high_thresh,
                        max_age=a.max_age, min_hits=a.min_hits, iou_threshold=a.iou_threshold,
                        boxes=a.boxes, nms_thresh=a.nms_thresh)
    s = track_domain(a.detections_dir, a.frames_dir, a.dataset, a.tracker, cfg, a.metadata, a.overwrite)
    for clip, n in s["tracks"].items():
        print(f"{clip}: {n} tracks")
    if s["no_preds"]:
        print(f"note: no preds.txt in {len(s['no_preds'])} clip(s) ({', '.join(s['no_preds'])}): empty tracks.txt written",
              file=sys.stderr)
    msg = f"{a.dataset}: tracked {s['tracked']} clip(s) with {a.tracker}, {sum(s['tracks'].values())} tracks"
    if s["skipped"]:
        msg += f"; skipped {s['skipped']} clip(s) that already had tracks.txt (--overwrite to redo)"
    print(msg)
    return 0


if __name__ == "__main__":
    run_cli(main)
