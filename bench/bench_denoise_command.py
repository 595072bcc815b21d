"""Whole-command denoising speed: `denoise.py` end to end (start-up, decode, network, output mapping, encode) in fp32
and with `--precision auto`, against the paper's one-frame loop run on the same frame files.

    python bench/bench_denoise_command.py                       # README network, 60 frames at 1024x512
    python bench/bench_denoise_command.py --frames 20 --size 128x256     # the same network on small frames

The README network (cnn --resolution_target 1024 --fine_layers --bottleneck_size 512 --with_skip_connections) is
random-initialised, fitted for a few steps (see fit_briefly) and saved as one of our checkpoints, so no weights are
needed. The paper loop decodes the five frames of each window, runs [t, t-1, t-2] in fp32 at batch 1 and writes the
frame, as the paper's inference script does (docs/paper_code_behaviour.md#inference-algorithm); it runs as a command
of its own and two figures are printed: "paper command" (start-up included, as denoise.py is timed) and "paper loop"
(its loop alone, the stricter reference). Each path runs
`--repeats` times, interleaved; medians are printed. Figures are printed, never asserted: run on a quiet machine.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from common.cli import ArgumentParser  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    p = ArgumentParser(description=__doc__.split("\n\n")[0],
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--frames", type=int, default=60, help="frames in the clip")
    p.add_argument("--size", default="512x1024", help="HxW of the frames; the network runs at this size (multiples of 64)")
    p.add_argument("--precisions", default="fp32,auto", help="comma list of denoise.py --precision values timed")
    p.add_argument("--repeats", type=int, default=2, help="interleaved rounds per path; medians are printed")
    p.add_argument("--no_paper_loop", action="store_true", help="skip the paper loop (slow on CPU)")
    p.add_argument("--fit_steps", type=int, default=40,
                   help="Adam steps fitting the random network to the clip first (realistic output range; 0 = none)")
    p.add_argument("--format", default="png", choices=("png", "jpg"),
                   help="output format of every path (png: the difference measures precision alone)")
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic frames and the random weights")
    p.add_argument("--as_paper_command", nargs=4, metavar=("CKPT", "CLIP", "OUT", "FORMAT"),
                   help="run only the paper loop, as a command of its own (how the bench times its whole command)")
    return p.parse_args(argv)


def make_clip(folder: str, n: int, h: int, w: int, seed: int) -> None:
    """Speckled frames with a static bright structure: content does not change the speed, only realism."""
    import numpy as np

    from dataset.frames import write_frame

    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    yy, xx = np.mgrid[0:h, 0:w]
    scene = 60 + 80 * np.exp(-((yy - 0.7 * h) ** 2) / (0.02 * h * h)) * (0.6 + 0.4 * np.cos(xx / 37.0))
    for t in range(n):
        frame = scene * rng.gamma(4.0, 0.25, size=(h, w))
        write_frame(os.path.join(folder, f"{t:05d}.jpg"), np.clip(frame, 0, 255).astype(np.uint8))


def paper_loop(model, clip_dir: str, out_dir: str, fmt: str) -> None:
    """The paper's loop as documented: for each frame, decode the five files of its window [t-2, t+2] (the two
    future ones unused), run [t, t-1, t-2] in fp32 at batch 1, stretch per frame, write it. Edges are replicated
    here (the paper skips them), so every path writes the same frames."""
    import numpy as np
    import torch
    from PIL import Image

    from inference.output import map_output

    names = sorted(os.listdir(clip_dir))
    n = len(names)
    os.makedirs(out_dir, exist_ok=True)

    def load(i: int) -> np.ndarray:
        return np.asarray(Image.open(os.path.join(clip_dir, names[min(max(i, 0), n - 1)])).convert("L"))

    with torch.inference_mode():
        for t, name in enumerate(names):
            window = {k: load(t + k) for k in range(-2, 3)}
            x = torch.from_numpy(np.stack([window[0], window[-1], window[-2]])).float().div(255).unsqueeze(0)
            y = model(x)
            Image.fromarray(map_output(y[0, 0].numpy(), "frame")).save(
                os.path.join(out_dir, os.path.splitext(name)[0] + "." + fmt))


def fit_briefly(model, clip_dir: str, steps: int, seed: int) -> None:
    """A few Adam steps on 128x256 crops (smaller frames: whole) towards the clip's mean frame. A random
    network's output spans a few hundredths, which the per-frame min-max stretches, so bf16 rounding would look
    ~10x larger than with trained weights; a briefly fitted one has a realistic output range. Speed does not
    depend on the weights."""
    import numpy as np
    import torch

    from dataset.frames import read_clip_array

    clip = torch.from_numpy(read_clip_array(clip_dir)).float().div(255)
    target = clip.mean(0)
    n, h, w = clip.shape
    rng = np.random.default_rng(seed)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    model.train()
    ch, cw = min(128, h), min(256, w)
    for _ in range(steps):
        ts, rs, cs = rng.integers(2, n, 4), rng.integers(0, h - ch + 1, 4), rng.integers(0, w - cw + 1, 4)
        x = torch.stack([clip[[t, t - 1, t - 2], r:r + ch, c:c + cw] for t, r, c in zip(ts, rs, cs)])
        y = torch.stack([target[r:r + ch, c:c + cw] for r, c in zip(rs, cs)]).unsqueeze(1)
        loss = torch.mean((model(x) - y) ** 2)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()


def paper_command(ckpt: str, clip_dir: str, out_dir: str, fmt: str) -> tuple[float, float]:
    """The paper loop as a whole command (Python, torch import, checkpoint load, loop): (command s, loop s)."""
    shutil.rmtree(out_dir, ignore_errors=True)
    cmd = [sys.executable, os.path.abspath(__file__), "--as_paper_command", ckpt, clip_dir, out_dir, fmt]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, check=True, cwd=ROOT, capture_output=True, text=True)
    total = time.perf_counter() - t0
    return total, float(done.stdout.split("loop_seconds")[-1])


def _paper_command_main(ckpt: str, clip_dir: str, out_dir: str, fmt: str) -> int:
    from models.checkpoint import load_denoiser

    model, _ = load_denoiser(ckpt)
    t0 = time.perf_counter()
    paper_loop(model, clip_dir, out_dir, fmt)
    print(f"loop_seconds {time.perf_counter() - t0:.4f}")
    return 0


def run_command(ckpt: str, clip_dir: str, out_dir: str, precision: str, fmt: str) -> float:
    shutil.rmtree(out_dir, ignore_errors=True)
    cmd = [sys.executable, os.path.join(ROOT, "denoise.py"), "--model", ckpt, "--input_dir", clip_dir,
           "--output_dir", out_dir, "--format", fmt, "--jpeg_quality", "75", "--precision", precision, "--quiet"]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT)
    return time.perf_counter() - t0


def uint8_diff(dir_a: str, dir_b: str) -> tuple[float, int]:
    """Mean and max |difference| in grey levels between the same-named frames of two folders."""
    from bench.bench_denoise import _uint8_diff
    from dataset.frames import read_clip_array

    return _uint8_diff(read_clip_array(dir_a), read_clip_array(dir_b))


def main() -> int:
    args = parse_args()
    if args.as_paper_command:
        return _paper_command_main(*args.as_paper_command)
    import torch

    from common.precision import resolve_precision
    from models import ModelConfig, build_model
    from models.checkpoint import save_denoiser

    h, w = (int(v) for v in args.size.lower().split("x"))
    torch.manual_seed(args.seed)
    cfg = ModelConfig(model_type="cnn", resolution_target=1024, fine_layers=True, bottleneck_size=512,
                      with_skip_connections=True, input_height=h, input_width=w)
    model = build_model(cfg).eval()
    tmp = tempfile.mkdtemp(prefix="bench_cmd_")
    try:
        clip = os.path.join(tmp, "in", "clip")
        make_clip(clip, args.frames, h, w, args.seed)
        if args.fit_steps:
            fit_briefly(model, clip, args.fit_steps, args.seed)
        ckpt = os.path.join(tmp, "model.ckpt")
        save_denoiser(ckpt, model, cfg)
        precisions = [p.strip() for p in args.precisions.split(",") if p.strip()]
        times: dict[str, list[float]] = {p: [] for p in precisions}
        if not args.no_paper_loop:
            times["paper loop"] = []          # its loop alone: the strict reference (no start-up)
            times["paper command"] = []       # the same loop as a whole command, as denoise.py is timed
        for _ in range(args.repeats):
            for p in precisions:
                times[p].append(run_command(ckpt, os.path.join(tmp, "in"), os.path.join(tmp, f"out_{p}"), p, args.format))
            if not args.no_paper_loop:
                total, loop = paper_command(ckpt, clip, os.path.join(tmp, "out_paper", "clip"), args.format)
                times["paper command"].append(total)
                times["paper loop"].append(loop)
        auto_is = resolve_precision("auto", torch.device("cpu"), announce=False) if "auto" in precisions else None
        print(f"denoise.py whole command, {args.frames} frames at {w}x{h}, README network, "
              f"{torch.get_num_threads()} threads; auto -> {auto_is}")
        rate = {k: args.frames / statistics.median(v) for k, v in times.items()}
        ref, ref_cmd = rate.get("paper loop"), rate.get("paper command")
        fp32 = rate.get("fp32")
        for k, r in rate.items():
            extra = []
            if fp32 and k != "fp32":
                extra.append(f"{r / fp32:.2f}x fp32")
            if ref and not k.startswith("paper"):
                extra.append(f"{r / ref:.2f}x paper loop, {r / ref_cmd:.2f}x paper command")
            if not k.startswith("paper") and k != "fp32" and "fp32" in precisions:
                mean_d, max_d = uint8_diff(os.path.join(tmp, "out_fp32", "clip"), os.path.join(tmp, f"out_{k}", "clip"))
                extra.append(f"|out - fp32| mean {mean_d:.2f}, max {max_d} grey levels")
            print(f"  {k:>13}: {r:6.2f} frames/s  ({statistics.median(times[k]):.1f} s)  " + "; ".join(extra))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
