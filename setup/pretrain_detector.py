#!/usr/bin/env python
"""Make (or reuse) the project's pretrained detector: the shared starting point every row's detector fine-tunes from.

    python setup/pretrain_detector.py --output results/default/detector_pretrained.pt
    python train_detector.py --data ... --weights results/default/detector_pretrained.pt   # fine-tune from it

A YOLO trained once on a synthetic pretraining domain of its own (own seed and clips, never the benchmark's
validation or test clips; raw, Baseline++ and denoiser-merge channel layouts in equal shares), standing in for the
COCO weights the paper started from (nothing is downloaded). The weights are cached by content under
.cache/detector_pretrain/<key>/ (or $SAVED_DETECTOR_CACHE): the same flags and generator reuse them; a change of
either trains a new entry. --output is a symlink to the cached file, with <output>.json holding the record
(key, spec, training seconds, whether this call trained it). docs/detection.md#the-detector-protocol-what-demosh-does-and-why.
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common.cli import ArgumentParser, run_cli  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    from downstream.yolo.pretrain import PretrainSpec

    d = PretrainSpec()
    p = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--output", required=True, help="path of the link to the cached weights (a .pt); <output>.json "
                                                   "gets the record")
    p.add_argument("--cache-dir", default=None,
                   help="cache folder (default: $SAVED_DETECTOR_CACHE, else .cache/detector_pretrain in the repo)")
    p.add_argument("--seed", type=int, default=d.seed, help="seed of the pretraining clips and of the training")
    p.add_argument("--clips-per-domain", type=int, default=d.clips_per_domain,
                   help=f"clips in each of the {len(d.domains)} pretraining domains (layouts rotate over clips)")
    p.add_argument("--frames", type=int, default=d.frames, help="frames per pretraining clip")
    p.add_argument("--height", type=int, default=d.height, help="frame height (the benchmark's)")
    p.add_argument("--width", type=int, default=d.width, help="frame width (the benchmark's)")
    p.add_argument("--fish-per-clip", type=int, default=d.fish_per_clip, help="fish per clip")
    p.add_argument("--target-scale", type=float, default=d.target_scale, help="fish length factor (the benchmark's)")
    p.add_argument("--epochs", type=int, default=d.epochs, help="pretraining epochs")
    p.add_argument("--img-size", type=int, default=d.imgsz, help="training image size")
    p.add_argument("--scale", type=float, default=d.recipe.get("scale", 0.5),
                   help="random zoom range +/- of the pretraining (wide, so that smaller fish are seen too)")
    p.add_argument("--batch-size", type=int, default=d.batch, help="images per batch")
    p.add_argument("--model", default=d.model, help="architecture yaml (built from scratch)")
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: all cores)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from common.atomic import write_json
    from common.cli import fail
    from downstream.yolo.pretrain import PretrainSpec, link_weights, pretrained_detector

    if min(args.clips_per_domain, args.frames, args.epochs, args.img_size, args.batch_size) < 1:
        fail("--clips-per-domain, --frames, --epochs, --img-size and --batch-size must be >= 1")
    spec = PretrainSpec(seed=args.seed, clips_per_domain=args.clips_per_domain, frames=args.frames,
                        height=args.height, width=args.width, fish_per_clip=args.fish_per_clip,
                        target_scale=args.target_scale, epochs=args.epochs, imgsz=args.img_size,
                        batch=args.batch_size, model=args.model, recipe={"scale": args.scale})
    key = spec.key()
    print(f"pretrained detector {key}: {spec.epochs} epochs on {len(spec.domains)} x {spec.clips_per_domain} "
          f"synthetic clips (seed {spec.seed}, {spec.height}x{spec.width}, {spec.imgsz} px)", flush=True)
    weights, record, hit = pretrained_detector(spec, args.cache_dir, progress=not args.quiet, threads=args.threads)
    link_weights(weights, args.output)
    write_json(args.output + ".json", {**record, "cache_hit": hit})
    state = "reused from the cache" if hit else "trained now"
    print(f"{state}: {weights} (training took {record['seconds']:.0f} s; held-out pretraining mAP50 "
          f"{record.get('val_map50')})\nlinked: {args.output}")
    return 0


if __name__ == "__main__":
    run_cli(main)
