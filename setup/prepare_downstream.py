#!/usr/bin/env python
"""Put prepared frames or videos where a third-party downstream model expects them, keeping the originals
(the README's BUV "move the frames" and POCUS "replace the videos" steps, done safely).

    python setup/prepare_downstream.py swap --target CVA-Net/miccai_buv/rawframes --replacement CVA-Net/miccai_buv/rawframes_median_denoised_2_ch
    python setup/prepare_downstream.py swap --target covid19_ultrasound/data/pocus_videos/convex --replacement VIDEOS/convex_median_denoised_2_ch
    python setup/prepare_downstream.py swap --undo --target ... --replacement ...     # restore the originals
    python setup/prepare_downstream.py swap --dry-run --target ... --replacement ...  # print the moves only

swap: <target> is renamed to <target>_baseline (refused if that already exists, so a second swap cannot lose the
originals), then <replacement> is renamed to <target>. --undo reverses both moves. Nothing is deleted (the
README's `rm -rf` of the original videos is not needed).
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common.cli import ArgumentParser, run_cli  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    p = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("swap", help="swap a prepared folder in place of the one a downstream model reads")
    s.add_argument("--target", required=True, help="folder the downstream model reads (kept as <target>_baseline)")
    s.add_argument("--replacement", required=True, help="prepared folder to put in its place")
    s.add_argument("--undo", action="store_true", help="move things back: target → replacement, _baseline → target")
    s.add_argument("--dry-run", dest="dry_run", action="store_true", help="print the moves only")
    return p.parse_args(argv)


def main() -> int:
    a = parse_args()
    from dataset.folder_swap import swap_back, swap_in

    steps = (swap_back if a.undo else swap_in)(a.target, a.replacement, dry_run=a.dry_run)
    for step in steps:
        print(("would run: " if a.dry_run else "done: ") + step)
    return 0


if __name__ == "__main__":
    run_cli(main)
