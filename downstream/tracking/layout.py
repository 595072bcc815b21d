"""Where the tracking and counting stage finds its inputs (the file contracts of docs/tracking.md).

- detections/tracks: `<results>/<domain>/<clip>/{preds,tracks}.txt`
- frames (frame count, image width): `<frames_dir>/<domain>/<clip>/<i>.(jpg|png)`, `i` 0-based → MOT frame i+1
- metadata: `annotations/<domain>.json`, a list of {clip_name, num_frames, upstream_direction, width, height, ...}
- ground truth: `annotations_mot/<domain>/<clip>/gt.txt`; synthetic counts: `counts/<domain>.json`

The README passes only `--frames_dir` (e.g. `CFC22/frames_with_denoised` or `CFC22/frames/raw`), so the
metadata and ground truth are looked up in that folder and its ancestors (`find_upward`), which finds
`CFC22/annotations/…` and `CFC22/annotations_mot/…` for both of the README's frame roots.
"""
from __future__ import annotations

import os

from common.cli import fail
from dataset.annotations import load_metadata
from dataset.frames import frame_index, list_frames, read_frame

UPWARD_LEVELS = 3  # frames_dir itself, its parent, grandparent and great-grandparent


def clips_with_file(root: str, domain: str, filename: str) -> dict[str, str]:
    """{clip: path} for every `<root>/<domain>/<clip>/<filename>` that exists, in natural order."""
    from dataset.frames import list_clip_dirs

    base = os.path.join(root, domain)
    if not os.path.isdir(base):
        fail(f"no folder for domain {domain!r}: {base}")
    out = {}
    for clip_dir in list_clip_dirs(base):
        path = os.path.join(clip_dir, filename)
        if os.path.isfile(path):
            out[os.path.basename(clip_dir)] = path
    return out


def find_upward(start: str, relative: str, levels: int = UPWARD_LEVELS) -> str | None:
    """The first existing `<ancestor>/<relative>` for `start` and up to `levels` of its parents, else None."""
    here = os.path.abspath(start)
    for _ in range(levels + 1):
        candidate = os.path.join(here, relative)
        if os.path.exists(candidate):
            return candidate
        parent = os.path.dirname(here)
        if parent == here:
            break
        here = parent
    return None


def resolve_metadata(metadata: str | None, frames_dir: str, domain: str) -> tuple[dict[str, dict], str | None]:
    """The metadata given by `--metadata`, else `annotations/<domain>.json` found upward from frames_dir, else {}."""
    if metadata:
        if not os.path.isfile(metadata):
            fail(f"metadata file not found: {metadata}")
        return load_metadata(metadata), metadata
    found = find_upward(frames_dir, os.path.join("annotations", f"{domain}.json"))
    return (load_metadata(found), found) if found else ({}, None)


def clip_frames_dir(frames_dir: str, domain: str, clip: str) -> str:
    return os.path.join(frames_dir, domain, clip)


def num_frames(frames_dir: str, domain: str, clip: str, meta: dict | None = None, default: int | None = None) -> int:
    """Frames in the clip: highest 0-based frame index + 1 from the frames folder, else metadata num_frames,
    else `default` (None: a UserError)."""
    d = clip_frames_dir(frames_dir, domain, clip)
    if os.path.isdir(d):
        files = list_frames(d, required=False)
        if files:
            return max(frame_index(p) for p in files) + 1
    if meta and meta.get("num_frames"):
        return int(meta["num_frames"])
    if default is not None:
        return default
    fail(f"cannot tell how many frames clip {clip!r} has: no frames in {d} and no num_frames in the metadata")


def frame_width(frames_dir: str, domain: str, clip: str, meta: dict | None = None) -> int:
    """Image width in pixels: from the clip's first frame, else metadata `width`."""
    d = clip_frames_dir(frames_dir, domain, clip)
    if os.path.isdir(d):
        files = list_frames(d, required=False)
        if files:
            return int(read_frame(files[0]).shape[1])
    if meta and meta.get("width"):
        return int(meta["width"])
    fail(f"cannot tell the frame width of clip {clip!r}: no frames in {d} and no width in the metadata")
