"""Helpers for the setup/ tool tests: hand-made frame trees small enough to check pixel by pixel."""
from __future__ import annotations

import os

import cv2
import numpy as np
import pytest


def write_clip(clip_dir: str, frames, ext: str = ".png", name=lambda i: str(i)) -> list[str]:
    """Write T×H×W (or T×H×W×3 BGR) uint8 frames as <name(i)><ext>; returns the paths."""
    os.makedirs(clip_dir, exist_ok=True)
    paths = []
    for i, f in enumerate(frames):
        p = os.path.join(clip_dir, name(i) + ext)
        assert cv2.imwrite(p, np.asarray(f, np.uint8))
        paths.append(p)
    return paths


def read(path: str) -> np.ndarray:
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    assert img is not None, path
    return img


def uniform_clip(values, h: int = 6, w: int = 5) -> np.ndarray:
    return np.stack([np.full((h, w), v, np.uint8) for v in values])


@pytest.fixture
def tree(tmp_path):
    """tmp_path as str plus the helpers, for brevity in tests."""
    return str(tmp_path)


def assert_failed(proc, *fragments: str) -> None:
    """A user error: exit code 2, one `error:` line naming the problem, no traceback."""
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: "), proc.stderr
    for frag in fragments:
        assert frag in proc.stderr, proc.stderr
