#!/usr/bin/env python
"""Run the trained fish detector over every clip of a domain and write MOT-format detections
(docs/paper_code_behaviour.md#detector-inference).

    python detect.py --dataset $domain --det_model yolo_train/$EXP_NAME/weights/best.pt \
        --input_dir $ADDED_FRAMES_DIR --output_dir $RESULTS_DIR --gt_dir $GTDIR

Reads  --input_dir/<dataset>/<clip>/<i>.jpg|png (merged 3-channel or single-channel frames).
Writes --output_dir/<dataset>/<clip>/preds.txt: `frame,det_id,left,top,w,h,conf,-1,-1,-1` with 1-based frames
(file index + 1) and 1-based pixels of the original frame; det_id is 1..N within each frame (by confidence).
Defaults follow the CFC "fisheye-advanced" inference settings: confidence 0.05, NMS IoU 0.25, batch 32; the image
size defaults to the training size stored in the weights. Clips that already have preds.txt are skipped
(re-run to resume; --overwrite redoes them). --gt_dir is optional and only used for a summary line.
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common.cli import ArgumentParser, run_cli  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    from downstream.yolo.flags import add_detect_flags

    p = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_detect_flags(p)
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from common.mot import read_mot
    from downstream.yolo.flags import detect_settings
    from downstream.yolo.predict import detect_domain

    outputs = detect_domain(args.input_dir, args.output_dir, args.dataset, detect_settings(args),
                            progress=not args.quiet)
    n_det = sum(len(read_mot(p)) for p in outputs.values())
    line = f"{args.dataset}: {len(outputs)} clips, {n_det} detections in {os.path.join(args.output_dir, args.dataset)}"
    if args.gt_dir:
        gts = [os.path.join(args.gt_dir, args.dataset, c, "gt.txt") for c in outputs]
        n_gt = sum(len(read_mot(p)) for p in gts if os.path.exists(p))
        line += f" (ground truth: {n_gt} boxes in {sum(map(os.path.exists, gts))} annotated clips)"
    print(line)
    return 0


if __name__ == "__main__":
    run_cli(main)
