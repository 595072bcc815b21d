#!/usr/bin/env python
"""Classical video filters over every clip of a frame tree: the median/mean/Gaussian denoising baselines and the
median-filtered inputs SAVeD trains on for BUV, POCUS and Fluo (docs/paper_code_behaviour.md#setup-scripts and
#baselines).

    python setup/classical_filter_frames.py --frames-dir Data/CFC22/frames/raw --output-dir Data/CFC22/frames/raw_median --filter-type median
    python setup/classical_filter_frames.py --dataset CVA --frames-dir miccai_buv/rawframes --output-dir miccai_buv/rawframes_median --filter-type median
    python setup/classical_filter_frames_Fluo.py --frames-dir Data/Fluo --output-dir Data/Fluo_median --filter-type median

Filters: median = temporal median of 3 frames (reflect); mean = 3×3×3 box; gaussian = σ=(1,1,1) over (t, y, x),
reflect. CFC22/CVA/POCUS: then min-max over the clip and per frame → uint8, written as 3 equal channels (JPEG at
quality 95 or PNG, same name as the input). Fluo: no normalisation, single-channel uint8 (16-bit sources are
min-max scaled per clip to 8 bits first). Output tree and frame names = the input's, as denoise.py writes them.
Clips are found at any depth; finished clips are skipped (--overwrite redoes them).
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common.cli import ArgumentParser, run_cli  # noqa: E402

DATASETS = ("CFC22", "CVA", "POCUS", "Fluo")


def parse_args(argv=None, dataset: str | None = None, filter_type: str | None = None) -> argparse.Namespace:
    p = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--frames-dir", "--input-dir", dest="frames_dir", required=True,
                   help="input tree: <domain>/<clip>/<frames> (any depth; a single clip folder works too)")
    p.add_argument("--output-dir", dest="output_dir", required=True,
                   help="output root (mirrors the input tree; must not be inside it)")
    if filter_type is None:
        p.add_argument("--filter-type", dest="filter_type", required=True,
                       choices=["median", "mean", "gaussian"], help="which classical filter to apply")
    if dataset is None:
        p.add_argument("--dataset", default="CFC22", choices=DATASETS,
                       help="CFC22/CVA/POCUS: normalised 3-channel output; Fluo: single-channel, not normalised")
    p.add_argument("--jpeg-quality", type=int, default=95, help="quality of JPEG outputs (the paper used 95)")
    p.add_argument("--overwrite", action="store_true", help="recompute clips whose outputs already exist")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    a = p.parse_args(argv)
    if dataset is not None:
        a.dataset = dataset
    if filter_type is not None:
        a.filter_type = filter_type
    return a


def main(dataset: str | None = None, filter_type: str | None = None) -> int:
    a = parse_args(dataset=dataset, filter_type=filter_type)
    import numpy as np

    from common.imaging import to_uint8
    from dataset.clip_tree import map_clips, read_native, stack_frames
    from dataset.filters import filter_clip

    if a.dataset == "Fluo":
        def native_uint8(paths):
            arr = stack_frames(paths, read_native)
            return arr if arr.dtype == np.uint8 else to_uint8(arr)  # 16-bit: one stretch over the clip

        stats = map_clips(a.frames_dir, a.output_dir, lambda f: filter_clip(f, a.filter_type, normalize=False),
                          overwrite=a.overwrite, desc=f"{a.filter_type} filter", reader=native_uint8,
                          jpeg_quality=a.jpeg_quality, progress=not a.quiet)
    else:
        def three_channels(frames):
            return np.repeat(filter_clip(frames, a.filter_type)[..., None], 3, axis=-1)

        stats = map_clips(a.frames_dir, a.output_dir, three_channels, overwrite=a.overwrite,
                          desc=f"{a.filter_type} filter", jpeg_quality=a.jpeg_quality, progress=not a.quiet)
    print(f"{a.filter_type} filter ({a.dataset}): {stats['written']} clip(s) written, {stats['skipped']} already done "
          f"-> {a.output_dir}")
    return 0


if __name__ == "__main__":
    run_cli(main)
