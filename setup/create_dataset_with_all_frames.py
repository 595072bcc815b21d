#!/usr/bin/env python
"""Flatten a <domain>/<clip> frame tree (and its annotations) into one folder of symlinks, the training input
(the paper's create_dataset_with_all_frames.py, docs/paper_code_behaviour.md#cfc22-layout and #setup-scripts; README
"Your own dataset" step 2).

    python setup/create_dataset_with_all_frames.py --frames_dir Data/CFC22/frames/raw --frames_output_dir Data/CFC22/frames/raw_all \
        --annotations_dir Data/CFC22/annotations_mot --annotations_output_dir Data/CFC22/annotations_mot_all
    python setup/create_dataset_with_all_frames.py --frames_dir dataset_name --frames_output_dir dataset_name_flat

Each clip folder <domain>/<clip> becomes the symlink <out>/<domain><sep><clip> with an absolute target (deeper
trees join every level with <sep>). The separator defaults to "-" (the synthetic benchmark and the README's
custom example); the paper's script used "_" (--separator _). Annotation folders holding gt.txt are linked the
same way, so frame and annotation names stay paired. Existing correct links are kept, broken or stale ones
repaired; a real file or folder in the way is an error. Safe to re-run.
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common.cli import ArgumentParser, run_cli  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    p = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--frames_dir", required=True, help="frame tree <domain>/<clip>/<frames>")
    p.add_argument("--frames_output_dir", required=True,
                   help="flat output folder of clip symlinks (conventionally <frames_dir>_all or dataset_name_flat)")
    p.add_argument("--annotations_dir", default=None,
                   help="optional annotation tree <domain>/<clip>/gt.txt to flatten the same way")
    p.add_argument("--annotations_output_dir", default=None,
                   help="flat output folder for the annotations (required with --annotations_dir)")
    p.add_argument("--separator", default="-", help='joins <domain> and <clip> in flat names (paper: "_")')
    p.add_argument("--exclude", nargs="*", default=[],
                   help="top-level folders of --frames_dir to leave out (e.g. clean annotations_mot)")
    return p.parse_args(argv)


def main() -> int:
    a = parse_args()
    from common.cli import fail, require_dir
    from dataset.clips import find_clips, walk_tree
    from dataset.symlinks import flatten_dirs

    if not a.separator or os.sep in a.separator:
        fail(f"--separator must be a non-empty string without {os.sep!r}")
    require_dir(a.frames_dir, "--frames_dir")
    rels = [c.name for c in find_clips(a.frames_dir, videos=False, stacks=False)
            if c.name.split("/")[0] not in set(a.exclude)]
    stats = flatten_dirs(a.frames_dir, a.frames_output_dir, rels, a.separator)
    print(f"frames: {sum(stats.values())} clip links in {a.frames_output_dir} "
          f"({stats['created']} new, {stats['repaired']} repaired, {stats['kept']} kept)")
    if a.annotations_dir:
        if not a.annotations_output_dir:
            fail("--annotations_dir needs --annotations_output_dir")
        require_dir(a.annotations_dir, "--annotations_dir")
        rels = [rel for _, rel, files in walk_tree(a.annotations_dir) if "gt.txt" in files]
        if not rels:
            fail(f"no <clip>/gt.txt found under {a.annotations_dir}")
        stats = flatten_dirs(a.annotations_dir, a.annotations_output_dir, rels, a.separator)
        print(f"annotations: {sum(stats.values())} clip links in {a.annotations_output_dir} "
              f"({stats['created']} new, {stats['repaired']} repaired, {stats['kept']} kept)")
    elif a.annotations_output_dir:
        fail("--annotations_output_dir needs --annotations_dir")
    return 0


if __name__ == "__main__":
    run_cli(main)
