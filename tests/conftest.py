"""Shared fixtures: the project's synthetic benchmark (generated once per session), the real clips in
../shared/data (skipped cleanly when absent), and a helper that runs a top-level script as a user would."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_DATA = os.path.normpath(os.path.join(REPO, "..", "shared", "data"))
sys.path.insert(0, REPO)

import common.offline  # noqa: E402,F401  (offline settings for every library the tests touch)

# Small enough for 2 CPU cores, big enough that every stage has real work (fish enter, cross, leave).
TINY = dict(clips_per_domain=2, frames=24, height=128, width=64, fish_per_clip=2, seed=0)


@pytest.fixture(scope="session")
def synthetic_cfc22(tmp_path_factory) -> str:
    """A tiny CFC22-layout benchmark root (frames/raw, annotations_mot, clean, counts, ..._all)."""
    from dataset.synthetic import generate

    root = str(tmp_path_factory.mktemp("cfc22"))
    generate(root, layout="cfc22", progress=False, **TINY)
    return root


@pytest.fixture(scope="session")
def make_synthetic(tmp_path_factory):
    """Factory: make_synthetic(layout, **overrides) -> root of a fresh synthetic dataset in that layout."""
    from dataset.synthetic import generate

    def _make(layout: str = "cfc22", **overrides) -> str:
        root = str(tmp_path_factory.mktemp(layout))
        generate(root, layout=layout, progress=False, **{**TINY, **overrides})
        return root

    return _make


@pytest.fixture(scope="session")
def shared_data() -> str:
    """../shared/data (real DIDSON sonar .avi clips and fluorescence PNGs); skip when absent."""
    if not os.path.isdir(SHARED_DATA):
        pytest.skip("../shared/data is not present on this machine")
    return SHARED_DATA


def run_script(*args: str, cwd: str = REPO, timeout: float = 600, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run `python <args>` from the repo root with the test interpreter; returns the completed process."""
    full_env = {**os.environ, "PYTHONPATH": REPO, **(env or {})}
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=full_env)


@pytest.fixture
def run():
    return run_script
