#!/usr/bin/env python
"""Validate a user's annotated video dataset and build the demo's working tree from it (`demo.sh --data DIR`).

    python setup/check_own_data.py --data /path/to/DIR --out results/mine/data
    python setup/check_own_data.py --data DIR --check-only          # validate only; writes nothing

DIR in the CFC22 layout: frames/raw/<domain>/<clip>/<i>.jpg + annotations_mot/<domain>/<clip>/gt.txt; or the
custom layout: [<domain>/]<clip>/<frames> or [<domain>/]<clip>.mp4 with gt.txt in the clip folder or in
annotations_mot/[<domain>/]<clip>/gt.txt. Optional clean frames: clean/[<domain>/]<clip>/. DIR is only read.
A problem (wrong layout, clip without gt.txt, empty gt.txt, box outside the frame, mixed frame sizes within a
clip) is one line naming the file and exit code 2. The working tree (CFC22 layout, symlinks into DIR; videos
decoded to PNG) goes to --out with own_data.json (roles, missing metrics and why) and roles.txt (for demo.sh).
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common.cli import ArgumentParser, run_cli  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    p = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="the annotated dataset DIR (CFC22 or custom layout); never written")
    p.add_argument("--out", default=None, help="working tree to build (e.g. results/<run>/data); outside DIR")
    p.add_argument("--check-only", action="store_true", help="validate DIR and print the roles; write nothing")
    p.add_argument("--train-domain", default=None, help="domain the detectors train on (default: kenai-train)")
    p.add_argument("--val-domain", default=None, help="domain the detectors validate on (default: kenai-val)")
    p.add_argument("--test-domain", default=None, help="domain of the results table (default: elwha)")
    p.add_argument("--count", default="auto", choices=["auto", "crossings", "none"],
                   help="fish counting by left/right crossings (nMAE) or none (per-frame count MAE); "
                        "auto: crossings when the test domain's ground truth has any")
    p.add_argument("--saved-args", default=None,
                   help="main.py flags of the preset (architecture, --train_resolution): the training size is "
                        "derived from the frame sizes within this budget")
    return p.parse_args(argv)


def main() -> int:
    a = parse_args()
    from common.cli import fail
    from dataset.own_data import assign_roles, check_ground_truth, discover, prepare

    if a.check_only:
        layout, clips = discover(a.data)
        for c in clips:
            check_ground_truth(c)
        roles, split, warnings = assign_roles(clips, a.train_domain, a.val_domain, a.test_domain)
        for w in warnings:
            print(f"warning: {w}", file=sys.stderr)
        print(f"{a.data}: {layout} layout, {len(clips)} clip(s), valid")
        for role, cs in roles.items():
            print(f"{role:<6}{len(cs):>4} clip(s): {', '.join(c.label for c in cs)}")
        return 0
    if not a.out:
        fail("--out is required unless --check-only")
    prepare(a.data, a.out, a.train_domain, a.val_domain, a.test_domain, a.count, a.saved_args)
    return 0


if __name__ == "__main__":
    run_cli(main)
