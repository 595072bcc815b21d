#!/usr/bin/env python
"""Stack three parallel frame trees into 3-channel images (the paper's add_denoised_3_ch.py,
docs/paper_code_behaviour.md#setup-scripts).

    python setup/add_denoised_3_ch.py --channel1 Data/CFC22/frames/raw_bs --channel2 DENOISED --channel3 Data/CFC22/frames/raw_median \
        --added_imgs Data/CFC22/frames_3_ch

Channel order (OpenCV/BGR, as the paper): [channel1, channel2, channel3], i.e. read as RGB R = channel3,
G = channel2, B = channel1 (dataset.channel_merge.THREE_CHANNEL_LAYOUT). --channel1 is the reference tree: its clip
folders and frame names define the outputs. Frames missing from channel 2 or 3 are an error unless
--allow-missing, which uses channel 1 in their place (the paper's fallback). Existing outputs are skipped.
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from add_denoised_to_raw_2_ch import ArgumentParser, add_common_flags, run_cli  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    p = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for i in (1, 2, 3):
        p.add_argument(f"--channel{i}", required=True, help=f"frames for channel {i} (BGR order)"
                       + ("; the reference tree" if i == 1 else ""))
    p.add_argument("--added_imgs", required=True, help="output root for the 3-channel frames")
    add_common_flags(p)
    return p.parse_args(argv)


def main() -> int:
    a = parse_args()
    from dataset.channel_merge import THREE_CHANNEL_LAYOUT, merge_channel_trees

    stats = merge_channel_trees([a.channel1, a.channel2, a.channel3], THREE_CHANNEL_LAYOUT, a.added_imgs,
                                allow_missing=a.allow_missing, overwrite=a.overwrite, jpeg_quality=a.jpeg_quality,
                                names=["--channel1", "--channel2", "--channel3"], progress=not a.quiet)
    print(f"merged {stats['written']} frame(s), {stats['skipped']} already done, {stats['fallbacks']} fallback(s) "
          f"-> {a.added_imgs}")
    return 0


if __name__ == "__main__":
    run_cli(main)
