"""MOT ground truth → ultralytics (YOLO) and COCO datasets (docs/detection.md).

Differences from the paper's converter, each a documented fix (docs/paper_code_behaviour.md#defect-9-11-map-skips-frames
and #weak-points):
- MOT boxes are 1-based (CFC documentation); `common.boxes.mot_to_xyxy` subtracts 1 from left/top before
  normalising. The paper did not.
- Frames without fish are kept as negatives (empty label files); `empty_fraction` subsamples them deterministically.
- Boxes reaching outside the image are clipped (and counted in one warning) instead of producing YOLO
  coordinates outside [0, 1].
"""
from __future__ import annotations

import json
import os
import shutil

import numpy as np

from common.atomic import write_json, write_text
from common.boxes import xyxy_to_yolo
from common.cli import check_not_inside, fail, require_dir
from dataset.annotations import AnnotatedClip, load_domain, warn_box_fixes
from dataset.frames import list_clip_dirs

CLASS_NAME = "fish"
DEFAULT_TRAIN = ("kenai-train",)
DEFAULT_VAL = ("kenai-val",)


# ------------------------------------------------------------------------------------------ YOLO label files
def format_yolo_labels(norm: np.ndarray, cls: int = 0) -> str:
    """One `cls xc yc w h` line per box, 6 decimals (as the paper's converter); empty string for no boxes."""
    return "".join(f"{cls} {a:.6f} {b:.6f} {c:.6f} {d:.6f}\n" for a, b, c, d in np.asarray(norm).reshape(-1, 4))


def read_yolo_labels(path: str) -> np.ndarray:
    """A YOLO label file → N×4 normalised boxes (class column dropped)."""
    with open(path, encoding="utf-8") as f:
        rows = [line.split() for line in f if line.strip()]
    return np.asarray([[float(v) for v in r[1:5]] for r in rows], dtype=np.float64).reshape(-1, 4)


def split_domains(mot_dir: str, train: list[str] | None, val: list[str] | None,
                  test: list[str] | None) -> dict[str, list[str]]:
    """Domains per split: train/val default to kenai-train/kenai-val; test to every other annotated domain."""
    present = [os.path.basename(d) for d in list_clip_dirs(mot_dir)]
    train = list(train or DEFAULT_TRAIN)
    val = list(val or DEFAULT_VAL)
    if test is None:
        test = [d for d in present if d not in train and d not in val]
    splits = {"train": train, "val": val, "test": list(test)}
    for split, domains in splits.items():
        absent = [d for d in domains if d not in present]
        if absent:
            fail(f"{split} domain(s) {', '.join(absent)} not in {mot_dir} (present: {', '.join(present) or 'none'})")
    for split in ("train", "val"):
        if not splits[split]:
            fail(f"no {split} domains given")
    return splits


def subsample_empty(indices: list[int], fraction: float, seed: int) -> set[int]:
    """Deterministic subset of round(fraction·n) of `indices` (the same seed keeps the same frames)."""
    if fraction >= 1:
        return set(indices)
    k = int(round(max(fraction, 0.0) * len(indices)))
    rng = np.random.default_rng(seed)
    return {indices[j] for j in rng.permutation(len(indices))[:k]}


# --------------------------------------------------------------------------------------- YOLO conversion
def _link_or_copy(src: str, dst: str, copy: bool) -> None:
    if os.path.lexists(dst):
        os.remove(dst)
    if copy:
        shutil.copyfile(src, dst)
    else:
        os.symlink(os.path.abspath(src), dst)


def convert_mot_to_yolo(mot_dir: str, frames_dir: str, output_dir: str, train_domains: list[str] | None = None,
                        val_domains: list[str] | None = None, test_domains: list[str] | None = None,
                        empty_fraction: float = 1.0, seed: int = 0, copy: bool = False,
                        overwrite: bool = False, progress: bool = True) -> dict:
    """Write an ultralytics dataset: images/<split>/<domain>-<clip>-<i>.<ext> (symlinks or copies),
    labels/<split>/<same stem>.txt (one `0 xc yc w h` line per box, empty for negatives), data.yaml.

    `empty_fraction` applies to the train split only (val/test keep every frame so that their evaluation sees
    false positives). Returns a summary dict (also written as conversion.json).
    """
    from tqdm import tqdm

    require_dir(mot_dir, "MOT annotations dir (--mot-dir)")
    require_dir(frames_dir, "frames dir (--frames-dir)")
    check_not_inside(output_dir, frames_dir)
    check_not_inside(output_dir, mot_dir)
    splits = split_domains(mot_dir, train_domains, val_domains, test_domains)
    settings = {"mot_dir": os.path.abspath(mot_dir), "frames_dir": os.path.abspath(frames_dir), "splits": splits,
                "empty_fraction": empty_fraction, "seed": seed, "copy": copy}
    record = os.path.join(output_dir, "conversion.json")
    data_yaml = os.path.join(output_dir, "data.yaml")
    if os.path.exists(data_yaml) and not overwrite:
        old = {}
        if os.path.exists(record):
            with open(record, encoding="utf-8") as f:
                old = json.load(f)
        if old.get("settings") == settings:
            print(f"{data_yaml} already exists with the same settings; nothing to do (--overwrite rebuilds it)")
            return old
        fail(f"{output_dir} holds a dataset converted with other settings; pass --overwrite to rebuild it")
    for sub in ("images", "labels"):
        shutil.rmtree(os.path.join(output_dir, sub), ignore_errors=True)

    clips = {split: [c for d in domains for c in load_domain(mot_dir, frames_dir, d)] for split, domains in splits.items()}
    warn_box_fixes([c for cs in clips.values() for c in cs])
    summary: dict = {"settings": settings, "splits": {}}
    for split, split_clips in clips.items():
        if not split_clips:
            continue
        img_dir, lbl_dir = (os.path.join(output_dir, k, split) for k in ("images", "labels"))
        os.makedirs(img_dir, exist_ok=True)
        os.makedirs(lbl_dir, exist_ok=True)
        items = [(c, i) for c in split_clips for i in sorted(c.frames)]
        empty = [k for k, (c, i) in enumerate(items) if not len(c.boxes_at(i))]
        keep_empty = subsample_empty(empty, empty_fraction if split == "train" else 1.0, seed)
        stats = {"domains": splits[split], "clips": len(split_clips), "images": 0, "empty_images": 0, "boxes": 0}
        for k, (c, i) in enumerate(tqdm(items, desc=f"yolo {split}", disable=not progress, unit="frame")):
            boxes = c.boxes_at(i)
            if not len(boxes) and k not in keep_empty:
                continue
            src = c.frames[i]
            stem = f"{c.domain}-{c.name}-{i}"
            _link_or_copy(src, os.path.join(img_dir, stem + os.path.splitext(src)[1].lower()), copy)
            write_text(os.path.join(lbl_dir, stem + ".txt"), format_yolo_labels(xyxy_to_yolo(boxes, c.width, c.height)))
            stats["images"] += 1
            stats["empty_images"] += int(not len(boxes))
            stats["boxes"] += len(boxes)
        summary["splits"][split] = stats
    lines = [f"# written by setup/convert_mot_to_yolo.py from {os.path.abspath(mot_dir)}",
             f"path: {os.path.abspath(output_dir)}"]
    lines += [f"{s}: images/{s}" for s in ("train", "val", "test") if s in summary["splits"]]
    lines += ["nc: 1", f"names: ['{CLASS_NAME}']"]
    write_json(record, summary)
    write_text(data_yaml, "\n".join(lines) + "\n")
    return summary


# --------------------------------------------------------------------------------------- COCO conversion
def coco_dict(clips: list[AnnotatedClip], frames_dir: str, split: str | None = None) -> dict:
    """A COCO detection dict for clips: one image per frame (file_name relative to `frames_dir`), bbox in
    0-based pixels [x, y, w, h], category 1 = fish, MOT track id kept as `track_id`."""
    images, annotations = [], []
    for c in clips:
        for i in sorted(c.frames):
            image_id = len(images) + 1
            images.append({"id": image_id, "file_name": os.path.relpath(c.frames[i], frames_dir),
                           "width": c.width, "height": c.height, "clip": c.name, "domain": c.domain, "frame_index": i})
            for x1, y1, x2, y2 in c.boxes_at(i):
                annotations.append({"id": len(annotations) + 1, "image_id": image_id, "category_id": 1,
                                    "bbox": [round(float(x1), 3), round(float(y1), 3), round(float(x2 - x1), 3),
                                             round(float(y2 - y1), 3)],
                                    "area": round(float((x2 - x1) * (y2 - y1)), 3), "iscrowd": 0})
    info = {"description": "CFC22-style MOT ground truth converted by setup/convert_mot_to_coco.py"}
    if split:
        info["split"] = split
    return {"info": info, "images": images, "annotations": annotations,
            "categories": [{"id": 1, "name": CLASS_NAME, "supercategory": "animal"}]}


def convert_mot_to_coco(mot_dir: str, frames_dir: str, output_dir: str, train_domains: list[str] | None = None,
                        val_domains: list[str] | None = None, test_domains: list[str] | None = None,
                        overwrite: bool = False) -> dict:
    """Write `<output_dir>/<domain>.json` for every domain of the splits and `<split>.json` for train/val/test
    (same split rules as the YOLO converter); existing files are kept unless `overwrite`. Returns a summary."""
    require_dir(mot_dir, "MOT annotations dir (--mot-dir)")
    require_dir(frames_dir, "frames dir (--frames-dir)")
    check_not_inside(output_dir, frames_dir)
    check_not_inside(output_dir, mot_dir)
    splits = split_domains(mot_dir, train_domains, val_domains, test_domains)
    loaded = {d: load_domain(mot_dir, frames_dir, d) for ds in splits.values() for d in ds}
    warn_box_fixes([c for cs in loaded.values() for c in cs])
    jobs = [(d, [d], None) for d in loaded] + [(s, ds, s) for s, ds in splits.items() if ds]
    summary = {}
    for name, ds, split in jobs:
        path = os.path.join(output_dir, f"{name}.json")
        if os.path.exists(path) and not overwrite:
            print(f"skip {path} (exists; --overwrite rewrites it)")
            continue
        coco = coco_dict([c for d in ds for c in loaded[d]], frames_dir, split)
        write_json(path, coco, indent=None)
        summary[name] = {"images": len(coco["images"]), "annotations": len(coco["annotations"])}
    return summary
