#!/usr/bin/env python
"""Convert TIFF frames (e.g. 16-bit microscopy) to 8-bit JPEGs, min-max normalised per image
(the paper's convert_tiff_to_jpg.py, docs/paper_code_behaviour.md#setup-scripts).

    python setup/convert_tiff_to_jpg.py --input_dir Data/Fluo/train --output_dir Data/Fluo_jpg/train

Every folder holding .tif/.tiff files (any depth) is mirrored under --output_dir with <stem>.jpg files. Values are
read at their native bit depth, so a 16-bit image using a small part of its range still fills 0..255. Output is
single-channel (the paper converted to RGB first, which only triplicated the gray channel). A constant image
becomes black. Existing outputs are skipped.
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common.cli import ArgumentParser, run_cli  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    p = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--input_dir", required=True, help="folder (tree) of TIFF files")
    p.add_argument("--output_dir", required=True, help="output root, mirrors the input tree")
    p.add_argument("--quality", type=int, default=100, help="JPEG quality 1-100 (paper default 100)")
    p.add_argument("--overwrite", action="store_true", help="rewrite JPEGs that already exist")
    return p.parse_args(argv)


def main() -> int:
    a = parse_args()
    from tqdm import tqdm

    from common.cli import check_not_inside, fail
    from common.imaging import to_uint8
    from dataset.clip_tree import read_native, with_ext
    from dataset.clips import find_clips
    from dataset.frames import TIFF_EXTS, write_frame

    if not 1 <= a.quality <= 100:
        fail(f"--quality must be 1..100, got {a.quality}")
    check_not_inside(a.output_dir, a.input_dir)
    written = skipped = 0
    for clip in tqdm(find_clips(a.input_dir, exts=TIFF_EXTS, videos=False, stacks=False), desc="folders",
                     unit="folder"):
        for path, name in zip(clip.frame_paths, clip.frame_names):
            out = os.path.join(clip.out_dir(a.output_dir), with_ext(name, ".jpg"))
            if os.path.exists(out) and not a.overwrite:
                skipped += 1
                continue
            write_frame(out, to_uint8(read_native(path)), a.quality)
            written += 1
    print(f"{written} JPEG(s) written, {skipped} already done -> {a.output_dir}")
    return 0


if __name__ == "__main__":
    run_cli(main)
