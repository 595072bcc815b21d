#!/usr/bin/env python
"""Train the one-class fish detector (ultralytics YOLO, fully offline) on a dataset from setup/convert_mot_to_yolo.py.

    python train_detector.py --data $YOLO_DIR/data.yaml --epochs 5 --batch-size 16 --weights 'yolov5s.pt' \
        --img-size 896 --project 'yolo_train' --name $EXP_NAME
    # best weights: yolo_train/$EXP_NAME/weights/best.pt (last.pt beside it)

See docs/paper_code_behaviour.md#detector-training: the paper's (missing) script matches the YOLOv5 train.py flags;
this is a thin wrapper on the
ultralytics package. Nothing is downloaded: if --weights is a file it is fine-tuned; otherwise its name is mapped to
the architecture yaml (yolov5s.pt → yolov5s.yaml, the anchor-free yolov5su family; yolov8n.pt → yolov8n.yaml;
yolo11n.pt → yolo11n.yaml) and trained from scratch, which the script says in one line.
HSV colour augmentation is off (the merged frames are pseudo-colour: each channel is a different signal); --hsv
restores the ultralytics defaults. Re-running the same --project/--name skips a finished run and resumes an
interrupted one; --overwrite (alias --exist-ok) retrains from scratch in the same folder.
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common.cli import ArgumentParser, run_cli  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    p = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="data.yaml written by setup/convert_mot_to_yolo.py")
    p.add_argument("--epochs", type=int, default=100, help="training epochs (YOLOv5 default 100; the README uses 5)")
    p.add_argument("--batch-size", dest="batch_size", type=int, default=16, help="images per batch")
    p.add_argument("--weights", default="yolov5s.pt",
                   help="initial weights file, or a model name (yolov5s.pt, yolov8n.pt, yolo11n.pt) built from its "
                        "yaml from scratch when no such file exists (never downloaded)")
    p.add_argument("--model-yaml", default=None,
                   help="architecture yaml (e.g. yolov8n.yaml); --weights, if a file, is then transferred into it")
    p.add_argument("--img-size", "--imgsz", dest="img_size", type=int, default=640,
                   help="training image size in pixels (YOLOv5 default 640; the README uses 896)")
    p.add_argument("--project", default="runs/train", help="parent folder of the run (relative to the current dir)")
    p.add_argument("--name", default="exp", help="run name: weights go to <project>/<name>/weights/best.pt")
    p.add_argument("--device", default=None, help="cpu, 0, 0,1 ... (default: GPU 0 if present, else cpu)")
    p.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1), help="data-loader worker processes")
    p.add_argument("--seed", type=int, default=0, help="random seed (training runs with deterministic=True)")
    p.add_argument("--patience", type=int, default=100, help="early-stopping patience in epochs without improvement")
    p.add_argument("--resume", action="store_true", help="insist on resuming <project>/<name>/weights/last.pt")
    p.add_argument("--overwrite", "--exist-ok", dest="overwrite", action="store_true",
                   help="retrain from scratch in <project>/<name> even if it holds a finished or interrupted run")
    p.add_argument("--hsv", action="store_true",
                   help="re-enable ultralytics' HSV colour augmentation (off: it scrambles pseudo-colour channels)")
    p.add_argument("--amp", choices=["auto", "on", "off"], default="auto",
                   help="mixed precision: auto = on for GPU (without ultralytics' downloading AMP check), off on CPU")
    p.add_argument("--plots", action="store_true", help="let ultralytics draw its training plots")
    p.add_argument("--threads", type=int, default=None,
                   help="CPU threads for torch (default: all cores; kept after ultralytics' own reset to cores - 1)")
    from downstream.yolo.train import Recipe

    r = Recipe()
    g = p.add_argument_group("optimisation and augmentation (the protocol of docs/detection.md)")
    g.add_argument("--optimizer", default=r.optimizer,
                   help="SGD, Adam, AdamW, ... (ultralytics' 'auto' picks by dataset size; the protocol fixes it)")
    g.add_argument("--lr0", type=float, default=r.lr0, help="initial learning rate")
    g.add_argument("--lrf", type=float, default=r.lrf, help="final learning rate as a fraction of --lr0 (linear decay)")
    g.add_argument("--warmup-epochs", dest="warmup_epochs", type=float, default=r.warmup_epochs,
                   help="epochs of learning-rate warmup (fractions allowed; 0 = none)")
    g.add_argument("--warmup-bias-lr", dest="warmup_bias_lr", type=float, default=r.warmup_bias_lr,
                   help="learning rate the biases start the warmup at (ultralytics' 0.1 suits SGD, not Adam)")
    g.add_argument("--nbs", type=int, default=None,
                   help="nominal batch size: gradients accumulate over nbs/batch batches per optimizer step "
                        "(default: the batch size, i.e. one step per batch; ultralytics' own default is 64)")
    g.add_argument("--scale", type=float, default=r.scale, help="random zoom range +/- (ultralytics' default 0.5)")
    g.add_argument("--mosaic", type=float, default=r.mosaic, help="mosaic augmentation probability")
    g.add_argument("--close-mosaic", dest="close_mosaic", type=int, default=r.close_mosaic,
                   help="last epochs trained without mosaic")
    g.add_argument("--no-cache", dest="cache", action="store_false",
                   help="re-read training images from disk each epoch instead of keeping them in RAM")
    g.add_argument("--val-last-only", dest="val", action="store_false",
                   help="validate only after the last epoch (saves time; best.pt is then the last epoch's weights)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from downstream.yolo.train import Recipe, train_detector

    recipe = Recipe(optimizer=args.optimizer, lr0=args.lr0, lrf=args.lrf, warmup_epochs=args.warmup_epochs,
                    warmup_bias_lr=args.warmup_bias_lr, nbs=args.nbs, scale=args.scale, mosaic=args.mosaic,
                    close_mosaic=args.close_mosaic, cache=args.cache, val=args.val)
    amp = {"auto": None, "on": True, "off": False}[args.amp]
    best = train_detector(args.data, args.epochs, args.batch_size, args.weights, args.img_size, args.project,
                          args.name, device=args.device, workers=args.workers, seed=args.seed,
                          model_yaml=args.model_yaml, patience=args.patience, overwrite=args.overwrite,
                          resume=args.resume, hsv=args.hsv, amp=amp, plots=args.plots, threads=args.threads,
                          recipe=recipe)
    print(f"best weights: {os.path.relpath(best)}")
    return 0


if __name__ == "__main__":
    run_cli(main)
