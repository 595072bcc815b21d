"""Annotated clips: a clip's frame files read against its MOT ground truth, and the CFC22 metadata files.

The one loader the YOLO/COCO converters, the detection metrics, the bootstrap and the own-data checks share
(docs/detection.md): GT boxes come out as 0-based pixel corners clipped to the image, keyed by the 0-based frame
index in the file name (docs/paper_code_behaviour.md#mot-annotations).
"""
from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field

import numpy as np

from common.boxes import clip_boxes, mot_to_xyxy
from common.cli import fail
from common.mot import by_frame, read_mot
from dataset.frames import frame_index, list_clip_dirs, list_frames


@dataclass
class AnnotatedClip:
    """One clip's frames and its GT boxes per 0-based frame index (0-based pixel corners, clipped)."""

    domain: str
    name: str
    frames: dict[int, str]                  # 0-based frame index → image path
    width: int
    height: int
    boxes: dict[int, np.ndarray] = field(default_factory=dict)
    n_clipped: int = 0
    n_dropped: int = 0
    n_orphan_rows: int = 0                  # GT rows whose frame has no image

    def boxes_at(self, i: int) -> np.ndarray:
        return self.boxes.get(i, np.zeros((0, 4)))


def image_size(path: str) -> tuple[int, int]:
    """(width, height) of an image file."""
    import cv2

    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if img is None:
        fail(f"unreadable frame: {path}")
    return int(img.shape[1]), int(img.shape[0])


def clip_frames(clip_dir: str) -> dict[int, str]:
    """0-based frame index (the integer in the file name, docs/paper_code_behaviour.md#mot-annotations) → path."""
    return {frame_index(p): p for p in list_frames(clip_dir)}


def load_annotated_clip(gt_path: str, clip_dir: str, domain: str, name: str) -> AnnotatedClip:
    """Read one clip's gt.txt against its frame folder (frame size from the first frame)."""
    frames = clip_frames(clip_dir)
    width, height = image_size(frames[min(frames)])
    clip = AnnotatedClip(domain, name, frames, width, height)
    for frame, rows in by_frame(read_mot(gt_path)).items():
        if frame - 1 not in frames:
            clip.n_orphan_rows += len(rows)
            continue
        kept, n_clip, n_drop = clip_boxes(mot_to_xyxy(rows), width, height)
        clip.n_clipped += n_clip
        clip.n_dropped += n_drop
        if len(kept):
            clip.boxes[frame - 1] = kept
    return clip


def annotated_clip_names(mot_dir: str, domain: str) -> list[str]:
    """Clips of a domain that have a gt.txt under `mot_dir/<domain>/<clip>/`."""
    return [os.path.basename(d) for d in list_clip_dirs(os.path.join(mot_dir, domain))
            if os.path.isfile(os.path.join(d, "gt.txt"))]


def load_domain(mot_dir: str, frames_dir: str, domain: str) -> list[AnnotatedClip]:
    """Every annotated clip of a domain; clips named by the annotations but absent from the frames → one error."""
    names = annotated_clip_names(mot_dir, domain)
    if not names:
        fail(f"no <clip>/gt.txt under {os.path.join(mot_dir, domain)}")
    missing = [n for n in names if not os.path.isdir(os.path.join(frames_dir, domain, n))]
    if missing:
        fail(f"frames dir {os.path.join(frames_dir, domain)} lacks {len(missing)} annotated clip(s): "
             f"{', '.join(missing[:10])}{' ...' if len(missing) > 10 else ''}")
    return [load_annotated_clip(os.path.join(mot_dir, domain, n, "gt.txt"), os.path.join(frames_dir, domain, n),
                                domain, n) for n in names]


def warn_box_fixes(clips: list[AnnotatedClip]) -> None:
    """One warning line for all clipped/dropped boxes and GT rows without an image."""
    n_clip, n_drop = sum(c.n_clipped for c in clips), sum(c.n_dropped for c in clips)
    n_orphan = sum(c.n_orphan_rows for c in clips)
    if n_clip or n_drop:
        print(f"warning: {n_clip} GT box(es) reached outside the image and were clipped to it"
              f"{f'; {n_drop} lay entirely outside and were dropped' if n_drop else ''}", file=sys.stderr)
    if n_orphan:
        print(f"warning: {n_orphan} GT row(s) name frames that have no image and were ignored", file=sys.stderr)


# ------------------------------------------------------------------------------ CFC22 metadata (JSON files)
def read_json(path: str, what: str):
    """Load a JSON file; unreadable or invalid → a UserError naming the file (and line)."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as exc:
        fail(f"cannot read {what} {path}: {exc.strerror}")
    except json.JSONDecodeError as exc:
        fail(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})")


def load_metadata(path: str) -> dict[str, dict]:
    """Read an `annotations/<domain>.json` file into {clip_name: entry}."""
    entries = read_json(path, "metadata")
    if isinstance(entries, dict):  # tolerate {clip: entry}
        entries = [{"clip_name": k, **v} for k, v in entries.items()]
    if not isinstance(entries, list) or not all(isinstance(e, dict) and "clip_name" in e for e in entries):
        fail(f"{path}: expected a list of objects with a 'clip_name' key")
    return {str(e["clip_name"]): e for e in entries}
