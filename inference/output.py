"""What inference writes besides the network: the float → 0..255 output mapping and the raw | denoised preview GIFs
(docs/inference.md, docs/paper_code_behaviour.md#defect-9-10-per-frame-normalisation).
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np

from common.cli import fail
from common.imaging import to_uint8, write_gif
from dataset.clips import Clip
from dataset.frames import read_clip_array, read_frame, video_fps
from inference.io import clip_stems, out_path

if TYPE_CHECKING:
    from inference.engine import InferenceOptions

NORMALIZE_MODES = ("frame", "clip", "none")
PREVIEW_DIR = "_previews"


def map_output(x: np.ndarray, normalize: str, clip_range: tuple[float, float] | None = None) -> np.ndarray:
    """The paper's per-frame min-max stretch (`frame`), one stretch per clip (`clip`, no flicker) or the fixed
    [0,1] → 0..255 map (`none`, no stretching at all)."""
    if normalize == "frame":
        return to_uint8(x)
    if normalize == "clip":
        if clip_range is None:
            raise ValueError("normalize='clip' needs the clip's (min, max)")
        return to_uint8(x, *clip_range)
    if normalize == "none":
        return to_uint8(x, 0.0, 1.0)
    fail(f"--normalize must be one of {', '.join(NORMALIZE_MODES)}, got {normalize!r}")


def write_preview(clip: Clip, opts: "InferenceOptions", max_frames: int = 60, height: int = 240) -> str | None:
    """A side-by-side raw | denoised GIF of a finished clip in `<output_dir>/_previews/` (evenly spaced frames);
    None while the clip is unfinished (e.g. --max_frames)."""
    import cv2

    out_dir = clip.out_dir(opts.output_dir)
    arr = None if clip.is_folder else read_clip_array(clip.source)
    n = len(clip.frame_paths) if clip.is_folder else len(arr)
    stems = clip_stems(clip, n)
    name = clip.label().replace("/", "__")
    target = os.path.join(opts.output_dir, PREVIEW_DIR, f"{name}.gif")
    if os.path.exists(target) and not opts.overwrite:
        return target
    picks = sorted(set(np.linspace(0, n - 1, min(n, max_frames)).round().astype(int).tolist()))
    tiles = []
    for i in picks:
        den_path = out_path(out_dir, stems[i], opts.fmt)
        if not os.path.exists(den_path):
            return None
        raw = read_frame(clip.frame_paths[i]) if clip.is_folder else arr[i]
        den = read_frame(den_path)
        h, w = raw.shape
        size = (max(1, round(w * min(1.0, height / h))), min(h, height))
        tiles.append(np.hstack([cv2.resize(raw, size, interpolation=cv2.INTER_AREA),
                                cv2.resize(den, size, interpolation=cv2.INTER_AREA)]))
    return write_gif(target, tiles, video_fps(clip.source) if not clip.is_folder else 10.0)
