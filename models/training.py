"""Run one training job from main.py's flags: data, module, Lightning Trainer, checkpoints, logs, loss curve.

Kept apart from main.py (a thin CLI) and from the LightningModule (which only wires the step). See
docs/paper_code_behaviour.md#training,
with the fixes of docs/paper_code_behaviour.md#defect-9-8-best-checkpoint-by-training-loss: best_model.ckpt by a
held-out val_loss, `--resume` restoring epoch/optimizer/scheduler.
"""
from __future__ import annotations

import argparse
import glob
import importlib.util
import os
from typing import Any, Optional

from common.atomic import write_json
from common.cli import UserError

MODEL_FIELDS = ("model_type", "resolution_target", "fine_layers", "bottleneck_size", "with_skip_connections",
                "with_residual_connections", "with_resnet_blocks", "num_prev_frames", "window_size")
# flags that are not hyper-parameters of the model (machine and run plumbing)
RUN_FLAGS = ("resume", "overwrite", "accelerator", "devices", "num_nodes", "precision", "num_workers",
             "cache_dir", "limit_train_batches", "debug", "wandb", "no_logging", "results_path", "base_folder",
             "annotations_folder") + tuple(f"inference_clip{i}" for i in range(1, 6)) + (
             "cache", "cache_workers", "limit_val_batches", "checkpoint_every_n_steps", "checkpoint_every_n_minutes")


def model_config_for(args: argparse.Namespace, size: tuple[int, int]) -> dict:
    """The full ModelConfig (plain dict) for these flags, with the training H×W
    (docs/paper_code_behaviour.md#defect-9-2-wrong-inference-resolution)."""
    from models import ModelConfig, model_spec

    values = {k: getattr(args, k) for k in MODEL_FIELDS}
    forced = model_spec(args.model_type).window_size  # 31 for the 3-D U-Net, as the paper
    if forced:                                        # (docs/paper_code_behaviour.md#training-flags)
        values["window_size"] = forced
    return ModelConfig(**values, input_height=size[0], input_width=size[1]).to_dict()


def _device_count(accelerator: str, devices: str) -> int:
    if devices in ("auto", "-1"):
        if accelerator == "gpu":
            import torch

            return max(1, torch.cuda.device_count())
        return 1
    if "," in devices:
        return len([d for d in devices.split(",") if d.strip()])
    try:
        return int(devices)
    except ValueError:
        raise UserError(f"--devices must be auto, a count or a list like 0,1; got {devices!r}") from None


def resolve_machine(args: argparse.Namespace) -> dict:
    """Accelerator, devices, strategy, precision and workers for this machine (CPU / one GPU / DDP)."""
    import torch

    accelerator = args.accelerator
    if accelerator == "auto":
        accelerator = "gpu" if torch.cuda.is_available() else "cpu"
    if accelerator not in ("cpu", "gpu", "cuda"):
        raise UserError(f"--accelerator must be auto, cpu or gpu; got {args.accelerator!r}")
    accelerator = "gpu" if accelerator == "cuda" else accelerator
    if accelerator == "gpu" and not torch.cuda.is_available():
        raise UserError("--accelerator gpu was asked for but no CUDA GPU is visible")
    n = _device_count(accelerator, str(args.devices))
    devices: Any = n if str(args.devices) in ("auto", "-1") or "," not in str(args.devices) else str(args.devices)
    from common.precision import resolve_precision

    precision = resolve_precision(args.precision or "32", "cuda" if accelerator == "gpu" else "cpu",
                                  fast="bf16-mixed", slow="32-true")
    workers = args.num_workers
    if workers is None:
        workers = min(8, os.cpu_count() or 1) if accelerator == "gpu" else 0
    distributed = n * args.num_nodes > 1
    return dict(accelerator=accelerator, devices=devices, precision=precision, num_workers=workers,
                strategy="ddp" if distributed else "auto", pin_memory=accelerator == "gpu")


def _check_resume(args: argparse.Namespace, last: str, model_config: dict) -> Optional[str]:
    """The checkpoint to resume from (None: start fresh); refuse to silently overwrite or to mix architectures."""
    if not os.path.exists(last):
        if args.resume:
            print(f"note: --resume: no {last} yet, starting a new run")
        return None
    if not args.resume:
        if args.overwrite:
            return None
        raise UserError(f"{args.results_path} already holds a run ({last}); add --resume to continue it "
                        "or --overwrite to start over")
    from models.checkpoint import read_checkpoint

    saved = read_checkpoint(last).get("hyper_parameters", {}).get("model_config", {})
    diffs = [f"--{k} {model_config[k]} contradicts the checkpoint's {saved[k]}"
             for k in model_config if k in saved and saved[k] != model_config[k]]
    if diffs:
        raise UserError(f"cannot resume {last}: " + "; ".join(diffs))
    return last


def _loggers(args: argparse.Namespace) -> list:
    from pytorch_lightning.loggers import CSVLogger, TensorBoardLogger

    loggers: list = [CSVLogger(save_dir=args.results_path, name="logs")]
    if importlib.util.find_spec("tensorboard") or importlib.util.find_spec("tensorboardX"):
        loggers.append(TensorBoardLogger(save_dir=args.results_path, name="logs", version=loggers[0].version))
    if args.wandb:
        if not importlib.util.find_spec("wandb"):
            raise UserError("--wandb needs the wandb package, which is not installed (pip install wandb)")
        from pytorch_lightning.loggers import WandbLogger

        loggers.append(WandbLogger(project="SAVeD", name=os.path.basename(os.path.normpath(args.results_path)),
                                   save_dir=args.results_path, config=vars(args)))
    return loggers


def plot_loss_curve(results_path: str, out_path: str) -> bool:
    """Write the per-epoch train/val loss PNG from every CSV log version (a resumed run adds a version)."""
    from common.plots import plot_loss, read_loss_curve

    merged: dict[str, dict[int, float]] = {}
    for path in sorted(glob.glob(os.path.join(results_path, "logs", "version_*", "metrics.csv")),
                       key=lambda p: int(p.split("version_")[-1].split(os.sep)[0])):
        for name, points in read_loss_curve(path).items():
            merged.setdefault(name, {}).update(points)
    return plot_loss({k: sorted(v.items()) for k, v in merged.items()}, out_path)


def step_callbacks(args: argparse.Namespace, dm: Any) -> list:
    """Exact mid-epoch resume: the sampler's position goes into every checkpoint, and with
    --checkpoint_every_n_steps/_minutes a second ModelCheckpoint writes last.ckpt during the epoch (minutes win
    when both are given: Lightning takes one trigger)."""
    import warnings
    from datetime import timedelta

    from pytorch_lightning.callbacks import ModelCheckpoint

    from dataset.sampling import ResumeSampler

    callbacks: list = [ResumeSampler(dm.train_sampler, args.batch_size)]
    # Lightning cannot see that this sampler resumes mid-epoch and would warn that the loader is not resumable
    warnings.filterwarnings("ignore", message="You're resuming from a checkpoint that ended before the epoch ended")
    steps, minutes = getattr(args, "checkpoint_every_n_steps", None), getattr(args, "checkpoint_every_n_minutes", None)
    if steps or minutes:
        callbacks.append(ModelCheckpoint(dirpath=args.results_path, save_top_k=0, save_last=True,
                                         every_n_train_steps=steps if not minutes else None,
                                         train_time_interval=timedelta(minutes=minutes) if minutes else None))
    return callbacks


def train(args: argparse.Namespace, callbacks: tuple = ()) -> Optional[dict]:
    """Train per the flags; returns a summary (best checkpoint and score) on the main process, None elsewhere.
    `callbacks` are extra Lightning callbacks (tests record the samples each step sees)."""
    from common.cli import require_dir
    from dataset.layouts import get_layout, train_size
    from dataset.targets import get_target
    from models import check_size
    from models.losses import build_loss, needs_mask

    dataset, _ = get_layout(args.dataset)
    require_dir(args.base_folder, "--base_folder")
    target = get_target(args.target)
    build_loss(args.loss, args.loss_lambda, args.vgg_weights)  # fail fast on a bad loss / missing VGG weights
    if needs_mask(args.loss) and not args.annotations_folder:
        raise UserError("--loss l1_and_obj needs --annotations_folder (a <clip>/gt.txt per clip)")
    if args.annotations_folder:
        require_dir(args.annotations_folder, "--annotations_folder")
    size = train_size(dataset, args.train_resolution or args.resolution_target)
    model_config = model_config_for(args, size)
    check_size(model_config, *size, "training size", "choose --train_resolution (or --resolution_target) accordingly")
    os.makedirs(args.results_path, exist_ok=True)
    last = os.path.join(args.results_path, "last.ckpt")
    ckpt_path = _check_resume(args, last, model_config)
    machine = resolve_machine(args)

    import pytorch_lightning as pl

    from dataset.windows import DenoiseDataModule
    from models.module import DenoiserModule, window_offsets

    pl.seed_everything(args.seed, workers=True, verbose=False)

    from dataset.layouts import layout_clips

    clips = layout_clips(dataset, args.base_folder)
    # a validation split exists unless disabled or the data is a single 1-frame clip (checked again after decoding)
    expect_val = args.val_fraction > 0 and (len(clips) >= 2 or len(clips[0].frame_names) != 1)
    flags = {k: v for k, v in vars(args).items() if k not in RUN_FLAGS and k not in MODEL_FIELDS}
    flags.update(dataset=dataset, monitor="val_loss" if expect_val else "train_loss", clips=[c.name for c in clips])
    module = DenoiserModule(model_config=model_config, **flags)  # validates optimizer/scheduler before data prep

    dm = DenoiseDataModule(dataset, args.base_folder, size, window_offsets(model_config, args.target),
                           cache_dir=args.cache_dir or os.path.join(args.results_path, "cache"),
                           batch_size=args.batch_size, num_workers=machine["num_workers"],
                           val_fraction=args.val_fraction, seed=args.seed, with_background=target.needs_background,
                           annotations_folder=args.annotations_folder, with_mask=needs_mask(args.loss),
                           pin_memory=machine["pin_memory"], max_items=10 if args.debug else None,
                           cache=getattr(args, "cache", "disk"), prep_workers=getattr(args, "cache_workers", None))
    dm.prepare_data()
    dm.setup("fit")
    if dm.val_set is None:
        module.hparams.monitor = "train_loss"
    monitor = module.hparams.monitor

    from pytorch_lightning.callbacks import LearningRateMonitor, ModelCheckpoint

    checkpoint = ModelCheckpoint(dirpath=args.results_path, filename="best_model", monitor=monitor, mode="min",
                                 save_top_k=1, save_last=True, enable_version_counter=False)
    trainer = pl.Trainer(max_epochs=args.epochs, accelerator=machine["accelerator"], devices=machine["devices"],
                         num_nodes=args.num_nodes, strategy=machine["strategy"], precision=machine["precision"],
                         logger=_loggers(args), callbacks=[checkpoint, LearningRateMonitor(logging_interval="epoch"),
                                                           *step_callbacks(args, dm), *callbacks],
                         use_distributed_sampler=False, limit_val_batches=getattr(args, "limit_val_batches", None),
                         default_root_dir=args.results_path,
                         log_every_n_steps=max(1, min(50, len(dm.train_set) // args.batch_size // 4)),
                         limit_train_batches=args.limit_train_batches, num_sanity_val_steps=0)
    trainer.fit(module, datamodule=dm, ckpt_path=ckpt_path)
    if not trainer.is_global_zero:
        return None
    plot_loss_curve(args.results_path, os.path.join(args.results_path, "loss_curve.png"))
    score = checkpoint.best_model_score
    summary = {"best_model": checkpoint.best_model_path, "monitor": monitor,
               "best_score": None if score is None else float(score), "epochs": trainer.current_epoch,
               "train_samples": len(dm.train_set), "val_samples": len(dm.val_set) if dm.val_set else 0,
               "input_height": size[0], "input_width": size[1]}
    write_json(os.path.join(args.results_path, "training_summary.json"), summary)
    return summary
