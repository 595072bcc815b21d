"""The one clip discovery (dataset/clips.py): trees, single files, the TIFF rule, symlinks, errors."""
from __future__ import annotations

import os

import cv2
import numpy as np
import pytest

from common.cli import UserError
from dataset.clips import Clip, find_clips, walk_tree
from dataset.frames import write_frame
from dataset.layouts import layout_clips


def _frames(folder, names, value=0, shape=(8, 6)):
    for i, n in enumerate(names):
        write_frame(os.path.join(folder, n), np.full(shape, value + i, np.uint8))


def _tiff(path, pages):
    from PIL import Image

    os.makedirs(os.path.dirname(path), exist_ok=True)
    imgs = [Image.fromarray(np.full((8, 6), 10 * i, np.uint8)) for i in range(pages)]
    imgs[0].save(path, save_all=True, append_images=imgs[1:])


def _video(path, n=3):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    w = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), 5, (16, 8), isColor=False)
    for i in range(n):
        w.write(np.full((8, 16), 40 * i, np.uint8))
    w.release()


def test_tree_clips_are_named_by_relative_path_in_natural_order(tmp_path):
    _frames(tmp_path / "dom" / "clip10", ["0.jpg", "1.jpg"])
    _frames(tmp_path / "dom" / "clip2", ["10.jpg", "2.jpg", "1.jpg"])
    _frames(tmp_path / "dom" / "deep" / "clipA", ["0.png"])
    _video(str(tmp_path / "dom" / "deep" / "v.avi"))
    _frames(tmp_path / "dom" / ".hidden", ["0.png"])
    (tmp_path / "dom" / "clip2" / ".0.jpg").write_bytes(b"")
    clips = find_clips(str(tmp_path / "dom"))
    assert [(c.name, c.kind) for c in clips] == [("clip2", "folder"), ("clip10", "folder"),
                                                 ("deep/clipA", "folder"), ("deep/v", "video")]
    assert clips[0].frame_names == ["1.jpg", "2.jpg", "10.jpg"]
    assert clips[0].frame_paths[0] == os.path.join(str(tmp_path / "dom" / "clip2"), "1.jpg")
    assert clips[3].frame_paths == [] and not clips[3].is_folder and clips[0].is_folder
    assert clips[2].out_dir("/o") == os.path.join("/o", "deep", "clipA") and clips[2].label() == "deep/clipA"


def test_a_single_clip_is_named_empty(tmp_path):
    _frames(tmp_path / "c", ["0.png", "1.png"])
    (clip,) = find_clips(str(tmp_path / "c"))
    assert (clip.name, len(clip), clip.out_dir("/o"), clip.label()) == ("", 2, "/o", "c")
    _video(str(tmp_path / "v.avi"))
    (vid,) = find_clips(str(tmp_path / "v.avi"))
    assert (vid.name, vid.kind, vid.label()) == ("", "video", "v")
    _tiff(str(tmp_path / "s" / "stack.tif"), 3)
    assert [(c.name, c.kind) for c in find_clips(str(tmp_path / "s" / "stack.tif"))] == [("", "tiff")]
    with pytest.raises(UserError, match="single file, not a clip"):
        find_clips(str(tmp_path / "c" / "0.png"))


def test_one_tiff_rule_multi_page_is_a_clip_one_page_is_a_frame(tmp_path):
    _tiff(str(tmp_path / "stacks" / "stack.tif"), 3)
    _tiff(str(tmp_path / "stacks" / "lonely.tif"), 1)
    for i in range(4):
        _tiff(str(tmp_path / "frames" / f"t{i:03d}.tif"), 1)
    clips = {c.name: c for c in find_clips(str(tmp_path))}
    assert set(clips) == {"frames", "stacks", "stacks/stack"}
    assert clips["stacks/stack"].kind == "tiff" and clips["stacks"].frame_names == ["lonely.tif"]
    assert clips["frames"].frame_names == [f"t{i:03d}.tif" for i in range(4)]
    no_stacks = find_clips(str(tmp_path), stacks=False)
    assert [c.name for c in no_stacks] == ["frames", "stacks"]  # the stack is skipped, never read as a frame


def test_training_and_inference_discovery_agree_on_tiffs(tmp_path):
    _tiff(str(tmp_path / "a" / "stack.tif"), 3)
    for i in range(3):
        _tiff(str(tmp_path / "b" / f"{i}.tif"), 1)
    train = layout_clips("custom", str(tmp_path))
    infer = find_clips(str(tmp_path))
    assert [(c.name, c.kind, c.frame_names) for c in train] == [(c.name, c.kind, c.frame_names) for c in infer]
    assert [(c.name, c.kind, len(c)) for c in infer] == [("a/stack", "tiff", 0), ("b", "folder", 3)]


def test_filters_prefer_ext_accept_and_videos_flag(tmp_path):
    _frames(tmp_path / "a", ["0.jpg", "1.jpg", "thumb.png"])
    _frames(tmp_path / "b", ["0.png", "frame_1.png"])
    _video(str(tmp_path / "b" / "v.avi"))
    clips = {c.name: c for c in find_clips(str(tmp_path), prefer_ext=".jpg")}
    assert clips["a"].frame_names == ["0.jpg", "1.jpg"] and clips["b"].frame_names == ["0.png", "frame_1.png"]
    only = find_clips(str(tmp_path), exts=(".png",), accept=lambda n: n.startswith("frame"), videos=False)
    assert [(c.name, c.frame_names) for c in only] == [("b", ["frame_1.png"])]


def test_symlinks_followed_and_loops_cut(tmp_path):
    _frames(tmp_path / "real" / "c1", ["0.png"])
    os.makedirs(tmp_path / "root")
    os.symlink(tmp_path / "real" / "c1", tmp_path / "root" / "x-c1")
    os.symlink(tmp_path / "real" / "c1", tmp_path / "root" / "y-c1")   # a second link to one folder: both kept
    os.symlink(tmp_path / "root", tmp_path / "root" / "loop")          # a loop: not entered again
    assert [c.name for c in find_clips(str(tmp_path / "root"))] == ["x-c1", "y-c1"]
    assert [rel for _, rel, _ in walk_tree(str(tmp_path / "root"))] == ["", "x-c1", "y-c1"]


def test_errors_are_one_line_user_errors(tmp_path):
    with pytest.raises(UserError, match="input not found"):
        find_clips(str(tmp_path / "nope"))
    (tmp_path / "empty" / "clip").mkdir(parents=True)
    with pytest.raises(UserError, match="no frames or videos found under .*; look here"):
        find_clips(str(tmp_path / "empty"), hint="look here")
    _frames(tmp_path / "dup", ["0.png", "0.tif"])
    with pytest.raises(UserError, match="same name stem in .*dup: 0.png and 0.tif"):
        find_clips(str(tmp_path / "dup"))
    _frames(tmp_path / "twins" / "x", ["0.png"])
    _video(str(tmp_path / "twins" / "x.avi"))
    with pytest.raises(UserError, match="two clips named 'x'"):
        find_clips(str(tmp_path / "twins"))


def test_clip_kind_is_inferred_when_not_given(tmp_path):
    _frames(tmp_path / "c", ["0.png"])
    assert Clip("c", str(tmp_path / "c")).kind == "folder"
    assert Clip("n", "/nowhere/n", ["f.png"]).kind == "folder"
    assert Clip("v", "/nowhere/v.mp4").kind == "video" and Clip("s", "/nowhere/s.tif").kind == "tiff"
    with pytest.raises(ValueError):
        Clip("x", "/x", kind="image")
