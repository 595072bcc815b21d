"""Count fish crossing the frame centre from tracks (CFC22 rule, docs/paper_code_behaviour.md#counting;
docs/tracking.md).

Usage (README):
    python count.py --dataset kenai-val --frames_dir $ADDED_FRAMES_DIR --track_dir $RESULTS_DIR

Reads   <track_dir>/<dataset>/<clip>/tracks.txt; the frame width from <frames_dir>/<dataset>/<clip>/ (first frame)
        or the metadata; the metadata (annotations/<dataset>.json: upstream_direction, width) from --metadata or,
        by default, found in --frames_dir or its parents (CFC22/annotations/ for CFC22/frames_with_denoised).
Writes  <track_dir>/<dataset>/counts.json = {clip: {"left": n, "right": n, "upstream"?: n, "downstream"?: n}}
A track counts "right" when its first box centre is left of the middle and its last at or right of it, "left"
for the reverse; tracks moving less than --min_travel of the width are not counted.
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common.cli import ArgumentParser, fail, require_dir, run_cli  # noqa: E402


def add_count_flags(p: argparse.ArgumentParser, track_help: str) -> None:
    """Flags shared with eval_count.py (which counts the GT with the same rule)."""
    p.add_argument("--dataset", required=True, help="domain (sub-folder) to count, e.g. kenai-val")
    p.add_argument("--frames_dir", required=True, help="frames root <dataset>/<clip>/<i>.jpg; gives the frame width")
    p.add_argument("--track_dir", required=True, help=track_help)
    p.add_argument("--metadata", default=None,
                   help="annotations/<dataset>.json with upstream_direction/width per clip; "
                        "default: searched in --frames_dir and up to 3 parent folders")
    p.add_argument("--min_travel", type=float, default=0.05,
                   help="ignore tracks whose first-to-last centre shift is below this fraction of the width (CFC 0.05)")


def check_count_flags(a: argparse.Namespace) -> None:
    if not 0.0 <= a.min_travel < 1.0:
        fail(f"--min_travel must be within [0, 1), got {a.min_travel}")
    require_dir(a.frames_dir, "frames dir (--frames_dir)")
    require_dir(a.track_dir, "track dir (--track_dir)")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_count_flags(p, "results root holding <dataset>/<clip>/tracks.txt; counts.json is written in <dataset>/")
    return p.parse_args(argv)


def main() -> int:
    a = parse_args()
    check_count_flags(a)
    from downstream.tracking.stages import COUNTS, count_domain

    counts, meta_path = count_domain(a.track_dir, a.frames_dir, a.dataset, a.metadata, a.min_travel)
    for clip, c in counts.items():
        extra = f"  upstream {c['upstream']:>3}  downstream {c['downstream']:>3}" if "upstream" in c else ""
        print(f"{clip:<24} left {c['left']:>3}  right {c['right']:>3}{extra}")
    left = sum(c["left"] for c in counts.values())
    right = sum(c["right"] for c in counts.values())
    print(f"{a.dataset}: {len(counts)} clip(s), {left + right} fish: left {left}, right {right}"
          + (f" (directions from {meta_path})" if meta_path else " (no metadata: no upstream/downstream)"))
    print(f"wrote {os.path.join(a.track_dir, a.dataset, COUNTS)}")
    return 0


if __name__ == "__main__":
    run_cli(main)
