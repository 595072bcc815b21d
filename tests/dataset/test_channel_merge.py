"""dataset/channel_merge.py: parallel frame trees stacked into 3-channel frames, matched by stem or number."""
from __future__ import annotations

import os

import numpy as np
import pytest

from common.cli import UserError
from dataset.channel_merge import TWO_CHANNEL_LAYOUT, merge_channel_trees
from dataset.frames import read_frame, write_frame


def _write(path, value, shape=(4, 6)):
    write_frame(path, np.full(shape, value, np.uint8))


def test_two_channel_merge_matches_by_stem_and_frame_number(tmp_path):
    raw, den, out = (str(tmp_path / n) for n in ("raw", "den", "out"))
    for i in range(3):
        _write(os.path.join(raw, "d", "c", f"frame_{i:04d}.png"), 10 + i)
    _write(os.path.join(den, "d", "c", "frame_0000.png"), 100)     # same stem
    _write(os.path.join(den, "d", "c", "1.png"), 101, (8, 12))     # by frame number, other size → resized
    _write(os.path.join(den, "d", "c", "2.png"), 102)
    stats = merge_channel_trees([raw, den], TWO_CHANNEL_LAYOUT, out, progress=False)
    assert stats == {"frames": 3, "written": 3, "skipped": 0, "fallbacks": 0}
    got = read_frame(os.path.join(out, "d", "c", "frame_0001.png"), gray=False)
    assert got.shape == (4, 6, 3) and got[0, 0].tolist() == [11, 101, 101]  # BGR = [raw, denoised, denoised]
    assert merge_channel_trees([raw, den], TWO_CHANNEL_LAYOUT, out, progress=False)["skipped"] == 3


def test_missing_frames_are_an_error_unless_allowed(tmp_path):
    raw, den = str(tmp_path / "raw"), str(tmp_path / "den")
    for i in range(2):
        _write(os.path.join(raw, "c", f"{i}.png"), 50)
    _write(os.path.join(den, "c", "0.png"), 200)
    with pytest.raises(UserError, match=r"1 frame\(s\) missing: --denoised c/1.png"):
        merge_channel_trees([raw, den], TWO_CHANNEL_LAYOUT, str(tmp_path / "o"), names=["--raw", "--denoised"],
                            progress=False)
    stats = merge_channel_trees([raw, den], (0, 1, 0), str(tmp_path / "o"), allow_missing=True, progress=False)
    assert stats["fallbacks"] == 1
    assert read_frame(os.path.join(tmp_path, "o", "c", "1.png"), gray=False)[0, 0].tolist() == [50, 50, 50]
