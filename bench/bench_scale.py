"""Training at the paper's scale: cache bytes per frame, cache preparation frames/s (before and after issue 16),
peak RAM, time to the first training step on a large index, checkpoint write time, extrapolated to CFC22.

    python bench/bench_scale.py                      # 1,200 frames of 1024×512 JPEG in 6 clips, 100k-frame index
    python bench/bench_scale.py --frames 4800 --workers 1 2 4 8 --index_frames 200000

The dataset is cheap to build: a few real-size noisy JPEG frames, hard-linked N times into the CFC22 layout.
"before" is the previous cache (the whole clip decoded into a uint8 cache, then resized into a second one, in
one process); "after" is dataset/cache.py. Each measurement runs in a fresh process, so peak RAM is its own.
Figures are printed, never asserted; other jobs sharing the cores slow them down: say so with the numbers.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common.cli import ArgumentParser, run_cli  # noqa: E402

CFC22_FRAMES = 527_000


def parse_args() -> argparse.Namespace:
    p = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    a = p.add_argument
    a("--frames", type=int, default=1200, help="frames of the preparation benchmark")
    a("--clips", type=int, default=6, help="clips they are split into")
    a("--height", type=int, default=1024, help="frame height of the source JPEGs and of training")
    a("--width", type=int, default=512, help="frame width of the source JPEGs and of training")
    a("--distinct", type=int, default=8, help="distinct source frames (the rest are hard links to them)")
    a("--workers", type=int, nargs="+", default=None, help="process counts to time (default: 1 and all cores)")
    a("--index_frames", type=int, default=100_000, help="frames of the index for the time-to-first-step figure")
    a("--index_clips", type=int, default=100, help="clips of that index")
    a("--ram_clips", type=int, nargs=2, default=(2, 32), help="two clip counts for the same frames: peak RAM of each")
    a("--model", choices=("readme", "small"), default="readme",
      help="network for the first step and the checkpoint (readme: 25.5M parameters, bottleneck 512)")
    a("--skip_before", action="store_true", help="do not time the previous cache")
    a("--prep_only", action="store_true", help="only the cache preparation table")
    a("--work_dir", default=None, help="where to build the data (default: a temporary folder, removed after)")
    return p.parse_args()


def make_frames(root: str, frames: int, clips: int, h: int, w: int, distinct: int, ext: str = ".jpg") -> str:
    """`frames` frames in `clips` CFC22 clip folders under root/raw_all, hard links to `distinct` real files."""
    import numpy as np

    from dataset.frames import write_frame

    src = os.path.join(root, "sources")
    rng = np.random.default_rng(0)
    yy = np.linspace(0, 1, h)[:, None]
    paths = []
    for i in range(distinct):  # sonar-like: a smooth gain ramp under multiplicative speckle
        speckle = rng.gamma(2.0, 0.5, (h, w))
        img = np.clip(90 * (0.4 + yy) * speckle + rng.normal(0, 8, (h, w)), 0, 255).astype(np.uint8)
        paths.append(os.path.join(src, f"{i}{ext}"))
        write_frame(paths[-1], img, jpeg_quality=90)
    base = os.path.join(root, "raw_all")
    per = [frames // clips + (c < frames % clips) for c in range(clips)]
    k = 0
    for c, n in enumerate(per):
        clip = os.path.join(base, f"bench-clip{c:04d}")
        os.makedirs(clip, exist_ok=True)
        for t in range(n):
            os.link(paths[k % distinct], os.path.join(clip, f"{t}{ext}"))
            k += 1
    return base


def _peak_mb() -> float:
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024.0  # KiB on Linux; children: the largest one


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (the pool workers): a figure the other jobs on shared
    cores do not inflate, unlike wall-clock time."""
    import resource

    return sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                   resource.getrusage(resource.RUSAGE_CHILDREN)))


def _du(folder: str) -> int:
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(folder) for f in fs)


def _before(base: str, cache_dir: str, size, q) -> None:
    """The previous cache: decode a whole clip into decoded/ (uint8), resize it into resized/ (uint8)."""
    import numpy as np
    import torch

    from common.atomic import atomic_path
    from dataset.frames import cached_clip_array
    from dataset.layouts import layout_clips
    from dataset.windows import resize_unit

    def old_resize(chunk: np.ndarray) -> np.ndarray:  # the previous code: float round trip even at equal sizes
        unit = torch.from_numpy(np.array(chunk)).float().div_(255.0).unsqueeze(1)
        return resize_unit(unit, size)[:, 0].mul(255.0).round().to(torch.uint8).numpy()

    torch.set_num_threads(1)
    start, cpu = time.perf_counter(), _cpu_seconds()
    n = 0
    for clip in layout_clips("CFC22", base):
        decoded = cached_clip_array(clip.source, os.path.join(cache_dir, "decoded"))
        resized = np.concatenate([old_resize(decoded[s:s + 64]) for s in range(0, len(decoded), 64)])
        with atomic_path(os.path.join(cache_dir, "resized", f"{clip.name}.npy")) as tmp:
            np.save(tmp, resized)
        n += len(decoded)
    q.put(dict(seconds=time.perf_counter() - start, cpu=_cpu_seconds() - cpu, frames=n, bytes=_du(cache_dir),
               peak_mb=_peak_mb()))


def _after(base: str, cache_dir: str, size, workers: int, q) -> None:
    import torch  # noqa: F401  (imported before the clock starts, as in _before)

    from dataset.cache import prepare_cache
    from dataset.layouts import layout_clips

    start, cpu = time.perf_counter(), _cpu_seconds()
    clips = layout_clips("CFC22", base)
    prepare_cache(clips, cache_dir, size, with_background=False, workers=workers, progress=False)
    q.put(dict(seconds=time.perf_counter() - start, cpu=_cpu_seconds() - cpu, frames=sum(len(c) for c in clips),
               bytes=_du(cache_dir), peak_mb=_peak_mb()))


def _first_step(base: str, results: str, model: str, q) -> None:
    """main.py's own training path until the first step; then save a checkpoint as --checkpoint_every_n_steps."""
    start = time.perf_counter()
    from pytorch_lightning.callbacks import Callback

    from main import parse_args
    from models.training import train

    class Stop(Exception):
        pass

    class Probe(Callback):
        def on_train_batch_start(self, trainer, module, batch, batch_idx):
            self.first = time.perf_counter() - start

        def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
            path = os.path.join(results, "probe.ckpt")
            t = time.perf_counter()
            trainer.save_checkpoint(path)
            q.put(dict(first_step=self.first, ckpt_seconds=time.perf_counter() - t, ckpt_bytes=os.path.getsize(path),
                       samples=len(trainer.datamodule.train_set)))
            raise Stop

    arch = (["--resolution_target", "1024", "--fine_layers", "--bottleneck_size", "512", "--with_skip_connections"]
            if model == "readme" else ["--resolution_target", "512", "--fine_layers"])
    argv = ["--base_folder", base, "--results_path", results, "--train_resolution", "128", "--batch_size", "2",
            "--epochs", "1", "--num_workers", "0", "--target", "gap1_and_curr_frame", "--overwrite", *arch]
    try:
        train(parse_args(argv), callbacks=(Probe(),))
    except Stop:
        pass


def in_child(fn, *args) -> dict:
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    q = ctx.Queue()
    proc = ctx.Process(target=fn, args=(*args, q))
    proc.start()
    result = q.get()
    proc.join()
    return result


def main() -> int:
    args = parse_args()
    import shutil

    from dataset.cache import default_workers, human

    cores = default_workers()
    workers = args.workers or sorted({1, cores})
    size = (args.height, args.width)
    root = args.work_dir or tempfile.mkdtemp(prefix="bench_scale_")
    os.makedirs(root, exist_ok=True)
    try:
        base = make_frames(os.path.join(root, "prep"), args.frames, args.clips, *size, args.distinct)
        jpeg = os.path.getsize(os.path.join(root, "prep", "sources", "0.jpg"))
        print(f"data: {args.frames} frames of {args.height}x{args.width} (H×W) JPEG (~{human(jpeg)} each) in "
              f"{args.clips} clips; training size {args.height}x{args.width}; {os.cpu_count()} cores visible, "
              f"load average {os.getloadavg()[0]:.1f} at start")
        rows = []
        if not args.skip_before:
            r = in_child(_before, base, os.path.join(root, "cache_before"), size)
            rows.append(("before (decoded + resized copies, 1 process)", r))
        for w in workers:
            r = in_child(_after, base, os.path.join(root, f"cache_after_{w}"), size, w)
            rows.append((f"after ({w} process{'es' if w > 1 else ''})", r))
        print(f"\n{'cache preparation':48s} {'frames/s':>9s} {'frames/CPU-s':>13s} {'bytes/frame':>12s} "
              f"{'peak RAM':>9s} {'CFC22 527k: time':>17s} {'cache':>9s}")
        for name, r in rows:
            fps, per = r["frames"] / r["seconds"], r["bytes"] / r["frames"]
            print(f"{name:48s} {fps:9.1f} {r['frames'] / r['cpu']:13.1f} {per:12,.0f} {r['peak_mb']:7.0f} MB "
                  f"{CFC22_FRAMES / fps / 3600:15.2f} h {human(per * CFC22_FRAMES):>9s}")
        if not args.skip_before and len(rows) > 1:
            base_fps = rows[0][1]["frames"] / rows[0][1]["seconds"]
            best = max(r["frames"] / r["seconds"] for _, r in rows[1:])
            per_cpu = rows[1][1]["frames"] / rows[1][1]["cpu"] / (rows[0][1]["frames"] / rows[0][1]["cpu"])
            print(f"speed-up of the best 'after' over 'before': {best / base_fps:.2f}x wall-clock, "
                  f"{per_cpu:.2f}x per CPU-second (1 process); on idle cores, P processes give up to P x the "
                  f"frames/CPU-s figure")
        print("--cache none: 0 bytes per frame (a ~100-byte record per clip, plus a 4·H·W-byte background per clip "
              "for targets that read it)")
        if args.prep_only:
            return 0

        peaks = []
        for clips in args.ram_clips:
            b = make_frames(os.path.join(root, f"ram{clips}"), args.frames, clips, *size, args.distinct)
            r = in_child(_after, b, os.path.join(root, f"ram{clips}", "cache"), size, max(workers))
            peaks.append(f"{clips} clips {r['peak_mb']:.0f} MB")
        print(f"peak RAM (largest process) for the same {args.frames} frames: " + ", ".join(peaks))

        small = (128, 64)  # the training size of the first-step run (--train_resolution 128)
        index = make_frames(os.path.join(root, "index"), args.index_frames, args.index_clips, 64, 32, 4, ".png")
        in_child(_after, index, os.path.join(root, "index_run", "cache"), small, max(workers))
        r = in_child(_first_step, index, os.path.join(root, "index_run"), args.model)
        print(f"time to first training step, {args.index_frames:,}-frame index in {args.index_clips} clips, cache "
              f"present (process start → first batch, {args.model} model): {r['first_step']:.1f} s "
              f"({r['samples']:,} training samples)")
        print(f"checkpoint write ({args.model} model + AdamW state): {r['ckpt_seconds']:.2f} s for "
              f"{human(r['ckpt_bytes'])}")
    finally:
        if not args.work_dir:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    run_cli(main)
