"""Denoising speed: the paper's one-frame-at-a-time loop vs our engine in fp32 and bf16, and UDVD's two paths.

    python bench/bench_denoise.py                                  # paper (1024x512), demo (256x128), udvd (96x192)
    python bench/bench_denoise.py --configs demo --frames 32 --precision fp32,bf16 --repeats 5
    OMP_NUM_THREADS=1 python bench/bench_denoise.py --threads 1    # on a shared CPU

paper/demo: the same random-initialised README network (cnn, --fine_layers --bottleneck_size 512
--with_skip_connections; speed does not depend on the weights), the same frames and the same output mapping
(resize back, per-frame min-max to uint8); no disk I/O is timed. Printed per configuration: frames/s of each
path and its ratio to the paper's loop (medians of interleaved rounds, so a loaded machine slows all paths alike),
the mean/max difference of each path's uint8 outputs to the loop's, and GFLOP per frame (counted with
torch.utils.flop_counter.FlopCounterMode) for the plain forward and for the encoder-reuse path.
udvd: the UDVD network through the engine at the demo's frame size, its loop path (one call per rotation and
triplet) in fp32 against the batched path in each precision. Figures only; nothing is asserted.
"""
from __future__ import annotations

import argparse
import copy
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run as `python bench/...`

from common.cli import ArgumentParser, fail, run_cli  # noqa: E402

PAPER_CNN = dict(model_type="cnn", resolution_target=1024, fine_layers=True, bottleneck_size=512,
                 with_skip_connections=True)


def parse_args(argv=None) -> argparse.Namespace:
    p = ArgumentParser(description=__doc__.split("\n\n")[0],
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--configs", default="paper,demo,udvd",
                   help="comma list of: paper (1024x512), demo (--demo_resolution), udvd (--udvd_size)")
    p.add_argument("--paper_frames", type=int, default=3, help="frames timed at the paper size (slow on CPU)")
    p.add_argument("--frames", type=int, default=16, help="frames timed at the demo size")
    p.add_argument("--demo_resolution", type=int, default=256, help="demo network input is res x res/2 (multiple of 128)")
    p.add_argument("--frame_size", default=None,
                   help="HxW of the synthetic input frames (default: the network size, so no resizing is timed)")
    p.add_argument("--batch_size", type=int, default=0, help="engine batch size (0 = auto, as denoise.py)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:<i>")
    p.add_argument("--precision", default="fp32,bf16",
                   help="comma list of engine precisions timed side by side (fp32, bf16, fp16, auto)")
    p.add_argument("--repeats", type=int, default=3, help="interleaved rounds per path; medians are printed")
    p.add_argument("--udvd_frames", type=int, default=8, help="frames timed for the udvd config")
    p.add_argument("--udvd_size", default="96x192", help="HxW of the udvd config's frames (the demo's size)")
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
    """The paper's inference loop (docs/paper_code_behaviour.md#inference-algorithm) with edge replication: one window
    [t, t-1, t-2] per forward, batch 1."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    from inference.output import map_output

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
    from inference.output import map_output

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


def _uint8_diff(ref, ours) -> tuple[float, int]:
    """Mean and max |difference| in grey levels between two lists of uint8 frames."""
    import numpy as np

    d = np.stack([np.abs(a.astype(np.int16) - b.astype(np.int16)) for a, b in zip(ref, ours)])
    return float(d.mean()), int(d.max())


def _median_rates(paths: dict, n: int, repeats: int) -> tuple[dict, dict]:
    """Frames/s of each path (median over `repeats` rounds, paths interleaved within a round so that a shared
    machine's load hits them alike) and each path's outputs from its last round."""
    import statistics

    rates: dict[str, list[float]] = {k: [] for k in paths}
    outs: dict = {}
    for _ in range(repeats):
        for k, fn in paths.items():
            t, outs[k] = timed(fn)
            rates[k].append(n / t)
    return {k: statistics.median(v) for k, v in rates.items()}, outs


def bench_config(name: str, size: tuple[int, int], n: int, args, device) -> dict:
    """README network: the paper's loop (fp32, NCHW, batch 1) against the engine in fp32 and in bf16."""
    import numpy as np
    import torch

    from inference.denoiser import Denoiser
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

    # each engine gets its own copy: it switches the network to channels_last, the paper's loop keeps NCHW
    engines = {p: Denoiser(copy.deepcopy(model), cfg, size, device=device, precision=p, batch_size=args.batch_size)
               for p in args.precisions}
    paths = {"paper loop": lambda: plain_loop(model, frames, size, device)}
    paths.update({f"engine {p}": (lambda d=d: engine_path(d, frames)) for p, d in engines.items()})
    plain_loop(model, frames[:1], size, device)  # warm-up (allocator, oneDNN kernels)
    for d in engines.values():
        engine_path(d, frames[:1])
    rates, outs = _median_rates(paths, n, args.repeats)
    diffs = {k: _uint8_diff(outs["paper loop"], o) for k, o in outs.items() if k != "paper loop"}
    first = next(iter(engines.values()))
    return {"config": name, "size": size, "frames": n, "rates": rates, "diffs": diffs, "batch": first.batch_size,
            "gflop_plain": g_plain, "gflop_reuse": g_reuse}


def bench_udvd(size: tuple[int, int], n: int, args, device) -> dict:
    """UDVD through the engine at a frame size: the one-call-per-rotation-and-triplet loop in fp32 against the
    batched network in fp32 and bf16 (same weights, channels-last both)."""
    import numpy as np
    import torch

    from inference.denoiser import Denoiser
    from models import ModelConfig, build_model

    cfg = ModelConfig(model_type="udvd", window_size=5).to_dict()
    torch.manual_seed(args.seed)
    model = build_model(cfg).eval()
    frames = np.random.default_rng(args.seed).integers(0, 256, size=(n, *size), dtype=np.uint8)
    loop = copy.deepcopy(model)
    loop.batched = False
    engines = {"loop fp32": Denoiser(loop, cfg, None, device=device, precision="fp32", batch_size=args.batch_size)}
    engines.update({f"batched {p}": Denoiser(copy.deepcopy(model), cfg, None, device=device, precision=p,
                                             batch_size=args.batch_size) for p in args.precisions})
    paths = {k: (lambda d=d: engine_path(d, frames)) for k, d in engines.items()}
    for d in engines.values():
        engine_path(d, frames[:1])
    rates, outs = _median_rates(paths, n, args.repeats)
    diffs = {k: _uint8_diff(outs["loop fp32"], o) for k, o in outs.items() if k != "loop fp32"}
    return {"size": size, "frames": n, "rates": rates, "diffs": diffs}


def main() -> int:
    args = parse_args()
    wanted = [c.strip() for c in args.configs.split(",") if c.strip()]
    if args.demo_resolution % 128:
        fail(f"--demo_resolution must be a multiple of 128 (the network pools 6 times on res x res/2), got {args.demo_resolution}")
    plans = {"paper": ((1024, 512), args.paper_frames),
             "demo": ((args.demo_resolution, args.demo_resolution // 2), args.frames),
             "udvd": (None, args.udvd_frames)}
    for c in wanted:
        if c not in plans:
            fail(f"unknown config {c!r}; choose from {', '.join(plans)}")
    args.precisions = [p.strip() for p in args.precision.split(",") if p.strip()]
    for p in args.precisions:
        if p not in ("fp32", "bf16", "fp16", "auto"):
            fail(f"--precision: unknown precision {p!r}; choose from fp32, bf16, fp16, auto")
    if args.repeats < 1:
        fail("--repeats must be >= 1")
    try:
        udvd_size = tuple(int(v) for v in args.udvd_size.lower().split("x"))
        assert len(udvd_size) == 2 and min(udvd_size) > 0
    except (ValueError, AssertionError):
        fail(f"--udvd_size must look like HxW (e.g. 96x192), got {args.udvd_size!r}")
    import torch

    from common.precision import bf16_speed_reason
    from inference.denoiser import resolve_device

    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    print(f"device {device} (fast bf16: {bf16_speed_reason(device) or 'no'}), {torch.get_num_threads()} threads, "
          f"engine batch {args.batch_size or 'auto'}; frames/s are medians of {args.repeats} interleaved rounds; "
          f"output differences in grey levels (mean / max) against the first path")
    for c in wanted:
        size, n = plans[c]
        if c == "udvd":
            r = bench_udvd(udvd_size, n, args, device)
            base = r["rates"]["loop fp32"]
            print(f"udvd  {udvd_size[0]}x{udvd_size[1]} x{n} frames: " + ", ".join(
                f"{k} {v:.2f} frames/s ({v / base:.2f}x)" for k, v in r["rates"].items()) + " | diff " + ", ".join(
                f"{k} {m:.2f}/{x}" for k, (m, x) in r["diffs"].items()))
            continue
        r = bench_config(c, size, n, args, device)
        base = r["rates"]["paper loop"]
        print(f"{c:5s} {size[0]}x{size[1]} x{n} frames (engine batch {r['batch']}): " + ", ".join(
            f"{k} {v:.2f} frames/s ({v / base:.2f}x)" for k, v in r["rates"].items())
            + f" | GFLOP/frame plain {r['gflop_plain']:.1f}, reuse {r['gflop_reuse']:.1f} | diff "
            + ", ".join(f"{k} {m:.2f}/{x}" for k, (m, x) in r["diffs"].items()))
    return 0


if __name__ == "__main__":
    run_cli(main)
