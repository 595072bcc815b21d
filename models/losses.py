"""Training losses (`--loss`), one registry (docs/paper_code_behaviour.md#losses), with the paper's defects fixed
(docs/paper_code_behaviour.md#defect-9-5-object-loss-without-gradient and #defect-9-6-perceptual-loss-flaws).

Every loss is `loss(pred, target, mask) -> scalar`; `mask` is the 1×H×W object mask (only l1_and_obj reads it).

- mse (default): mean squared error.
- l1: mean absolute error. The paper summed (`l1_sum`, kept for comparison): its scale grew with batch and image size.
- l1_and_obj: λ·MSE + (1−λ)·weighted BCE(sigmoid(pred), mask) with weight 0 inside objects and 5 outside.
  The paper's BCE term carried no gradient and its mask held 1/255; here both are fixed.
- mse_and_focal: λ·MSE + (1−λ)·sigmoid focal loss (pred as logits, target as soft labels).
- perceptual: pixel MSE/100 + Σ_i MSE(VGG19 relu_i(pred), relu_i(target)) / w_i, w = 1.6, 2.3, 1.8, 2.8 (the paper's
  initial weights; its "running average" was stateless). ImageNet normalisation is applied (the paper omitted it)
  and the device follows the model. The ImageNet VGG19 weights cannot be downloaded here: pass a local file.
"""
from __future__ import annotations

import os
from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from common.cli import UserError

LossFn = Callable[[Tensor, Tensor, Optional[Tensor]], Tensor]

VGG_LAYERS = (3, 8, 13, 22, 31)  # relu1_2, relu2_2, relu3_2, relu4_2, relu5_2 in torchvision's vgg19.features
VGG_WEIGHTS = (100.0, 1.6, 2.3, 1.8, 2.8, 100.0)  # pixel term first (docs/paper_code_behaviour.md#losses)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def mse(pred: Tensor, target: Tensor, mask: Optional[Tensor] = None) -> Tensor:
    return F.mse_loss(pred, target)


def l1(pred: Tensor, target: Tensor, mask: Optional[Tensor] = None) -> Tensor:
    return F.l1_loss(pred, target)


def l1_sum(pred: Tensor, target: Tensor, mask: Optional[Tensor] = None) -> Tensor:
    """The paper's `l1` (reduction=sum), kept to reproduce its runs."""
    return F.l1_loss(pred, target, reduction="sum")


def object_bce(pred: Tensor, mask: Tensor, in_weight: float = 0.0, out_weight: float = 5.0) -> Tensor:
    """BCE between sigmoid(pred) and the object mask, weighted `in_weight` inside objects, `out_weight` outside."""
    weight = torch.where(mask >= 0.5, torch.full_like(mask, in_weight), torch.full_like(mask, out_weight))
    return F.binary_cross_entropy_with_logits(pred, mask, weight=weight)


def l1_and_obj(pred: Tensor, target: Tensor, mask: Optional[Tensor], lam: float = 0.5) -> Tensor:
    if mask is None:
        raise UserError("--loss l1_and_obj needs object boxes: pass --annotations_folder with a gt.txt per clip")
    return lam * F.mse_loss(pred, target) + (1 - lam) * object_bce(pred, mask)


def mse_and_focal(pred: Tensor, target: Tensor, mask: Optional[Tensor], lam: float = 0.5) -> Tensor:
    from torchvision.ops import sigmoid_focal_loss

    return lam * F.mse_loss(pred, target) + (1 - lam) * sigmoid_focal_loss(pred, target, reduction="mean")


class VGGFeatures(nn.Module):
    """Frozen VGG19 feature taps for the perceptual loss, built without downloading anything."""

    def __init__(self, weights_path: str):
        super().__init__()
        from torchvision.models.vgg import cfgs, make_layers

        if not weights_path:
            raise UserError("--loss perceptual needs ImageNet VGG19 weights, which cannot be downloaded here: pass "
                            "--vgg_weights /path/to/vgg19-dcbb9e9d.pth (torchvision's vgg19 state_dict)")
        if not os.path.isfile(weights_path):
            raise UserError(f"--vgg_weights file not found: {weights_path}")
        self.features = make_layers(cfgs["E"])[: VGG_LAYERS[-1] + 1]
        try:
            state = torch.load(weights_path, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise UserError(f"--vgg_weights {weights_path} is not a torch state_dict ({exc.__class__.__name__})") from exc
        state = {k[len("features."):]: v for k, v in state.items() if k.startswith("features.")} or state
        state = {k: v for k, v in state.items() if int(k.split(".")[0]) <= VGG_LAYERS[-1]}
        missing, _ = self.features.load_state_dict(state, strict=False)
        if missing:
            raise UserError(f"--vgg_weights {weights_path} lacks VGG19 feature weights: {', '.join(missing[:4])}")
        self.requires_grad_(False).eval()
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, x: Tensor) -> list[Tensor]:
        x = (x.expand(-1, 3, -1, -1) - self.mean) / self.std
        taps = []
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in VGG_LAYERS:
                taps.append(x)
        return taps


class PerceptualLoss:
    """Pixel MSE plus VGG19 feature MSEs with the paper's fixed weights (kept out of the checkpoint)."""

    def __init__(self, weights_path: str):
        self.vgg = VGGFeatures(weights_path)

    def __call__(self, pred: Tensor, target: Tensor, mask: Optional[Tensor] = None) -> Tensor:
        self.vgg.to(pred.device)
        loss = F.mse_loss(pred, target) / VGG_WEIGHTS[0]
        for w, fp, ft in zip(VGG_WEIGHTS[1:], self.vgg(pred), self.vgg(target)):
            loss = loss + F.mse_loss(fp, ft) / w
        return loss


# name -> factory(loss_lambda, vgg_weights) -> loss function
LOSSES: dict[str, Callable[[float, str], LossFn]] = {
    "mse": lambda lam, vgg: mse,
    "l1": lambda lam, vgg: l1,
    "l1_sum": lambda lam, vgg: l1_sum,
    "l1_and_obj": lambda lam, vgg: (lambda p, t, m: l1_and_obj(p, t, m, lam)),
    "mse_and_focal": lambda lam, vgg: (lambda p, t, m: mse_and_focal(p, t, m, lam)),
    "perceptual": lambda lam, vgg: PerceptualLoss(vgg),
}


def build_loss(name: str, loss_lambda: float = 0.5, vgg_weights: str = "") -> LossFn:
    """The loss named `name` (unknown → UserError listing the valid ones)."""
    if name not in LOSSES:
        raise UserError(f"unknown --loss {name!r}; valid: {', '.join(LOSSES)}")
    return LOSSES[name](loss_lambda, vgg_weights)


def needs_mask(name: str) -> bool:
    """Whether the loss reads the object mask (so the dataset must load the annotations)."""
    return name == "l1_and_obj"
