#!/usr/bin/env python
"""Background-subtracted frames for every clip of a frame tree (the paper's background_subtract_frames.py,
docs/paper_code_behaviour.md#setup-scripts).

    python setup/background_subtract_frames.py --frames-dir Data/CFC22/frames/raw --output-dir Data/CFC22/frames/raw_bs

Per clip: background = temporal mean of the 5×5-Gaussian-blurred frames; D = frame − background; D is scaled by one
max|D| over the clip to [0, 1] with 0.5 = "equals the background"; ×255 → uint8, written as 3 equal channels
under the same name (JPEG quality 95, or PNG for PNG inputs). The input may be a <domain>/<clip> tree, one domain
or one clip. Finished clips are skipped (--overwrite redoes them).
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common.cli import ArgumentParser, run_cli  # noqa: E402


def parse_args(argv=None, doc: str = __doc__) -> argparse.Namespace:
    p = ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--frames-dir", dest="frames_dir", required=True,
                   help="raw frames: <domain>/<clip>/<i>.jpg (a single domain or clip folder works too)")
    p.add_argument("--output-dir", dest="output_dir", required=True,
                   help="output root, mirrors the input tree (must not be inside it)")
    p.add_argument("--ext", default=None, help="output extension, e.g. .png (default: keep the input's)")
    p.add_argument("--jpeg-quality", type=int, default=95, help="quality of JPEG outputs (the paper used 95)")
    p.add_argument("--overwrite", action="store_true", help="recompute clips whose outputs already exist")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p.parse_args(argv)


def main() -> int:
    a = parse_args()
    import numpy as np

    from common.imaging import to_uint8
    from dataset.clip_tree import map_clips
    from dataset.filters import background_subtract

    stats = map_clips(a.frames_dir, a.output_dir,
                      lambda f: np.repeat(to_uint8(background_subtract(f), 0.0, 1.0)[..., None], 3, axis=-1),
                      overwrite=a.overwrite, desc="background subtraction", out_ext=a.ext,
                      jpeg_quality=a.jpeg_quality, progress=not a.quiet)
    print(f"background subtraction: {stats['written']} clip(s) written, {stats['skipped']} already done -> {a.output_dir}")
    return 0


if __name__ == "__main__":
    run_cli(main)
