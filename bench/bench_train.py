"""Training throughput on this machine, in samples/s: model only, data loading only, both, and the paper's loader.

    python bench/bench_train.py                                   # synthetic CFC22 clips, README CNN at 256×128
    python bench/bench_train.py --base_folder Data/CFC22/frames/raw_all --train_resolution 1024 --batch_size 16
    python bench/bench_train.py --resolution_target 512 --bottleneck_size 16 --no_skip --train_resolution 128

"ours" reads windows from the decode-once, resize-once uint8 cache (dataset/windows.py); "paper" decodes and
resizes five image files per sample with PIL, as the paper's datasets did
(docs/paper_code_behaviour.md#frame-loading-and-layouts and #weak-points).
Figures are printed, never asserted; run it on a quiet machine.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common.cli import ArgumentParser, run_cli  # noqa: E402


def parse_args() -> argparse.Namespace:
    p = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    a = p.add_argument
    a("--base_folder", default="", help="training clips (default: a small synthetic CFC22 set in a temp folder)")
    a("--dataset", default="CFC22", help="layout of --base_folder (CFC22, CVA, POCUS, Fluo, custom)")
    a("--resolution_target", type=int, default=1024, help="CNN size class (512/1024/2048)")
    a("--train_resolution", type=int, default=256, help="training frame height (W = H/2 or H)")
    a("--bottleneck_size", type=int, default=512, help="CNN bottleneck width")
    a("--no_skip", action="store_true", help="benchmark the plain CNN instead of the README skip model")
    a("--model_type", default="cnn", help="network name from models.MODEL_REGISTRY")
    a("--target", default="gap1_and_curr_frame", help="training target (decides the extra frames loaded)")
    a("--batch_size", type=int, default=8, help="samples per step")
    a("--steps", type=int, default=5, help="timed steps per measurement (after one warm-up step)")
    a("--num_workers", type=int, default=0, help="data-loader workers for the 'ours' loader")
    a("--threads", type=int, default=None, help="torch CPU threads (default: all cores)")
    a("--precision", default="32-true,bf16-mixed", help="comma list of Lightning precisions timed side by side "
      "(32-true, bf16-mixed, auto)")
    a("--repeats", type=int, default=3, help="interleaved rounds per precision; medians are printed")
    a("--udvd", action="store_true", help="also time UDVD training steps: loop vs batched network, per precision")
    a("--udvd_only", action="store_true", help="time only the UDVD training steps (implies --udvd)")
    a("--udvd_image_size", type=int, default=64, help="UDVD patch side (the demo's --image-size)")
    a("--udvd_batch_size", type=int, default=16, help="UDVD patches per step (the demo's --batch-size)")
    return p.parse_args()


class _StepTimer:
    """Lightning callback: seconds between consecutive batch ends (the step plus the loader, as main.py runs)."""

    def __init__(self):
        self.times: list[float] = []
        self._last = None

    def on_train_batch_end(self, *args) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self.times.append(now - self._last)
        self._last = now


def lightning_rate(module, loader, precision: str, steps: int, batch: int) -> float:
    """Samples/s of `steps` Lightning training steps (after one warm-up step) at `precision`, as main.py runs them."""
    import statistics

    import pytorch_lightning as pl

    timer = _StepTimer()
    callback = type("StepTimer", (pl.Callback,), {"on_train_batch_end": lambda self, *a: timer.on_train_batch_end()})
    trainer = pl.Trainer(max_epochs=1, accelerator="cpu", devices=1, precision=precision, logger=False,
                         enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                         limit_train_batches=steps + 2, num_sanity_val_steps=0, callbacks=[callback()])
    trainer.fit(module, loader)
    return batch / statistics.median(timer.times[1:] or timer.times)


def interleaved(factories: dict, repeats: int) -> dict:
    """Median of each measurement over `repeats` rounds, run in turn within each round (fair on a loaded machine)."""
    import statistics

    runs: dict[str, list[float]] = {k: [] for k in factories}
    for _ in range(repeats):
        for k, fn in factories.items():
            runs[k].append(fn())
    return {k: statistics.median(v) for k, v in runs.items()}


def timed(fn, steps: int, batch: int) -> float:
    """Samples per second of `fn` (one call = one batch), after one warm-up call."""
    fn()
    start = time.perf_counter()
    for _ in range(steps):
        fn()
    return steps * batch / (time.perf_counter() - start)


def paper_loader(clips, offsets, size):
    """The paper's per-sample reads: five frame files opened, converted to L and resized with PIL."""
    import numpy as np
    import torch
    from PIL import Image

    def load(clip, t):
        n = len(clip.frame_names)
        frames = []
        for o in offsets:
            path = os.path.join(clip.source, clip.frame_names[min(max(t + o, 0), n - 1)])
            with Image.open(path) as im:
                frames.append(np.asarray(im.convert("L").resize((size[1], size[0]), Image.BILINEAR)))
        return torch.from_numpy(np.stack(frames)).float() / 255.0

    return load


def main() -> int:
    args = parse_args()
    import common.offline  # noqa: F401

    import torch
    from torch.utils.data import DataLoader

    from common.offline import set_threads
    from dataset.layouts import get_layout, layout_clips, train_size
    from dataset.windows import WindowDataset, prepare_clip
    from models import ModelConfig
    from models.module import DenoiserModule, window_offsets

    set_threads(args.threads)
    if args.udvd_only:
        udvd_steps(args)
        return 0
    tmp = tempfile.TemporaryDirectory(prefix="bench_train_")
    base = args.base_folder
    if not base:
        from dataset.synthetic import generate

        generate(tmp.name, layout="cfc22", seed=0, domains=("kenai-train",), clips_per_domain=2, frames=32,
                 height=512, width=256, fish_per_clip=3, progress=False)
        base = os.path.join(tmp.name, "frames", "raw_all")
    name, layout = get_layout(args.dataset)
    size = train_size(name, args.train_resolution)
    cfg = ModelConfig(model_type=args.model_type, resolution_target=args.resolution_target, fine_layers=True,
                      bottleneck_size=args.bottleneck_size, with_skip_connections=not args.no_skip,
                      input_height=size[0], input_width=size[1]).to_dict()
    module = DenoiserModule(cfg, target=args.target)
    offsets = window_offsets(cfg, args.target)
    clips = layout_clips(name, base)
    prepared = [prepare_clip(c, os.path.join(tmp.name, "cache"), size, layout.exts) for c in clips]
    items = [(c, t) for c, clip in enumerate(prepared) for t in range(clip.num_frames)]
    ds = WindowDataset(prepared, items, offsets)
    loader = DataLoader(ds, batch_size=args.batch_size, shuffle=True, num_workers=args.num_workers, drop_last=True)
    opt = torch.optim.AdamW(module.parameters(), lr=1e-4)
    module.log = lambda *a, **k: None

    def model_step(batch):
        opt.zero_grad()
        module.training_step(batch, 0).backward()
        opt.step()

    fixed = next(iter(loader))
    batches = iter(())

    def next_batch():
        nonlocal batches
        try:
            return next(batches)
        except StopIteration:
            batches = iter(loader)
            return next(batches)

    folder_clips = [c for c in clips if c.frame_names]
    load = paper_loader(folder_clips, [0, -1, -2, 1, 2], size)  # f_t, f_t-1, f_t-2, f_t+1, "frame5"
                                                                # (docs/paper_code_behaviour.md#input-frames)
    paper_items = [(c, t) for c, clip in enumerate(folder_clips) for t in range(len(clip.frame_names))]
    k = [0]

    def paper_batch():
        out = []
        for _ in range(args.batch_size):
            c, t = paper_items[k[0] % len(paper_items)]
            k[0] += 1
            out.append(load(folder_clips[c], t))
        return {"window": torch.stack(out)}

    n, bs = args.steps, args.batch_size
    print(f"device cpu, {torch.get_num_threads()} threads; {args.model_type} res {args.resolution_target} "
          f"b={args.bottleneck_size} skips={not args.no_skip}; frames {size[0]}x{size[1]}; batch {bs}; "
          f"window offsets {offsets}")
    model_only = timed(lambda: model_step(fixed), n, bs)
    ours = timed(next_batch, n * 4, bs)
    both = timed(lambda: model_step(next_batch()), n, bs)
    print(f"model only (fwd+bwd+AdamW):      {model_only:9.1f} samples/s")
    print(f"data only, ours (cached uint8):  {ours:9.1f} samples/s")
    print(f"model + ours:                    {both:9.1f} samples/s")
    if paper_items:
        paper = timed(paper_batch, n, bs)
        print(f"data only, paper (PIL decodes): {paper:9.1f} samples/s  -> ours is {ours / paper:.1f}x faster")
        print(f"model + paper loader (est.):     {1 / (1 / model_only + 1 / paper):9.1f} samples/s")
    lightning_precisions(args, cfg, loader, DenoiserModule)
    if args.udvd:
        udvd_steps(args)
    tmp.cleanup()
    return 0


def _quiet_lightning() -> None:
    import logging
    import warnings

    for name in ("pytorch_lightning", "lightning", "lightning.pytorch", "lightning_fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")


def lightning_precisions(args, cfg: dict, loader, module_cls) -> None:
    """main.py's step (DenoiserModule in a Lightning Trainer, our loader) per precision, side by side."""
    from common.precision import resolve_precision

    _quiet_lightning()
    precisions = [resolve_precision(p.strip(), "cpu", fast="bf16-mixed", slow="32-true")
                  for p in args.precision.split(",") if p.strip()]
    rates = interleaved({p: (lambda p=p: lightning_rate(module_cls(cfg, target=args.target), loader, p, args.steps,
                                                        args.batch_size)) for p in precisions}, args.repeats)
    base = next(iter(rates.values()))
    for p, v in rates.items():
        print(f"main.py step (Lightning) {p:10s} {v:9.1f} samples/s  ({v / base:.2f}x)")


def udvd_steps(args) -> None:
    """UDVD training steps/s at the demo's patch size: the readable network (loop, plain convolutions) in fp32
    against the fast one (fused convolutions; rotations batched or looped) per precision (the same UDVDModule
    and Trainer as udvd_train.py; random patches, so only speed is measured)."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from common.precision import resolve_precision
    from models import ModelConfig
    from other_baselines.udvd_training import UDVDModule

    _quiet_lightning()
    cfg = ModelConfig(model_type="udvd", window_size=5).to_dict()
    size, bs = args.udvd_image_size, args.udvd_batch_size
    patches = torch.rand((args.steps + 2) * bs, 5, size, size)
    loader = DataLoader(TensorDataset(patches), batch_size=bs, collate_fn=lambda items: torch.stack([i[0] for i in items]))

    def module(batched: bool, fused: bool = True):
        m = UDVDModule(cfg)
        m.model.batched = batched
        m.model.fused = fused
        return m

    # the reference is the readable definition: one rotation and triplet per call, plain shifted convolutions
    plans = {"plain loop 32-true": lambda: lightning_rate(module(False, False), loader, "32-true", args.steps, bs)}
    for p in args.precision.split(","):
        p = resolve_precision(p.strip(), "cpu", fast="bf16-mixed", slow="32-true")
        plans[f"batched {p}"] = lambda p=p: lightning_rate(module(True), loader, p, args.steps, bs)
        plans[f"loop {p}"] = lambda p=p: lightning_rate(module(False), loader, p, args.steps, bs)
    rates = interleaved(plans, args.repeats)
    base = rates["plain loop 32-true"]
    for k, v in rates.items():
        print(f"UDVD step {size}x{size} batch {bs}, {k:20s} {v / bs:7.3f} steps/s  ({v / base:.2f}x)")


if __name__ == "__main__":
    run_cli(main)
