"""The denoising networks: one config, one `ModelSpec` per network, one registry, one builder.

    from models import ModelConfig, build_model, input_offsets, model_spec
    cfg = ModelConfig(resolution_target=1024, fine_layers=True, bottleneck_size=512, with_skip_connections=True)
    net = build_model(cfg)            # B×3×H×W in [0,1] -> B×1×H×W (unbounded)
    input_offsets(cfg)                # [0, -1, -2]: channel i holds frame t + offsets[i]
    model_spec(cfg).is_3d             # False: the input is frames as channels, not B×1×H×W×T

Training (models/module.py, models/training.py), inference (inference/), the checkpoint loader and the UDVD
baseline read every fact about a network from its `ModelSpec`; the network input itself is built by
`models.network_input.network_input` from the spec. A new network is one file plus one `MODEL_REGISTRY` line.
This module imports no torch at import time (scripts' --help stays fast); a network's file is imported only when
it is built or when its spec needs it (the CNN's offsets and size multiple depend on its flags).
"""
from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass
from typing import Any, Callable, Union

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


PerConfig = Callable[[ModelConfig], Any]


@dataclass(frozen=True)
class ModelSpec:
    """What the rest of the project needs to know about one network (docs/models.md#the-registry-modelspec).

    `offsets` and `size_multiple` are constants or, when they depend on the flags (the CNN), functions of the
    config. `is_3d`: the input is B×1×H×W×T (frames along the last axis) instead of B×C×H×W (frames as channels).
    `minmax_window`: each window is min-max normalised to [0, 1] before the network sees it, in training and at
    inference alike. `native_size`: the network is trained on patches and, when its checkpoint records no training
    size, runs on each frame at its own size. `window_size`: the --window_size training records for it (the paper
    forces 31 for the 3-D U-Net). `flags`: the ModelConfig fields that shape the network (error messages).
    `paper_dead_keys`: a regex of the keys the paper's checkpoints hold for modules that were never used.
    """

    module: str
    builder: str
    offsets: Union[tuple[int, ...], PerConfig]
    size_multiple: Union[int, PerConfig]
    is_3d: bool = False
    minmax_window: bool = False
    native_size: bool = False
    window_size: int | None = None
    flags: tuple[str, ...] = ()
    paper_dead_keys: str = ""

    def build(self, config: ModelConfig):
        """Import the network's file and build it (the only place a network's file is imported to build it)."""
        return getattr(importlib.import_module(self.module), self.builder)(config)

    def input_offsets(self, config: ModelConfig) -> list[int]:
        """Frame offsets relative to the output frame t, in the order the network reads them."""
        return [int(o) for o in (self.offsets(config) if callable(self.offsets) else self.offsets)]

    def multiple(self, config: ModelConfig) -> int:
        """H and W must be multiples of this (2**number of poolings); datasets/inference resize or pad to it."""
        return int(self.size_multiple(config) if callable(self.size_multiple) else self.size_multiple)


def _cnn_offsets(cfg: ModelConfig) -> list[int]:
    """[0, -1, -2] or [0, ..., -5] (docs/paper_code_behaviour.md#architecture-flags); invalid flags -> UserError."""
    from models.cnn import check_cnn_config

    check_cnn_config(cfg)
    return [-i for i in range(cfg.num_prev_frames + 1)]


def _cnn_multiple(cfg: ModelConfig) -> int:
    from models.cnn import cnn_size_multiple

    return cnn_size_multiple(cfg)


CAUSAL_3 = (0, -1, -2)  # [t, t-1, t-2] (docs/paper_code_behaviour.md#input-frames)
WINDOW_31 = tuple(range(-15, 16))  # t-15 .. t+15 (docs/paper_code_behaviour.md#other-model-types, #windowed-datasets)
_UNET_3D = dict(offsets=WINDOW_31, size_multiple=16, is_3d=True, minmax_window=True, window_size=31)
_CNN_FLAGS = ("resolution_target", "bottleneck_size", "num_prev_frames", "fine_layers", "with_skip_connections",
              "with_residual_connections", "with_resnet_blocks")

MODEL_REGISTRY: dict[str, ModelSpec] = {
    "cnn": ModelSpec("models.cnn", "build_cnn", _cnn_offsets, _cnn_multiple, flags=_CNN_FLAGS,
                     paper_dead_keys=r"^(encoder\.|future_decoder\.|combiner\.|combiner_\d+\.|feature_combiners\.0\.)"),
    "unet": ModelSpec("models.unet", "build_unet", CAUSAL_3, 16, paper_dead_keys=r"^combiner\."),
    "unet_downscaled": ModelSpec("models.unet", "build_unet_downscaled", CAUSAL_3, 16, paper_dead_keys=r"^combiner\."),
    "unet_tiny_3d": ModelSpec("models.unet3d", "build_unet_tiny_3d", **_UNET_3D),
    "unet_4hlayers_3d": ModelSpec("models.unet3d", "build_unet_tiny_3d", **_UNET_3D),  # the name denoise.py uses
    "ae": ModelSpec("models.ae", "build_ae", CAUSAL_3, 64),  # AE_1024 pools 6 times
    # baseline: UDVD blind-spot video denoiser over t-2..t+2, pools 3 times and pads other sizes itself
    # (docs/paper_code_behaviour.md#baselines, docs/baselines.md)
    "udvd": ModelSpec("models.udvd", "build_udvd", (-2, -1, 0, 1, 2), 8, native_size=True),
}

ConfigLike = Union[dict, ModelConfig]


def as_config(config: ConfigLike) -> ModelConfig:
    if isinstance(config, ModelConfig):
        return config
    if isinstance(config, dict):
        return ModelConfig.from_dict(config)
    raise TypeError(f"expected a ModelConfig or a dict, got {type(config).__name__}")


def model_spec(config: "ConfigLike | str") -> ModelSpec:
    """The registered spec of a config's `model_type` (or of a name); unknown -> one-line UserError."""
    name = config if isinstance(config, str) else as_config(config).model_type
    if name not in MODEL_REGISTRY:
        raise UserError(f"unknown --model_type {name!r}; valid: {', '.join(sorted(MODEL_REGISTRY))}")
    return MODEL_REGISTRY[name]


def input_offsets(config: ConfigLike) -> list[int]:
    """The frame offsets (relative to the output frame t) the network consumes, in channel order."""
    cfg = as_config(config)
    return model_spec(cfg).input_offsets(cfg)


def size_multiple(config: ConfigLike) -> int:
    """H and W must be multiples of this for the config's network."""
    cfg = as_config(config)
    return model_spec(cfg).multiple(cfg)


def check_size(config: ConfigLike, height: int, width: int, what: str = "input size", hint: str = "") -> None:
    """The one size rule: H and W positive multiples of the network's `size_multiple` (one message everywhere)."""
    cfg = as_config(config)
    mult = model_spec(cfg).multiple(cfg)
    h, w = int(height), int(width)
    if h <= 0 or w <= 0 or h % mult or w % mult:
        raise UserError(f"{what} {h}x{w} (H×W) does not fit --model_type {cfg.model_type}: H and W must be "
                        f"positive multiples of {mult}" + (f"; {hint}" if hint else ""))


def build_model(config: ConfigLike):
    """Build the network named by `config.model_type` (unknown name, invalid flags or training size -> UserError)."""
    cfg = as_config(config)
    spec = model_spec(cfg)
    spec.input_offsets(cfg)  # validates the flags (the CNN) before anything is built
    if cfg.input_height is not None or cfg.input_width is not None:
        mult = spec.multiple(cfg)  # a missing side is not checked
        check_size(cfg, mult if cfg.input_height is None else cfg.input_height,
                   mult if cfg.input_width is None else cfg.input_width, "input_height×input_width")
    return spec.build(cfg)


__all__ = ["ModelConfig", "ModelSpec", "MODEL_REGISTRY", "build_model", "model_spec", "input_offsets",
           "size_multiple", "check_size", "as_config"]
