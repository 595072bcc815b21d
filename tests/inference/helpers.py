"""Helpers for the inference tests: tiny self-describing checkpoints (no training needed) and clips on disk."""
from __future__ import annotations

import os

import numpy as np

# The README topology (skip connections) at the smallest size: 5 levels (res 512 family), 64x32 network input.
TINY_CNN = dict(model_type="cnn", resolution_target=512, fine_layers=True, bottleneck_size=16,
                with_skip_connections=True, input_height=64, input_width=32)


def save_checkpoint(path: str, config: dict, seed: int = 0) -> str:
    """A Lightning-style checkpoint per the project's contract: `model.`-prefixed weights + the model config."""
    import torch

    from models import ModelConfig, build_model

    torch.manual_seed(seed)
    cfg = ModelConfig.from_dict(config).to_dict()
    model = build_model(cfg)
    state = {"model." + k: v for k, v in model.state_dict().items()}
    torch.save({"state_dict": state, "hyper_parameters": {"model_config": cfg, "target": "gap1_and_curr_frame",
                                                          "dataset": "CFC22"}}, path)
    return path


def write_clip(folder: str, frames: np.ndarray, ext: str = "png", names=None) -> list[str]:
    """Write T×H×W uint8 frames as `<i>.<ext>` (or `names`) and return the paths."""
    from dataset.frames import write_frame

    os.makedirs(folder, exist_ok=True)
    names = names or [f"{i}.{ext}" for i in range(len(frames))]
    paths = [os.path.join(folder, n) for n in names]
    for p, f in zip(paths, frames):
        write_frame(p, f)
    return paths
