#!/usr/bin/env python
"""Re-encode frame folders as videos (the paper's convert_frames_to_videos.py,
docs/paper_code_behaviour.md#setup-scripts; the README POCUS step that turns
merged frames back into the videos pocovidnet reads).

    python setup/convert_frames_to_videos.py --frames_dir FRAMES/convex --video_dir VIDEOS/convex_median_denoised_2_ch

Each clip folder becomes <video_dir>/<folder name>: a folder named like a video (convert_videos_to_frames.py keeps
the extension) keeps its container; any other name gets .mp4. Codec by extension: mp4/mov/m4v → mp4v,
avi/mpeg/mpg → XVID, gif → PIL animated GIF. Frames are sorted numerically and written in colour (merged
frames are 3-channel). Frame rate: --fps if given, else the source video's rate when --source_video_dir holds a
video of the same name, else 10 fps (the paper's fixed rate). Existing videos are skipped (--overwrite redoes).
Video encoding is lossy: keep the frames for anything quantitative.
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common.cli import ArgumentParser, run_cli  # noqa: E402

CODECS = {".mp4": "mp4v", ".mov": "mp4v", ".m4v": "mp4v", ".avi": "XVID", ".mpeg": "XVID", ".mpg": "XVID",
          ".gif": None}


def parse_args(argv=None) -> argparse.Namespace:
    p = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--frames_dir", required=True, help="folder of clip folders (any depth)")
    p.add_argument("--video_dir", required=True, help="output folder for the videos")
    p.add_argument("--fps", type=float, default=None, help="frame rate (default: source video's, else 10)")
    p.add_argument("--source_video_dir", default=None,
                   help="folder of the original videos (same names) to take each frame rate from")
    p.add_argument("--overwrite", action="store_true", help="re-encode videos that already exist")
    return p.parse_args(argv)


def video_name(clip_name: str, frames_dir: str) -> str:
    name = clip_name or os.path.basename(os.path.normpath(frames_dir))
    return name if os.path.splitext(name)[1].lower() in CODECS else name + ".mp4"


def encode(frame_paths: list[str], out: str, fps: float) -> None:
    """Write frames (BGR) to `out` atomically with the codec its extension selects."""
    import cv2

    from common.atomic import atomic_path
    from common.cli import fail
    from common.imaging import write_gif
    from dataset.frames import read_frame

    ext = os.path.splitext(out)[1].lower()
    if CODECS[ext] is None:
        write_gif(out, [read_frame(p, gray=False) for p in frame_paths], fps)
        return
    first = read_frame(frame_paths[0], gray=False)
    h, w = first.shape[:2]
    with atomic_path(out) as tmp:
        writer = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*CODECS[ext]), fps, (w, h))
        if not writer.isOpened():
            fail(f"OpenCV cannot encode {ext} ({CODECS[ext]}) here: {out}")
        for p in frame_paths:
            img = first if p == frame_paths[0] else read_frame(p, gray=False)
            if img.shape[:2] != (h, w):
                writer.release()
                fail(f"frame size changes inside {os.path.dirname(p)}: {os.path.basename(p)} is "
                     f"{img.shape[1]}x{img.shape[0]}, expected {w}x{h}")
            writer.write(img)
        writer.release()


def main() -> int:
    a = parse_args()
    from tqdm import tqdm

    from common.cli import check_not_inside
    from dataset.clips import find_clips
    from dataset.frames import video_fps

    check_not_inside(a.video_dir, a.frames_dir)
    done = skipped = 0
    for clip in tqdm(find_clips(a.frames_dir, videos=False, stacks=False), desc="videos", unit="video"):
        out = os.path.join(a.video_dir, video_name(clip.name, a.frames_dir))
        if os.path.exists(out) and not a.overwrite:
            skipped += 1
            continue
        fps = a.fps
        if fps is None and a.source_video_dir:
            src = os.path.join(a.source_video_dir, os.path.relpath(out, a.video_dir))
            fps = video_fps(src) if os.path.isfile(src) else None
        encode(clip.frame_paths, out, fps or 10.0)
        done += 1
    print(f"{done} video(s) written, {skipped} already done -> {a.video_dir}")
    return 0


if __name__ == "__main__":
    run_cli(main)
