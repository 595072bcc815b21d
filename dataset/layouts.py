"""One small adapter per dataset layout (`--dataset`): a base folder → the list of clips to train on.

All layouts share the paper's rule (docs/paper_code_behaviour.md#frame-loading-and-layouts): a clip is a folder that
directly contains frames, found by a recursive walk from `--base_folder` (symlinks followed), frames in natural
numeric order; the walk is dataset.clips.find_clips, the same as inference. What differs is which files count as
frames and the training resize. A TIFF with more than one page is never a frame (custom: it is a clip):

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
from dataset.clips import Clip, find_clips
from dataset.frames import IMAGE_EXTS, TIFF_EXTS


@dataclass(frozen=True)
class Layout:
    """How one dataset is laid out: frame extensions, a file-name filter, the resize and what a miss means."""

    exts: tuple[str, ...]
    accept: Callable[[str], bool] | None  # file-name filter; None accepts every file with a frame extension
    square: bool  # True: res × res; False: res × res/2 (docs/paper_code_behaviour.md#frame-loading-and-layouts)
    hint: str
    videos_and_stacks: bool = False  # custom only: video files and multi-page TIFFs are clips too


def _pocus_frame(name: str) -> bool:
    return "frame" in os.path.basename(name).lower()


def _fluo_frame(name: str) -> bool:
    return os.path.basename(name).lower().startswith("t")


LAYOUTS: dict[str, Layout] = {
    "CFC22": Layout((".jpg", ".jpeg", ".png"), None, False, "expected <base_folder>/<domain>-<clip>/<n>.jpg (frames/raw_all)"),
    "CVA": Layout((".png",), None, True, "expected <base_folder>/<class>/<video>/<NNNNNN>.png (rawframes[_median])"),
    "POCUS": Layout((".png", ".jpg"), _pocus_frame, False,
                    "expected <base_folder>/<class>/<video>.mp4/frame_<NNNN>.png (pocus_videos_frames[_median])"),
    "Fluo": Layout(TIFF_EXTS, _fluo_frame, True, "expected <base_folder>/<split>/<name>_<seq>/t<NNN>.tif"),
    "custom": Layout(IMAGE_EXTS, None, False, "expected clip folders of frames, video files or multi-page TIFFs",
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


def layout_clips(dataset: str, base_folder: str) -> list[Clip]:
    """Every clip under `base_folder` for `dataset` (dataset.clips.find_clips with the layout's frame filter),
    naturally sorted by name (relative path, '/'-separated).

    A base folder that itself holds the frames is one clip named after the folder (the cache and the
    annotation lookup need a name). Video and TIFF-stack clips (custom layout) carry no frame names until decoded.
    """
    name, layout = get_layout(dataset)
    require_dir(base_folder, "--base_folder")
    clips = find_clips(base_folder, exts=layout.exts, accept=layout.accept, videos=layout.videos_and_stacks,
                          stacks=layout.videos_and_stacks, hint=f"--dataset {name}: {layout.hint}")
    for clip in clips:
        if clip.name == "":
            clip.name = os.path.basename(os.path.normpath(base_folder))
    return clips


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
