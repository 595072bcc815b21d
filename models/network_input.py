"""The one recipe that turns the frames of a window into a network's input, shared by training and inference.

    frames = torch.cat([f_t, f_{t-1}, f_{t-2}], dim=1)   # B×C×H×W in [0, 1], channel k = frame t + offsets[k]
    x = network_input(frames, config)                     # what the network is called on

2-D networks read the frames as channels, unchanged. The 3-D U-Net reads B×1×H×W×T (frames along the last axis,
T = 31), min-max normalised per window: the paper's code does that at inference and in its windowed datasets
(docs/paper_code_behaviour.md#value-ranges), so training here does it too (docs/training.md#the-3-d-u-net-input).
The Lightning module (models/module.py) and the inference engine (inference/denoiser.py) both call this function,
so a network is never trained on one scaling and run on another.
"""
from __future__ import annotations

from typing import Union

from torch import Tensor

from models import ModelConfig, ModelSpec, model_spec

EPS = 1e-8  # a constant window maps to 0 instead of dividing by zero

SpecLike = Union[ModelSpec, ModelConfig, dict, str]


def _spec(spec: SpecLike) -> ModelSpec:
    return spec if isinstance(spec, ModelSpec) else model_spec(spec)


def window_range(frames: Tensor) -> tuple[Tensor, Tensor]:
    """Per-window (B×1×1×1) minimum and maximum over every frame and pixel of B×C×H×W `frames`."""
    lo, hi = frames.flatten(1).aminmax(dim=1)
    shape = (-1,) + (1,) * (frames.dim() - 1)
    return lo.view(shape), hi.view(shape)


def rescale(x: Tensor, lo: Tensor, hi: Tensor) -> Tensor:
    """(x - lo) / (hi - lo), with the range floored at EPS; lo/hi broadcast over x's trailing axes."""
    while lo.dim() < x.dim():
        lo, hi = lo.unsqueeze(-1), hi.unsqueeze(-1)
    return (x - lo) / (hi - lo).clamp_min(EPS)


def network_input(frames: Tensor, spec: SpecLike) -> Tensor:
    """B×C×H×W frames (channel k = frame t + input_offsets[k]) → the tensor the network is called on."""
    s = _spec(spec)
    if frames.dim() != 4:
        raise ValueError(f"network_input expects B×C×H×W frames, got {tuple(frames.shape)}")
    x = frames.permute(0, 2, 3, 1).unsqueeze(1).contiguous() if s.is_3d else frames  # B×1×H×W×T
    return rescale(x, *window_range(frames)) if s.minmax_window else x


def target_like_input(target: Tensor, frames: Tensor, spec: SpecLike) -> Tensor:
    """The training target in the units of the network input: for min-max normalised windows it is rescaled by
    the same window's (lo, hi), so the loss compares prediction and target on the input's scale."""
    return rescale(target, *window_range(frames)) if _spec(spec).minmax_window else target
