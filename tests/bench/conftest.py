"""Shared by the bench tests: load a bench/ script as a module (the scripts are not a package)."""
from __future__ import annotations

import importlib.util
import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load_bench(name: str):
    """bench/<name>.py imported as a module, so its functions can be tested without running it."""
    spec = importlib.util.spec_from_file_location(name, os.path.join(REPO, "bench", f"{name}.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def bench_module():
    """The loader as a fixture: bench_module("bench_demo_spread") -> the module."""
    return load_bench
