"""Evaluate tracks against MOT ground truth: HOTA, MOTA, IDF1 via TrackEval
(docs/paper_code_behaviour.md#track-evaluation; docs/tracking.md).

Usage (README):
    python track_eval.py --dataset kenai-val --frames_dir $ADDED_FRAMES_DIR --track_dir $RESULTS_DIR --annos_root $GTDIR

Reads   <track_dir>/<dataset>/<clip>/tracks.txt and <annos_root>/<dataset>/<clip>/gt.txt
Writes  <track_dir>/<dataset>/metrics_track.csv (per clip) and metrics_track.json (per clip, combined, paper way)
Prints TrackEval's combined scores (all clips pooled) and, labelled, the paper's numbers: the unweighted mean
over clips of MOTA and IDF1, and of HOTA at alpha = 0.05 only. Values are fractions (0.474 = 47.4 %).
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common.cli import ArgumentParser, fail, require_dir, run_cli  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", required=True, help="domain (sub-folder) to evaluate, e.g. kenai-val")
    p.add_argument("--frames_dir", required=True, help="frames root <dataset>/<clip>/<i>.jpg; gives frame counts")
    p.add_argument("--track_dir", required=True, help="results root holding <dataset>/<clip>/tracks.txt")
    p.add_argument("--annos_root", required=True, help="annotations_mot root holding <dataset>/<clip>/gt.txt")
    p.add_argument("--threshold", type=float, default=0.5,
                   help="IoU for a match in CLEAR (MOTA) and Identity (IDF1); the paper uses 0.5")
    return p.parse_args(argv)


def main() -> int:
    a = parse_args()
    if not 0.0 < a.threshold <= 1.0:
        fail(f"--threshold must be within (0, 1], got {a.threshold}")
    require_dir(a.frames_dir, "frames dir (--frames_dir)")
    require_dir(a.track_dir, "track dir (--track_dir)")
    require_dir(a.annos_root, "annotations root (--annos_root)")
    from downstream.tracking.stages import TRACK_CSV, TRACK_JSON, evaluate_tracks

    r = evaluate_tracks(a.track_dir, a.frames_dir, a.annos_root, a.dataset, a.threshold)
    print(f"{'clip':<24}{'HOTA':>8}{'MOTA':>8}{'IDF1':>8}{'IDSW':>6}{'FP':>6}{'FN':>6}")
    for clip, c in r["clips"].items():
        print(f"{clip:<24}{c['HOTA']:>8.3f}{c['MOTA']:>8.3f}{c['IDF1']:>8.3f}{c['IDSW']:>6}{c['FP']:>6}{c['FN']:>6}")
    if r["clips_without_tracks"]:
        print(f"note: {len(r['clips_without_tracks'])} GT clip(s) without tracks.txt counted as all misses: "
              f"{', '.join(r['clips_without_tracks'])}", file=sys.stderr)
    if r["clips_without_gt"]:
        print(f"note: {len(r['clips_without_gt'])} tracked clip(s) without gt.txt left out: "
              f"{', '.join(r['clips_without_gt'])}", file=sys.stderr)
    c, p = r["combined"], r["paper_way"]
    n = len(r["clips"])
    print(f"{a.dataset}: {n} clip(s), IoU threshold {a.threshold}")
    print(f"HOTA: {c['HOTA']:.3f}  (TrackEval combined, mean over alpha 0.05..0.95)")
    print(f"MOTA: {c['MOTA']:.3f}  (TrackEval combined)")
    print(f"IDF1: {c['IDF1']:.3f}  (TrackEval combined)")
    print(f"paper-way MOTA: {p['MOTA']:.3f}  (unweighted mean over clips)")
    print(f"paper-way IDF1: {p['IDF1']:.3f}  (unweighted mean over clips)")
    print(f"paper-way HOTA: {p['HOTA_alpha005']:.3f}  (HOTA at alpha=0.05, unweighted mean over clips)")
    out = os.path.join(a.track_dir, a.dataset)
    print(f"wrote {os.path.join(out, TRACK_CSV)} and {TRACK_JSON}")
    return 0


if __name__ == "__main__":
    run_cli(main)
