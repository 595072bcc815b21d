#!/usr/bin/env python
"""Merge denoised frames with raw (or background-subtracted / median-filtered) frames into 3-channel images
(the paper's add_denoised_to_raw_2_ch.py, docs/paper_code_behaviour.md#setup-scripts; the detector / downstream input).

    python setup/add_denoised_to_raw_2_ch.py --denoised_imgs RESULTS/frames/RUN/kenai-val \
        --raw_imgs Data/CFC22/frames/raw_bs/kenai-val --added_imgs Data/CFC22/frames_with_denoised/kenai-val

Channel order (OpenCV/BGR, as the paper): [raw, denoised, denoised]; read as RGB that is R = denoised,
G = denoised, B = raw (constant dataset.channel_merge.TWO_CHANNEL_LAYOUT). For CFC22 the "raw" input is frames/raw_bs, so
the detector sees [BS, SAVeD, SAVeD]. Every clip folder under --raw_imgs (any depth, or --raw_imgs itself if it
holds frames) is matched with the same relative folder under --denoised_imgs, frame by frame (same stem, e.g.
3.jpg ↔ 3.png, else same frame number). Output names and extension = the raw frame's (JPEG quality 95).
A missing denoised frame is an error listing what is missing; --allow-missing falls back to the raw frame as the
paper did. Denoised frames of another size are resized to the raw size. Existing outputs are skipped.
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common.cli import ArgumentParser, run_cli  # noqa: E402


def add_common_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--allow-missing", dest="allow_missing", action="store_true",
                   help="fall back to the first source for frames another source lacks (the paper's silent copy)")
    p.add_argument("--jpeg-quality", type=int, default=95, help="quality of JPEG outputs (OpenCV's default, 95)")
    p.add_argument("--overwrite", action="store_true", help="rewrite outputs that already exist")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def parse_args(argv=None) -> argparse.Namespace:
    p = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--denoised_imgs", required=True, help="denoised frames (same tree as --raw_imgs)")
    p.add_argument("--raw_imgs", required=True,
                   help="reference frames: clip folders (or one clip); raw_bs for CFC22, median-filtered for BUV/POCUS")
    p.add_argument("--added_imgs", required=True, help="output root for the merged 3-channel frames")
    add_common_flags(p)
    return p.parse_args(argv)


def main() -> int:
    a = parse_args()
    from dataset.channel_merge import TWO_CHANNEL_LAYOUT, merge_channel_trees

    stats = merge_channel_trees([a.raw_imgs, a.denoised_imgs], TWO_CHANNEL_LAYOUT, a.added_imgs,
                                allow_missing=a.allow_missing, overwrite=a.overwrite, jpeg_quality=a.jpeg_quality,
                                names=["--raw_imgs", "--denoised_imgs"], progress=not a.quiet)
    print(f"merged {stats['written']} frame(s) [raw, denoised, denoised] (BGR), {stats['skipped']} already done, "
          f"{stats['fallbacks']} fallback(s) -> {a.added_imgs}")
    return 0


if __name__ == "__main__":
    run_cli(main)
