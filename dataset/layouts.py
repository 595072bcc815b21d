"""One small adapter per dataset layout (`--dataset`): a base folder → the list of clips to train on.

All layouts share the paper's rule (docs/paper_code_behaviour.md#frame-loading-and-layouts): a clip is a folder that
directly contains frames, found by a
recursive walk from `--base_folder` (symlinks followed), frames in natural numeric order. What differs is which
files count as frames and the training resize:

| --dataset         | frames                                   | resize H×W (res = --resolution_target) |
|-------------------|------------------------------------------|----------------------------------------|
| CFC22             | `<n>.jpg` (png accepted) in `<domain>-<clip>` or `<domain>_<clip>` | res × res/2 |
| CVA (BUV)         | `<NNNNNN>.png`, any depth                | res × res                              |
| POCUS             | `frame_<NNNN>.png` in `<video>.mp4/`     | res × res/2                            |
| Fluo              | `t<NNN>.tif`                             | res × res                              |
| custom / custom_dataset | any image frames, or video files, or multi-page TIFF stacks | res × res/2     |
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

from common.cli import UserError, require_dir
from dataset.frames import IMAGE_EXTS, TIFF_EXTS, VIDEO_EXTS, Clip, natural_key


@dataclass(frozen=True)
class Layout:
    """How one dataset is laid out: frame extensions, a file-name filter, the resize and what a miss means."""

    exts: tuple[str, ...]
    accept: Callable[[str], bool]
    square: bool  # True: res × res; False: res × res/2 (docs/paper_code_behaviour.md#frame-loading-and-layouts)
    hint: str
    videos_and_stacks: bool = False  # custom only: video files and multi-page TIFFs are clips too


def _any(name: str) -> bool:
    return True


def _pocus_frame(name: str) -> bool:
    return "frame" in os.path.basename(name).lower()


def _fluo_frame(name: str) -> bool:
    return os.path.basename(name).lower().startswith("t")


LAYOUTS: dict[str, Layout] = {
    "CFC22": Layout((".jpg", ".jpeg", ".png"), _any, False, "expected <base_folder>/<domain>-<clip>/<n>.jpg (frames/raw_all)"),
    "CVA": Layout((".png",), _any, True, "expected <base_folder>/<class>/<video>/<NNNNNN>.png (rawframes[_median])"),
    "POCUS": Layout((".png", ".jpg"), _pocus_frame, False,
                    "expected <base_folder>/<class>/<video>.mp4/frame_<NNNN>.png (pocus_videos_frames[_median])"),
    "Fluo": Layout(TIFF_EXTS, _fluo_frame, True, "expected <base_folder>/<split>/<name>_<seq>/t<NNN>.tif"),
    "custom": Layout(IMAGE_EXTS, _any, False, "expected clip folders of frames, video files or multi-page TIFFs",
                     videos_and_stacks=True),
}
ALIASES = {"custom_dataset": "custom", "BUV": "CVA", "cfc22": "CFC22", "cva": "CVA", "pocus": "POCUS", "fluo": "Fluo"}
DATASET_NAMES = tuple(LAYOUTS) + tuple(ALIASES)


def get_layout(dataset: str) -> tuple[str, Layout]:
    """Canonical name and layout for `--dataset` (aliases: custom_dataset, BUV); unknown → UserError."""
    name = ALIASES.get(dataset, dataset)
    if name not in LAYOUTS:
        raise UserError(f"unknown --dataset {dataset!r}; valid: {', '.join(DATASET_NAMES)}")
    return name, LAYOUTS[name]


def train_size(dataset: str, resolution_target: int) -> tuple[int, int]:
    """The training resize H×W for a dataset (docs/paper_code_behaviour.md#frame-loading-and-layouts): res × res/2, or
    res × res for CVA and Fluo."""
    _, layout = get_layout(dataset)
    res = int(resolution_target)
    return (res, res) if layout.square else (res, res // 2)


def _page_count(path: str) -> int:
    from PIL import Image

    try:
        with Image.open(path) as im:
            return int(getattr(im, "n_frames", 1))
    except Exception as exc:  # PIL raises many types for a bad file
        raise UserError(f"unreadable TIFF: {path} ({exc.__class__.__name__})") from exc


def find_clips(dataset: str, base_folder: str) -> list[Clip]:
    """Every clip under `base_folder` for `dataset`, naturally sorted by name (relative path, '/'-separated).

    Folder clips carry their frame file names; a video or TIFF-stack clip (custom layout) carries none until it
    is decoded (`frame_names` empty).
    """
    name, layout = get_layout(dataset)
    require_dir(base_folder, "--base_folder")
    clips: list[Clip] = []
    for dirpath, dirnames, filenames in os.walk(base_folder, followlinks=True):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        files = sorted((f for f in filenames if not f.startswith(".")), key=natural_key)
        frames = [f for f in files if f.lower().endswith(layout.exts) and layout.accept(f)]
        rel = os.path.relpath(dirpath, base_folder).replace(os.sep, "/")
        prefix = "" if rel == "." else rel + "/"
        if layout.videos_and_stacks:
            for f in files:
                path = os.path.join(dirpath, f)
                is_stack = f.lower().endswith(TIFF_EXTS) and _page_count(path) > 1
                if f.lower().endswith(VIDEO_EXTS) or is_stack:
                    clips.append(Clip(prefix + os.path.splitext(f)[0], path, []))
                    if is_stack:
                        frames.remove(f)
        if frames:
            clip_name = rel if rel != "." else os.path.basename(os.path.normpath(base_folder))
            clips.append(Clip(clip_name, dirpath, frames))
    if not clips:
        raise UserError(f"no {name} frames ({', '.join(layout.exts)}) found under {base_folder}; {layout.hint}")
    return sorted(clips, key=lambda c: tuple(natural_key(part) for part in c.name.split("/")))


def annotation_file(annotations_folder: str, clip_name: str) -> str:
    """`<annotations_folder>/<clip>/gt.txt` for a flat CFC22 clip, accepting `-` and `_` as the domain separator."""
    candidates = [clip_name, clip_name.replace("/", "-"), clip_name.replace("/", "_")]
    for sep, other in (("-", "_"), ("_", "-")):
        if sep in clip_name:
            head, tail = clip_name.rsplit(sep, 1)
            candidates.append(f"{head}{other}{tail}")
    for cand in candidates:
        path = os.path.join(annotations_folder, cand, "gt.txt")
        if os.path.isfile(path):
            return path
    raise UserError(f"no gt.txt for clip {clip_name} in --annotations_folder {annotations_folder} "
                    f"(looked for {os.path.join(annotations_folder, clip_name, 'gt.txt')})")
