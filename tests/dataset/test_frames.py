"""The shared frame I/O: natural sort, conversions, clip reading, atomic writes, decode-once cache."""
from __future__ import annotations

import os

import cv2
import numpy as np
import pytest

from common.cli import UserError
from dataset.frames import (cached_clip_array, frame_index, list_frames, natural_key, read_clip_array, read_frame,
                            to_gray_uint8, write_frame)


def test_natural_sort_and_frame_index():
    names = ["frame10.png", "frame2.png", "frame0.png", "frame1.png"]
    assert sorted(names, key=natural_key) == ["frame0.png", "frame1.png", "frame2.png", "frame10.png"]
    assert frame_index("12.jpg") == 12 and frame_index("video.mp4/frame_0003.png") == 3 and frame_index("t007.tif") == 7


def test_conversions():
    rgb = np.zeros((4, 5, 3), np.uint8)
    rgb[..., 2] = 255  # pure red in BGR
    assert to_gray_uint8(rgb).shape == (4, 5)
    sixteen = np.full((2, 2), 65535, np.uint16)
    assert to_gray_uint8(sixteen).max() == 255 and to_gray_uint8(sixteen).dtype == np.uint8


def test_read_clip_and_errors(tmp_path):
    for i in (0, 1, 10, 2):
        write_frame(str(tmp_path / f"{i}.png"), np.full((6, 4), i, np.uint8))
    arr = read_clip_array(str(tmp_path))
    assert arr.shape == (4, 6, 4) and list(arr[:, 0, 0]) == [0, 1, 2, 10]
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".tmp")]
    write_frame(str(tmp_path / "11.png"), np.zeros((7, 4), np.uint8))
    with pytest.raises(UserError, match="mixed frame sizes"):
        read_clip_array(str(tmp_path))
    (tmp_path / "12.png").write_bytes(b"not an image")
    with pytest.raises(UserError, match="unreadable frame"):
        read_frame(str(tmp_path / "12.png"))
    with pytest.raises(UserError, match="no frames"):
        list_frames(str(tmp_path / "empty")) if os.makedirs(tmp_path / "empty") is None else None


def test_video_and_tiff_stack(tmp_path):
    vid = str(tmp_path / "v.avi")
    w = cv2.VideoWriter(vid, cv2.VideoWriter_fourcc(*"MJPG"), 5, (16, 8), isColor=False)
    for i in range(5):
        w.write(np.full((8, 16), 40 * i, np.uint8))
    w.release()
    assert read_clip_array(vid).shape == (5, 8, 16)
    from PIL import Image

    pages = [Image.fromarray(np.full((8, 16), 1000 * i, np.uint16)) for i in range(3)]
    tif = str(tmp_path / "s.tif")
    pages[0].save(tif, save_all=True, append_images=pages[1:])
    stack = read_clip_array(tif)
    assert stack.shape == (3, 8, 16) and stack.dtype == np.uint8 and stack[2, 0, 0] == 2000 // 257


def test_decode_once_cache(tmp_path):
    clip = tmp_path / "clip"
    for i in range(3):
        write_frame(str(clip / f"{i}.jpg"), np.full((8, 8), 50 * i, np.uint8))
    a = cached_clip_array(str(clip), str(tmp_path / "cache"))
    assert isinstance(a, np.memmap) and a.shape == (3, 8, 8)
    assert len(os.listdir(tmp_path / "cache")) == 1
    cached_clip_array(str(clip), str(tmp_path / "cache"))
    assert len(os.listdir(tmp_path / "cache")) == 1  # reused, not re-decoded


def test_atomic_outputs_get_normal_permissions(tmp_path):
    from common.atomic import write_text

    write_text(str(tmp_path / "a.txt"), "x")
    assert (tmp_path / "a.txt").stat().st_mode & 0o044  # readable by group/others under the usual umask
