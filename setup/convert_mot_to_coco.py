#!/usr/bin/env python
"""Convert CFC22 MOT ground truth into COCO detection json files (one per domain and one per split).

    python setup/convert_mot_to_coco.py --mot-dir $GTDIR --frames-dir $FRAMES_DIR/raw --output-dir $COCO_DIR

Reads  --mot-dir/<domain>/<clip>/gt.txt (MOT: 1-based frames and pixels) and --frames-dir/<domain>/<clip>/<i>.<ext>.
Writes --output-dir/<domain>.json and --output-dir/{train,val,test}.json: one image per frame (every frame, with
or without fish; file_name relative to --frames-dir), bbox = [x, y, w, h] in 0-based pixels, category 1 = fish.
Splits as in convert_mot_to_yolo.py (train = kenai-train, val = kenai-val, test = the other domains).
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common.cli import ArgumentParser, run_cli  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    from downstream.yolo.flags import add_conversion_flags

    p = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_conversion_flags(p)
    p.add_argument("--overwrite", action="store_true", help="rewrite json files that already exist")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from downstream.yolo.convert import convert_mot_to_coco

    summary = convert_mot_to_coco(args.mot_dir, args.frames_dir, args.output_dir, args.train_domains,
                                  args.val_domains, args.test_domains, args.overwrite)
    for name, s in summary.items():
        print(f"wrote {os.path.join(args.output_dir, name + '.json')}: {s['images']} images, "
              f"{s['annotations']} boxes")
    return 0


if __name__ == "__main__":
    run_cli(main)
