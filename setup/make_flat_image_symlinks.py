#!/usr/bin/env python
"""One flat folder of per-image symlinks, <out>/<clip><sep><file> (the paper's make_flat_image_symlinks.py,
docs/paper_code_behaviour.md#setup-scripts; the single-image input N2V trains on).

    python setup/make_flat_image_symlinks.py --input_dir Data/CFC22/frames/raw_all --output_dir Data/CFC22/frames/raw_flat_images

Clips are found at any depth (symlinked clip folders included); a nested clip path joins its levels with the
separator ("_" as the paper). Targets are absolute; existing correct links are kept, broken ones repaired.
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common.cli import ArgumentParser, run_cli  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    p = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--input_dir", required=True, help="folder of clip folders (or a deeper tree)")
    p.add_argument("--output_dir", required=True, help="flat output folder of image symlinks")
    p.add_argument("--separator", default="_", help="joins clip path and file name (paper: _)")
    return p.parse_args(argv)


def main() -> int:
    a = parse_args()
    from tqdm import tqdm

    from common.cli import check_not_inside, fail
    from dataset.clips import find_clips
    from dataset.symlinks import flat_name, link_path

    check_not_inside(a.output_dir, a.input_dir)
    stats = {"created": 0, "kept": 0, "repaired": 0}
    seen: dict[str, str] = {}
    for clip in tqdm(find_clips(a.input_dir, videos=False, stacks=False), desc="linking", unit="clip"):
        for path, name in zip(clip.frame_paths, clip.frame_names):
            flat = flat_name(f"{clip.name}/{name}", a.separator) if clip.name else name
            if flat in seen:
                fail(f"{path} and {seen[flat]} flatten to the same name {flat!r}; choose another --separator")
            seen[flat] = path
            stats[link_path(path, os.path.join(a.output_dir, flat))] += 1
    print(f"{len(seen)} image links in {a.output_dir} ({stats['created']} new, {stats['repaired']} repaired, "
          f"{stats['kept']} kept)")
    return 0


if __name__ == "__main__":
    run_cli(main)
