"""Evaluate fish counts: nMAE against ground truth (CFC22, docs/paper_code_behaviour.md#counting; docs/tracking.md).

Usage (README):
    python eval_count.py --dataset kenai-val --frames_dir $ADDED_FRAMES_DIR --track_dir $RESULTS_DIR | grep nMAE
    python eval_count.py ... --gt_dir /path/to/CFC22/annotations_mot     # count the GT tracks with the same rule
    python eval_count.py ... --gt_counts /path/to/counts/kenai-val.json  # or compare with a counts file

Reads   <track_dir>/<dataset>/counts.json (written by count.py)
Ground truth (first found): --gt_counts, --gt_dir, else annotations_mot/<dataset>/ then counts/<dataset>.json
        searched in --frames_dir, --track_dir and up to 3 of their parents.
Prints  per-clip errors and `nMAE: x.xxx` = sum_clips(|dleft| + |dright|) / sum_clips(gt_left + gt_right)
        (a fraction; the paper reports it in %). Writes <track_dir>/<dataset>/metrics_count.json.
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common.cli import ArgumentParser, fail, require_dir, require_file, run_cli  # noqa: E402
from count import add_count_flags, check_count_flags  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_count_flags(p, "results root holding <dataset>/counts.json (from count.py)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--gt_dir", default=None, help="annotations_mot root: <gt_dir>/<dataset>/<clip>/gt.txt is counted")
    g.add_argument("--gt_counts", default=None, help="ground-truth counts JSON {clip: {left, right}}")
    return p.parse_args(argv)


def main() -> int:
    a = parse_args()
    check_count_flags(a)
    from common.atomic import write_json
    from downstream.tracking.stages import (COUNT_JSON, COUNTS, evaluate_counts, find_gt_counts_source,
                                            gt_counts_from_mot, load_counts)

    pred_path = os.path.join(a.track_dir, a.dataset, COUNTS)
    if not os.path.isfile(pred_path):
        fail(f"no predicted counts: {pred_path} does not exist (run count.py first)")
    pred = load_counts(pred_path)
    kind, source = (("gt_counts", a.gt_counts) if a.gt_counts else ("gt_dir", a.gt_dir) if a.gt_dir
                    else find_gt_counts_source(a.frames_dir, a.track_dir, a.dataset))
    if kind == "gt_counts":
        gt = load_counts(require_file(source, "ground-truth counts (--gt_counts)"))
    else:
        gt = gt_counts_from_mot(require_dir(source, "annotations root (--gt_dir)"), a.frames_dir, a.dataset,
                                a.metadata, a.min_travel)
    r = evaluate_counts(pred, gt)
    print(f"ground truth: {source}")
    print(f"{'clip':<24}{'pred L/R':>10}{'gt L/R':>10}{'error':>7}")
    for clip, err in r["errors"].items():
        p, g = pred.get(clip, {"left": 0, "right": 0}), gt[clip]
        print(f"{clip:<24}{p['left']:>5}/{p['right']:<4}{g['left']:>5}/{g['right']:<4}{err:>7}")
    if r["clips_without_prediction"]:
        print(f"note: GT clip(s) without predicted counts (counted as 0): {', '.join(r['clips_without_prediction'])}",
              file=sys.stderr)
    if r["clips_without_gt"]:
        print(f"note: predicted clip(s) without GT left out: {', '.join(r['clips_without_gt'])}", file=sys.stderr)
    write_json(os.path.join(a.track_dir, a.dataset, COUNT_JSON), {**r, "dataset": a.dataset, "ground_truth": source})
    print(f"nMAE: {r['nMAE']:.3f}  ({sum(r['errors'].values())} count errors / {r['gt_fish']} GT fish "
          f"over {len(r['errors'])} clip(s))")
    return 0


if __name__ == "__main__":
    run_cli(main)
