#!/usr/bin/env python
"""CFC "Baseline++" 3-channel frames [raw, background-subtracted, |BS_{t+1} − BS_t|] for every clip
(the paper's make_background_subtracted_frame_to_frame_difference_frames.py,
docs/paper_code_behaviour.md#setup-scripts, which had hard-coded paths and no CLI).

    python setup/make_baseline_plus_plus.py --frames-dir Data/CFC22/frames/raw --output-dir Data/CFC22/frames/raw_bspp

Channel order, as RGB (what PIL, ultralytics and image viewers show): R = raw frame, G = background-subtracted frame
(0.5 = background, as background_subtract_frames.py), B = |BS_{t+1} − BS_t| (the last frame reuses the previous
difference). Same tree and names as the input; JPEG quality 95 for .jpg inputs. Finished clips are skipped.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from background_subtract_frames import parse_args, run_cli  # noqa: E402


def main() -> int:
    a = parse_args(doc=__doc__)
    from dataset.filters import baseline_plus_plus
    from dataset.clip_tree import map_clips

    # baseline_plus_plus returns RGB; OpenCV writes BGR, so reverse the channel axis.
    stats = map_clips(a.frames_dir, a.output_dir, lambda f: baseline_plus_plus(f)[..., ::-1], overwrite=a.overwrite,
                      desc="Baseline++", out_ext=a.ext, jpeg_quality=a.jpeg_quality, progress=not a.quiet)
    print(f"Baseline++: {stats['written']} clip(s) written, {stats['skipped']} already done -> {a.output_dir}")
    return 0


if __name__ == "__main__":
    run_cli(main)
