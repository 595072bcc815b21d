#!/usr/bin/env python
"""Convert CFC22 MOT ground truth + frames into an ultralytics (YOLO) detection dataset
(docs/paper_code_behaviour.md#yolo-conversion).

    python setup/convert_mot_to_yolo.py --mot-dir $GTDIR --frames-dir $ADDED_FRAMES_DIR --output-dir $YOLO_DIR
    python setup/convert_mot_to_yolo.py ... --empty-frame-fraction 0       # the paper's rule: frames with fish only
    python setup/convert_mot_to_yolo.py ... --train-domains kenai-train elwha --test-domains kenai-val

Reads  --mot-dir/<domain>/<clip>/gt.txt (MOT: 1-based frames and pixels) and --frames-dir/<domain>/<clip>/<i>.<ext>.
Writes --output-dir/images/<split>/<domain>-<clip>-<i>.<ext> (symlinks, or copies with --copy),
       --output-dir/labels/<split>/<domain>-<clip>-<i>.txt ("0 xc yc w h", normalised; empty file = no fish),
       --output-dir/data.yaml (train/val/test, nc: 1, names: ['fish']) and conversion.json (settings + counts).
Splits: train = kenai-train, val = kenai-val, test = every other domain under --mot-dir, unless the flags say otherwise.
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common.cli import ArgumentParser, fail, run_cli  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    from downstream.yolo.flags import add_conversion_flags

    p = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_conversion_flags(p)
    p.add_argument("--empty-frame-fraction", type=float, default=1.0,
                   help="fraction of train frames without fish kept as negatives (1 = all; 0 = the paper's rule); "
                        "val/test always keep every frame")
    p.add_argument("--seed", type=int, default=0, help="seed of the deterministic empty-frame subsample")
    p.add_argument("--copy", action="store_true", help="copy the images instead of symlinking them")
    p.add_argument("--overwrite", action="store_true", help="rebuild an existing dataset in --output-dir")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from downstream.yolo.convert import convert_mot_to_yolo

    if not 0.0 <= args.empty_frame_fraction <= 1.0:
        fail(f"--empty-frame-fraction must be between 0 and 1, got {args.empty_frame_fraction}")
    summary = convert_mot_to_yolo(args.mot_dir, args.frames_dir, args.output_dir, args.train_domains,
                                  args.val_domains, args.test_domains, args.empty_frame_fraction, args.seed,
                                  args.copy, args.overwrite, progress=not args.quiet)
    for split, s in summary.get("splits", {}).items():
        print(f"{split}: {', '.join(s['domains'])}: {s['clips']} clips, {s['images']} images "
              f"({s['empty_images']} without fish), {s['boxes']} boxes")
    print(f"wrote {os.path.join(args.output_dir, 'data.yaml')}")
    return 0


if __name__ == "__main__":
    run_cli(main)
