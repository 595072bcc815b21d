"""Make every third-party library run offline and quiet. Imported (for its side effect) before them.

ultralytics otherwise checks online at import, downloads a font when it checks a dataset, downloads weights for
a missing *.pt and for its AMP check, and pip-installs missing extras (see the project's deps notes).
"""
from __future__ import annotations

import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def configure() -> None:
    env = {
        "YOLO_OFFLINE": "1",
        "YOLO_AUTOINSTALL": "0",
        "YOLO_VERBOSE": "0",
        "YOLO_CONFIG_DIR": os.path.join(ROOT, ".yolo"),
        "WANDB_MODE": "offline",
        "WANDB_SILENT": "true",
        "HF_HUB_OFFLINE": "1",
        "MPLBACKEND": "Agg",
        "PYTORCH_LIGHTNING_DISABLE_VERSION_CHECK": "1",
        "TORCH_HOME": os.path.join(ROOT, ".cache", "torch"),
    }
    for key, value in env.items():
        os.environ.setdefault(key, value)


def set_threads(n: int | None = None) -> int:
    """Use `n` CPU threads (default: every core) in torch, and keep ultralytics from taking them back.

    ultralytics sets OMP_NUM_THREADS=1 at import, and its `select_device` (called by every trainer, validator and
    predictor) resets torch to `min(8, cores - 1)` threads: one of two cores. It reads that number from the module
    attribute `ultralytics.utils.torch_utils.NUM_THREADS`, so setting the attribute makes every later reset a no-op.
    Returns the thread count in use."""
    import sys

    import torch

    n = int(n or os.cpu_count() or 1)
    torch.set_num_threads(n)
    if "ultralytics" in sys.modules:
        import ultralytics.utils.torch_utils as torch_utils

        torch_utils.NUM_THREADS = n
    return n


configure()
