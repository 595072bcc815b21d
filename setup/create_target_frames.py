#!/usr/bin/env python
"""Write the self-supervised training targets as images, for looking at what the denoiser is asked to predict
(the paper's create_target_frames.py, docs/paper_code_behaviour.md#setup-scripts; the targets themselves come from
dataset/targets.py).

    python setup/create_target_frames.py --frames_dir Data/CFC22/frames/raw --output_dir Data/CFC22/frames/targets_gap1 \
        --domain kenai-val --target gap1_and_curr_frame

For every frame t the window f_{t-2..t+2} is built with the clip's first/last frame replicated at its edges (the
project's windowing; the paper's script zero-filled the missing differences). Targets needing the background use the
clip's global background B (docs/paper_code_behaviour.md#global-background). Values are mapped to uint8 without
wrap-around (the paper did the
arithmetic in uint8, docs/paper_code_behaviour.md#defect-9-15-uint8-wrap-around): --scaling clip-minmax (default) maps
the clip's min..max to 0..255 with one scale for
the whole clip; --scaling clip keeps 0..1 → 0..255 and clips outside. Same tree and names as the input.
The paper's names stddev_5, sum_minus_5b and sum_minus_3b are accepted.
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common.cli import ArgumentParser, run_cli  # noqa: E402

PAPER_NAMES = {"stddev_5": "stddev_all", "sum_minus_5b": "sum_minus_5_background",
               "sum_minus_3b": "sum_minus_3_background"}


def parse_args(argv=None) -> argparse.Namespace:
    p = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--frames_dir", required=True, help="frame tree <domain>/<clip>/<frames>")
    p.add_argument("--output_dir", required=True, help="output root (mirrors the input tree)")
    p.add_argument("--domain", default=None, help="only this domain (sub-folder of --frames_dir); default: all")
    p.add_argument("--target", required=True, help="a dataset/targets.py name, e.g. gap1_and_curr_frame")
    p.add_argument("--scaling", default="clip-minmax", choices=["clip-minmax", "clip"],
                   help="float → uint8 mapping (see above)")
    p.add_argument("--paper-frame5", action="store_true",
                   help="reproduce the paper's training-time frame5 = f_t bug (see docs/paper_code_behaviour.md)")
    p.add_argument("--overwrite", action="store_true", help="recompute clips whose outputs already exist")
    return p.parse_args(argv)


def target_clip(frames, name: str, paper: bool = False):
    """Target `name` for every frame of a uint8 T×H×W clip, as float32 T×H×W (edge frames replicated)."""
    import numpy as np
    import torch

    from dataset.targets import get_target, make_target
    from dataset.windows import clip_background

    n = len(frames)
    unit = torch.from_numpy(np.ascontiguousarray(frames)).float().div(255.0).unsqueeze(1)  # T×1×H×W
    window = {o: unit[np.clip(np.arange(n) + o, 0, n - 1)] for o in range(-2, 3)}
    bg = None
    if get_target(name).needs_background:
        bg = torch.from_numpy(clip_background(frames)).float().div(255.0)[None, None].expand(n, 1, -1, -1)
    with torch.no_grad():
        return make_target(name, window, bg, paper=paper)[:, 0].numpy().astype(np.float32)


def scale_to_uint8(x, scaling: str):
    """clip-minmax: one min-max stretch over the whole clip; clip: 0..1 → 0..255, clipped (both rounded)."""
    from common.imaging import to_uint8

    return to_uint8(x) if scaling == "clip-minmax" else to_uint8(x, 0.0, 1.0)


def main() -> int:
    a = parse_args()
    from common.cli import require_dir
    from dataset.clip_tree import map_clips
    from dataset.targets import get_target

    name = PAPER_NAMES.get(a.target, a.target)
    get_target(name)  # unknown name → one-line error listing the valid ones
    src = require_dir(os.path.join(a.frames_dir, a.domain) if a.domain else a.frames_dir, "frames folder")
    out = os.path.join(a.output_dir, a.domain) if a.domain else a.output_dir
    stats = map_clips(src, out, lambda f: scale_to_uint8(target_clip(f, name, a.paper_frame5), a.scaling),
                      overwrite=a.overwrite, desc=name)
    print(f"target {name}: {stats['written']} clip(s) written, {stats['skipped']} already done -> {out}")
    return 0


if __name__ == "__main__":
    run_cli(main)
