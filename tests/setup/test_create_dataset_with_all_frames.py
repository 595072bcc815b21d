"""setup/create_dataset_with_all_frames.py and make_flat_image_symlinks.py: absolute links, repair, names."""
from __future__ import annotations

import os

from tests.setup.conftest import assert_failed, uniform_clip, write_clip


def test_flatten_cfc22_frames_and_annotations(synthetic_cfc22, tmp_path, run):
    raw = os.path.join(synthetic_cfc22, "frames", "raw")
    flat, anno = str(tmp_path / "raw_all"), str(tmp_path / "annotations_mot_all")
    args = ["setup/create_dataset_with_all_frames.py", "--frames_dir", raw, "--frames_output_dir", flat,
            "--annotations_dir", os.path.join(synthetic_cfc22, "annotations_mot"), "--annotations_output_dir", anno]
    proc = run(*args)
    assert proc.returncode == 0, proc.stderr
    expected = sorted(f"{d}-{c}" for d in os.listdir(raw) for c in os.listdir(os.path.join(raw, d)))
    assert sorted(os.listdir(flat)) == expected and sorted(os.listdir(anno)) == expected
    link = os.path.join(flat, expected[0])
    assert os.path.islink(link) and os.path.isabs(os.readlink(link))
    assert os.path.isfile(os.path.join(anno, expected[0], "gt.txt"))
    # a broken link is repaired, a correct one kept
    os.remove(link)
    os.symlink(str(tmp_path / "gone"), link)
    again = run(*args)
    assert "1 repaired" in again.stdout and os.path.exists(link)


def test_separator_custom_tree_and_exclude(make_synthetic, tmp_path, run):
    root = make_synthetic("custom", clips_per_domain=1, frames=4, height=16, width=16)
    flat = str(tmp_path / "flat")
    proc = run("setup/create_dataset_with_all_frames.py", "--frames_dir", root, "--frames_output_dir", flat,
               "--separator", "_", "--exclude", "clean")
    assert proc.returncode == 0, proc.stderr
    assert sorted(os.listdir(flat)) == sorted(f"{d}_{v}" for d in os.listdir(root) if d.startswith("domain")
                                              for v in os.listdir(os.path.join(root, d)))


def test_refuses_real_folder_in_the_way(tree, run):
    write_clip(os.path.join(tree, "raw", "d", "c"), uniform_clip([1, 2]))
    os.makedirs(os.path.join(tree, "flat", "d-c"))
    assert_failed(run("setup/create_dataset_with_all_frames.py", "--frames_dir", os.path.join(tree, "raw"),
                      "--frames_output_dir", os.path.join(tree, "flat")), "not a symlink")


def test_flat_image_symlinks(tree, run):
    write_clip(os.path.join(tree, "all", "d-c1"), uniform_clip([1, 2]))
    write_clip(os.path.join(tree, "all", "d-c2"), uniform_clip([3]), ext=".jpg")
    out = os.path.join(tree, "imgs")
    proc = run("setup/make_flat_image_symlinks.py", "--input_dir", os.path.join(tree, "all"), "--output_dir", out)
    assert proc.returncode == 0, proc.stderr
    assert sorted(os.listdir(out)) == ["d-c1_0.png", "d-c1_1.png", "d-c2_0.jpg"]
    assert all(os.path.isabs(os.readlink(os.path.join(out, n))) for n in os.listdir(out))
    assert "0 new" in run("setup/make_flat_image_symlinks.py", "--input_dir", os.path.join(tree, "all"),
                          "--output_dir", out).stdout
