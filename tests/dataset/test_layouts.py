"""Dataset layouts → clips, on synthetic data of every layout (docs/paper_code_behaviour.md#datasets-and-layouts)."""
from __future__ import annotations

import os

import numpy as np
import pytest

from common.cli import UserError
from dataset.layouts import annotation_file, get_layout, layout_clips, train_size


@pytest.fixture(scope="module")
def small(make_synthetic):
    return lambda layout: make_synthetic(layout, frames=12, height=64, width=32, fish_per_clip=1)


def test_cfc22_flat_clip_folders(synthetic_cfc22):
    clips = layout_clips("CFC22", os.path.join(synthetic_cfc22, "frames", "raw_all"))
    assert [c.name for c in clips][:2] == ["elwha-clip000", "elwha-clip001"] and len(clips) == 6
    assert clips[0].frame_names[:3] == ["0.jpg", "1.jpg", "2.jpg"] and clips[0].frame_names[10] == "10.jpg"


def test_cfc22_annotations_accept_dash_or_underscore(synthetic_cfc22, tmp_path):
    annos = os.path.join(synthetic_cfc22, "annotations_mot_all")
    assert annotation_file(annos, "kenai-val-clip001").endswith("kenai-val-clip001/gt.txt")
    os.makedirs(tmp_path / "kenai-val_clip001")
    (tmp_path / "kenai-val_clip001" / "gt.txt").write_text("")
    assert annotation_file(str(tmp_path), "kenai-val-clip001").endswith("kenai-val_clip001/gt.txt")
    with pytest.raises(UserError, match="no gt.txt for clip elwha-clip000"):
        annotation_file(str(tmp_path), "elwha-clip000")


def test_cva_clips_at_any_depth(small):
    clips = layout_clips("CVA", os.path.join(small("cva"), "rawframes"))
    assert [c.name for c in clips] == ["benign/video000", "benign/video001", "malignant/video000", "malignant/video001"]
    assert all(len(c.frame_names) == 12 for c in clips)


def test_pocus_frame_folders_named_like_videos(small):
    root = small("pocus")
    clips = layout_clips("POCUS", os.path.join(root, "pocus_videos_frames"))
    assert len(clips) == 4 and clips[0].name.endswith(".mp4") and clips[0].frame_names[0].startswith("frame_")
    with pytest.raises(UserError, match=r"no frames \(.png, .jpg\) found under .*--dataset POCUS"):
        layout_clips("POCUS", os.path.join(root, "pocus_videos"))  # the videos themselves are not a frame layout


def test_fluo_tif_frames(small):
    clips = layout_clips("Fluo", small("fluo"))
    names = [c.name for c in clips if not c.name.startswith("clean")]
    assert names == ["test/Fluo-Synth_01", "test/Fluo-Synth_02", "train/Fluo-Synth_01", "train/Fluo-Synth_02"]


def test_custom_folders_sorted_naturally_and_videos_and_tiff_stacks(small, tmp_path):
    clips = layout_clips("custom_dataset", os.path.join(small("custom"), "domain_1"))
    assert clips[0].frame_names[:3] == ["frame0.png", "frame1.png", "frame2.png"]
    assert clips[0].frame_names[10] == "frame10.png"
    videos = layout_clips("custom", os.path.join(small("pocus"), "pocus_videos"))
    assert len(videos) == 4 and videos[0].source.endswith(".mp4") and videos[0].frame_names == []
    from PIL import Image

    pages = [Image.fromarray(np.full((8, 8), v, np.uint8)) for v in (0, 50, 100)]
    pages[0].save(tmp_path / "stack.tif", save_all=True, append_images=pages[1:])
    stack = layout_clips("custom", str(tmp_path))
    assert [(c.name, c.source.endswith("stack.tif")) for c in stack] == [("stack", True)]


def test_train_sizes_follow_the_paper():
    assert train_size("CFC22", 1024) == (1024, 512) and train_size("POCUS", 64) == (64, 32)
    assert train_size("CVA", 1024) == (1024, 1024) and train_size("Fluo", 64) == (64, 64)
    assert train_size("custom_dataset", 128) == (128, 64)


def test_bad_inputs_are_one_line_user_errors(tmp_path):
    with pytest.raises(UserError, match="unknown --dataset 'MNIST'; valid: CFC22"):
        get_layout("MNIST")
    with pytest.raises(UserError, match="--base_folder not found"):
        layout_clips("CFC22", str(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="is empty"):
        layout_clips("CFC22", str(tmp_path / "empty"))
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("x")
    with pytest.raises(UserError, match=r"no frames \(.jpg, .jpeg, .png\) found under .*--dataset CFC22"):
        layout_clips("CFC22", str(tmp_path / "notes"))
