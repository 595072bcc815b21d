"""The one denoising engine behind denoise.py, denoise_CVA.py, denoise_POCUS.py and denoise_Fluo.py: a run's
options, sharding, clip by clip, and one process per device.

What the paper code does (docs/paper_code_behaviour.md#inference-algorithm) and what this engine keeps:
- the network input for frame t is the window of the network's `ModelSpec` offsets (for the CNN
  [f_t, f_{t-1}, f_{t-2}]), each frame resized to the training resolution (bilinear, antialiased) and scaled
  to [0,1], then shaped by `models.network_input` exactly as in training;
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

Modules by clip: `dataset.clips` finds the clips, `inference.denoiser` holds the model and the windows,
`inference.io` the reader and writer threads and the output names, `inference.output` the 0..255 mapping and the
preview GIFs; this module ties them together.
"""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from common.cli import UserError, check_not_inside, fail
from dataset.clips import Clip, find_clips
from dataset.frames import read_clip_array
from inference.denoiser import Denoiser, load_for_inference, resolve_device
from inference.io import FrameReader, FrameWriter, clip_stems, out_path
from inference.output import NORMALIZE_MODES, map_output, write_preview

FORMATS = ("png", "jpg", "tif")


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


def select_shard(clips: Sequence[Clip], shard: tuple[int, int] | None) -> list[Clip]:
    """Shard K/N takes the clips whose 0-based position in the sorted list satisfies i % N == K-1."""
    if shard is None:
        return list(clips)
    k, n = shard
    return [c for i, c in enumerate(clips) if i % n == k - 1]


def denoise_clip(denoiser: Denoiser, clip: Clip, opts: InferenceOptions, budget: int | None = None) -> tuple[int, int]:
    """Denoise one clip into `clip.out_dir(opts.output_dir)`; returns (frames written, frames already done).

    Finished frames (their output file exists; writes are atomic) are skipped unless `opts.overwrite`.
    With normalize="clip" the stretch depends on every frame, so an unfinished clip is recomputed in full
    (and only its missing frames are written; the finished ones have the same values).
    """
    from tqdm import tqdm

    out_dir = clip.out_dir(opts.output_dir)
    arr = None
    if clip.is_folder:
        n = len(clip.frame_paths)
    else:
        arr = read_clip_array(clip.source)
        n = len(arr)
    stems = clip_stems(clip, n)
    paths = [out_path(out_dir, s, opts.fmt) for s in stems]
    todo = list(range(n)) if opts.overwrite else [i for i, p in enumerate(paths) if not os.path.exists(p)]
    done = n - len(todo)
    if not todo or budget == 0:
        return 0, done
    if budget is not None:
        todo = todo[:budget]
    targets = list(range(n)) if opts.normalize == "clip" else todo
    float_tif = opts.fmt == "tif" and opts.normalize == "none"

    reader = FrameReader(clip.frame_paths, opts.num_workers) if clip.is_folder else None
    frames: Iterable[np.ndarray] = reader if reader is not None else arr
    writer = FrameWriter(opts.num_workers, opts.jpeg_quality)
    bar = tqdm(total=n, initial=done, desc=clip.label(), unit="frame", disable=not opts.progress, leave=False,
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


def _run_clips(spec: RunSpec, clips: Sequence[Clip], device) -> dict:
    denoiser = load_for_inference(spec.checkpoint, spec.overrides, device, spec.opts.precision, spec.opts.batch_size,
                                  spec.fallback_resolution, spec.aspect)
    written = skipped = 0
    budget = spec.opts.max_frames
    t0 = time.perf_counter()
    for clip in clips:
        w, d = denoise_clip(denoiser, clip, spec.opts, budget)
        written += w
        skipped += d
        if budget is not None:
            budget -= w
        if spec.opts.preview:
            write_preview(clip, spec.opts)
    seconds = time.perf_counter() - t0
    return {"clips": len(clips), "written": written, "skipped": skipped, "seconds": seconds,
            "fps": written / seconds if seconds > 0 else 0.0, "device": str(denoiser.device),
            "network_size": list(denoiser.size) if denoiser.size else None, "encoder_reuse": denoiser.reuse_encoder}


def _device_worker(rank: int, spec: RunSpec, clips: list[Clip], results) -> None:
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
