"""Denoising speed: our engine (batched windows, encoder reuse) vs the paper's one-frame-at-a-time loop.

    python bench/bench_denoise.py                                  # paper config (1024x512) + demo config (256x128)
    python bench/bench_denoise.py --configs demo --frames 32 --batch_size 8
    OMP_NUM_THREADS=1 python bench/bench_denoise.py --threads 1    # on a shared CPU

Both paths use the same random-initialised README network (cnn, --fine_layers --bottleneck_size 512
--with_skip_connections; speed does not depend on the weights), the same frames and the same output mapping
(resize back, per-frame min-max to uint8); no disk I/O is timed. Printed per configuration: frames/s of each
path, their ratio, GFLOP per frame (counted with torch.utils.flop_counter.FlopCounterMode) for the plain
forward and for the reuse path, and the achieved GFLOP/s. Figures only; nothing is asserted.
"""
from __future__ import annotations

import argparse
import copy
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run as `python bench/...`

from common.cli import fail, run_cli  # noqa: E402

PAPER_CNN = dict(model_type="cnn", resolution_target=1024, fine_layers=True, bottleneck_size=512,
                 with_skip_connections=True)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--configs", default="paper,demo", help="comma list of: paper (1024x512), demo (--demo_resolution)")
    p.add_argument("--paper_frames", type=int, default=3, help="frames timed at the paper size (slow on CPU)")
    p.add_argument("--frames", type=int, default=16, help="frames timed at the demo size")
    p.add_argument("--demo_resolution", type=int, default=256, help="demo network input is res x res/2 (multiple of 128)")
    p.add_argument("--frame_size", default=None,
                   help="HxW of the synthetic input frames (default: the network size, so no resizing is timed)")
    p.add_argument("--batch_size", type=int, default=0, help="engine batch size (0 = auto, as denoise.py)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:<i>")
    p.add_argument("--precision", choices=("fp32", "bf16", "fp16"), default="fp32", help="engine autocast precision")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--seed", type=int, default=0, help="weights and frames seed")
    return p.parse_args(argv)


def count_gflop(fn, *args) -> float:
    """GFLOP of one call, counted by torch's FlopCounterMode (convolutions and matmuls)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        fn(*args)
    return counter.get_total_flops() / 1e9


def plain_loop(model, frames, size, device):
    """The paper's inference loop (§5.1) with edge replication: one window [t, t-1, t-2] per forward, batch 1."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    from inference.engine import map_output

    n, h, w = frames.shape
    outs = []
    with torch.inference_mode():
        for t in range(n):
            win = np.stack([frames[max(t - k, 0)] for k in range(3)])
            x = torch.from_numpy(win).to(device).float().div(255).unsqueeze(0)
            if (h, w) != size:
                x = F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)
            y = model(x)
            if (h, w) != size:
                y = F.interpolate(y, size=(h, w), mode="bicubic", align_corners=False, antialias=True)
            outs.append(map_output(y[0, 0].float().cpu().numpy(), "frame"))
    return outs


def engine_path(denoiser, frames):
    from inference.engine import map_output

    return [map_output(y, "frame") for _, y in denoiser.run(frames, len(frames))]


def timed(fn, *args) -> tuple[float, object]:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    out = fn(*args)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - t0, out


def bench_config(name: str, size: tuple[int, int], n: int, args, device) -> dict:
    import numpy as np
    import torch

    from inference.engine import Denoiser
    from models import ModelConfig, build_model

    cfg = ModelConfig.from_dict({**PAPER_CNN, "input_height": size[0], "input_width": size[1]}).to_dict()
    torch.manual_seed(args.seed)
    model = build_model(cfg).to(device).eval()
    fh, fw = (int(v) for v in args.frame_size.lower().split("x")) if args.frame_size else size
    frames = np.random.default_rng(args.seed).integers(0, 256, size=(n, fh, fw), dtype=np.uint8)

    x1 = torch.rand(1, 1, *size, device=device)
    g_plain = count_gflop(model, torch.rand(1, 3, *size, device=device))
    g_enc = count_gflop(model.encode_frame, x1)
    g_reuse = g_plain - 2 * g_enc  # one encoding per frame instead of three

    # the engine gets its own copy: it switches the network to channels_last, the paper's loop keeps NCHW
    denoiser = Denoiser(copy.deepcopy(model), cfg, size, device=device, precision=args.precision,
                        batch_size=args.batch_size)
    plain_loop(model, frames[:1], size, device)  # warm-up (allocator, oneDNN kernels)
    engine_path(denoiser, frames[:1])
    t_plain, ref = timed(plain_loop, model, frames, size, device)
    t_engine, ours = timed(engine_path, denoiser, frames)
    diff = max(int(np.abs(a.astype(int) - b.astype(int)).max()) for a, b in zip(ref, ours)) if args.precision == "fp32" else None
    fps_plain, fps_engine = n / t_plain, n / t_engine
    return {"config": name, "size": size, "frames": n, "fps_plain": fps_plain, "fps_engine": fps_engine,
            "ratio": fps_engine / fps_plain, "batch": denoiser.batch_size, "gflop_plain": g_plain, "gflop_reuse": g_reuse,
            "gflops_plain": g_plain * fps_plain, "gflops_engine": g_reuse * fps_engine, "max_uint8_diff": diff}


def main() -> int:
    args = parse_args()
    wanted = [c.strip() for c in args.configs.split(",") if c.strip()]
    if args.demo_resolution % 128:
        fail(f"--demo_resolution must be a multiple of 128 (the network pools 6 times on res x res/2), got {args.demo_resolution}")
    plans = {"paper": ((1024, 512), args.paper_frames),
             "demo": ((args.demo_resolution, args.demo_resolution // 2), args.frames)}
    for c in wanted:
        if c not in plans:
            fail(f"unknown config {c!r}; choose from {', '.join(plans)}")
    import torch

    from inference.engine import resolve_device

    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    print(f"device {device}, {torch.get_num_threads()} CPU threads, precision {args.precision}, "
          f"engine batch {args.batch_size or 'auto'}; README network (cnn 1024 fine, bottleneck 512, skips)")
    for c in wanted:
        size, n = plans[c]
        r = bench_config(c, size, n, args, device)
        print(f"{c:5s} {size[0]}x{size[1]} x{n} frames (engine batch {r['batch']}): plain loop {r['fps_plain']:.2f} frames/s, "
              f"engine {r['fps_engine']:.2f} frames/s, ratio {r['ratio']:.2f}x | GFLOP/frame plain {r['gflop_plain']:.1f}, "
              f"reuse {r['gflop_reuse']:.1f} | achieved GFLOP/s plain {r['gflops_plain']:.1f}, "
              f"engine {r['gflops_engine']:.1f} | max output difference {r['max_uint8_diff']} gray levels")
    return 0


if __name__ == "__main__":
    run_cli(main)
