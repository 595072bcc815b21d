"""The one clip record and the one clip discovery, shared by training (dataset/layouts.py), inference and setup/.

A *clip* is one of (docs/data_preparation.md#what-counts-as-a-clip):
- a folder that directly holds frame images (frames in natural numeric order: 2.png before 10.png);
- a video file (.mp4, .avi, ...);
- a TIFF with more than one page (a stack). A one-page TIFF is a frame like any PNG, everywhere: training,
  inference and the setup tools apply the same rule.

Discovery walks a tree (symlinks followed, symlink loops cut, hidden entries ignored) and names each clip by
its path relative to the root, '/'-separated; a video or stack is named by its stem. Outputs mirror that name.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable, Iterator

from common.cli import fail
from dataset.frames import IMAGE_EXTS, TIFF_EXTS, is_video, list_frames, natural_key, read_clip_array, tiff_page_count

KINDS = ("folder", "video", "tiff")


@dataclass
class Clip:
    """One clip: where its frames come from and the name its outputs carry.

    `name` is the path relative to the discovery root ('/'-separated; '' when the input itself is one clip).
    `frame_names` are the file names of a folder clip; a video or stack carries none until decoded.
    """

    name: str
    source: str  # a folder of frames, a video file or a multi-page TIFF
    frame_names: list[str] = field(default_factory=list)
    kind: str = ""  # folder | video | tiff; inferred from the source when left empty

    def __post_init__(self) -> None:
        if not self.kind:
            if self.frame_names or os.path.isdir(self.source):
                self.kind = "folder"
            else:
                self.kind = "video" if is_video(self.source) else "tiff"
        if self.kind not in KINDS:
            raise ValueError(f"Clip.kind must be one of {KINDS}, got {self.kind!r}")

    @property
    def is_folder(self) -> bool:
        return self.kind == "folder"

    @property
    def frame_paths(self) -> list[str]:
        """Full paths of a folder clip's frames (empty for a video or stack)."""
        return [os.path.join(self.source, n) for n in self.frame_names] if self.is_folder else []

    def out_dir(self, output_root: str) -> str:
        """Where this clip's outputs go: the output root mirrors the input tree."""
        return os.path.join(output_root, *self.name.split("/")) if self.name else output_root

    def label(self) -> str:
        """A readable name for progress bars and messages, also for the root clip (name '')."""
        base = os.path.basename(os.path.normpath(self.source))
        return self.name or (base if self.is_folder else os.path.splitext(base)[0])

    def __len__(self) -> int:
        return len(self.frame_names)


def walk_tree(root: str) -> Iterator[tuple[str, str, list[str]]]:
    """(folder, path relative to `root` ('/'-separated, '' for the root), visible file names) for every folder.

    Symlinks are followed; a symlink that leads back to one of its own ancestors is not entered (a loop), while
    two links to the same folder elsewhere are both walked. Folders and files come in natural order.
    """
    root = os.path.normpath(root)
    reals: dict[str, str] = {}  # real path of every folder walked so far
    for cur, dirs, files in os.walk(root, followlinks=True):
        real = os.path.realpath(cur)
        if _loops_back(cur, real, reals):
            dirs[:] = []
            continue
        reals[cur] = real
        dirs[:] = sorted((d for d in dirs if not d.startswith(".")), key=natural_key)
        rel = os.path.relpath(cur, root)
        visible = sorted((f for f in files if not f.startswith(".")), key=natural_key)
        yield cur, ("" if rel == "." else rel.replace(os.sep, "/")), visible


def _loops_back(folder: str, real: str, reals: dict[str, str]) -> bool:
    up = os.path.dirname(folder)
    while up in reals:
        if reals[up] == real:
            return True
        up = os.path.dirname(up)
    return False


def is_stack(path: str) -> bool:
    """A TIFF with more than one page: a clip of its own, not a frame."""
    return path.lower().endswith(TIFF_EXTS) and tiff_page_count(path) > 1


def _pick_frames(folder: str, names: list[str], prefer_ext: str | None) -> list[str]:
    """A folder's frames: those with `prefer_ext` if any, else all. Two frames with one stem would write one output."""
    if prefer_ext:
        names = [n for n in names if n.lower().endswith(prefer_ext.lower())] or names
    stems: dict[str, str] = {}
    for n in names:
        stem = os.path.splitext(n)[0]
        if stem in stems:
            fail(f"two frames with the same name stem in {folder}: {stems[stem]} and {n} (their outputs would collide)")
        stems[stem] = n
    return names


def _child(rel: str, file_name: str) -> str:
    stem = os.path.splitext(file_name)[0]
    return f"{rel}/{stem}" if rel else stem


def find_clips(path: str, prefer_ext: str | None = None, exts: tuple[str, ...] = IMAGE_EXTS,
               accept: Callable[[str], bool] | None = None, videos: bool = True, stacks: bool = True,
               *, hint: str = "") -> list[Clip]:
    """Every clip under `path` (a folder tree, or one video / multi-page TIFF file), in natural order of name.

    Frames are files ending in `exts` that `accept(file_name)` allows (default: all); `prefer_ext` keeps only
    that type in a folder holding several. `videos` / `stacks` make video files / multi-page TIFFs clips; when
    off they are ignored (a stack is never read as one frame). Nothing found → UserError (with `hint`).
    """
    if not os.path.exists(path):
        fail(f"input not found: {path}")
    if os.path.isfile(path):
        if videos and is_video(path):
            return [Clip("", path, kind="video")]
        if stacks and is_stack(path):
            return [Clip("", path, kind="tiff")]
        fail(f"input is a single file, not a clip (give the folder of frames, a video or a multi-page TIFF): {path}")
    clips: list[Clip] = []
    for folder, rel, files in walk_tree(path):
        frames = []
        for f in files:
            full = os.path.join(folder, f)
            if is_video(f):
                if videos:
                    clips.append(Clip(_child(rel, f), full, kind="video"))
                continue
            frame = f.lower().endswith(exts) and (accept is None or accept(f))
            if f.lower().endswith(TIFF_EXTS) and (frame or stacks) and tiff_page_count(full) > 1:
                if stacks:
                    clips.append(Clip(_child(rel, f), full, kind="tiff"))
                continue
            if frame:
                frames.append(f)
        if frames:
            clips.append(Clip(rel, folder, _pick_frames(folder, frames, prefer_ext), kind="folder"))
    if not clips:
        what = "frames or videos" if videos else f"frames ({', '.join(exts)})"
        fail(f"no {what} found under {path}" + (f"; {hint}" if hint else ""))
    clips.sort(key=lambda c: tuple(natural_key(part) for part in c.name.split("/")))
    sources: dict[str, str] = {}
    for c in clips:
        if c.name in sources:
            fail(f"two clips named {c.name!r}: {sources[c.name]} and {c.source} (their outputs would collide); "
                 "rename one")
        sources[c.name] = c.source
    return clips


def open_clip(source: str, name: str | None = None, exts: tuple[str, ...] = IMAGE_EXTS) -> Clip:
    """Describe one clip; a video's or stack's frames are counted (decoded) and named `<i>.png`."""
    base = name or os.path.basename(os.path.normpath(source))
    if os.path.isdir(source):
        return Clip(base, source, [os.path.basename(p) for p in list_frames(source, exts)], kind="folder")
    if not os.path.exists(source):
        fail(f"input not found: {source}")
    n = len(read_clip_array(source))
    stem = os.path.splitext(base)[0] if name is None else base
    return Clip(stem, source, [f"{i}.png" for i in range(n)], kind="video" if is_video(source) else "tiff")
