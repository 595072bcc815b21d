"""Stack frames of parallel frame trees into 3-channel images (add_denoised_to_raw_2_ch.py, add_denoised_3_ch.py).

The detector's input is a merged frame: raw (or background-subtracted) and denoised frames of the same clip
as the channels of one image (docs/data_preparation.md). The trees are matched clip by clip (relative path) and
frame by frame (stem, or frame number when a denoiser wrote `3.png` for `3.jpg`).
"""
from __future__ import annotations

import os
from typing import Sequence

import numpy as np

from common.cli import UserError, check_not_inside, fail, require_dir
from dataset.clip_tree import progress_bar
from dataset.clips import find_clips
from dataset.frames import frame_index, list_frames, read_frame, write_frame

# Merged "2-channel" frame (the paper's add_denoised_to_raw_2_ch.py, docs/paper_code_behaviour.md#setup-scripts):
# OpenCV/BGR channel order
# [raw, denoised, denoised], i.e. read as RGB: R = denoised, G = denoised, B = raw. Entries index the sources
# (0 = raw / reference tree, 1 = denoised). For CFC22 "raw" is the background-subtracted frame (frames/raw_bs).
TWO_CHANNEL_LAYOUT = (0, 1, 1)
# add_denoised_3_ch.py: --channel1/2/3 stacked in BGR order.
THREE_CHANNEL_LAYOUT = (0, 1, 2)


def _frame_table(clip_dir: str) -> tuple[dict[str, str], dict[int, str]]:
    """Frames of a clip keyed by stem and by frame number (a denoiser may write `3.png` for `3.jpg`)."""
    if not os.path.isdir(clip_dir):
        return {}, {}
    by_stem, by_index = {}, {}
    for p in list_frames(clip_dir, required=False):
        by_stem[os.path.splitext(os.path.basename(p))[0]] = p
        try:
            by_index.setdefault(frame_index(p), p)
        except UserError:
            pass
    return by_stem, by_index


def _match(tables: tuple[dict, dict], name: str) -> str | None:
    by_stem, by_index = tables
    stem = os.path.splitext(name)[0]
    if stem in by_stem:
        return by_stem[stem]
    try:
        return by_index.get(frame_index(name))
    except UserError:
        return None


def merge_channel_trees(sources: Sequence[str], layout: Sequence[int], output_root: str, *,
                        allow_missing: bool = False, overwrite: bool = False, jpeg_quality: int = 95,
                        names: Sequence[str] | None = None, progress: bool = True) -> dict:
    """Stack frames of several parallel trees into 3-channel images, channel c taken from sources[layout[c]].

    sources[0] is the reference tree: its clips and frame names define the outputs (same tree, same names and
    extension). Other sources are matched by relative clip path and frame stem (or frame number). A frame missing
    in another source is an error listing what is missing; with `allow_missing` that channel falls back to
    sources[0] (the paper's behaviour, docs/paper_code_behaviour.md#setup-scripts). Frames of another size are resized
    to the reference size.
    """
    import cv2

    names = list(names or [f"--source{i}" for i in range(len(sources))])
    for s, n in zip(sources, names):
        require_dir(s, n)
        check_not_inside(output_root, s)
    plan, missing = [], []
    for clip in find_clips(sources[0], videos=False, stacks=False):
        tables = [_frame_table(clip.out_dir(s)) for s in sources[1:]]
        for path, name in zip(clip.frame_paths, clip.frame_names):
            others = [_match(t, name) for t in tables]
            for src_i, o in enumerate(others, start=1):
                if o is None:
                    missing.append(f"{names[src_i]} {os.path.join(clip.name, name)}")
            plan.append((clip.out_dir(output_root), path, others))
    if missing and not allow_missing:
        shown = "; ".join(missing[:5]) + (f"; ... ({len(missing)} in all)" if len(missing) > 5 else "")
        fail(f"{len(missing)} frame(s) missing: {shown}. Run the denoiser on every frame, or pass --allow-missing "
             f"to fall back to {names[0]} for those channels (paper behaviour)")
    stats = {"frames": len(plan), "written": 0, "skipped": 0, "fallbacks": len(missing)}
    for out_dir, ref_path, others in progress_bar(plan, "merging", progress, unit="frame"):
        out = os.path.join(out_dir, os.path.basename(ref_path))
        if not overwrite and os.path.exists(out):
            stats["skipped"] += 1
            continue
        base = read_frame(ref_path)
        imgs = [base]
        for o in others:
            img = base if o is None else read_frame(o)
            if img.shape != base.shape:
                img = cv2.resize(img, (base.shape[1], base.shape[0]), interpolation=cv2.INTER_LINEAR)
            imgs.append(img)
        write_frame(out, np.dstack([imgs[i] for i in layout]), jpeg_quality)
        stats["written"] += 1
    return stats
