"""dataset/clip_tree.py: one computation over every clip folder of a tree into a mirrored, resumable output."""
from __future__ import annotations

import os

import cv2
import numpy as np
import pytest

from common.cli import UserError
from dataset.clip_tree import map_clips, read_native, stack_frames, with_ext
from dataset.frames import read_frame, write_frame


def _clip(folder, values, ext="png", shape=(4, 5)):
    for i, v in enumerate(values):
        write_frame(os.path.join(folder, f"{i}.{ext}"), np.full(shape, v, np.uint8))


def test_with_ext():
    assert with_ext("3.jpg", ".png") == "3.png" and with_ext("3.jpg", "png") == "3.png" and with_ext("a.b", None) == "a.b"


def test_map_clips_mirrors_the_tree_and_resumes(tmp_path):
    src, out = str(tmp_path / "in"), str(tmp_path / "out")
    _clip(os.path.join(src, "d", "c1"), [10, 20])
    _clip(os.path.join(src, "d", "deep", "c2"), [30, 40, 50])
    seen = []

    def invert(frames):
        seen.append(frames.shape)
        return 255 - frames

    stats = map_clips(src, out, invert, out_ext=".jpg", progress=False)
    assert stats == {"clips": 2, "written": 2, "skipped": 0} and sorted(seen) == [(2, 4, 5), (3, 4, 5)]
    assert sorted(os.listdir(os.path.join(out, "d", "deep", "c2"))) == ["0.jpg", "1.jpg", "2.jpg"]
    assert abs(int(read_frame(os.path.join(out, "d", "c1", "1.jpg"))[0, 0]) - 235) <= 2
    os.remove(os.path.join(out, "d", "c1", "0.jpg"))
    again = map_clips(src, out, invert, out_ext=".jpg", progress=False)
    assert again == {"clips": 2, "written": 1, "skipped": 1} and len(seen) == 3  # only the unfinished clip redone
    assert map_clips(src, out, invert, out_ext=".jpg", overwrite=True, progress=False)["written"] == 2


def test_map_clips_errors(tmp_path):
    src = str(tmp_path / "in")
    _clip(os.path.join(src, "c"), [1, 2])
    with pytest.raises(UserError, match="inside the input dir"):
        map_clips(src, os.path.join(src, "out"), lambda f: f, progress=False)
    with pytest.raises(RuntimeError, match="1 outputs for 2 frames"):
        map_clips(src, str(tmp_path / "o1"), lambda f: f[:1], progress=False)
    write_frame(os.path.join(src, "c", "2.png"), np.zeros((6, 5), np.uint8))
    with pytest.raises(UserError, match="mixed frame sizes in clip .*: 0.png is 5x4, 2.png is 5x6"):
        map_clips(src, str(tmp_path / "o2"), lambda f: f, progress=False)


def test_native_reader_keeps_16_bit(tmp_path):
    path = str(tmp_path / "a.png")
    cv2.imwrite(path, np.array([[0, 1000], [2000, 3000]], np.uint16))
    native = read_native(path)
    assert native.dtype == np.uint16 and native.tolist() == [[0, 1000], [2000, 3000]]
    assert stack_frames([path, path], read_native).shape == (2, 2, 2)
