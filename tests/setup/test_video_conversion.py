"""convert_videos_to_frames.py / convert_frames_to_videos.py (real DIDSON sonar and synthetic POCUS videos)
and convert_tiff_to_jpg.py."""
from __future__ import annotations

import os

import cv2
import numpy as np

from dataset.frames import read_video, video_fps
from tests.setup.conftest import read, write_clip


def test_didson_avi_to_frames_and_back(shared_data, tmp_path, run):
    vids = str(tmp_path / "videos")
    os.makedirs(vids)
    os.symlink(os.path.join(shared_data, "didson_sonar", "lamprey3.avi"), os.path.join(vids, "lamprey3.avi"))
    frames = str(tmp_path / "frames")
    proc = run("setup/convert_videos_to_frames.py", "--video_dir", vids, "--frames_dir", frames)
    assert proc.returncode == 0, proc.stderr
    clip = os.path.join(frames, "lamprey3.avi")
    names = sorted(os.listdir(clip))
    assert len(names) == 201 and names[0] == "frame_0000.png" and names[-1] == "frame_0200.png"
    assert read(os.path.join(clip, "frame_0100.png")).shape == (544, 400)
    assert "0 video(s) extracted, 1 already done" in run("setup/convert_videos_to_frames.py", "--video_dir", vids,
                                                          "--frames_dir", frames).stdout
    out = str(tmp_path / "videos_out")
    proc = run("setup/convert_frames_to_videos.py", "--frames_dir", frames, "--video_dir", out,
               "--source_video_dir", vids, "--fps", "7")
    assert proc.returncode == 0, proc.stderr
    back = read_video(os.path.join(out, "lamprey3.avi"))
    assert back.shape == (201, 544, 400)
    assert video_fps(os.path.join(out, "lamprey3.avi")) == 7.0


def test_pocus_videos_fps_from_source_and_gif(make_synthetic, tmp_path, run):
    data = make_synthetic("pocus", clips_per_domain=1, frames=6, height=32, width=16, fps=5.0)
    src_videos = os.path.join(data, "pocus_videos", "convex")
    frames = str(tmp_path / "frames" / "convex")
    assert run("setup/convert_videos_to_frames.py", "--video-dir", src_videos, "--output-dir", frames).returncode == 0
    (name,) = os.listdir(frames)
    out = str(tmp_path / "out")
    proc = run("setup/convert_frames_to_videos.py", "--frames_dir", frames, "--video_dir", out,
               "--source_video_dir", src_videos)
    assert proc.returncode == 0, proc.stderr
    assert video_fps(os.path.join(out, name)) == 5.0 and len(read_video(os.path.join(out, name))) == 6
    gif_src = str(tmp_path / "gifframes" / "anim.gif")
    write_clip(gif_src, np.stack([np.full((8, 8, 3), (10 * k, 20, 200), np.uint8) for k in (1, 2, 3)]), name=lambda i: f"frame_{i:04d}")
    assert run("setup/convert_frames_to_videos.py", "--frames_dir", str(tmp_path / "gifframes"),
               "--video_dir", str(tmp_path / "gif")).returncode == 0
    from PIL import Image

    with Image.open(str(tmp_path / "gif" / "anim.gif")) as im:
        assert im.n_frames == 3 and im.convert("RGB").getpixel((0, 0))[0] > 150  # red stays red (BGR → RGB)


def test_tiff_to_jpg_minmax_16_bit(tmp_path, run):
    d = tmp_path / "tifs" / "seq01"
    os.makedirs(d)
    img = np.linspace(1000, 1100, 64).reshape(8, 8).astype(np.uint16)
    assert cv2.imwrite(str(d / "t000.tif"), img)
    out = str(tmp_path / "jpg")
    proc = run("setup/convert_tiff_to_jpg.py", "--input_dir", str(tmp_path / "tifs"), "--output_dir", out)
    assert proc.returncode == 0, proc.stderr
    jpg = read(os.path.join(out, "seq01", "t000.jpg")).astype(int)
    assert jpg.shape == (8, 8) and jpg.min() <= 3 and jpg.max() >= 252  # small 16-bit range stretched to 0..255
