"""inference/io.py: frames decoded ahead on reader threads (in order, sizes checked), outputs written on writer
threads and read back, output names for folder and video clips."""
from __future__ import annotations

import numpy as np
import pytest

from common.cli import UserError
from dataset.clips import Clip
from dataset.frames import read_frame
from inference.io import FrameReader, FrameWriter, clip_stems, out_path
from tests.inference.helpers import write_clip


def test_reader_yields_every_frame_in_order(tmp_path, noisy_frames):
    paths = write_clip(str(tmp_path / "c"), noisy_frames, "png")
    reader = FrameReader(paths, num_workers=3, lookahead=2)  # fewer slots than frames: the reader must wait
    got = list(reader)
    reader.close()
    assert len(got) == len(noisy_frames)
    for a, b in zip(got, noisy_frames):
        np.testing.assert_array_equal(a, b)


def test_reader_names_the_first_frame_of_another_size(tmp_path, noisy_frames):
    paths = write_clip(str(tmp_path / "c"), noisy_frames[:2], "png")
    paths += write_clip(str(tmp_path / "c"), np.zeros((1, 8, 8), np.uint8), names=["2.png"])
    reader = FrameReader(paths)
    with pytest.raises(UserError, match=r"mixed frame sizes .*0\.png is 30x50, 2\.png is 8x8"):
        list(reader)
    reader.close()


def test_writer_writes_every_submitted_frame(tmp_path, noisy_frames):
    writer = FrameWriter(num_workers=2, jpeg_quality=95)
    targets = [out_path(str(tmp_path), str(i), "png") for i in range(len(noisy_frames))]
    for path, img in zip(targets, noisy_frames):
        writer.submit(path, img)
    writer.close()
    for path, img in zip(targets, noisy_frames):
        np.testing.assert_array_equal(read_frame(path), img)


def test_output_stems_follow_the_input_frames_or_count_video_frames(tmp_path):
    assert clip_stems(Clip("a", str(tmp_path), ["t001.tif", "t002.tif"])) == ["t001", "t002"]
    assert clip_stems(Clip("v", str(tmp_path / "v.avi"), kind="video"), 3) == ["0", "1", "2"]
    assert out_path("/o/a", "t001", "jpg") == "/o/a/t001.jpg"
