"""Inference file I/O: frames decoded on reader threads ahead of the network, outputs encoded on writer threads,
and the output names (docs/inference.md).
"""
from __future__ import annotations

import os
import queue
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Iterator, Sequence

import numpy as np

from common.cli import fail
from dataset.clips import Clip
from dataset.frames import read_frame, write_frame


class _Failure:
    def __init__(self, exc: BaseException):
        self.exc = exc


class FrameReader:
    """Decode a folder clip's frames in order on `num_workers` threads, at most `lookahead` frames ahead.

    The network never waits on JPEG/PNG decoding; frame sizes are checked as they arrive (a clip of mixed
    sizes is a user error naming the first odd file).
    """

    def __init__(self, paths: Sequence[str], num_workers: int = 2, lookahead: int = 32):
        self.paths = list(paths)
        self.num_workers = max(1, num_workers)
        self._queue: queue.Queue = queue.Queue(maxsize=max(2, lookahead))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._produce, daemon=True)
        self._thread.start()

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> None:
        try:
            shape = None
            with ThreadPoolExecutor(self.num_workers) as pool:
                pending: deque[tuple[str, Future]] = deque()
                todo = iter(self.paths)
                for p in todo:
                    pending.append((p, pool.submit(read_frame, p)))
                    if len(pending) >= 2 * self.num_workers:
                        break
                while pending:
                    path, fut = pending.popleft()
                    nxt = next(todo, None)
                    if nxt is not None:
                        pending.append((nxt, pool.submit(read_frame, nxt)))
                    img = fut.result()
                    if shape is None:
                        shape = img.shape
                    elif img.shape != shape:
                        fail(f"mixed frame sizes in clip {os.path.dirname(path)}: {os.path.basename(self.paths[0])} is "
                             f"{shape[1]}x{shape[0]}, {os.path.basename(path)} is {img.shape[1]}x{img.shape[0]}")
                    if not self._put(img):
                        return
        except BaseException as exc:  # handed to the consumer, which re-raises it in the main thread
            self._put(_Failure(exc))

    def __iter__(self) -> Iterator[np.ndarray]:
        for _ in range(len(self.paths)):
            item = self._queue.get()
            if isinstance(item, _Failure):
                raise item.exc
            yield item

    def close(self) -> None:
        self._stop.set()


def out_path(out_dir: str, stem: str, fmt: str) -> str:
    """Where one output frame goes: the input's stem with the output format's extension."""
    return os.path.join(out_dir, f"{stem}.{fmt}")


def clip_stems(clip: Clip, n: int | None = None) -> list[str]:
    """Output name stems: the input frame stems for folders, `0..n-1` for videos and TIFF stacks."""
    if clip.is_folder:
        return [os.path.splitext(name)[0] for name in clip.frame_names]
    return [str(i) for i in range(n or 0)]


class FrameWriter:
    """Write images on background threads (PNG/JPEG encoding releases the GIL), with bounded memory."""

    def __init__(self, num_workers: int, jpeg_quality: int):
        self.pool = ThreadPoolExecutor(max(1, num_workers))
        self.pending: deque[Future] = deque()
        self.limit = 4 * max(1, num_workers)
        self.jpeg_quality = jpeg_quality

    def submit(self, path: str, img: np.ndarray) -> None:
        self.pending.append(self.pool.submit(write_frame, path, img, self.jpeg_quality))
        while len(self.pending) > self.limit:
            self.pending.popleft().result()

    def close(self) -> None:
        try:
            while self.pending:
                self.pending.popleft().result()
        finally:
            self.pool.shutdown(wait=True)
