"""The LightningModule that trains a denoiser: it wires, it does not implement (docs/paper_code_behaviour.md#training).

Network from `models.build_model`, its input from `models.network_input` (the recipe inference uses too), target
from `dataset.targets` (built in the step, on the device), loss from `models.losses`, augmentations from
`dataset.augment`, optimizer and scheduler from a small table each.
`save_hyperparameters` stores `model_config` as a plain dict (training H×W included) plus every training flag, so
a checkpoint describes itself and loads with `torch.load(..., weights_only=True)`.

Fixes of the paper code: the plateau scheduler watches `val_loss` of a held-out split when there is one
(docs/paper_code_behaviour.md#defect-9-8-best-checkpoint-by-training-loss),
and the default scheduler is `plateau` with an LR floor instead of StepLR(2, 0.05), which drives the learning rate
to ~0 within a few epochs (docs/paper_code_behaviour.md#defect-9-7-learning-rate-decays-to-zero); `train_loss` is
synchronised across DDP ranks.
"""
from __future__ import annotations

from typing import Any, Optional

import pytorch_lightning as pl
import torch
from torch import Tensor

from dataset.augment import Augmenter
from dataset.targets import get_target, make_target
from models import build_model, input_offsets, model_spec
from models.losses import build_loss
from models.network_input import network_input, target_like_input

OPTIMIZERS = {
    "adamw": lambda params, lr: torch.optim.AdamW(params, lr=lr),  # torch defaults, as the paper (wd 0.01)
    "adam": lambda params, lr: torch.optim.Adam(params, lr=lr),
    "sgd": lambda params, lr: torch.optim.SGD(params, lr=lr),  # no momentum, as the paper
    "rmsprop": lambda params, lr: torch.optim.RMSprop(params, lr=lr),
}
SCHEDULERS = ("plateau", "step", "cosine", "none")


def window_offsets(model_config: dict, target: str) -> list[int]:
    """Every frame offset a training item must carry: the network's inputs plus the frames the target reads."""
    return sorted(set(input_offsets(model_config)) | set(get_target(target).offsets))


class DenoiserModule(pl.LightningModule):
    """Self-supervised denoiser training: input frames → network → loss against a target built from the window."""

    def __init__(self, model_config: dict, target: str = "l1", dataset: str = "CFC22", loss: str = "mse",
                 loss_lambda: float = 0.5, optimizer: str = "adamw", learning_rate: float = 5e-4,
                 scheduler: str = "plateau", step_size: int = 2, gamma: float = 0.05, factor: float = 0.1,
                 patience: int = 4, min_lr: float = 1e-6, epochs: int = 100, monitor: str = "train_loss",
                 paper_targets: bool = False, salt_and_pepper_p: float = 0.0, gaussian_blur_p: float = 0.0,
                 motion_blur_p: float = 0.0, brightness_p: float = 0.0, erase_p: float = 0.0,
                 vgg_weights: str = "", **training_flags: Any):
        super().__init__()
        from common.cli import UserError

        if optimizer not in OPTIMIZERS:
            raise UserError(f"unknown --optimizer {optimizer!r}; valid: {', '.join(OPTIMIZERS)}")
        if scheduler not in SCHEDULERS:
            raise UserError(f"unknown --scheduler {scheduler!r}; valid: {', '.join(SCHEDULERS)}")
        get_target(target)
        self.save_hyperparameters()
        self.model = build_model(model_config)
        self.spec = model_spec(model_config)
        # NHWC activations and weights for 2-D networks: oneDNN's fast (AMX/AVX-512) convolutions work in that
        # layout, so NCHW pays a reorder around every convolution, forward and backward (~1.25x in fp32, ~1.2x in
        # bf16 on this project's CPU). The 3-D U-Net's 5-D weights have no such layout.
        self.channels_last = not self.spec.is_3d
        if self.channels_last:
            self.model.to(memory_format=torch.channels_last)
        self.input_offsets = input_offsets(model_config)
        self.window_offsets = window_offsets(model_config, target)
        self.loss_fn = build_loss(loss, loss_lambda, vgg_weights)
        self.augment = Augmenter(salt_and_pepper_p, gaussian_blur_p, motion_blur_p, brightness_p, erase_p)

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)

    def frames_and_target(self, batch: dict) -> tuple[Tensor, Tensor, Optional[Tensor]]:
        """The input frames (B×C×H×W, channels in `input_offsets` order), target and object mask of a batch."""
        window = batch["window"]
        frames = {o: window[:, k:k + 1] for k, o in enumerate(self.window_offsets)}
        x = torch.cat([frames[o] for o in self.input_offsets], dim=1)
        target = make_target(self.hparams.target, frames, batch.get("background"), self.hparams.paper_targets)
        return x, target, batch.get("mask")

    def _network_side(self, frames: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
        """The network input and the target on its scale (models/network_input.py, the recipe inference uses)."""
        x = network_input(frames, self.spec)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x, target_like_input(target, frames, self.spec)

    def inputs_and_target(self, batch: dict) -> tuple[Tensor, Tensor, Optional[Tensor]]:
        """Network input, target (on the input's scale) and object mask from a batch of windows."""
        frames, target, mask = self.frames_and_target(batch)
        return (*self._network_side(frames, target), mask)

    def _loss(self, batch: dict, augment: bool) -> Tensor:
        frames, target, mask = self.frames_and_target(batch)
        if augment and self.augment.active:  # one parameter draw for frames, target and mask, before the
                                             # per-window normalisation (docs/paper_code_behaviour.md#augmentations)
            parts = self.augment([frames, target] + ([mask] if mask is not None else []))
            frames, target, mask = parts[0], parts[1], (parts[2] if mask is not None else None)
        x, target = self._network_side(frames, target)
        return self.loss_fn(self.model(x), target, mask)

    def training_step(self, batch: dict, batch_idx: int) -> Tensor:
        loss = self._loss(batch, augment=True)
        self.log("train_loss", loss, on_step=True, on_epoch=True, prog_bar=True, sync_dist=True,
                 batch_size=len(batch["window"]))
        return loss

    def validation_step(self, batch: dict, batch_idx: int) -> Tensor:
        loss = self._loss(batch, augment=False)
        self.log("val_loss", loss, on_step=False, on_epoch=True, prog_bar=True, sync_dist=True,
                 batch_size=len(batch["window"]))
        return loss

    def configure_optimizers(self):
        hp = self.hparams
        opt = OPTIMIZERS[hp.optimizer](self.model.parameters(), hp.learning_rate)
        if hp.scheduler == "none":
            return opt
        if hp.scheduler == "step":
            sched = torch.optim.lr_scheduler.StepLR(opt, step_size=hp.step_size, gamma=hp.gamma)
        elif hp.scheduler == "cosine":
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, hp.epochs), eta_min=hp.min_lr)
        else:
            sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=hp.factor,
                                                               patience=hp.patience, min_lr=hp.min_lr)
        return {"optimizer": opt,
                "lr_scheduler": {"scheduler": sched, "interval": "epoch", "monitor": hp.monitor}}
