"""dataset/cache.py: one uint8 copy per frame at the training size, the streamed background, the disk-space check,
parallel and resumable preparation, `--cache none`."""
from __future__ import annotations

import os
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from common.cli import UserError
from dataset import cache
from dataset.clips import Clip, open_clip
from dataset.frames import write_frame
from dataset.windows import WindowDataset, clip_background, prepare_clips


def random_clip(folder: str, n: int, h: int = 16, w: int = 8, seed: int = 0) -> Clip:
    rng = np.random.default_rng(seed)
    for i in range(n):
        write_frame(os.path.join(folder, f"{i}.png"), rng.integers(0, 256, (h, w), np.uint8))
    return open_clip(folder)


def originals(clip: Clip) -> np.ndarray:
    from dataset.frames import read_clip_array

    return read_clip_array(clip.source)


def reference_resize(frames: np.ndarray, size) -> np.ndarray:
    """The decode-everything-then-resize pass of the previous cache, written out with torch directly."""
    x = torch.from_numpy(frames).float().div(255.0).unsqueeze(1)
    y = F.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False).clamp(0, 1)
    return y[:, 0].mul(255.0).round().to(torch.uint8).numpy()


def cached_files(cache_dir: str) -> list[str]:
    return sorted(n for _, _, files in os.walk(cache_dir) for n in files)


def test_one_uint8_copy_at_the_training_size_equal_to_a_full_resize(tmp_path):
    clip = random_clip(str(tmp_path / "c"), 7)
    [data] = prepare_clips([clip], str(tmp_path / "cache"), (8, 4))
    frames = np.load(data.frames_path)
    assert frames.dtype == np.uint8 and frames.shape == (7, 8, 4)
    np.testing.assert_array_equal(frames, reference_resize(originals(clip), (8, 4)))
    assert os.path.getsize(data.frames_path) == 128 + 7 * 8 * 4  # header + H×W bytes per frame, nothing else
    assert [n for n in cached_files(str(tmp_path / "cache")) if n.endswith(".npy")] == [os.path.basename(data.frames_path)]
    assert (data.num_frames, data.orig_hw) == (7, (16, 8))


def test_split_clip_and_streamed_background_equal_the_whole_clip_pass(tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "UNIT", 3)  # 10 frames → tasks of 3, 3, 3, 1 into one shared file
    monkeypatch.setattr(cache, "CHUNK", 2)
    clip = random_clip(str(tmp_path / "c"), 10, seed=3)
    [data] = prepare_clips([clip], str(tmp_path / "cache"), (8, 4), with_background=True)
    np.testing.assert_array_equal(np.load(data.frames_path), reference_resize(originals(clip), (8, 4)))
    bg = reference_resize(clip_background(originals(clip))[None], (8, 4))[0]
    stored = np.load(data.background_path)
    assert stored.dtype == np.float32 and np.abs(stored * 255 - bg).max() <= 0.5  # same background, float


def test_parallel_preparation_over_processes_gives_the_same_bytes(tmp_path, monkeypatch):
    clips = [random_clip(str(tmp_path / f"c{i}"), 5, seed=i) for i in range(3)]
    one = prepare_clips(clips, str(tmp_path / "serial"), (8, 4), with_background=True, workers=1)
    monkeypatch.setattr(cache, "SMALL", 0)
    monkeypatch.setattr(cache, "UNIT", 2)
    two = prepare_clips(clips, str(tmp_path / "parallel"), (8, 4), with_background=True, workers=2)
    for a, b in zip(one, two):
        assert open(a.frames_path, "rb").read() == open(b.frames_path, "rb").read()
        assert open(a.background_path, "rb").read() == open(b.background_path, "rb").read()


def test_estimate_and_a_too_small_disk_stop_before_any_work(tmp_path, monkeypatch):
    clips = [random_clip(str(tmp_path / f"c{i}"), n) for i, n in enumerate((3, 5))]
    entries = [cache.plan_entry(c, str(tmp_path / "cache"), (8, 4), with_background=True) for c in clips]
    assert cache.estimate_bytes(entries, (8, 4)) == (128 + 3 * 32) + (128 + 5 * 32) + 2 * (128 + 4 * 32)
    monkeypatch.setattr(cache.shutil, "disk_usage", lambda path: SimpleNamespace(free=500))
    with pytest.raises(UserError, match=r"training cache needs 1\.0 kB .* only 500\.0 B is free"):
        prepare_clips(clips, str(tmp_path / "cache"), (8, 4), with_background=True)
    assert not [n for n in cached_files(str(tmp_path / "cache")) if not n.startswith(".")]


def test_a_rerun_redoes_only_the_unfinished_clips(tmp_path):
    clips = [random_clip(str(tmp_path / f"c{i}"), 4, seed=i) for i in range(2)]
    first = prepare_clips(clips, str(tmp_path / "cache"), (8, 4))
    stamps = [os.stat(d.frames_path).st_mtime_ns for d in first]
    os.remove(first[1].frames_path)  # as if killed while the second clip was being written
    second = prepare_clips(clips, str(tmp_path / "cache"), (8, 4))
    assert os.stat(second[0].frames_path).st_mtime_ns == stamps[0]
    np.testing.assert_array_equal(np.load(second[1].frames_path), reference_resize(originals(clips[1]), (8, 4)))


def test_cache_none_reads_the_same_windows_from_the_frame_files(tmp_path):
    clip = random_clip(str(tmp_path / "c"), 6)
    disk = prepare_clips([clip], str(tmp_path / "disk"), (8, 4), with_background=True)
    none = prepare_clips([clip], str(tmp_path / "none"), (8, 4), with_background=True, cache="none")
    assert none[0].frames_path is None and not [n for n in cached_files(str(tmp_path / "none"))
                                                if n.endswith(".npy") and "background" not in n]
    items = [(0, t) for t in range(6)]
    a = WindowDataset(disk, items, [-2, -1, 0, 1, 2], with_background=True)
    b = WindowDataset(none, items, [-2, -1, 0, 1, 2], with_background=True)
    for i in range(6):
        assert torch.equal(a[i]["window"], b[i]["window"]) and torch.equal(a[i]["background"], b[i]["background"])


def test_cache_none_refuses_a_video_clip_in_one_line(tmp_path):
    with pytest.raises(UserError, match="--cache none decodes frame folders"):
        prepare_clips([Clip("v", str(tmp_path / "v.mp4"), [])], str(tmp_path / "cache"), (8, 4), cache="none")


def test_ranks_start_with_their_own_share(monkeypatch):
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "4")
    assert cache.rank_and_world() == (1, 4)
    monkeypatch.delenv("RANK")
    monkeypatch.setenv("SLURM_PROCID", "3")
    monkeypatch.setenv("SLURM_NTASKS", "8")
    assert cache.rank_and_world() == (3, 8)
    monkeypatch.setenv("SLURM_NTASKS_PER_NODE", "2")
    assert cache.default_workers() == max(1, len(os.sched_getaffinity(0)) // 2)
