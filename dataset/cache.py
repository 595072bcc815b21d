"""The training cache: every clip resized once to the training size and kept as ONE uint8 memory-mapped array.

Why it looks like this (issue 16, CFC22 is ≈527k frames):
- one copy per frame, at the training size (H×W bytes: 0.5 MB at 1024×512), never the decoded original too;
- the background B (only for targets that read it) is summed while the frames stream past, at the original
  resolution, so nothing holds a whole clip in memory: peak RAM is a few chunks per worker, whatever the
  number or length of the clips;
- the bytes it will write are estimated first and a too-small disk stops the run with one line, before any work;
- preparation runs over processes (all cores by default; under DDP each rank starts with its own share), in
  pieces of at most `UNIT` frames so one long clip also uses every core, with a progress bar and ETA;
- it is resumable: a clip counts as done only once its small `.json` record is written (last, atomically);
  a restart redoes the unfinished clips only;
- `--cache none` writes no frames (only the per-clip background and record) and the DataLoader workers
  decode and resize the frames of each window on the fly.

The values are exactly those of a decode-everything-then-resize pass: the resize is per frame (bilinear with
antialias on the [0, 1] tensor, rounded to uint8) and the blurred sums are exact in float.
"""
from __future__ import annotations

import json
import os
import shutil
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from common.atomic import atomic_path, write_json
from common.cli import fail
from dataset.clips import Clip
from dataset.frames import clip_key, read_clip_array, read_frame

CHUNK = 16  # frames decoded and resized together inside a worker (bounds its memory)
UNIT = 256  # frames per task handed to a worker (a long clip is split over the workers)
NPY_HEADER = 128  # bytes of a .npy header
SMALL = 512  # fewer frames than this to prepare: one process (starting workers would cost more)


@dataclass
class CacheEntry:
    """Where one clip's cached data lives (paths are fixed by the clip key and the training size)."""

    clip: Clip
    files: list[str]  # frame files of a folder clip (empty for a video or TIFF stack)
    frames_path: Optional[str]  # None with --cache none
    background_path: Optional[str]
    record_path: str

    @property
    def is_folder(self) -> bool:
        return bool(self.files)

    def done(self) -> bool:
        paths = [self.record_path, self.frames_path, self.background_path]
        return all(os.path.exists(p) for p in paths if p)

    def record(self) -> dict:
        with open(self.record_path, encoding="utf-8") as f:
            return json.load(f)


def plan_entry(clip: Clip, cache_dir: str, size: tuple[int, int], with_background: bool,
               store_frames: bool = True) -> CacheEntry:
    files = [os.path.join(clip.source, n) for n in clip.frame_names] if os.path.isdir(clip.source) else []
    stem = os.path.join(cache_dir, "resized", f"{clip_key(clip.source, files)}_{size[0]}x{size[1]}")
    return CacheEntry(clip, files, stem + ".npy" if store_frames else None,
                      stem + "_background.npy" if with_background else None, stem + ".json")


def estimate_bytes(entries: Sequence[CacheEntry], size: tuple[int, int]) -> int:
    """Bytes the unfinished entries will write (frames + backgrounds; a video's frame count is not known
    before decoding it, so it counts as its file size, an under-estimate only for very compressed videos)."""
    plane = size[0] * size[1]
    total = 0
    for e in entries:
        n = len(e.files) if e.is_folder else os.path.getsize(e.clip.source)
        if e.frames_path and not os.path.exists(e.frames_path):
            total += NPY_HEADER + n * plane
        if e.background_path and not os.path.exists(e.background_path):
            total += NPY_HEADER + 4 * plane
    return total


def human(num: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if num < 1000:
            return f"{num:.1f} {unit}"
        num /= 1000
    return f"{num:.1f} TB"


def check_free_space(cache_dir: str, needed: int) -> None:
    """One clear line, before any work, when the cache's disk holds less than the estimate."""
    probe = cache_dir
    while not os.path.exists(probe):
        probe = os.path.dirname(os.path.abspath(probe))
    free = shutil.disk_usage(probe).free
    if needed > free:
        fail(f"the training cache needs {human(needed)} in {cache_dir} but only {human(free)} is free there; "
             "free some space, point --cache_dir at a larger disk, or use --cache none (decode on the fly)")


# ---------------------------------------------------------------------------------------------------------------
# The work of one process
# ---------------------------------------------------------------------------------------------------------------
def decode_resized(paths: Sequence[str], size: tuple[int, int]) -> np.ndarray:
    """Decode frames of one clip and resize them to `size` as uint8 (`--cache none`: in the DataLoader workers)."""
    return resize_uint8(_stack(paths, os.path.dirname(paths[0])), size)


def resize_uint8(frames: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear antialiased resize of uint8 frames, rounded back to uint8 (frames already at `size` are kept:
    the float round trip would give them back unchanged)."""
    if tuple(frames.shape[1:]) == tuple(size):
        return np.asarray(frames)
    import torch

    from dataset.windows import resize_unit

    unit = torch.from_numpy(np.ascontiguousarray(frames)).float().div_(255.0).unsqueeze(1)
    return resize_unit(unit, size)[:, 0].mul(255.0).round().to(torch.uint8).numpy()


def _process(frames_of, n: int, size: tuple[int, int], out: Optional[np.ndarray], with_background: bool,
             first_shape: Optional[tuple[int, int]], where: str) -> tuple[tuple[int, int], Optional[np.ndarray]]:
    """Stream chunks (`frames_of(start, stop)` → uint8 originals): resize into `out`, sum the blurred frames."""
    from dataset.filters import blur5

    total = None
    shape = first_shape
    for s in range(0, n, CHUNK):
        originals = frames_of(s, min(n, s + CHUNK))
        if shape is None:
            shape = tuple(originals.shape[1:])
        if tuple(originals.shape[1:]) != shape:
            fail(f"mixed frame sizes in clip {where}: {shape[1]}x{shape[0]} and "
                 f"{originals.shape[2]}x{originals.shape[1]}")
        if out is not None:
            out[s:s + len(originals)] = resize_uint8(originals, size)
        if with_background:
            part = blur5(originals).sum(axis=0, dtype=np.float64)
            total = part if total is None else total + part
    return shape, total


def _stack(paths: Sequence[str], where: str) -> np.ndarray:
    frames = [read_frame(p) for p in paths]
    shapes = {f.shape for f in frames}
    if len(shapes) > 1:
        fail(f"mixed frame sizes in clip {where}: " + " and ".join(f"{s[1]}x{s[0]}" for s in sorted(shapes)))
    return np.stack(frames)


def run_unit(task: dict) -> dict:
    """One task: frames [start, stop) of a folder clip into the shared partial file, or a whole video/TIFF."""
    size, bg = tuple(task["size"]), task["with_background"]
    if task["files"]:
        files = task["files"]
        out = None
        if task["partial"]:
            out = np.load(task["partial"], mmap_mode="r+")[task["start"]:task["stop"]]
        first = read_frame(files[0]).shape if task["start"] else None
        paths = files[task["start"]:task["stop"]]
        shape, total = _process(lambda a, b: _stack(paths[a:b], task["source"]), len(paths), size, out, bg,
                                first, task["source"])
        if out is not None:
            out.flush()
        return {**task, "shape": shape, "bg_sum": total, "n": len(files)}
    frames = read_clip_array(task["source"])
    out = np.empty((len(frames), *size), np.uint8) if task["frames_path"] else None
    shape, total = _process(lambda a, b: frames[a:b], len(frames), size, out, bg, None, task["source"])
    if out is not None:
        with atomic_path(task["frames_path"]) as tmp:
            np.save(tmp, out)
    return {**task, "shape": shape, "bg_sum": total, "n": len(frames)}


def _init_worker() -> None:
    """One thread per worker process: the parallelism is the processes."""
    os.environ["OMP_NUM_THREADS"] = "1"
    import sys

    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


# ---------------------------------------------------------------------------------------------------------------
# The driver
# ---------------------------------------------------------------------------------------------------------------
def _partial_path(final: str, rank: int) -> str:
    """A fixed name per clip and rank, reused by a restart (no orphan temporaries pile up)."""
    return os.path.join(os.path.dirname(final), f".{os.path.basename(final)[:-4]}.partial{rank}.npy")


def _finish(entry: CacheEntry, size: tuple[int, int], results: list[dict], partial: Optional[str]) -> None:
    """All tasks of a clip are done: background, then frames, then the record (the 'done' marker)."""
    from dataset.windows import background_uint8, resize_unit

    import torch

    n, shape = results[0]["n"], results[0]["shape"]
    if entry.background_path:
        total = sum(r["bg_sum"] for r in results)  # exact: blurred uint8 values are multiples of 1/256
        bg = background_uint8(total / n)
        resized = resize_unit(torch.from_numpy(bg).float().div_(255.0)[None, None], size)[0, 0]
        with atomic_path(entry.background_path) as tmp:
            np.save(tmp, resized.numpy().astype(np.float32))
    if partial:
        os.replace(partial, entry.frames_path)
    write_json(entry.record_path, {"clip": entry.clip.name, "source": os.path.realpath(entry.clip.source),
                                   "num_frames": int(n), "orig_hw": [int(shape[0]), int(shape[1])]})


def default_workers() -> int:
    """All cores this process may use, shared among the ranks of this node (LOCAL_WORLD_SIZE under DDP)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    ranks = int(os.environ.get("LOCAL_WORLD_SIZE") or os.environ.get("SLURM_NTASKS_PER_NODE") or 1)
    return max(1, cores // max(1, ranks))


def rank_and_world() -> tuple[int, int]:
    """This process's rank among all training processes (before the Trainer exists: from the launcher's env)."""
    for rank_var, world_var in (("RANK", "WORLD_SIZE"), ("SLURM_PROCID", "SLURM_NTASKS")):
        if os.environ.get(rank_var) is not None and os.environ.get(world_var):
            return int(os.environ[rank_var]), int(os.environ[world_var])
    return 0, 1


def prepare_cache(clips: Sequence[Clip], cache_dir: str, size: tuple[int, int], with_background: bool = False,
                  store_frames: bool = True, workers: Optional[int] = None, progress: bool = True
                  ) -> list[tuple[CacheEntry, dict]]:
    """Make sure every clip is cached; return (entry, record) per clip, in the order of `clips`.

    Under DDP every rank calls this: rank r starts with clips r, r+W, ... and then helps with the rest, so the
    ranks share the work without waiting on each other (writes are atomic; a clip done twice is harmless).
    """
    entries = [plan_entry(c, cache_dir, size, with_background, store_frames) for c in clips]
    todo = [e for e in entries if not e.done()]
    if todo:
        os.makedirs(os.path.join(cache_dir, "resized"), exist_ok=True)
        check_free_space(cache_dir, estimate_bytes(todo, size))
        rank, world = rank_and_world()
        todo = todo[rank::world] + [e for i, e in enumerate(todo) if i % world != rank]
        frames = sum(len(e.files) for e in todo)
        workers = 1 if frames < SMALL else min(workers or default_workers(), len(todo) + frames // UNIT)
        _build(todo, size, workers, progress, rank)
    return [(e, e.record()) for e in entries]


def _tasks(entry: CacheEntry, size: tuple[int, int], rank: int) -> tuple[list[dict], Optional[str]]:
    base = dict(source=entry.clip.source, size=list(size), with_background=bool(entry.background_path),
                frames_path=entry.frames_path, files=entry.files, partial=None)
    if not entry.is_folder:
        return [base], None
    need_frames = entry.frames_path is not None and not os.path.exists(entry.frames_path)
    n = len(entry.files)
    partial = None
    if need_frames:
        partial = _partial_path(entry.frames_path, rank)
        np.lib.format.open_memmap(partial, mode="w+", dtype=np.uint8, shape=(n, *size)).flush()
    if not need_frames and not entry.background_path:  # only the record is missing: read one frame
        return [{**base, "start": 0, "stop": 1}], None
    return [{**base, "partial": partial, "start": s, "stop": min(n, s + UNIT)} for s in range(0, n, UNIT)], partial


def _build(todo: list[CacheEntry], size: tuple[int, int], workers: int, progress: bool, rank: int) -> None:
    from tqdm import tqdm

    total = sum(len(e.files) for e in todo if e.is_folder) or None
    bar = tqdm(total=total, desc=f"caching {len(todo)} clips at {size[0]}x{size[1]} on {workers} processes",
               unit="frame", disable=not progress, smoothing=0.1)
    pending: dict[int, list] = {}  # entry index → [remaining task count, results, partial]
    try:
        if workers <= 1:
            for i, e in enumerate(todo):
                tasks, partial = _tasks(e, size, rank)
                results = []
                for t in tasks:
                    results.append(run_unit(t))
                    bar.update(t["stop"] - t["start"] if t["files"] else 0)
                _finish(e, size, results, partial)
            return
        import multiprocessing

        # fork starts in milliseconds (spawn re-imports torch in every worker: seconds); torch and the DataLoader
        # rely on the same after-fork handling
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method),
                                 initializer=_init_worker) as pool:
            futures = {}
            for i, e in enumerate(todo):
                tasks, partial = _tasks(e, size, rank)
                pending[i] = [len(tasks), [], partial]
                for t in tasks:
                    futures[pool.submit(run_unit, t)] = i
            for fut in as_completed(futures):
                i = futures[fut]
                try:
                    result = fut.result()  # a worker's UserError (unreadable frame, ...) surfaces here
                except BaseException:
                    for other in futures:
                        other.cancel()
                    raise
                slot = pending[i]
                slot[0] -= 1
                slot[1].append(result)
                if result["files"]:
                    bar.update(result["stop"] - result["start"])
                if slot[0] == 0:
                    _finish(todo[i], size, slot[1], slot[2])
                    del pending[i]
    finally:
        bar.close()
