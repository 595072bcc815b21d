"""UDVD training (docs/paper_code_behaviour.md#baselines): 5-frame stacks of square patches, blind-spot MSE against the
noisy centre frame.

What follows the paper's run of the UDVD code (`fish_train.py --model blind-video-net-4 --loss mse
--image-size 128 --stride 64 --n-frames 5 --lr 1e-4`): patches on a stride grid at full resolution, the part of
a border patch that falls outside the frame reflect-padded, Adam with MultiStepLR(milestones 20/25/30, γ 0.5).

What differs, and why:
- clip ends: the window t-2..t+2 replicates the first/last frame (the project's one rule, `window_indices`),
  where UDVD shifted the window inward; every frame is a centre frame. The replicated copies add no leak: the
  network is blind at pixel p in *every* input frame (models/udvd.py);
- one epoch = every (frame, patch) once, shuffled; best_model.ckpt is the lowest epoch training loss (UDVD
  validated every 100,000 batches by PSNR against the noisy frame, which never happened in its 10 epochs);
- the checkpoint follows the project's contract (models/checkpoint.py), so denoise*.py and
  models.checkpoint.load_denoiser read it: `hyper_parameters["model_config"]` (model_type "udvd"),
  `["target"] = "identity"` (the noisy centre frame), `["dataset"]`, and the training flags.
"""
from __future__ import annotations

import glob
import math
import os
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

from common.cli import fail
from dataset.frames import cached_clip_array
from dataset.layouts import get_layout, layout_clips
from dataset.windows import window_indices
from models import ModelConfig, build_model, check_size, input_offsets

CENTRE_TARGET = "identity"  # UDVD's blind-spot loss compares with the noisy centre frame f_t (target names as in
                            # docs/paper_code_behaviour.md#target-formulas)


def grid_starts(length: int, size: int, stride: int) -> list[int]:
    """Patch start positions along one axis: 0, stride, ... until a patch reaches the end (the last may overhang
    the frame; its outside part is reflect-padded). A frame shorter than `size` gives one overhanging patch."""
    n = max(0, math.ceil((length - size) / stride)) + 1
    return [i * stride for i in range(n)]


def reflect_index(idx: np.ndarray, length: int) -> np.ndarray:
    """Map indices past the end of an axis of `length` back inside by mirroring (numpy's "reflect": the edge
    pixel is not repeated), however far they reach."""
    if length == 1:
        return np.zeros_like(idx)
    period = 2 * (length - 1)
    i = idx % period
    return np.where(i < length, i, period - i)


def crop_reflect(frames: np.ndarray, y: int, x: int, size: int) -> np.ndarray:
    """`frames[:, y:y+size, x:x+size]`, the part beyond the bottom/right border mirrored from the frame."""
    _, h, w = frames.shape
    if y + size <= h and x + size <= w:
        return frames[:, y:y + size, x:x + size]
    ys = reflect_index(np.arange(y, y + size), h)
    xs = reflect_index(np.arange(x, x + size), w)
    return frames[:, ys][:, :, xs]


@dataclass
class PatchClip:
    """A decoded clip (memory-mapped uint8 T×H×W cache file) and its patch grid."""

    name: str
    path: str
    num_frames: int
    ys: list[int]
    xs: list[int]

    @property
    def items(self) -> int:
        return self.num_frames * len(self.ys) * len(self.xs)


class PatchWindows(Dataset):
    """Item i → 5×size×size float32 in [0, 1]: frames t+offsets of one patch (index arithmetic, no item list,
    so a dataset of millions of patches costs no memory)."""

    def __init__(self, clips: Sequence[PatchClip], offsets: Sequence[int], size: int):
        self.clips, self.offsets, self.size = list(clips), list(offsets), int(size)
        self.cum = np.cumsum([0] + [c.items for c in self.clips])
        self._maps: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return int(self.cum[-1])

    def __getstate__(self) -> dict:  # workers reopen the memory maps
        return {**self.__dict__, "_maps": {}}

    def locate(self, i: int) -> tuple[int, int, int, int]:
        """Item index → (clip, t, y, x)."""
        c = int(np.searchsorted(self.cum, i, side="right") - 1)
        clip = self.clips[c]
        r = i - int(self.cum[c])
        per_t = len(clip.ys) * len(clip.xs)
        t, r = divmod(r, per_t)
        yi, xi = divmod(r, len(clip.xs))
        return c, t, clip.ys[yi], clip.xs[xi]

    def __getitem__(self, i: int) -> torch.Tensor:
        c, t, y, x = self.locate(i)
        if c not in self._maps:
            self._maps[c] = np.load(self.clips[c].path, mmap_mode="r")
        frames = self._maps[c][window_indices(t, self.offsets, self.clips[c].num_frames)]
        return torch.from_numpy(crop_reflect(frames, y, x, self.size).astype(np.float32)).div_(255.0)


def prepare_patch_clips(dataset: str, data_path: str, cache_dir: str, size: int, stride: int,
                        progress: bool = True) -> list[PatchClip]:
    """Find the clips (dataset/layouts.py), decode each once into the shared frame cache, lay its patch grid."""
    from tqdm import tqdm

    _, layout = get_layout(dataset)
    clips = layout_clips(dataset, data_path)
    out = []
    for clip in tqdm(clips, desc="decoding clips", unit="clip", disable=not progress, leave=False):
        arr = cached_clip_array(clip.source, os.path.join(cache_dir, "decoded"), layout.exts)
        _, h, w = arr.shape
        out.append(PatchClip(clip.name, arr.filename, len(arr), grid_starts(h, size, stride), grid_starts(w, size, stride)))
    return out


class UDVDModule(pl.LightningModule):
    """Wires the UDVD network to the blind-spot MSE; every argument lands in the checkpoint's hyper_parameters."""

    def __init__(self, model_config: dict, target: str = CENTRE_TARGET, dataset: str = "CFC22", lr: float = 1e-4,
                 milestones: Sequence[int] = (20, 25, 30), gamma: float = 0.5, **flags):
        super().__init__()
        self.save_hyperparameters()
        self.model = build_model(model_config).to(memory_format=torch.channels_last)  # NHWC: oneDNN's fast layout
        self.centre = input_offsets(model_config).index(0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def training_step(self, batch: torch.Tensor, batch_idx: int) -> torch.Tensor:
        pred = self.model(batch.contiguous(memory_format=torch.channels_last))
        loss = F.mse_loss(pred.float(), batch[:, self.centre:self.centre + 1])  # the loss in fp32 under bf16 too
        self.log("train_loss", loss, on_step=False, on_epoch=True, prog_bar=True, batch_size=len(batch))
        return loss

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.hparams.lr)
        sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=list(self.hparams.milestones), gamma=self.hparams.gamma)
        return {"optimizer": opt, "lr_scheduler": sched}


OWN_CHECKPOINTS = ("best_model.ckpt", "last.ckpt", "epoch=*.ckpt", "best_model-v*.ckpt", "last-v*.ckpt")


def train_udvd(data_path: str, checkpoint_dir: str, dataset: str = "CFC22", batch_size: int = 140,
               image_size: int = 128, stride: int = 64, lr: float = 1e-4, num_epochs: int = 10,
               step_checkpoints: bool = False, limit_batches: int | None = None, num_workers: int = 2,
               cache_dir: str = ".cache/frames", seed: int = 0, overwrite: bool = False,
               progress: bool = True, precision: str = "32") -> dict:
    """Train (or resume from `<checkpoint_dir>/last.ckpt`) and return {"best": path, "last": path, "loss": [...]}.

    `precision` is Lightning's (32, bf16-mixed, ...) or `auto` (bf16-mixed where the device runs bf16 fast)."""
    from common.precision import resolve_precision
    from pytorch_lightning.callbacks import ModelCheckpoint
    from pytorch_lightning.loggers import CSVLogger

    for name, value in (("--batch-size", batch_size), ("--image-size", image_size), ("--stride", stride),
                        ("--num-epochs", num_epochs)):
        if value < 1:
            fail(f"{name} must be >= 1, got {value}")
    config = ModelConfig(model_type="udvd", window_size=5).to_dict()
    # UDVD is fully convolutional and trained on full-resolution patches: it has no training resize, so
    # input_height/input_width stay None (inference runs at each clip's own frame size).
    check_size(config, image_size, image_size, "--image-size")
    clips = prepare_patch_clips(dataset, data_path, cache_dir, image_size, stride, progress)
    data = PatchWindows(clips, input_offsets(config), image_size)
    pl.seed_everything(seed, workers=True, verbose=False)
    loader = DataLoader(data, batch_size=batch_size, shuffle=True, num_workers=num_workers, drop_last=False,
                        persistent_workers=num_workers > 0)

    os.makedirs(checkpoint_dir, exist_ok=True)
    last = os.path.join(checkpoint_dir, "last.ckpt")
    if overwrite:
        for pattern in OWN_CHECKPOINTS:
            for path in glob.glob(os.path.join(checkpoint_dir, pattern)):
                os.remove(path)
    callbacks = [ModelCheckpoint(dirpath=checkpoint_dir, filename="best_model", monitor="train_loss", mode="min",
                                 save_last=True, enable_version_counter=False)]
    if step_checkpoints:  # UDVD's --step-checkpoints: keep one checkpoint per epoch
        callbacks.append(ModelCheckpoint(dirpath=checkpoint_dir, filename="{epoch}", save_top_k=-1,
                                         every_n_epochs=1, enable_version_counter=False))
    module = UDVDModule(config, target=CENTRE_TARGET, dataset=dataset, lr=lr, data_path=os.path.abspath(data_path),
                        batch_size=batch_size, image_size=image_size, stride=stride, n_frames=5,
                        num_epochs=num_epochs, seed=seed, patches=len(data), clips=len(clips))
    logger = CSVLogger(checkpoint_dir, name="logs")  # a resumed run logs into the next version_<n>
    precision = resolve_precision(precision, "cuda" if torch.cuda.is_available() else "cpu",
                                  fast="bf16-mixed", slow="32-true")
    trainer = pl.Trainer(max_epochs=num_epochs, accelerator="auto", devices=1, callbacks=callbacks, logger=logger,
                         precision=precision,
                         limit_train_batches=limit_batches or 1.0, enable_progress_bar=progress,
                         enable_model_summary=False, num_sanity_val_steps=0, deterministic=False)
    resume = last if os.path.exists(last) else None
    trainer.fit(module, loader, ckpt_path=resume)
    return {"best": os.path.join(checkpoint_dir, "best_model.ckpt"), "last": last, "resumed": resume is not None,
            "patches": len(data), "clips": len(clips), "loss": read_epoch_losses(checkpoint_dir)}


def read_epoch_losses(checkpoint_dir: str) -> list[float]:
    """The per-epoch training losses from the CSV logs of every (resumed) run, in epoch order."""
    import csv

    from dataset.frames import natural_key

    by_epoch: dict[int, float] = {}
    for path in sorted(glob.glob(os.path.join(checkpoint_dir, "logs", "version_*", "metrics.csv")),
                       key=lambda p: natural_key(os.path.basename(os.path.dirname(p)))):
        with open(path, newline="") as f:
            by_epoch.update({int(r["epoch"]): float(r["train_loss"]) for r in csv.DictReader(f) if r.get("train_loss")})
    return [by_epoch[e] for e in sorted(by_epoch)]
