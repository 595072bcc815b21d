"""The one frame I/O of the project: list, sort, read and write frames, clips, videos and TIFF stacks.

A *clip* (dataset/clips.py) is a folder of frame images (sorted numerically by the integer in the file name, so
`frame2.png` comes before `frame10.png`), a video file (.mp4/.avi/...), or a multi-page TIFF. Frames are returned as
grayscale uint8 H×W arrays; 16-bit and colour inputs are converted on read with one notice per kind.
"""
from __future__ import annotations

import hashlib
import os
import re
import sys

import numpy as np

from common.atomic import atomic_path
from common.cli import fail
from common.imaging import to_uint8

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp")
VIDEO_EXTS = (".mp4", ".avi", ".mov", ".mkv", ".mpg", ".mpeg", ".wmv")
TIFF_EXTS = (".tif", ".tiff")
_NOTICES: set[str] = set()


def notice_once(key: str, message: str) -> None:
    """Print a conversion notice once per process (not once per frame)."""
    if key not in _NOTICES:
        _NOTICES.add(key)
        print(f"note: {message}", file=sys.stderr)


def natural_key(name: str) -> tuple:
    """Sort key that orders embedded integers numerically: frame2 < frame10, 9.jpg < 10.jpg."""
    base = os.path.basename(name)
    parts = re.split(r"(\d+)", base)
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts if p != "")


def frame_index(name: str) -> int:
    """The frame number in a file name: the last integer of its stem (`12.jpg` → 12, `frame_0003.png` → 3)."""
    stem = os.path.splitext(os.path.basename(name))[0]
    nums = re.findall(r"\d+", stem)
    if not nums:
        fail(f"frame file name has no frame number: {name}")
    return int(nums[-1])


def is_image(path: str) -> bool:
    return path.lower().endswith(IMAGE_EXTS)


def is_video(path: str) -> bool:
    return path.lower().endswith(VIDEO_EXTS)


def list_frames(clip_dir: str, exts: tuple[str, ...] = IMAGE_EXTS, required: bool = True) -> list[str]:
    """Frame files of a clip folder, naturally sorted. Hidden and temporary files are ignored."""
    if not os.path.isdir(clip_dir):
        fail(f"clip folder not found: {clip_dir}")
    names = [n for n in os.listdir(clip_dir) if n.lower().endswith(exts) and not n.startswith(".")]
    if required and not names:
        fail(f"no frames ({', '.join(exts)}) in {clip_dir}")
    return [os.path.join(clip_dir, n) for n in sorted(names, key=natural_key)]


def list_clip_dirs(root: str) -> list[str]:
    """Sub-folders of `root` (following symlinks), naturally sorted."""
    if not os.path.isdir(root):
        fail(f"folder not found: {root}")
    subs = [e.path for e in os.scandir(root) if e.is_dir() and not e.name.startswith(".")]
    return sorted(subs, key=natural_key)


def to_gray_uint8(img: np.ndarray, source: str = "") -> np.ndarray:
    """Convert any decoded image to grayscale uint8 (colour → luminance, 16-bit → scaled by 1/257)."""
    if img.ndim == 3:
        if img.shape[2] == 1:
            img = img[:, :, 0]
        else:
            if not (img.shape[2] >= 3 and np.array_equal(img[..., 0], img[..., 1]) and np.array_equal(img[..., 1], img[..., 2])):
                notice_once("colour", f"colour frames (e.g. {source}) are converted to grayscale")
            import cv2

            img = cv2.cvtColor(img[:, :, :3], cv2.COLOR_BGR2GRAY) if img.shape[2] >= 3 else img[:, :, 0]
    if img.dtype == np.uint8:
        return img
    if img.dtype == np.uint16:
        notice_once("16bit", f"16-bit frames (e.g. {source}) are scaled to 8-bit")
        return (img.astype(np.uint32) // 257).astype(np.uint8)
    if np.issubdtype(img.dtype, np.floating):
        notice_once("float", f"floating-point frames (e.g. {source}) are min-max scaled to 8-bit")
        return to_uint8(img)
    notice_once(str(img.dtype), f"{img.dtype} frames (e.g. {source}) are clipped to 8-bit")
    return np.clip(img, 0, 255).astype(np.uint8)


def read_frame(path: str, gray: bool = True) -> np.ndarray:
    """Read one image as grayscale uint8 H×W (or, with gray=False, as decoded by OpenCV, BGR)."""
    import cv2

    img = cv2.imread(path, cv2.IMREAD_UNCHANGED if gray else cv2.IMREAD_COLOR)
    if img is None:
        if not os.path.exists(path):
            fail(f"frame not found: {path}")
        if path.lower().endswith(TIFF_EXTS):
            img = _read_tiff_pages(path)[0]
        else:
            fail(f"unreadable frame: {path}")
    return to_gray_uint8(img, path) if gray else img


def write_frame(path: str, img: np.ndarray, jpeg_quality: int = 95) -> None:
    """Write an image atomically (temp file + rename); PNG is lossless, JPEG uses `jpeg_quality`."""
    import cv2

    params: list[int] = []
    if path.lower().endswith((".jpg", ".jpeg")):
        params = [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)]
    with atomic_path(path) as tmp:
        if not cv2.imwrite(tmp, img, params):
            fail(f"could not write image: {path}")


def _read_tiff_pages(path: str) -> list[np.ndarray]:
    from PIL import Image, ImageSequence

    try:
        with Image.open(path) as im:
            return [np.array(page) for page in ImageSequence.Iterator(im)]
    except Exception as exc:  # PIL raises many types for a bad file
        fail(f"unreadable TIFF: {path} ({exc.__class__.__name__})")


def tiff_page_count(path: str) -> int:
    """Pages of a TIFF without decoding them (more than one: a stack, i.e. a clip; see dataset/clips.py)."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            return int(getattr(im, "n_frames", 1))
    except Exception as exc:  # PIL raises many types for a bad file
        fail(f"unreadable TIFF: {path} ({exc.__class__.__name__})")


def read_video(path: str) -> np.ndarray:
    """Decode every frame of a video file to grayscale uint8 T×H×W."""
    import cv2

    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        fail(f"unreadable video: {path}")
    frames = []
    while True:
        ok, img = cap.read()
        if not ok:
            break
        frames.append(to_gray_uint8(img, path))
    cap.release()
    if not frames:
        fail(f"video has no decodable frames: {path}")
    return np.stack(frames)


def video_fps(path: str, default: float = 10.0) -> float:
    import cv2

    cap = cv2.VideoCapture(path)
    fps = cap.get(cv2.CAP_PROP_FPS) if cap.isOpened() else 0.0
    cap.release()
    return float(fps) if fps and fps > 0 else default


def read_clip_array(source: str, exts: tuple[str, ...] = IMAGE_EXTS) -> np.ndarray:
    """Decode a whole clip (folder, video or multi-page TIFF) to grayscale uint8 T×H×W; sizes must agree."""
    if os.path.isdir(source):
        paths = list_frames(source, exts)
        frames = [read_frame(p) for p in paths]
    elif is_video(source):
        return read_video(source)
    elif source.lower().endswith(TIFF_EXTS):
        frames = [to_gray_uint8(p, source) for p in _read_tiff_pages(source)]
        paths = [f"{source}[page {i}]" for i in range(len(frames))]
    else:
        fail(f"not a clip (folder, video or TIFF): {source}")
    shape = frames[0].shape
    for p, f in zip(paths, frames):
        if f.shape != shape:
            fail(f"mixed frame sizes in clip {source}: {os.path.basename(paths[0])} is {shape[1]}x{shape[0]}, "
                 f"{os.path.basename(p)} is {f.shape[1]}x{f.shape[0]}")
    return np.stack(frames)


def clip_key(source: str, files: list[str] | None = None) -> str:
    """A short hash of the clip's real path and of each frame's name, size and mtime (a changed frame re-caches)."""
    if os.path.isdir(source):
        sig = "|".join(f"{os.path.basename(p)}:{os.stat(p).st_size}:{os.stat(p).st_mtime_ns}"
                       for p in (files or list_frames(source)))
    else:
        st = os.stat(source)
        sig = f"{st.st_size}:{st.st_mtime_ns}"
    return hashlib.sha1(f"{os.path.realpath(source)}|{sig}".encode()).hexdigest()[:16]


def cached_clip_array(source: str, cache_dir: str, exts: tuple[str, ...] = IMAGE_EXTS) -> np.ndarray:
    """Decode a clip once and keep it as a memory-mapped .npy under `cache_dir` (keyed by `clip_key`).

    Used by UDVD training, which reads patches of the original frames; SAVeD's training cache keeps only the
    resized frames (dataset/cache.py).
    """
    files = list_frames(source, exts) if os.path.isdir(source) else None
    path = os.path.join(cache_dir, f"{clip_key(source, files)}.npy")
    if not os.path.exists(path):
        arr = read_clip_array(source, exts)
        os.makedirs(cache_dir, exist_ok=True)
        with atomic_path(path) as tmp:
            np.save(tmp, arr)
    return np.load(path, mmap_mode="r")
