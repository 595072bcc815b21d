"""The denoising networks: one config, one registry, one builder.

    from models import ModelConfig, build_model, input_offsets
    cfg = ModelConfig(resolution_target=1024, fine_layers=True, bottleneck_size=512, with_skip_connections=True)
    net = build_model(cfg)            # B×3×H×W in [0,1] -> B×1×H×W (unbounded)
    input_offsets(cfg)                # [0, -1, -2]: channel i holds frame t + offsets[i]

This module imports no torch at import time (scripts' --help stays fast); builders import their file lazily.
A new network is one file plus one `MODEL_REGISTRY` line (and, if it reads other frames, one `_OFFSETS` line).
"""
from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass
from typing import Any, Callable

from common.cli import UserError


@dataclass
class ModelConfig:
    """The architecture flags of the paper's main.py, with its defaults (docs/paper_code_behaviour.md#network-selection
    and #training-flags).

    `input_height`/`input_width` are the training resolution (H×W), stored in checkpoints so inference reuses it
    (docs/paper_code_behaviour.md#defect-9-2-wrong-inference-resolution). `window_size` is the dataset's window flag;
    the networks do not read it.
    """

    model_type: str = "cnn"
    resolution_target: int = 512
    fine_layers: bool = False
    bottleneck_size: int = 16
    with_skip_connections: bool = False
    with_residual_connections: bool = False
    with_resnet_blocks: bool = False
    num_prev_frames: int = 2
    window_size: int = 3
    input_height: int | None = None
    input_width: int | None = None

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "ModelConfig":
        """Build from a dict that may carry other training flags too (e.g. `vars(args)`); only known fields are read."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _lazy(module: str, attr: str) -> Callable[[ModelConfig], Any]:
    """A builder that imports `module` only when a network is actually built (keeps `--help` fast)."""

    def build(config: ModelConfig):
        return getattr(importlib.import_module(module), attr)(config)

    build.__name__ = f"{module}.{attr}"
    return build


# name -> builder(config) -> nn.Module.
MODEL_REGISTRY: dict[str, Callable[[ModelConfig], Any]] = {
    "cnn": _lazy("models.cnn", "build_cnn"),
    "unet": _lazy("models.unet", "build_unet"),
    "unet_downscaled": _lazy("models.unet", "build_unet_downscaled"),
    "unet_tiny_3d": _lazy("models.unet3d", "build_unet_tiny_3d"),
    "unet_4hlayers_3d": _lazy("models.unet3d", "build_unet_tiny_3d"),  # the name denoise.py uses
                                                                       # (docs/paper_code_behaviour.md#other-model-types)
    "ae": _lazy("models.ae", "build_ae"),
    "udvd": _lazy("models.udvd", "build_udvd"),  # baseline: UDVD blind-spot video denoiser
                                                 # (docs/paper_code_behaviour.md#baselines)
}

# Frame offsets each network reads, in channel order (docs/paper_code_behaviour.md#input-frames: causal [t, t-1, t-2]
# for the 2-D models).
_OFFSETS: dict[str, list[int]] = {
    "unet": [0, -1, -2],
    "unet_downscaled": [0, -1, -2],
    "ae": [0, -1, -2],
    "unet_tiny_3d": list(range(-15, 16)),  # the 31-frame window centred on t
                                           # (docs/paper_code_behaviour.md#other-model-types and #windowed-datasets)
    "unet_4hlayers_3d": list(range(-15, 16)),
    "udvd": [-2, -1, 0, 1, 2],  # UDVD's 5-frame window centred on t (docs/paper_code_behaviour.md#baselines)
}


def as_config(config: "dict[str, Any] | ModelConfig") -> ModelConfig:
    if isinstance(config, ModelConfig):
        return config
    if isinstance(config, dict):
        return ModelConfig.from_dict(config)
    raise TypeError(f"expected a ModelConfig or a dict, got {type(config).__name__}")


def _check_model_type(cfg: ModelConfig) -> None:
    if cfg.model_type not in MODEL_REGISTRY:
        raise UserError(f"unknown --model_type {cfg.model_type!r}; valid: {', '.join(sorted(MODEL_REGISTRY))}")


def input_offsets(config: "dict[str, Any] | ModelConfig") -> list[int]:
    """The frame offsets (relative to the output frame t) the network consumes, in channel order."""
    cfg = as_config(config)
    _check_model_type(cfg)
    if cfg.model_type == "cnn":
        from models.cnn import check_cnn_config

        check_cnn_config(cfg)
        return [-i for i in range(cfg.num_prev_frames + 1)]  # [0, -1, -2] or [0, ..., -5]
                                                             # (docs/paper_code_behaviour.md#architecture-flags)
    if cfg.model_type not in _OFFSETS:
        raise UserError(f"no frame offsets are declared for --model_type {cfg.model_type!r} (models/__init__.py _OFFSETS)")
    return list(_OFFSETS[cfg.model_type])


def size_multiple(config: "dict[str, Any] | ModelConfig") -> int:
    """H and W must be multiples of this (2**number of poolings); datasets/inference resize or pad to it."""
    cfg = as_config(config)
    _check_model_type(cfg)
    if cfg.model_type == "cnn":
        from models.cnn import cnn_size_multiple

        return cnn_size_multiple(cfg)
    return {"ae": 64}.get(cfg.model_type, 16)  # U-Nets pool 4 times; AE_1024 pools 6 times
                                               # (docs/paper_code_behaviour.md#other-model-types)


def build_model(config: "dict[str, Any] | ModelConfig"):
    """Build the network named by `config.model_type` (unknown name or invalid flags -> UserError)."""
    cfg = as_config(config)
    _check_model_type(cfg)
    mult = size_multiple(cfg)
    for name in ("input_height", "input_width"):
        value = getattr(cfg, name)
        if value is not None and (int(value) <= 0 or int(value) % mult):
            raise UserError(f"{name}={value} must be a positive multiple of {mult} for --model_type {cfg.model_type}")
    return MODEL_REGISTRY[cfg.model_type](cfg)


__all__ = ["ModelConfig", "MODEL_REGISTRY", "build_model", "input_offsets", "size_multiple", "as_config"]
