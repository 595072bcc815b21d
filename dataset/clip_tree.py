"""Run one computation over every clip folder of a frame tree, writing a mirrored output tree (the setup/ tools).

Every frame-preparation script (filters, background subtraction, targets) is "read each clip of an input tree,
compute, write the same frame names under an output root", so that loop lives here once: clips are found by
dataset.clips.find_clips (folders of frames at any depth, docs/paper_code_behaviour.md#frame-loading-and-layouts;
videos and multi-page TIFFs are not frame folders and are left out), outputs mirror the input tree, writes are
atomic (dataset.frames.write_frame), finished clips are skipped so an interrupted run resumes, and the output may
never lie inside the input tree.
"""
from __future__ import annotations

import os
from typing import Callable, Iterable, Sequence

import numpy as np

from common.cli import check_not_inside, fail, require_dir
from dataset.clips import find_clips
from dataset.frames import IMAGE_EXTS, read_frame, to_gray_uint8, write_frame


def with_ext(name: str, ext: str | None) -> str:
    """`name` with its extension replaced by `ext` (None keeps it)."""
    return name if not ext else os.path.splitext(name)[0] + (ext if ext.startswith(".") else "." + ext)


def read_native(path: str) -> np.ndarray:
    """One frame as H×W in its native integer depth (uint8 or uint16), colour → gray.

    16-bit microscopy (Cell Tracking Challenge) often uses a small part of the 16-bit range; tools that rescale
    with min-max need the native values rather than dataset.frames' fixed /257 reduction.
    """
    import cv2

    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if img is None or img.dtype not in (np.uint8, np.uint16):
        return read_frame(path)
    if img.ndim == 3:
        return to_gray_uint8(img, path) if img.dtype == np.uint8 else img[..., 0]
    return img


def stack_frames(paths: Sequence[str], read: Callable[[str], np.ndarray] = read_frame) -> np.ndarray:
    """The frames at `paths` as one T×H×W array; a clip of mixed sizes is a one-line error naming both."""
    frames = [read(p) for p in paths]
    for p, f in zip(paths, frames):
        if f.shape != frames[0].shape:
            fail(f"mixed frame sizes in clip {os.path.dirname(p)}: {os.path.basename(paths[0])} is "
                 f"{frames[0].shape[1]}x{frames[0].shape[0]}, {os.path.basename(p)} is {f.shape[1]}x{f.shape[0]}")
    return np.stack(frames)


def _output_complete(out_dir: str, names: Iterable[str]) -> bool:
    return os.path.isdir(out_dir) and all(os.path.exists(os.path.join(out_dir, n)) for n in names)


def progress_bar(items: Sequence, desc: str, enabled: bool = True, unit: str = "clip"):
    """A tqdm bar over `items`, hidden for a single item or when disabled."""
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit=unit, disable=not enabled or len(items) < 2)


def map_clips(input_root: str, output_root: str, process: Callable[[np.ndarray], np.ndarray], *,
              overwrite: bool = False, desc: str = "clips", out_ext: str | None = None, jpeg_quality: int = 95,
              exts: tuple[str, ...] = IMAGE_EXTS, reader: Callable[[Sequence[str]], np.ndarray] = stack_frames,
              progress: bool = True) -> dict:
    """Run `process` (T×H×W clip → T×H×W[×3] images, OpenCV channel order) on every clip folder of `input_root`.

    `reader` turns a clip's frame paths into its T×H×W array (default: grayscale uint8). Outputs keep the tree
    and frame names (extension swapped when `out_ext` is given). A clip whose outputs all exist is skipped
    unless `overwrite`. Returns {"clips": n, "written": n, "skipped": n}.
    """
    require_dir(input_root, "input folder")
    check_not_inside(output_root, input_root)
    clips = find_clips(input_root, exts=exts, videos=False, stacks=False)
    stats = {"clips": len(clips), "written": 0, "skipped": 0}
    for clip in progress_bar(clips, desc, progress):
        dst = clip.out_dir(output_root)
        outs = [with_ext(n, out_ext) for n in clip.frame_names]
        if not overwrite and _output_complete(dst, outs):
            stats["skipped"] += 1
            continue
        result = process(reader(clip.frame_paths))
        if len(result) != len(outs):
            raise RuntimeError(f"{desc}: {len(result)} outputs for {len(outs)} frames in {clip.source}")
        for name, img in zip(outs, result):
            write_frame(os.path.join(dst, name), np.ascontiguousarray(img), jpeg_quality)
        stats["written"] += 1
    return stats
