"""dataset/folder_swap.py: a prepared folder swapped in where a tool reads, the original kept, and swapped back."""
from __future__ import annotations

import os

import pytest

from common.cli import UserError
from dataset.folder_swap import swap_back, swap_in


def test_swap_in_and_back_keep_both_folders(tmp_path):
    target, repl = str(tmp_path / "rawframes"), str(tmp_path / "merged")
    os.makedirs(target)
    os.makedirs(repl)
    (tmp_path / "rawframes" / "orig.txt").write_text("o")
    (tmp_path / "merged" / "new.txt").write_text("n")
    assert swap_in(target, repl, dry_run=True) == [f"mv {target} {target}_baseline", f"mv {repl} {target}"]
    assert os.listdir(target) == ["orig.txt"]  # dry run: nothing moved
    swap_in(target, repl)
    assert os.listdir(target) == ["new.txt"] and os.listdir(target + "_baseline") == ["orig.txt"]
    with pytest.raises(UserError, match="already exists"):
        swap_in(target, repl)
    swap_back(target, repl)
    assert os.listdir(target) == ["orig.txt"] and os.listdir(repl) == ["new.txt"]
    assert not os.path.exists(target + "_baseline")


def test_swap_refuses_one_folder_twice(tmp_path):
    os.makedirs(tmp_path / "a")
    (tmp_path / "a" / "f").write_text("x")
    with pytest.raises(UserError, match="the same folder"):
        swap_in(str(tmp_path / "a"), str(tmp_path / "a" / "."))
