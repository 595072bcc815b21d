"""downstream/yolo/: MOT → YOLO/COCO conversion (exact on hand-made clips), weights resolution, resume state."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from common.boxes import mot_to_xyxy, xyxy_to_mot, xyxy_to_yolo, yolo_to_xyxy
from common.cli import UserError
from downstream.yolo import convert, predict, train


def _write_clip(root: str, domain: str, clip: str, gt_lines: list[str], n_frames: int = 3, w: int = 100, h: int = 50,
                ext: str = ".png") -> None:
    import cv2

    fdir = os.path.join(root, "frames", domain, clip)
    os.makedirs(fdir, exist_ok=True)
    for i in range(n_frames):
        cv2.imwrite(os.path.join(fdir, f"{i}{ext}"), np.full((h, w), 10 * i, np.uint8))
    gdir = os.path.join(root, "mot", domain, clip)
    os.makedirs(gdir, exist_ok=True)
    with open(os.path.join(gdir, "gt.txt"), "w") as f:
        f.write("".join(line + "\n" for line in gt_lines))


@pytest.fixture
def hand_made(tmp_path) -> str:
    """W=100, H=50. MOT frame 1 (file 0.png): left 11, top 6 (1-based) → 0-based corner (10, 5), 20×10 box."""
    root = str(tmp_path)
    _write_clip(root, "kenai-train", "c1", ["1,1,11,6,20,10,-1,-1,-1,-1", "3,2,81,41,30,20,-1,-1,-1,-1"])
    _write_clip(root, "kenai-val", "c2", ["2,1,1,1,10,10,-1,-1,-1,-1"])
    _write_clip(root, "elwha", "c3", [])
    return root


def _convert(root: str, **kw) -> dict:
    return convert.convert_mot_to_yolo(os.path.join(root, "mot"), os.path.join(root, "frames"),
                                    os.path.join(root, "out"), progress=False, **kw)


def test_conversion_is_exact_on_a_hand_made_clip(hand_made, capsys):
    summary = _convert(hand_made)

    out = os.path.join(hand_made, "out")
    lbl = os.path.join(out, "labels", "train")
    # centre (10 + 20/2, 5 + 10/2) = (20, 10) → (0.2, 0.2); size (20/100, 10/50) = (0.2, 0.2)
    assert open(os.path.join(lbl, "kenai-train-c1-0.txt")).read() == "0 0.200000 0.200000 0.200000 0.200000\n"
    assert open(os.path.join(lbl, "kenai-train-c1-1.txt")).read() == ""  # negative frame kept, empty label
    # frame 3 box: 0-based (80, 40) 30×20 reaches x=110 > 100 and y=60 > 50 → clipped to (80, 40)-(100, 50)
    assert open(os.path.join(lbl, "kenai-train-c1-2.txt")).read() == "0 0.900000 0.900000 0.200000 0.200000\n"
    assert "1 GT box(es) reached outside the image" in capsys.readouterr().err
    img = os.path.join(out, "images", "train", "kenai-train-c1-0.png")
    assert os.path.islink(img) and os.path.realpath(img) == os.path.realpath(
        os.path.join(hand_made, "frames", "kenai-train", "c1", "0.png"))
    assert summary["splits"]["train"] == {"domains": ["kenai-train"], "clips": 1, "images": 3, "empty_images": 1,
                                          "boxes": 2}
    assert summary["splits"]["test"]["domains"] == ["elwha"]
    data = open(os.path.join(out, "data.yaml")).read()
    for line in (f"path: {out}", "train: images/train", "val: images/val", "test: images/test", "nc: 1",
                 "names: ['fish']"):
        assert line in data.splitlines()


def test_yolo_labels_read_back_to_the_mot_boxes(hand_made):
    _convert(hand_made)

    norm = convert.read_yolo_labels(os.path.join(hand_made, "out", "labels", "train", "kenai-train-c1-0.txt"))
    back = xyxy_to_mot(1, yolo_to_xyxy(norm, 100, 50))

    np.testing.assert_allclose(back[0, 2:6], [11, 6, 20, 10], atol=1e-4)


def test_round_trip_mot_yolo_mot_on_random_boxes():
    rng = np.random.default_rng(3)
    w, h = 1000, 500
    left, top = rng.integers(1, 700, 50), rng.integers(1, 300, 50)
    rows = -np.ones((50, 10))
    rows[:, 0], rows[:, 1] = 7, np.arange(1, 51)
    rows[:, 2], rows[:, 3], rows[:, 4], rows[:, 5] = left, top, rng.integers(1, 300, 50), rng.integers(1, 200, 50)

    text = convert.format_yolo_labels(xyxy_to_yolo(mot_to_xyxy(rows), w, h))
    norm = np.array([[float(v) for v in line.split()[1:]] for line in text.splitlines()])
    back = xyxy_to_mot(7, yolo_to_xyxy(norm, w, h))

    np.testing.assert_allclose(back[:, 2:6], rows[:, 2:6], atol=1e-3)  # 6 decimals of 1000 px
    assert back[:, 0].tolist() == [7] * 50 and back[:, 1].tolist() == list(range(1, 51))


def test_empty_frame_fraction_subsamples_train_only_and_deterministically(tmp_path):
    root = str(tmp_path)
    _write_clip(root, "kenai-train", "c1", ["1,1,11,6,20,10,-1,-1,-1,-1"], n_frames=11)
    _write_clip(root, "kenai-val", "c2", ["1,1,11,6,20,10,-1,-1,-1,-1"], n_frames=5)

    s0 = _convert(root, empty_fraction=0.0)
    assert s0["splits"]["train"]["images"] == 1 and s0["splits"]["val"]["images"] == 5
    s_half = _convert(root, empty_fraction=0.5, overwrite=True)
    first = sorted(os.listdir(os.path.join(root, "out", "labels", "train")))
    _convert(root, empty_fraction=0.5, overwrite=True)
    assert s_half["splits"]["train"]["empty_images"] == 5
    assert sorted(os.listdir(os.path.join(root, "out", "labels", "train"))) == first
    assert convert.subsample_empty(list(range(10)), 0.3, seed=1) == convert.subsample_empty(list(range(10)), 0.3,
                                                                                            seed=1)


def test_rerun_is_a_noop_and_changed_settings_need_overwrite(hand_made):
    _convert(hand_made)
    assert _convert(hand_made)["splits"]["train"]["images"] == 3
    with pytest.raises(UserError, match="--overwrite"):
        _convert(hand_made, empty_fraction=0.0)


def test_frames_dir_missing_annotated_clips_is_one_error(hand_made):
    _write_clip(hand_made, "kenai-train", "c9", ["1,1,1,1,5,5,-1,-1,-1,-1"])
    import shutil

    shutil.rmtree(os.path.join(hand_made, "frames", "kenai-train", "c9"))
    with pytest.raises(UserError, match=r"lacks 1 annotated clip\(s\): c9"):
        _convert(hand_made)


def test_malformed_gt_line_names_file_and_line(hand_made):
    with open(os.path.join(hand_made, "mot", "kenai-val", "c2", "gt.txt"), "a") as f:
        f.write("3,1,abc,1,10,10,-1,-1,-1,-1\n")
    with pytest.raises(UserError, match=r"c2/gt.txt:2: non-numeric"):
        _convert(hand_made)


def test_missing_split_domain_is_an_error(hand_made):
    with pytest.raises(UserError, match="train domain"):
        _convert(hand_made, train_domains=["kenai-nope"])


def test_coco_conversion_keeps_every_frame_with_zero_based_boxes(hand_made):
    summary = convert.convert_mot_to_coco(os.path.join(hand_made, "mot"), os.path.join(hand_made, "frames"),
                                       os.path.join(hand_made, "coco"))

    coco = json.load(open(os.path.join(hand_made, "coco", "kenai-train.json")))
    assert [im["file_name"] for im in coco["images"]] == [f"kenai-train/c1/{i}.png" for i in range(3)]
    assert coco["annotations"][0]["bbox"] == [10.0, 5.0, 20.0, 10.0] and coco["annotations"][0]["image_id"] == 1
    assert coco["annotations"][1]["bbox"] == [80.0, 40.0, 20.0, 10.0]  # clipped to the 100×50 image
    assert coco["categories"] == [{"id": 1, "name": "fish", "supercategory": "animal"}]
    assert summary["test"] == {"images": 3, "annotations": 0}
    assert set(summary) == {"kenai-train", "kenai-val", "elwha", "train", "val", "test"}


def test_resolve_weights_never_downloads(tmp_path):
    assert train.resolve_weights("yolov5s.pt")[:2] == ("yolov5s.yaml", None)
    assert train.resolve_weights("yolo11n.pt")[:2] == ("yolo11n.yaml", None)
    local = tmp_path / "w.pt"
    local.write_bytes(b"x")
    assert train.resolve_weights(str(local))[:2] == (str(local), None)
    assert train.resolve_weights(str(local), "yolov8n.yaml")[:2] == ("yolov8n.yaml", str(local))
    with pytest.raises(UserError, match="weights file not found"):
        train.resolve_weights(str(tmp_path / "missing.pt"))


def test_checkpoint_state_distinguishes_finished_and_resumable(tmp_path):
    import torch

    torch.save({"epoch": 3, "optimizer": {"state": {}}}, tmp_path / "run.pt")
    torch.save({"epoch": -1, "optimizer": None}, tmp_path / "done.pt")
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")

    assert train._checkpoint_finished(str(tmp_path / "run.pt")) is False
    assert train._checkpoint_finished(str(tmp_path / "done.pt")) is True
    assert train._checkpoint_finished(str(tmp_path / "absent.pt")) is None
    with pytest.raises(UserError, match="unreadable checkpoint"):
        train._checkpoint_finished(str(tmp_path / "bad.pt"))


def test_training_imgsz_comes_from_the_weights():
    class Fake:
        ckpt = {"train_args": {"imgsz": 96}}
        overrides: dict = {}

    assert predict.training_imgsz(Fake()) == 96
    Fake.ckpt = {}
    assert predict.training_imgsz(Fake(), default=640) == 640


def test_train_detector_input_errors_are_user_errors(tmp_path):
    data = tmp_path / "data.yaml"
    data.write_text(f"path: {tmp_path}\ntrain: images/train\nval: images/val\nnc: 1\nnames: ['fish']\n")
    with pytest.raises(UserError, match="nothing to resume"):
        train.train_detector(str(data), 1, 2, "yolov8n.pt", 32, str(tmp_path / "p"), "n", resume=True)
    with pytest.raises(UserError, match="images not found"):
        train.train_detector(str(data), 1, 2, "yolov8n.pt", 32, str(tmp_path / "p"), "n", device="cpu", workers=0,
                            threads=1)
