"""The windowed dataset: edge replication, cache, background, masks, the train/val split and the DataModule."""
from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from dataset.clips import open_clip
from dataset.frames import write_frame
from dataset.windows import (DenoiseDataModule, WindowDataset, box_mask, clip_background, prepare_clip,
                             split_items, window_indices)

EXTS = (".png",)


def make_clip(folder: str, n: int, h: int = 8, w: int = 4) -> str:
    """Frame i is the constant 10·i, so a value names its frame."""
    os.makedirs(folder, exist_ok=True)
    for i in range(n):
        write_frame(os.path.join(folder, f"{i}.png"), np.full((h, w), 10 * i, np.uint8))
    return folder


def test_window_indices_replicate_the_edge_frames():
    assert window_indices(0, [0, -1, -2], 5) == [0, 0, 0]
    assert window_indices(1, [0, -1, -2], 5) == [1, 0, 0]
    assert window_indices(4, [-2, -1, 0, 1, 2], 5) == [2, 3, 4, 4, 4]
    assert window_indices(0, [-2, 0, 2], 1) == [0, 0, 0]  # a 1-frame clip still gives a window


def test_item_holds_frames_at_t_plus_offsets_with_provenance(tmp_path):
    clip = prepare_clip(open_clip(make_clip(str(tmp_path / "c"), 5)), str(tmp_path / "cache"), (8, 4), EXTS)
    ds = WindowDataset([clip], [(0, 0), (0, 4)], offsets=[-2, -1, 0, 1, 2])
    first, last = ds[0], ds[1]
    assert first["window"].shape == (5, 8, 4) and first["window"].dtype == torch.float32
    assert [round(float(v) * 255) for v in first["window"][:, 0, 0]] == [0, 0, 0, 10, 20]
    assert [round(float(v) * 255) for v in last["window"][:, 0, 0]] == [20, 30, 40, 40, 40]
    assert (last["clip"], last["t"]) == (0, 4)


def test_prepare_clip_resizes_once_and_reuses_the_cache(tmp_path):
    src = open_clip(make_clip(str(tmp_path / "c"), 3, h=16, w=8))
    a = prepare_clip(src, str(tmp_path / "cache"), (8, 4), EXTS)
    stamp = os.stat(a.frames_path).st_mtime_ns
    b = prepare_clip(src, str(tmp_path / "cache"), (8, 4), EXTS)
    frames = np.load(b.frames_path)
    assert frames.shape == (3, 8, 4) and frames.dtype == np.uint8
    assert list(frames[:, 3, 2]) == [0, 10, 20]  # constant frames stay constant through the antialiased resize
    assert os.stat(b.frames_path).st_mtime_ns == stamp and (a.num_frames, a.orig_hw) == (3, (16, 8))


def test_clip_background_is_the_temporal_mean_truncated_to_uint8():
    frames = np.stack([np.full((6, 6), v, np.uint8) for v in (10, 20, 31)])
    bg = clip_background(frames)
    assert bg.dtype == np.uint8 and np.all(bg == 20)  # mean 20.33 truncated


def test_background_travels_with_the_item(tmp_path):
    clip = prepare_clip(open_clip(make_clip(str(tmp_path / "c"), 3)), str(tmp_path / "cache"), (8, 4), EXTS,
                        with_background=True)
    item = WindowDataset([clip], [(0, 1)], [0], with_background=True)[0]
    assert item["background"].shape == (1, 8, 4)
    assert float(item["background"][0, 4, 2]) == pytest.approx(10 / 255, abs=1e-6)


def test_box_mask_scales_one_based_boxes_to_the_training_size():
    mask = box_mask(np.array([[1, 1, 4, 2]]), orig_hw=(10, 10), size=(5, 5))
    expected = torch.zeros(1, 5, 5)
    expected[0, 0:1, 0:2] = 1.0
    assert torch.equal(mask, expected)


def test_split_holds_out_whole_clips_deterministically():
    train, val = split_items([4, 5, 6, 3, 2, 7], val_fraction=0.34, seed=3)
    again = split_items([4, 5, 6, 3, 2, 7], val_fraction=0.34, seed=3)
    assert (train, val) == again
    assert len({c for c, _ in val}) == 2 and not {c for c, _ in val} & {c for c, _ in train}
    assert sorted(train + val) == sorted((c, t) for c, n in enumerate([4, 5, 6, 3, 2, 7]) for t in range(n))


def test_split_of_one_clip_holds_out_its_last_frames_and_zero_means_no_validation():
    assert split_items([10], 0.2) == ([(0, t) for t in range(8)], [(0, 8), (0, 9)])
    assert split_items([1], 0.5) == ([(0, 0)], [])
    assert split_items([3, 3], 0.0)[1] == []


def test_datamodule_on_the_synthetic_benchmark(synthetic_cfc22, tmp_path):
    torch.set_num_threads(1)
    dm = DenoiseDataModule("CFC22", os.path.join(synthetic_cfc22, "frames", "raw_all"), (32, 16), [-2, -1, 0, 1],
                           cache_dir=str(tmp_path / "cache"), batch_size=4, val_fraction=0.2,
                           annotations_folder=os.path.join(synthetic_cfc22, "annotations_mot_all"), with_mask=True,
                           progress=False)
    dm.prepare_data()
    dm.setup("fit")
    assert len(dm.clips) == 6 and len(dm.train_set) + len(dm.val_set) == 6 * 24
    assert len({c for c, _ in dm.val_set.items}) == 1
    batch = next(iter(dm.train_dataloader()))
    assert batch["window"].shape == (4, 4, 32, 16) and batch["mask"].shape == (4, 1, 32, 16)
    masks = torch.stack([dm.train_set[i]["mask"] for i in range(len(dm.train_set))])
    assert 0 < float(masks.mean()) < 0.5  # the annotated fish occupy some, not all, of the frame
