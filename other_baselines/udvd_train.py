"""Train the UDVD baseline (Sheth et al. 2021) on a dataset's clips, as the paper ran it
(docs/paper_code_behaviour.md#baselines).

Usage (the paper's flags; `--model/--channels/--out-channels/--loss` are accepted with their only valid value):
    python other_baselines/udvd_train.py --data-path /path/to/CFC22/frames/raw_all --dataset CFC22 \
        --model blind-video-net-4 --channels 1 --out-channels 1 --loss mse --batch-size 140 \
        --image-size 128 --stride 64 --n-frames 5 --lr 1e-4 --num-epochs 10 --step-checkpoints \
        --checkpoint-dir checkpoints/udvd_CFC22
    # then denoise with the project's inference (same output layout as SAVeD):
    python denoise.py --model checkpoints/udvd_CFC22/best_model.ckpt --input_dir .../raw/elwha --output_dir ...

Checkpoints: <checkpoint-dir>/best_model.ckpt (lowest epoch loss), last.ckpt (a re-run resumes from it;
--overwrite starts again), epoch=N.ckpt with --step-checkpoints. --image-size must be a multiple of 8.
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common.cli import ArgumentParser, fail, run_cli  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    p = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-path", required=True, help="folder of clips (e.g. CFC22 frames/raw_all, BUV rawframes)")
    p.add_argument("--dataset", default="CFC22", help="layout of --data-path: CFC22, CVA (BUV), POCUS, Fluo, custom")
    p.add_argument("--checkpoint-dir", "--output-dir", dest="checkpoint_dir", default=None,
                   help="where checkpoints and logs go (default checkpoints/udvd_<dataset>)")
    p.add_argument("--model", default="blind-video-net-4", help="network; only blind-video-net-4 (UDVD) exists here")
    p.add_argument("--channels", type=int, default=1, help="input channels per frame (grayscale: 1)")
    p.add_argument("--out-channels", type=int, default=1, help="output channels (grayscale: 1)")
    p.add_argument("--loss", default="mse", help="blind-spot loss against the noisy centre frame; only mse")
    p.add_argument("--batch-size", type=int, default=140, help="patches per batch (paper: 140 CFC22, 64 BUV)")
    p.add_argument("--image-size", type=int, default=128, help="square patch side in pixels (multiple of 8)")
    p.add_argument("--stride", type=int, default=64, help="patch grid step in pixels")
    p.add_argument("--n-frames", type=int, default=5, help="frames per window; UDVD uses exactly 5 (t-2..t+2)")
    p.add_argument("--lr", type=float, default=1e-4, help="Adam learning rate (MultiStepLR 20/25/30, gamma 0.5)")
    p.add_argument("--num-epochs", type=int, default=10, help="epochs (paper: 10)")
    p.add_argument("--step-checkpoints", action="store_true", help="also keep a checkpoint for every epoch")
    p.add_argument("--limit-batches", type=int, default=None, help="cap batches per epoch (quick runs)")
    p.add_argument("--num-workers", type=int, default=2, help="DataLoader worker processes")
    p.add_argument("--cache-dir", default=".cache/frames", help="decode-once frame cache (shared with main.py)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: all cores)")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--precision", default="32", help="Lightning precision: 32 (default), bf16-mixed, or auto = "
                   "bf16-mixed where the device has fast bf16 (AMX / AVX-512 BF16 CPUs, Ampere+ GPUs), else 32")
    p.add_argument("--overwrite", action="store_true", help="delete this run's checkpoints and start again")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.model != "blind-video-net-4":
        fail(f"--model {args.model!r}: only blind-video-net-4 (UDVD) is implemented")
    if (args.channels, args.out_channels) != (1, 1):
        fail("--channels and --out-channels must be 1: frames are grayscale")
    if args.loss != "mse":
        fail(f"--loss {args.loss!r}: UDVD's blind-spot training uses mse")
    if args.n_frames != 5:
        fail(f"--n-frames {args.n_frames}: the UDVD network reads exactly 5 frames (t-2..t+2)")
    import common.offline  # noqa: F401  (offline settings before lightning)
    from common.offline import set_threads
    from other_baselines.udvd_training import train_udvd

    set_threads(args.threads)
    ckpt_dir = args.checkpoint_dir or os.path.join("checkpoints", f"udvd_{args.dataset}")
    out = train_udvd(args.data_path, ckpt_dir, dataset=args.dataset, batch_size=args.batch_size,
                     image_size=args.image_size, stride=args.stride, lr=args.lr, num_epochs=args.num_epochs,
                     step_checkpoints=args.step_checkpoints, limit_batches=args.limit_batches,
                     num_workers=args.num_workers, cache_dir=args.cache_dir, seed=args.seed,
                     overwrite=args.overwrite, progress=not args.no_progress, precision=args.precision)
    losses = ", ".join(f"{x:.5f}" for x in out["loss"])
    print(f"UDVD: {out['clips']} clips, {out['patches']} patches/epoch; epoch losses [{losses}]; best {out['best']}")
    return 0


if __name__ == "__main__":
    run_cli(main)
