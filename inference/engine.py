"""The one denoising engine behind denoise.py, denoise_CVA.py, denoise_POCUS.py and denoise_Fluo.py.

What the paper code does (docs/paper_code_behaviour.md#inference-algorithm) and what this engine keeps:
- the network input for frame t is the window `input_offsets(config)` (for the CNN [f_t, f_{t-1}, f_{t-2}]),
  each frame resized to the training resolution (bilinear, antialiased) and scaled to [0,1];
- the default output mapping is the paper's per-frame min-max stretch to 0..255 (`normalize="frame"`).

What it fixes (docs/paper_code_behaviour.md#defects):
- every input frame gets an output: windows that reach past a clip edge replicate the edge frame
  (docs/paper_code_behaviour.md#defect-9-9-inference-drops-and-misnames-frames);
- the network resolution is the checkpoint's training resolution, not a flag
  (docs/paper_code_behaviour.md#defect-9-2-wrong-inference-resolution);
- a constant frame maps to 0 instead of dividing by zero; `normalize="clip"|"none"` avoid flicker
  (docs/paper_code_behaviour.md#defect-9-10-per-frame-normalisation);
- the model is loaded once (not per clip), frames are batched, decoded once on reader threads, written on
  writer threads, and each frame's encoder features are computed once and reused by the three windows that
  contain it when the model exposes `encode_frame`/`decode_features` (docs/paper_code_behaviour.md#weak-points);
- outputs are written atomically, so an interrupted run resumes by skipping the frames already on disk.

Input layouts: a domain (or class) folder of clip folders, any deeper tree (every folder that directly holds
frames is a clip; video files in a folder are clips too), a folder that itself holds frames, a video file or
a multi-page TIFF. The output tree mirrors the input: `<output_dir>/<clip path>/<frame stem>.<format>`.
"""
from __future__ import annotations

import contextlib
import copy
import os
import queue
import sys
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Sequence

import numpy as np

from common.atomic import atomic_path
from common.cli import UserError, check_not_inside, fail
from dataset.frames import (TIFF_EXTS, is_image, is_video, natural_key, read_clip_array, read_frame,
                            video_fps, write_frame)

NORMALIZE_MODES = ("frame", "clip", "none")
FORMATS = ("png", "jpg", "tif")
PRECISIONS = ("fp32", "bf16", "fp16", "auto")  # auto: bf16 where the device runs it fast (common/precision.py)
PREVIEW_DIR = "_previews"


# --------------------------------------------------------------------------------------------------------------
# Clips: discovery and sharding
# --------------------------------------------------------------------------------------------------------------
@dataclass
class ClipJob:
    """One clip to denoise. `name` is its path relative to the input root ("" when the input is one clip)."""

    name: str
    source: str                                          # a folder of frames, a video file or a multi-page TIFF
    frame_paths: list[str] = field(default_factory=list)  # folder clips only; video/TIFF frames are named <i>

    @property
    def is_folder(self) -> bool:
        return bool(self.frame_paths)

    def out_dir(self, output_root: str) -> str:
        return os.path.join(output_root, self.name) if self.name else output_root

    def label(self) -> str:
        return self.name or os.path.splitext(os.path.basename(os.path.normpath(self.source)))[0]


def _pick_frames(folder: str, names: list[str], prefer_ext: str | None) -> list[str]:
    """The frame files of one folder: those with the preferred extension if any, else every image type present."""
    if prefer_ext:
        preferred = [n for n in names if n.lower().endswith(prefer_ext.lower())]
        names = preferred or names
    names = sorted(names, key=natural_key)
    stems: dict[str, str] = {}
    for n in names:
        stem = os.path.splitext(n)[0]
        if stem in stems:
            fail(f"two frames with the same name stem in {folder}: {stems[stem]} and {n} (their outputs would collide)")
        stems[stem] = n
    return [os.path.join(folder, n) for n in names]


def find_clips(input_path: str, prefer_ext: str | None = None) -> list[ClipJob]:
    """All clips under `input_path`, in natural order (the paper's layout is a domain folder of clip folders,
    docs/paper_code_behaviour.md#inference-algorithm).

    Every folder that directly holds image frames is a clip; every video file is a clip; a video or multi-page
    TIFF given directly is one clip. Hidden entries (".x") are ignored.
    """
    if not os.path.exists(input_path):
        fail(f"input not found: {input_path}")
    if os.path.isfile(input_path):
        if is_video(input_path) or input_path.lower().endswith(TIFF_EXTS):
            return [ClipJob("", input_path)]
        fail(f"input is a single image, not a clip (give its folder): {input_path}")
    clips: list[ClipJob] = []
    for root, dirs, files in os.walk(input_path, followlinks=True):
        dirs[:] = sorted((d for d in dirs if not d.startswith(".")), key=natural_key)
        rel = os.path.relpath(root, input_path)
        rel = "" if rel == "." else rel
        visible = [f for f in files if not f.startswith(".")]
        images = [f for f in visible if is_image(f)]
        if images:
            clips.append(ClipJob(rel, root, _pick_frames(root, images, prefer_ext)))
        for f in sorted((f for f in visible if is_video(f)), key=natural_key):
            clips.append(ClipJob(os.path.join(rel, os.path.splitext(f)[0]), os.path.join(root, f)))
    if not clips:
        fail(f"no frames or videos found under {input_path}")
    return clips


def parse_shard(spec: str | None) -> tuple[int, int] | None:
    """`"K/N"` (1-based K, e.g. SLURM_ARRAY_TASK_ID with --array=1-N) → (K, N)."""
    if not spec:
        return None
    try:
        k, n = (int(p) for p in spec.split("/"))
    except ValueError:
        fail(f"--shard must look like K/N (e.g. 2/8), got {spec!r}")
    if n < 1 or not 1 <= k <= n:
        fail(f"--shard {spec}: need 1 <= K <= N")
    return k, n


def select_shard(clips: Sequence[ClipJob], shard: tuple[int, int] | None) -> list[ClipJob]:
    """Shard K/N takes the clips whose 0-based position in the sorted list satisfies i % N == K-1."""
    if shard is None:
        return list(clips)
    k, n = shard
    return [c for i, c in enumerate(clips) if i % n == k - 1]


# --------------------------------------------------------------------------------------------------------------
# Reading frames on background threads
# --------------------------------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------------------------------
# The network side: windows, encoder reuse, batching
# --------------------------------------------------------------------------------------------------------------
def resolve_device(spec: str = "auto"):
    """`auto` → the first GPU if there is one, else CPU; `cuda[:i]` must exist."""
    import torch

    spec = (spec or "auto").lower()
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if spec == "cpu":
        return torch.device("cpu")
    if spec.startswith("cuda"):
        if not torch.cuda.is_available():
            fail(f"--device {spec}: no CUDA device is available here (use --device cpu or auto)")
        dev = torch.device(spec)
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            fail(f"--device {spec}: only {torch.cuda.device_count()} CUDA device(s) present")
        return dev
    fail(f"--device must be auto, cpu, cuda or cuda:<i>, got {spec!r}")


def network_size(config: dict, fallback_resolution: int | None = None, aspect: float = 0.5
                 ) -> tuple[int, int] | None:
    """The H×W the network sees: the checkpoint's training resolution (fixing
    docs/paper_code_behaviour.md#defect-9-2-wrong-inference-resolution); for a paper checkpoint, which
    does not record it, `(res, res*aspect)` from `--resolution_size` (the paper used res × res/2 everywhere);
    None (each frame's own size) for patch-trained networks (`ModelSpec.native_size`, e.g. UDVD, as its paper's
    inference does) without a training resolution."""
    from models import model_spec

    h, w = config.get("input_height"), config.get("input_width")
    if not (h and w) and model_spec(config).native_size:
        return None
    if h and w:
        return int(h), int(w)
    res = int(fallback_resolution or config.get("resolution_target") or 512)
    return res, max(1, int(round(res * aspect)))


def auto_batch_size(size: tuple[int, int] | None, device) -> int:
    """Frames per network call when --batch_size is 0 (auto): 8 on a GPU; on a CPU about 128k pixels per call,
    since big batches of big frames spill the caches (at 1024x512, batch 8 ran slower than batch 1 on 2 cores)."""
    if getattr(device, "type", str(device)) != "cpu":
        return 8
    pixels = (size[0] * size[1]) if size else 512 * 256
    return int(max(1, min(8, (1 << 17) // max(1, pixels))))


class Denoiser:
    """A loaded network plus the recipe that turns a clip's raw frames into its outputs
    (docs/paper_code_behaviour.md#inference-algorithm).

    `run` consumes frames in order, builds each target's window from `input_offsets` (edge frames replicated),
    and yields (frame index, float32 output at the original frame size).
    """

    def __init__(self, model, config: dict, size: tuple[int, int] | None, device="cpu", precision: str = "fp32",
                 batch_size: int = 8, reuse_encoder: bool = True):
        import torch

        from common.precision import resolve_precision
        from models import input_offsets, model_spec

        if precision not in PRECISIONS:
            fail(f"--precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
        if batch_size < 0:
            fail(f"--batch_size must be >= 1 (or 0 for auto), got {batch_size}")
        self.device = torch.device(device) if not isinstance(device, torch.device) else device
        precision = resolve_precision(precision, self.device)
        self.config = dict(config)
        self.spec = model_spec(config)
        self.is_3d = self.spec.is_3d
        self.model = model.to(self.device).eval()
        if not self.is_3d:  # NHWC convolutions: ~1.2x faster on CPU (oneDNN) and with tensor cores on GPU
            self.model = self.model.to(memory_format=torch.channels_last)
        # bf16 for 2-D networks: the weights are cast once here instead of by autocast at every batch (that cast
        # of ~25M weights cost as much as a 128x64 batch; pure bf16 ran 1.4x faster than autocast there, same
        # outputs: these networks are convolutions, activations and resizes only). A copy, so the caller's model
        # stays fp32. 3-D networks and fp16 keep autocast.
        self.dtype = torch.bfloat16 if precision == "bf16" and not self.is_3d else torch.float32
        if self.dtype != torch.float32:
            self.model = copy.deepcopy(self.model).to(self.dtype)
        self.size = None if size is None else (int(size[0]), int(size[1]))
        self.precision = precision
        self.batch_size = int(batch_size) or auto_batch_size(self.size, self.device)
        self.offsets = input_offsets(config)
        # encoding each frame once skips the per-window input recipe, so only plain channel inputs may reuse it
        self.reuse_encoder = bool(reuse_encoder and not (self.spec.is_3d or self.spec.minmax_window)
                                  and hasattr(model, "encode_frame") and hasattr(model, "decode_features"))

    def _autocast(self):
        import torch

        if self.precision == "fp32" or self.dtype != torch.float32:
            return contextlib.nullcontext()
        dtype = torch.bfloat16 if self.precision == "bf16" else torch.float16
        return torch.autocast(self.device.type, dtype=dtype)

    def _prepare(self, imgs: list[np.ndarray]):
        """uint8 H×W frames → N×1×h×w float in [0,1] at the network size (bilinear, antialiased, as in training)."""
        import torch
        import torch.nn.functional as F

        x = torch.from_numpy(np.stack(imgs)).to(self.device).unsqueeze(1).float().div_(255.0)
        if self.size is not None and tuple(x.shape[-2:]) != self.size:
            x = F.interpolate(x, size=self.size, mode="bilinear", align_corners=False, antialias=True)
        return x if self.is_3d else x.contiguous(memory_format=torch.channels_last)

    def _window_batch(self, buf: dict, batch: Sequence[int], clamp):
        """The network input of each target, by the recipe training uses (models/network_input.py): B×C×h×w
        for 2-D networks, B×1×h×w×T min-max normalised per window for the 3-D U-Net."""
        import torch

        from models.network_input import network_input

        frames = torch.cat([torch.cat([buf[clamp(t + o)] for o in self.offsets], dim=1) for t in batch])
        return network_input(frames, self.spec)

    def run(self, frames: Iterable[np.ndarray], n: int, targets: Sequence[int] | None = None,
            out_size: tuple[int, int] | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """Yield (t, output) for each target t (default: every frame), ascending. `frames` yields all n frames
        in order (it is read only as far as needed); `out_size` defaults to the frames' own H×W."""
        targets = sorted(set(range(n) if targets is None else targets))
        if not targets:
            return
        if targets[0] < 0 or targets[-1] >= n:
            fail(f"frame targets outside the clip (0..{n - 1})")
        lo_off = min(self.offsets)

        def clamp(i: int) -> int:
            return min(max(i, 0), n - 1)

        it = iter(frames)
        next_idx = 0
        buf: dict[int, object] = {}    # frame index → 1×1×h×w network-size frame tensor
        feats: dict[int, list] = {}    # frame index → its encoder outputs (encoder reuse)
        for b in range(0, len(targets), self.batch_size):
            batch = targets[b:b + self.batch_size]
            need = sorted({clamp(t + o) for t in batch for o in self.offsets})
            fresh: dict[int, np.ndarray] = {}
            while next_idx <= need[-1]:
                try:
                    img = next(it)
                except StopIteration:
                    fail(f"clip ended after {next_idx} frames, expected {n}")
                if out_size is None:
                    out_size = tuple(img.shape[:2])
                if next_idx >= need[0]:  # frames before the first target's window are never needed
                    fresh[next_idx] = img
                next_idx += 1
            result = self._infer(fresh, buf, feats, batch, need, clamp, tuple(out_size))
            if b + self.batch_size < len(targets):  # forget frames no later window needs
                floor = clamp(targets[b + self.batch_size] + lo_off)
                for d in (buf, feats):
                    for i in [i for i in d if i < floor]:
                        del d[i]
            for j, t in enumerate(batch):
                yield t, result[j]

    def _infer(self, fresh: dict, buf: dict, feats: dict, batch: Sequence[int], need: Sequence[int], clamp,
               out_size: tuple[int, int]) -> np.ndarray:
        """One batch → B×H×W float32 outputs at `out_size`. Inference mode is entered per batch, so it does not
        stay switched on in the caller's thread while `run` is suspended at a yield."""
        import torch
        import torch.nn.functional as F

        with torch.inference_mode():
            if fresh:
                for i, x in zip(fresh, self._prepare(list(fresh.values())).split(1)):
                    buf[i] = x
            with self._autocast():
                if self.reuse_encoder:
                    missing = [i for i in need if i not in feats]
                    if missing:
                        enc = self.model.encode_frame(torch.cat([buf[i] for i in missing]).to(self.dtype))
                        for j, i in enumerate(missing):
                            feats[i] = [f[j:j + 1] for f in enc]
                    per_frame = [[torch.cat([feats[clamp(t + o)][lvl] for t in batch])
                                  for lvl in range(len(feats[need[0]]))] for o in self.offsets]
                    out = self.model.decode_features(per_frame)
                else:
                    out = self.model(self._window_batch(buf, batch, clamp).to(self.dtype))
            while out.dim() > 4:
                out = out.squeeze(-1)
            out = out.float()
            if tuple(out.shape[-2:]) != out_size:
                out = F.interpolate(out, size=out_size, mode="bicubic", align_corners=False, antialias=True)
            return out[:, 0].cpu().numpy()


# --------------------------------------------------------------------------------------------------------------
# Output mapping
# --------------------------------------------------------------------------------------------------------------
def to_uint8(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Map [lo, hi] linearly to 0..255 (rounded, clipped); a constant range (hi <= lo) gives 0, not NaN
    (docs/paper_code_behaviour.md#defect-9-10-per-frame-normalisation)."""
    scale = 255.0 / (hi - lo) if hi > lo else 0.0
    return np.clip(np.rint((x - lo) * scale), 0, 255).astype(np.uint8)


def map_output(x: np.ndarray, normalize: str, clip_range: tuple[float, float] | None = None) -> np.ndarray:
    """The paper's per-frame min-max stretch (`frame`), one stretch per clip (`clip`, no flicker) or the fixed
    [0,1] → 0..255 map (`none`, no stretching at all)."""
    if normalize == "frame":
        return to_uint8(x, float(x.min()), float(x.max()))
    if normalize == "clip":
        if clip_range is None:
            raise ValueError("normalize='clip' needs the clip's (min, max)")
        return to_uint8(x, *clip_range)
    if normalize == "none":
        return to_uint8(x, 0.0, 1.0)
    fail(f"--normalize must be one of {', '.join(NORMALIZE_MODES)}, got {normalize!r}")


# --------------------------------------------------------------------------------------------------------------
# Files: one clip, a whole tree
# --------------------------------------------------------------------------------------------------------------
@dataclass
class InferenceOptions:
    """Everything about a run that is not the network (the paper's CLI flags,
    docs/paper_code_behaviour.md#inference-flags, plus ours)."""

    output_dir: str
    fmt: str = "png"                 # png | jpg | tif; tif with normalize="none" stores float32 (the paper's Fluo)
    jpeg_quality: int = 95
    normalize: str = "frame"
    batch_size: int = 0
    device: str = "auto"
    precision: str = "fp32"
    num_workers: int = 2
    overwrite: bool = False
    preview: bool = False
    max_frames: int | None = None    # stop after writing this many frames (quick look; a re-run resumes)
    progress: bool = True


def _out_path(out_dir: str, stem: str, fmt: str) -> str:
    return os.path.join(out_dir, f"{stem}.{fmt}")


def clip_stems(job: ClipJob, n: int | None = None) -> list[str]:
    """Output name stems: the input frame stems for folders, `0..n-1` for videos and TIFF stacks."""
    if job.is_folder:
        return [os.path.splitext(os.path.basename(p))[0] for p in job.frame_paths]
    return [str(i) for i in range(n or 0)]


class _Writer:
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


def denoise_clip(denoiser: Denoiser, job: ClipJob, opts: InferenceOptions, budget: int | None = None) -> tuple[int, int]:
    """Denoise one clip into `job.out_dir(opts.output_dir)`; returns (frames written, frames already done).

    Finished frames (their output file exists; writes are atomic) are skipped unless `opts.overwrite`.
    With normalize="clip" the stretch depends on every frame, so an unfinished clip is recomputed in full
    (and only its missing frames are written; the finished ones have the same values).
    """
    from tqdm import tqdm

    out_dir = job.out_dir(opts.output_dir)
    arr = None
    if job.is_folder:
        n = len(job.frame_paths)
    else:
        arr = read_clip_array(job.source)
        n = len(arr)
    stems = clip_stems(job, n)
    paths = [_out_path(out_dir, s, opts.fmt) for s in stems]
    todo = list(range(n)) if opts.overwrite else [i for i, p in enumerate(paths) if not os.path.exists(p)]
    done = n - len(todo)
    if not todo or budget == 0:
        return 0, done
    if budget is not None:
        todo = todo[:budget]
    targets = list(range(n)) if opts.normalize == "clip" else todo
    float_tif = opts.fmt == "tif" and opts.normalize == "none"

    reader = FrameReader(job.frame_paths, opts.num_workers) if job.is_folder else None
    frames: Iterable[np.ndarray] = reader if reader is not None else arr
    writer = _Writer(opts.num_workers, opts.jpeg_quality)
    bar = tqdm(total=n, initial=done, desc=job.label(), unit="frame", disable=not opts.progress, leave=False,
               file=sys.stderr, dynamic_ncols=True)
    written = 0
    wanted = set(todo)
    held: dict[int, np.ndarray] = {}      # normalize="clip": outputs wait for the clip's range
    clip_lo, clip_hi = np.inf, -np.inf
    try:
        os.makedirs(out_dir, exist_ok=True)
        for t, y in denoiser.run(frames, n, targets):
            if opts.normalize == "clip":  # held as float16 (half the memory); the range is taken on those values
                y16 = y.astype(np.float16)
                clip_lo, clip_hi = min(clip_lo, float(y16.min())), max(clip_hi, float(y16.max()))
                if t in wanted:
                    held[t] = y16
                    bar.update(1)
                continue
            writer.submit(paths[t], y.astype(np.float32) if float_tif else map_output(y, opts.normalize))
            written += 1
            bar.update(1)
        for t in sorted(held):
            writer.submit(paths[t], map_output(held.pop(t).astype(np.float32), "clip", (clip_lo, clip_hi)))
            written += 1
    finally:
        if reader is not None:
            reader.close()
        writer.close()
        bar.close()
    return written, done
    return written, done


def write_preview(job: ClipJob, opts: InferenceOptions, max_frames: int = 60, height: int = 240) -> str | None:
    """A side-by-side raw | denoised GIF of a finished clip in `<output_dir>/_previews/` (evenly spaced frames)."""
    import cv2
    from PIL import Image

    out_dir = job.out_dir(opts.output_dir)
    arr = None if job.is_folder else read_clip_array(job.source)
    n = len(job.frame_paths) if job.is_folder else len(arr)
    stems = clip_stems(job, n)
    name = (job.name or job.label()).replace(os.sep, "__")
    target = os.path.join(opts.output_dir, PREVIEW_DIR, f"{name}.gif")
    if os.path.exists(target) and not opts.overwrite:
        return target
    picks = sorted(set(np.linspace(0, n - 1, min(n, max_frames)).round().astype(int).tolist()))
    tiles = []
    for i in picks:
        den_path = _out_path(out_dir, stems[i], opts.fmt)
        if not os.path.exists(den_path):
            return None  # clip unfinished (e.g. --max_frames): no preview yet
        raw = read_frame(job.frame_paths[i]) if job.is_folder else arr[i]
        den = read_frame(den_path)
        h, w = raw.shape
        size = (max(1, round(w * min(1.0, height / h))), min(h, height))
        tiles.append(Image.fromarray(np.hstack([cv2.resize(raw, size, interpolation=cv2.INTER_AREA),
                                                cv2.resize(den, size, interpolation=cv2.INTER_AREA)])))
    fps = video_fps(job.source) if not job.is_folder else 10.0
    with atomic_path(target) as tmp:
        tiles[0].save(tmp, format="GIF", save_all=True, append_images=tiles[1:], duration=int(1000 / fps), loop=0)
    return target


def load_for_inference(checkpoint: str, overrides: dict | None, device, precision: str, batch_size: int,
                       fallback_resolution: int | None = None, aspect: float = 0.5) -> Denoiser:
    """Load the checkpoint once (the paper reloaded it per clip) and wrap it for inference."""
    from models.checkpoint import load_denoiser

    model, config = load_denoiser(checkpoint, overrides=overrides or None, map_location="cpu")
    size = network_size(config, fallback_resolution, aspect)
    return Denoiser(model, config, size, device=device, precision=precision, batch_size=batch_size)


@dataclass
class RunSpec:
    """A whole denoising run, picklable so each GPU process (`--devices N`) can rebuild it."""

    checkpoint: str
    input_dir: str
    opts: InferenceOptions
    overrides: dict = field(default_factory=dict)
    fallback_resolution: int | None = None
    aspect: float = 0.5
    prefer_ext: str | None = None
    shard: tuple[int, int] | None = None
    devices: int = 1


def _run_clips(spec: RunSpec, clips: Sequence[ClipJob], device) -> dict:
    denoiser = load_for_inference(spec.checkpoint, spec.overrides, device, spec.opts.precision, spec.opts.batch_size,
                                  spec.fallback_resolution, spec.aspect)
    written = skipped = 0
    budget = spec.opts.max_frames
    t0 = time.perf_counter()
    for job in clips:
        w, d = denoise_clip(denoiser, job, spec.opts, budget)
        written += w
        skipped += d
        if budget is not None:
            budget -= w
        if spec.opts.preview:
            write_preview(job, spec.opts)
    seconds = time.perf_counter() - t0
    return {"clips": len(clips), "written": written, "skipped": skipped, "seconds": seconds,
            "fps": written / seconds if seconds > 0 else 0.0, "device": str(denoiser.device),
            "network_size": list(denoiser.size) if denoiser.size else None, "encoder_reuse": denoiser.reuse_encoder}


def _device_worker(rank: int, spec: RunSpec, clips: list[ClipJob], results) -> None:
    """One process per device: clips rank, rank+N, ... (in the same sorted order as --shard)."""
    import torch

    if torch.cuda.is_available():
        device = torch.device(f"cuda:{rank}")
    else:  # CPU processes split the cores (useful for tests; on CPU a single process is normally as fast)
        device = torch.device("cpu")
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // spec.devices))
    try:
        results[rank] = _run_clips(spec, clips[rank::spec.devices], device)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)


def denoise_tree(spec: RunSpec) -> dict:
    """Denoise every clip under `spec.input_dir` (this shard's share) into `spec.opts.output_dir`.

    Returns a summary: clips, frames written, frames skipped as already done, seconds, frames/s.
    """
    opts = spec.opts
    if opts.fmt not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}, got {opts.fmt!r}")
    if opts.normalize not in NORMALIZE_MODES:
        fail(f"--normalize must be one of {', '.join(NORMALIZE_MODES)}, got {opts.normalize!r}")
    if opts.max_frames is not None and opts.max_frames < 0:
        fail("--max_frames must be >= 0")
    input_root = spec.input_dir if not os.path.isfile(spec.input_dir) else os.path.dirname(os.path.abspath(spec.input_dir))
    check_not_inside(opts.output_dir, input_root)
    clips = select_shard(find_clips(spec.input_dir, spec.prefer_ext), spec.shard)
    if spec.devices <= 1 or len(clips) <= 1:
        return _run_clips(spec, clips, resolve_device(opts.device))

    import torch
    import torch.multiprocessing as mp

    if torch.cuda.is_available() and spec.devices > torch.cuda.device_count():
        fail(f"--devices {spec.devices}: only {torch.cuda.device_count()} CUDA device(s) present")
    load_for_inference(spec.checkpoint, spec.overrides, "cpu", opts.precision, opts.batch_size)  # fail fast, once
    results = mp.Manager().dict()
    t0 = time.perf_counter()
    try:
        mp.spawn(_device_worker, args=(spec, clips, results), nprocs=spec.devices, join=True)
    except mp.ProcessExitedException as exc:
        fail(f"a device process failed ({exc}); finished frames are kept, re-run to resume")
    parts = [results[r] for r in sorted(results.keys())]
    seconds = time.perf_counter() - t0
    written = sum(p["written"] for p in parts)
    return {"clips": len(clips), "written": written, "skipped": sum(p["skipped"] for p in parts), "seconds": seconds,
            "fps": written / seconds if seconds > 0 else 0.0, "device": f"{spec.devices} processes",
            "network_size": parts[0]["network_size"] if parts else None,
            "encoder_reuse": all(p["encoder_reuse"] for p in parts)}
