"""Imports flow one way: common/ → dataset/, models/ → downstream/ (the layout section of README.md).

dataset/ and models/ must never import downstream/ (the pipeline's last stage), and common/ holds leaf modules
that import no project package but common itself. Every import statement is found by parsing the files, including
imports inside functions, so a lazy import cannot hide a backwards edge.
"""
from __future__ import annotations

import ast
import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROJECT_PACKAGES = ("common", "dataset", "models", "inference", "downstream", "other_baselines", "setup")
FORBIDDEN = {"dataset": {"downstream"}, "models": {"downstream"},
             "common": set(PROJECT_PACKAGES) - {"common"}}


def imported_packages(source: str) -> set[tuple[int, str]]:
    """(line, top-level package) of every import statement in a module's source, relative imports excluded."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {(node.lineno, alias.name.split(".")[0]) for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add((node.lineno, node.module.split(".")[0]))
    return found


def backwards_imports(folder: str, forbidden: set[str]) -> list[str]:
    """`path:line imports X` for every import of a forbidden package in the .py files under `folder`."""
    out = []
    for root, _, files in os.walk(folder):
        for name in sorted(f for f in files if f.endswith(".py")):
            path = os.path.join(root, name)
            with open(path, encoding="utf-8") as f:
                for line, top in sorted(imported_packages(f.read())):
                    if top in forbidden:
                        out.append(f"{os.path.relpath(path, REPO)}:{line} imports {top}")
    return out


def test_the_checker_sees_lazy_and_dotted_imports(tmp_path):
    src = "import os\ndef f():\n    from downstream.mot import read_mot\n    import downstream.yolo as y\n"
    assert imported_packages(src) == {(1, "os"), (3, "downstream"), (4, "downstream")}
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "bad.py").write_text(src)
    (tmp_path / "ok.py").write_text("from . import x\nfrom common.mot import read_mot\n")
    found = backwards_imports(str(tmp_path), {"downstream"})
    assert [f.split(os.sep)[-1] for f in found] == ["bad.py:3 imports downstream", "bad.py:4 imports downstream"]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_backwards_import(package):
    assert backwards_imports(os.path.join(REPO, package), FORBIDDEN[package]) == []
