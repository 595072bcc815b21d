"""Fixtures for the inference tests: a tiny checkpoint (session-wide), small random frames, one torch thread."""
from __future__ import annotations

import numpy as np
import pytest

from tests.inference.helpers import TINY_CNN, save_checkpoint


@pytest.fixture(scope="session", autouse=True)
def _few_threads():
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_ckpt(tmp_path_factory) -> str:
    return save_checkpoint(str(tmp_path_factory.mktemp("ckpt") / "tiny.ckpt"), TINY_CNN)


@pytest.fixture
def noisy_frames() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(7, 50, 30), dtype=np.uint8)
