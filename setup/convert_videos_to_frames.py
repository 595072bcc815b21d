#!/usr/bin/env python
"""Decode every video of a folder into one frame folder per video (the paper's convert_videos_to_frames.py,
docs/paper_code_behaviour.md#pocus-layout and #setup-scripts).

    python setup/convert_videos_to_frames.py --video_dir covid19_ultrasound/data/pocus_videos/convex \
        --frames_dir covid19_ultrasound/data/pocus_videos_frames/convex

<video_dir>/<name>.<ext> becomes <frames_dir>/<name>.<ext>/frame_0000.png, frame_0001.png, ... (the folder keeps
the video's extension, as the paper, so convert_frames_to_videos.py can restore the container). Videos in
sub-folders keep their sub-folder. Frames are written as 8-bit grayscale PNG (the denoiser's input). A video's
folder appears only once all its frames are written, so an interrupted run resumes by skipping finished videos.
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common.cli import ArgumentParser, run_cli  # noqa: E402

READABLE = (".mp4", ".avi", ".mov", ".mkv", ".mpg", ".mpeg", ".wmv", ".m4v", ".gif")


def parse_args(argv=None) -> argparse.Namespace:
    p = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--video_dir", required=True, help="folder of videos (sub-folders are walked)")
    p.add_argument("--frames_dir", "--output-dir", dest="frames_dir", required=True,
                   help="output root: one <video name with extension>/ folder of frame_NNNN.png per video")
    p.add_argument("--overwrite", action="store_true", help="re-extract videos whose frame folder exists")
    return p.parse_args(argv)


def main() -> int:
    a = parse_args()
    import shutil

    from tqdm import tqdm

    from common.cli import check_not_inside, fail, require_dir
    from dataset.clips import walk_tree
    from dataset.frames import read_video, write_frame

    require_dir(a.video_dir, "--video_dir")
    check_not_inside(a.frames_dir, a.video_dir)
    videos = [os.path.join(folder, f) for folder, _, files in walk_tree(a.video_dir) for f in files
              if f.lower().endswith(READABLE)]  # in natural order, hidden entries left out
    if not videos:
        fail(f"no videos ({', '.join(READABLE)}) in {a.video_dir}")
    done = skipped = 0
    for video in tqdm(videos, desc="videos", unit="video"):
        out = os.path.join(a.frames_dir, os.path.relpath(video, a.video_dir))
        if os.path.isdir(out) and not a.overwrite:
            skipped += 1
            continue
        frames = read_video(video)
        partial = os.path.join(os.path.dirname(out), f".partial-{os.path.basename(out)}")
        shutil.rmtree(partial, ignore_errors=True)
        for i, img in enumerate(frames):
            write_frame(os.path.join(partial, f"frame_{i:04d}.png"), img)
        if os.path.isdir(out):
            shutil.rmtree(out)
        os.replace(partial, out)
        done += 1
    print(f"{done} video(s) extracted, {skipped} already done -> {a.frames_dir}")
    return 0


if __name__ == "__main__":
    run_cli(main)
