"""The one float → uint8 mapping and the one GIF writer (common/imaging.py)."""
from __future__ import annotations

import os

import numpy as np
import pytest

from common.imaging import to_uint8, write_gif


def test_to_uint8_min_max_rounds_and_clips():
    x = np.array([[1.0, 1.5], [2.0, 3.0]])
    # (x - 1) / 2 * 255 = 0, 63.75, 127.5, 255 → rounded half to even: 0, 64, 128, 255
    assert to_uint8(x).tolist() == [[0, 64], [128, 255]]
    # a given range: 0.5 of [0, 2] is 63.75 → 64; outside the range is clipped
    assert to_uint8(np.array([-1.0, 0.5, 2.0, 9.0]), 0.0, 2.0).tolist() == [0, 64, 255, 255]
    assert to_uint8(np.array([0, 1, 2], np.uint16)).tolist() == [0, 128, 255]  # 127.5 rounds to 128, not 127


def test_to_uint8_constant_and_nan_give_zero_not_garbage():
    const = np.full((3, 2), 0.7, np.float32)
    out = to_uint8(const)
    assert out.dtype == np.uint8 and out.shape == (3, 2) and not out.any()
    assert not to_uint8(const, 0.7, 0.7).any()
    assert to_uint8(np.array([0.0, np.nan, 1.0])).tolist() == [0, 0, 255]


def test_write_gif_reads_back_with_its_frames(tmp_path):
    from PIL import Image, ImageSequence

    grey = [np.full((6, 10), v, np.uint8) for v in (0, 120, 250)]
    path = write_gif(str(tmp_path / "g" / "a.gif"), grey, fps=5)
    with Image.open(path) as im:
        pages = [np.array(p.convert("L")) for p in ImageSequence.Iterator(im)]
        assert im.info["duration"] == 200 and im.size == (10, 6)
    assert [int(p[0, 0]) for p in pages] == [0, 120, 250]
    assert [n for n in os.listdir(tmp_path / "g")] == ["a.gif"]  # atomic: no temporary left behind
    bgr = np.zeros((4, 4, 3), np.uint8)
    bgr[..., 2] = 255  # red in OpenCV order
    with Image.open(write_gif(str(tmp_path / "c.gif"), [bgr, bgr[..., ::-1].copy()])) as im:
        assert im.n_frames == 2 and im.convert("RGB").getpixel((0, 0)) == (255, 0, 0)
    with pytest.raises(ValueError):
        write_gif(str(tmp_path / "none.gif"), [])
