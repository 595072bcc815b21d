"""Load a denoiser from a checkpoint, ours or the paper's (docs/paper_code_behaviour.md#checkpoint-layout and
#defect-9-2-wrong-inference-resolution).

Ours: a Lightning checkpoint whose `hyper_parameters["model_config"]` is the full `ModelConfig` (training H×W
included), so `load_denoiser(path)` needs no flags; explicit flags that contradict it are a one-line error.
The paper's: no model_config; the network is rebuilt from the explicit flags (over the paper's hyper-parameters
and main.py defaults) and the dead modules' keys (docs/paper_code_behaviour.md#checkpoint-layout) are dropped. Every
module we build keeps the paper's used
key name, so no renaming is needed. Everything loads with `torch.load(..., weights_only=True)`.
"""
from __future__ import annotations

import dataclasses
import pickle
import re
from typing import Any

import torch
from torch import nn

from common.atomic import atomic_path
from common.cli import UserError, require_file
from models import ModelConfig, build_model, model_spec

_FIELDS = {f.name for f in dataclasses.fields(ModelConfig)}


def read_checkpoint(path: str, map_location: Any = "cpu") -> dict:
    """torch.load with weights_only=True; a missing, corrupt or unsafe file becomes a one-line UserError."""
    require_file(path, "checkpoint")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        if "weights only" in str(exc).lower():
            raise UserError(f"checkpoint {path} holds objects other than tensors and plain types; "
                            "it cannot be loaded safely (weights_only=True)") from None
        raise UserError(f"cannot read checkpoint {path}: {_first_line(exc)}") from None
    except Exception as exc:  # zip/EOF/runtime errors of a truncated or foreign file
        raise UserError(f"cannot read checkpoint {path}: {_first_line(exc)}") from None
    if not isinstance(ckpt, dict):
        raise UserError(f"{path} is not a denoiser checkpoint (it holds a {type(ckpt).__name__})")
    return ckpt


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def split_checkpoint(ckpt: dict, path: str) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """(network state dict without the Lightning `model.` prefix, hyper-parameters); also accepts a bare state dict."""
    if isinstance(ckpt.get("state_dict"), dict):
        state, hparams = ckpt["state_dict"], ckpt.get("hyper_parameters") or {}
    elif ckpt and all(isinstance(v, torch.Tensor) for v in ckpt.values()):
        state, hparams = ckpt, {}
    else:
        raise UserError(f"{path} is not a denoiser checkpoint (no state_dict)")
    if any(k.startswith("model.") for k in state):  # other LightningModule children (e.g. a loss net) are skipped
        state = {k[len("model."):]: v for k, v in state.items() if k.startswith("model.")}
    return state, dict(hparams)


def _describe(cfg: ModelConfig) -> str:
    """The network as the flags that shape it (its spec's `flags`): booleans only when set."""
    parts = [cfg.model_type]
    for k in model_spec(cfg).flags:
        value = getattr(cfg, k)
        if not isinstance(value, bool):
            parts.append(f"--{k} {value}")
        elif value:
            parts.append(f"--{k}")
    return " ".join(parts)


def _check_fit(state: dict[str, torch.Tensor], model: nn.Module, path: str, cfg: ModelConfig, hint: str) -> None:
    """Compare keys and shapes before loading, so a mismatch is one readable line instead of a RuntimeError wall."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    shapes = [f"{k} {tuple(state[k].shape)} vs {tuple(v.shape)}" for k, v in expected.items()
              if k in state and tuple(state[k].shape) != tuple(v.shape)]
    if not (missing or unexpected or shapes):
        return
    parts = []
    if missing:
        parts.append(f"{len(missing)} missing keys (e.g. {', '.join(missing[:3])})")
    if unexpected:
        parts.append(f"{len(unexpected)} unexpected keys (e.g. {', '.join(unexpected[:3])})")
    if shapes:
        parts.append(f"{len(shapes)} shape mismatches (e.g. {'; '.join(shapes[:2])}: checkpoint vs network)")
    raise UserError(f"checkpoint {path} does not fit the network `{_describe(cfg)}`: {', '.join(parts)}; {hint}")


def _refuse_clashes(overrides: dict, stored: dict, path: str) -> None:
    clashes = [f"--{k} {v} contradicts the checkpoint's {stored[k]}" for k, v in overrides.items()
               if k in stored and stored[k] != v]
    if clashes:
        raise UserError(f"{'; '.join(clashes)} ({path}); drop those flags, the checkpoint records its network")


def _build_empty(cfg: ModelConfig) -> nn.Module:
    """The network without initialising its weights (they are about to be replaced by the checkpoint's; random
    initialisation of the README network took 0.1 s of every command's start-up)."""
    with torch.device("meta"):
        return build_model(cfg)


def load_denoiser(path: str, overrides: dict | None = None, map_location: Any = "cpu") -> tuple[nn.Module, dict]:
    """Return (eval-mode network, its ModelConfig as a dict) from our checkpoint or the paper's.

    `overrides`: the architecture flags the user typed explicitly (None values are ignored). With our checkpoints
    they must agree with the stored config; with the paper's they define the network
    (docs/paper_code_behaviour.md#checkpoint-layout and #inference-flags).
    """
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    unknown = sorted(set(overrides) - _FIELDS)
    if unknown:
        raise ValueError(f"load_denoiser overrides must be ModelConfig fields; got {unknown}")
    state, hparams = split_checkpoint(read_checkpoint(path, map_location), path)
    stored = hparams.get("model_config")
    if stored is not None:
        if not isinstance(stored, dict):
            raise UserError(f"checkpoint {path}: hyper_parameters['model_config'] is not a dict")
        _refuse_clashes(overrides, stored, path)
        cfg = ModelConfig.from_dict(stored)
        model = _build_empty(cfg)
        _check_fit(state, model, path, cfg, "the file is damaged or was written by other code")
    else:
        # Paper checkpoint: architecture fields it recorded (if any) must agree with the flags. The keys cannot
        # reveal --bottleneck_size: the paper registers every combiner_{16..512}, so a wrong value loads
        # (docs/paper_code_behaviour.md#checkpoint-layout).
        recorded = {k: v for k, v in hparams.items() if k in _FIELDS}
        _refuse_clashes(overrides, recorded, path)
        cfg = ModelConfig.from_dict({**recorded, **overrides})
        model = _build_empty(cfg)
        ours = model.state_dict()
        # registered-but-unused modules of the paper's classes (docs/paper_code_behaviour.md#checkpoint-layout)
        dead = re.compile(model_spec(cfg).paper_dead_keys or r"(?!)")
        state = {k: v for k, v in state.items() if k in ours or not dead.match(k)}
        _check_fit(state, model, path, cfg, "pass the architecture flags the model was trained with")
    model.load_state_dict(state, strict=True, assign=True)
    if any(t.is_meta for t in (*model.parameters(), *model.buffers())):  # a tensor outside the state dict
        model = build_model(cfg)
        model.load_state_dict(state, strict=True)
    model.float()  # as loading into a freshly built (fp32) network would give, whatever dtype the file stored
    if isinstance(map_location, (str, torch.device)):
        model.to(map_location)
    return model.eval(), cfg.to_dict()


def save_denoiser(path: str, model: nn.Module, config: ModelConfig | dict, **hyper_parameters: Any) -> None:
    """Write our checkpoint layout outside Lightning (tests, exports): `model.`-prefixed weights + model_config."""
    cfg = config if isinstance(config, ModelConfig) else ModelConfig.from_dict(config)
    ckpt = {
        "state_dict": {f"model.{k}": v.detach().cpu() for k, v in model.state_dict().items()},
        "hyper_parameters": {**hyper_parameters, "model_config": cfg.to_dict()},
    }
    with atomic_path(path) as tmp:
        torch.save(ckpt, tmp)


# ------------------------------------------------------------------------------- the paper's key layout
# (docs/paper_code_behaviour.md#checkpoint-layout)
def to_paper_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """The state dict the paper's `DenoisingCNN_1024_with_skips` would register for this network: ours plus the
    dead modules (zero-filled), 32,398,130 values for the README configuration. Only that class is known
    (docs/paper_code_behaviour.md#checkpoint-layout)."""
    from models.cnn import DenoisingCNN, valid_bottlenecks

    if not isinstance(model, DenoisingCNN) or model.style != "plain" or model.config.resolution_target != 1024:
        raise ValueError("the paper key layout is known only for cnn --resolution_target 1024 --with_skip_connections")
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}

    def conv(prefix: str, cin: int, cout: int, k: int = 3, transposed: bool = False) -> None:
        state[f"{prefix}.weight"] = torch.zeros((cin, cout, k, k) if transposed else (cout, cin, k, k))
        state[f"{prefix}.bias"] = torch.zeros(cout)

    widths = [1, 16, 32, 64, 128, 256, 512]
    for i in range(6):  # legacy `encoder` Sequential: [Conv, ReLU, MaxPool] × 6
        conv(f"encoder.{3 * i}", widths[i], widths[i + 1])
    chain = widths[:0:-1] + [1]  # legacy `future_decoder`: ConvT 512→256→…→16→1, ReLU between
    for i in range(6):
        conv(f"future_decoder.{2 * i}", chain[i], chain[i + 1], k=2, transposed=True)
    for b in valid_bottlenecks(1024):
        if b != model.bottleneck_size:
            conv(f"combiner_{b}.0", 512, b)
            conv(f"combiner_{b}.2", b, 512)
    conv("feature_combiners.0.0", 48, 16)  # the discarded full-resolution combiner
    conv("feature_combiners.0.2", 16, 16)
    return state


def save_paper_style_state_dict(model: nn.Module, path: str, hyper_parameters: dict | None = None) -> None:
    """Write a checkpoint shaped like the paper's Lightning file (no model_config), to prove the import path."""
    ckpt = {
        "state_dict": {f"model.{k}": v for k, v in to_paper_state_dict(model).items()},
        "hyper_parameters": dict(hyper_parameters or {}),
    }
    with atomic_path(path) as tmp:
        torch.save(ckpt, tmp)
