"""dataset/symlinks.py: absolute, repairable links; <domain>/<clip> flattened to <domain><sep><clip>."""
from __future__ import annotations

import os

import pytest

from common.cli import UserError
from dataset.symlinks import flat_name, flatten_dirs, link_path


def test_link_path_creates_keeps_and_repairs(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    link = str(tmp_path / "l" / "x")
    assert link_path(str(tmp_path / "a"), link) == "created" and os.readlink(link) == str(tmp_path / "a")
    assert link_path(str(tmp_path / "a"), link) == "kept"
    assert link_path(str(tmp_path / "b"), link) == "repaired" and os.readlink(link) == str(tmp_path / "b")
    (tmp_path / "real").write_text("x")
    with pytest.raises(UserError, match="is not a symlink"):
        link_path(str(tmp_path / "a"), str(tmp_path / "real"))


def test_flatten_dirs(tmp_path):
    for rel in ("d1/c1", "d2/c1"):
        os.makedirs(tmp_path / "tree" / rel)
        (tmp_path / "tree" / rel / "0.png").write_bytes(b"")
    stats = flatten_dirs(str(tmp_path / "tree"), str(tmp_path / "flat"), ["d1/c1", "d2/c1"], "-")
    assert stats == {"created": 2, "kept": 0, "repaired": 0}
    assert sorted(os.listdir(tmp_path / "flat")) == ["d1-c1", "d2-c1"]
    assert os.listdir(tmp_path / "flat" / "d2-c1") == ["0.png"]
    assert flat_name("a/b/c", "_") == "a_b_c"
    with pytest.raises(UserError, match="flatten to the same name 'd1-c1'"):
        os.makedirs(tmp_path / "tree" / "d1-c1")
        flatten_dirs(str(tmp_path / "tree"), str(tmp_path / "flat2"), ["d1/c1", "d1-c1"], "-")
    with pytest.raises(UserError, match="is itself a clip folder"):
        flatten_dirs(str(tmp_path / "tree"), str(tmp_path / "flat3"), [""], "-")
