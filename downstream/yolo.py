"""MOT ground truth → YOLO / COCO datasets, and offline ultralytics training and prediction
(docs/paper_code_behaviour.md#downstream).

Differences from the paper code, each a documented fix (docs/paper_code_behaviour.md#defect-9-11-map-skips-frames and
#weak-points):
- MOT boxes are 1-based (CFC documentation); we subtract 1 from left/top before normalising. The paper did not.
- Frames without fish are kept as negatives (empty label files); `empty_fraction` subsamples them deterministically.
- Boxes reaching outside the image are clipped (and counted in one warning) instead of producing YOLO
  coordinates outside [0, 1].
- Training never downloads: a `--weights` name that is not a file on disk is built from its architecture yaml.
- HSV augmentation is off by default: the merged frames are pseudo-colour (each channel means something else).

Heavy imports (cv2, torch, ultralytics) stay inside functions so the scripts' `--help` is instant.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
from dataclasses import dataclass, field

import numpy as np

from common.atomic import write_json, write_text
from common.cli import check_not_inside, fail, require_dir
from dataset.frames import frame_index, list_clip_dirs, list_frames
from downstream.mot import by_frame, read_mot, write_mot

CLASS_NAME = "fish"
DEFAULT_TRAIN = ("kenai-train",)
DEFAULT_VAL = ("kenai-val",)
# Inference settings of the CFC "fisheye-advanced" configuration that track.py copies
# (docs/paper_code_behaviour.md#detector-inference).
DEFAULT_CONF = 0.05
DEFAULT_NMS_IOU = 0.25
DEFAULT_BATCH = 32


# ----------------------------------------------------------------------------------------------- boxes (pure)
def mot_to_xyxy(rows: np.ndarray) -> np.ndarray:
    """MOT rows (1-based left/top, width, height) → N×4 0-based pixel corners x1, y1, x2, y2."""
    rows = np.asarray(rows, dtype=np.float64).reshape(-1, 10)
    x1 = rows[:, 2] - 1.0
    y1 = rows[:, 3] - 1.0
    return np.stack([x1, y1, x1 + rows[:, 4], y1 + rows[:, 5]], axis=1)


def xyxy_to_mot(frame: int, boxes: np.ndarray, conf: np.ndarray | None = None,
                ids: np.ndarray | None = None) -> np.ndarray:
    """0-based pixel corners of one 1-based `frame` → MOT rows (ids 1..N unless given; conf -1 for GT)."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    n = len(boxes)
    out = -np.ones((n, 10))
    out[:, 0] = frame
    out[:, 1] = np.arange(1, n + 1) if ids is None else ids
    out[:, 2] = boxes[:, 0] + 1.0
    out[:, 3] = boxes[:, 1] + 1.0
    out[:, 4] = boxes[:, 2] - boxes[:, 0]
    out[:, 5] = boxes[:, 3] - boxes[:, 1]
    if conf is not None:
        out[:, 6] = conf
    return out


def clip_boxes(boxes: np.ndarray, width: int, height: int) -> tuple[np.ndarray, int, int]:
    """Clip 0-based corners to the image; returns (kept boxes, number clipped, number dropped as empty)."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    clipped = boxes.copy()
    clipped[:, [0, 2]] = np.clip(clipped[:, [0, 2]], 0, width)
    clipped[:, [1, 3]] = np.clip(clipped[:, [1, 3]], 0, height)
    changed = np.any(clipped != boxes, axis=1)
    keep = (clipped[:, 2] > clipped[:, 0]) & (clipped[:, 3] > clipped[:, 1])
    return clipped[keep], int(np.sum(changed & keep)), int(np.sum(~keep))


def xyxy_to_yolo(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    """0-based pixel corners → normalised centre x, centre y, width, height (YOLO label order)."""
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return np.stack([(b[:, 0] + b[:, 2]) / 2 / width, (b[:, 1] + b[:, 3]) / 2 / height,
                     (b[:, 2] - b[:, 0]) / width, (b[:, 3] - b[:, 1]) / height], axis=1)


def yolo_to_xyxy(norm: np.ndarray, width: int, height: int) -> np.ndarray:
    """Inverse of `xyxy_to_yolo`."""
    n = np.asarray(norm, dtype=np.float64).reshape(-1, 4)
    cx, cy, w, h = n[:, 0] * width, n[:, 1] * height, n[:, 2] * width, n[:, 3] * height
    return np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)


def format_yolo_labels(norm: np.ndarray, cls: int = 0) -> str:
    """One `cls xc yc w h` line per box, 6 decimals (as the paper's converter); empty string for no boxes."""
    return "".join(f"{cls} {a:.6f} {b:.6f} {c:.6f} {d:.6f}\n" for a, b, c, d in np.asarray(norm).reshape(-1, 4))


def read_yolo_labels(path: str) -> np.ndarray:
    """A YOLO label file → N×4 normalised boxes (class column dropped)."""
    with open(path, encoding="utf-8") as f:
        rows = [line.split() for line in f if line.strip()]
    return np.asarray([[float(v) for v in r[1:5]] for r in rows], dtype=np.float64).reshape(-1, 4)


# ----------------------------------------------------------------------------------------- annotated clips
@dataclass
class AnnotatedClip:
    """One clip's frames and its GT boxes per 0-based frame index (0-based pixel corners, clipped)."""

    domain: str
    name: str
    frames: dict[int, str]                  # 0-based frame index → image path
    width: int
    height: int
    boxes: dict[int, np.ndarray] = field(default_factory=dict)
    n_clipped: int = 0
    n_dropped: int = 0
    n_orphan_rows: int = 0                  # GT rows whose frame has no image

    def boxes_at(self, i: int) -> np.ndarray:
        return self.boxes.get(i, np.zeros((0, 4)))


def image_size(path: str) -> tuple[int, int]:
    """(width, height) of an image file."""
    import cv2

    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if img is None:
        fail(f"unreadable frame: {path}")
    return int(img.shape[1]), int(img.shape[0])


def clip_frames(clip_dir: str) -> dict[int, str]:
    """0-based frame index (the integer in the file name, docs/paper_code_behaviour.md#mot-annotations) → path."""
    return {frame_index(p): p for p in list_frames(clip_dir)}


def load_annotated_clip(gt_path: str, clip_dir: str, domain: str, name: str) -> AnnotatedClip:
    """Read one clip's gt.txt against its frame folder (frame size from the first frame)."""
    frames = clip_frames(clip_dir)
    width, height = image_size(frames[min(frames)])
    clip = AnnotatedClip(domain, name, frames, width, height)
    for frame, rows in by_frame(read_mot(gt_path)).items():
        if frame - 1 not in frames:
            clip.n_orphan_rows += len(rows)
            continue
        kept, n_clip, n_drop = clip_boxes(mot_to_xyxy(rows), width, height)
        clip.n_clipped += n_clip
        clip.n_dropped += n_drop
        if len(kept):
            clip.boxes[frame - 1] = kept
    return clip


def annotated_clip_names(mot_dir: str, domain: str) -> list[str]:
    """Clips of a domain that have a gt.txt under `mot_dir/<domain>/<clip>/`."""
    return [os.path.basename(d) for d in list_clip_dirs(os.path.join(mot_dir, domain))
            if os.path.isfile(os.path.join(d, "gt.txt"))]


def load_domain(mot_dir: str, frames_dir: str, domain: str) -> list[AnnotatedClip]:
    """Every annotated clip of a domain; clips named by the annotations but absent from the frames → one error."""
    names = annotated_clip_names(mot_dir, domain)
    if not names:
        fail(f"no <clip>/gt.txt under {os.path.join(mot_dir, domain)}")
    missing = [n for n in names if not os.path.isdir(os.path.join(frames_dir, domain, n))]
    if missing:
        fail(f"frames dir {os.path.join(frames_dir, domain)} lacks {len(missing)} annotated clip(s): "
             f"{', '.join(missing[:10])}{' ...' if len(missing) > 10 else ''}")
    return [load_annotated_clip(os.path.join(mot_dir, domain, n, "gt.txt"), os.path.join(frames_dir, domain, n),
                                domain, n) for n in names]


def warn_box_fixes(clips: list[AnnotatedClip]) -> None:
    """One warning line for all clipped/dropped boxes and GT rows without an image."""
    n_clip, n_drop = sum(c.n_clipped for c in clips), sum(c.n_dropped for c in clips)
    n_orphan = sum(c.n_orphan_rows for c in clips)
    if n_clip or n_drop:
        print(f"warning: {n_clip} GT box(es) reached outside the image and were clipped to it"
              f"{f'; {n_drop} lay entirely outside and were dropped' if n_drop else ''}", file=sys.stderr)
    if n_orphan:
        print(f"warning: {n_orphan} GT row(s) name frames that have no image and were ignored", file=sys.stderr)


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


# ------------------------------------------------------------------------------------------- training
def resolve_weights(weights: str, model_yaml: str | None = None) -> tuple[str, str | None, str]:
    """(model source, weights to transfer or None, one-line explanation) without ever downloading.

    An existing file is used as is. A name that is not on disk (`yolov5s.pt`, `yolov8n.pt`, `yolo11n.pt`) is mapped
    to its architecture yaml (ultralytics' yolov5s.yaml is the anchor-free "yolov5su" family) and built from
    scratch. `model_yaml` forces the architecture; existing weights are then transferred into it.
    """
    have = bool(weights) and os.path.isfile(weights)
    if model_yaml:
        if have:
            return model_yaml, weights, f"model: {model_yaml}, initialised from {weights}"
        return model_yaml, None, f"model: {model_yaml} from scratch ({weights or 'no weights'} not on disk)"
    if have:
        return weights, None, f"model: fine-tuning {weights}"
    stem = os.path.splitext(os.path.basename(weights or ""))[0]
    if not stem:
        fail("no --weights or --model-yaml given")
    if os.path.dirname(weights) or os.path.splitext(weights)[1] not in ("", ".pt", ".yaml"):
        fail(f"weights file not found: {weights}")
    return f"{stem}.yaml", None, (f"model: {weights} is not on disk and nothing is downloaded: building {stem}.yaml "
                                  "from scratch (random init; pass a local .pt to fine-tune)")


def _build_yolo(source: str, transfer: str | None):
    from ultralytics import YOLO

    try:
        model = YOLO(source)
    except (FileNotFoundError, KeyError, AttributeError) as exc:
        fail(f"cannot build a YOLO model from {source!r} ({exc}); use e.g. yolov5s.pt, yolov8n.pt, yolo11n.pt "
             "or an existing weights file")
    if transfer:
        model.load(transfer)
    return model


def _checkpoint_finished(path: str) -> bool | None:
    """True if an ultralytics checkpoint is final (optimizer stripped, epoch -1), False if resumable, None if absent."""
    if not os.path.isfile(path):
        return None
    import torch

    try:  # ultralytics checkpoints pickle the model object, so weights_only=True cannot read them
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the same user problem
        fail(f"unreadable checkpoint {path} ({exc.__class__.__name__}); pass --overwrite to retrain")
    return ckpt.get("epoch", -1) == -1 or ckpt.get("optimizer") is None


def _guard_amp_check(device: str, amp: bool) -> None:
    """ultralytics' GPU AMP check downloads yolo26n.pt; offline we trust the flag instead of that check."""
    if not amp or device.startswith("cpu"):
        return
    import ultralytics.engine.trainer as trainer
    from ultralytics.utils import WEIGHTS_DIR

    if not (WEIGHTS_DIR / "yolo26n.pt").is_file():
        trainer.check_amp = lambda model: True


@contextlib.contextmanager
def _dataset_errors_as_user_errors():
    """ultralytics reports a bad data.yaml (missing images folder...) as RuntimeError('Dataset ...'): one line."""
    try:
        yield
    except RuntimeError as exc:
        if str(exc).startswith("Dataset"):
            fail(str(exc).splitlines()[0].replace("❌ ", ""))
        raise


def _print_epoch(trainer) -> None:
    """One line per epoch (ultralytics is silenced by YOLO_VERBOSE=0)."""
    if trainer.epoch >= trainer.epochs:  # the final validation of best.pt fires the callback once more
        return
    m = trainer.metrics or {}
    print(f"epoch {trainer.epoch + 1}/{trainer.epochs}: val mAP50 {m.get('metrics/mAP50(B)', float('nan')):.3f}, "
          f"mAP50-95 {m.get('metrics/mAP50-95(B)', float('nan')):.3f}", flush=True)


def default_device() -> str:
    import torch

    return "0" if torch.cuda.is_available() else "cpu"


def train_detector(data: str, epochs: int, batch: int, weights: str, imgsz: int, project: str, name: str,
                   device: str | None = None, workers: int = 2, seed: int = 0, model_yaml: str | None = None,
                   patience: int = 100, overwrite: bool = False, resume: bool = False, hsv: bool = False,
                   amp: bool | None = None, plots: bool = False, threads: int | None = None) -> str:
    """Train (or resume) a one-class YOLO detector; returns `<project>/<name>/weights/best.pt`.

    The run directory is exactly `<project>/<name>` (absolute, so ultralytics does not nest it under runs/detect,
    and exist_ok so it never becomes `<name>2`). A finished run is skipped, an interrupted one resumed from
    last.pt, `overwrite` retrains from scratch.
    """
    import common.offline  # noqa: F401  (before ultralytics: offline, no autoinstall)

    data = os.path.abspath(data)
    if not os.path.isfile(data):
        fail(f"data yaml not found: {data}")
    save_dir = os.path.abspath(os.path.join(project, name))
    best, last = (os.path.join(save_dir, "weights", f) for f in ("best.pt", "last.pt"))
    if overwrite:  # ultralytics appends to an existing results.csv: start from an empty folder
        shutil.rmtree(save_dir, ignore_errors=True)
    state = _checkpoint_finished(last)
    if state and not os.path.isfile(best) and not resume:  # finished, but best.pt was removed: train again
        shutil.rmtree(save_dir, ignore_errors=True)
        state = None
    if state and not resume:
        print(f"already trained: {best} (pass --overwrite to retrain)")
        return best
    if resume and state is None:
        fail(f"nothing to resume: {last} does not exist")
    if resume and state:
        fail(f"{last} is a finished run; nothing to resume (pass --overwrite to retrain)")

    from ultralytics import YOLO

    from common.offline import set_threads

    set_threads(threads)
    device = device or default_device()
    use_amp = (not device.startswith("cpu")) if amp is None else amp
    _guard_amp_check(device, use_amp)
    if state is False:
        print(f"resuming the interrupted run from {last}")
        model = YOLO(last)
        model.add_callback("on_fit_epoch_end", _print_epoch)
        with _dataset_errors_as_user_errors():
            model.train(resume=True, data=data, device=device, workers=workers)
        return best
    source, transfer, message = resolve_weights(weights, model_yaml)
    print(message)
    model = _build_yolo(source, transfer)
    model.add_callback("on_fit_epoch_end", _print_epoch)
    hsv_args = {} if hsv else {"hsv_h": 0.0, "hsv_s": 0.0, "hsv_v": 0.0}
    with _dataset_errors_as_user_errors():
        model.train(data=data, epochs=epochs, batch=batch, imgsz=imgsz, project=os.path.dirname(save_dir),
                    name=os.path.basename(save_dir), exist_ok=True, device=device, workers=workers, seed=seed,
                    deterministic=True, patience=patience, amp=use_amp, plots=plots, verbose=False, **hsv_args)
    if not os.path.isfile(best):
        fail(f"training finished without writing {best}")
    return best


# ------------------------------------------------------------------------------------------- prediction
def load_detector(path: str):
    """An ultralytics YOLO model from a local weights file (never a download)."""
    import common.offline  # noqa: F401

    if not os.path.isfile(path):
        fail(f"detector weights not found: {path}")
    from ultralytics import YOLO

    try:
        return YOLO(path)
    except Exception as exc:  # noqa: BLE001 - corrupt or foreign file
        fail(f"not a YOLO weights file: {path} ({exc.__class__.__name__}: {exc})")


def training_imgsz(model, default: int = 640) -> int:
    """The image size the weights were trained at (stored in the checkpoint's train_args), else `default`."""
    args = (getattr(model, "ckpt", None) or {}).get("train_args") or {}
    size = args.get("imgsz") or (getattr(model, "overrides", {}) or {}).get("imgsz")
    if isinstance(size, (list, tuple)):
        size = max(size)
    return int(size) if size else default


def predict_frames(model, paths: list[str], imgsz: int, conf: float = DEFAULT_CONF, iou: float = DEFAULT_NMS_IOU,
                   batch: int = DEFAULT_BATCH, device: str | None = None, on_batch=None) -> np.ndarray:
    """Detections for frame files as MOT rows (`frame_index+1, det_id, left+1, top+1, w, h, conf, -1, -1, -1`).

    Frames are read as 3-channel BGR (a 1-channel frame is replicated), so grayscale and merged frames both work.
    det_id is 1..N within each frame, by decreasing confidence (docs/paper_code_behaviour.md#detector-inference: ids
    must be unique per frame).
    """
    from dataset.frames import read_frame

    rows = []
    device = device or default_device()
    for start in range(0, len(paths), batch):
        chunk = paths[start:start + batch]
        images = [read_frame(p, gray=False) for p in chunk]
        results = model.predict(images, imgsz=imgsz, conf=conf, iou=iou, device=device, verbose=False,
                                batch=len(images))
        for path, res in zip(chunk, results):
            boxes = res.boxes
            xyxy = boxes.xyxy.cpu().numpy().astype(np.float64)
            scores = boxes.conf.cpu().numpy().astype(np.float64)
            order = np.argsort(-scores, kind="stable")
            rows.append(xyxy_to_mot(frame_index(path) + 1, xyxy[order], scores[order]))
        if on_batch:
            on_batch(len(chunk))
    return np.concatenate(rows) if rows else np.zeros((0, 10))


@dataclass
class DetectSettings:
    """The flags detect.py and eval_detector_tm.py share."""

    det_model: str
    conf: float = DEFAULT_CONF
    iou: float = DEFAULT_NMS_IOU
    imgsz: int | None = None
    batch: int = DEFAULT_BATCH
    device: str | None = None
    overwrite: bool = False
    threads: int | None = None


def preds_path(output_dir: str, dataset: str, clip: str) -> str:
    return os.path.join(output_dir, dataset, clip, "preds.txt")


def detect_domain(input_dir: str, output_dir: str, dataset: str, settings: DetectSettings,
                  clips: list[str] | None = None, progress: bool = True) -> dict[str, str]:
    """Run the detector over every clip of `input_dir/<dataset>` (or `clips`), writing
    `output_dir/<dataset>/<clip>/preds.txt`. Clips whose preds.txt exists are skipped unless `overwrite`;
    the model is loaded only if some clip needs it. Returns {clip: preds path}.
    """
    from tqdm import tqdm

    domain_dir = require_dir(os.path.join(input_dir, dataset), f"frames of domain {dataset!r}")
    check_not_inside(output_dir, input_dir)
    if clips is None:
        clips = [os.path.basename(d) for d in list_clip_dirs(domain_dir)]
        if not clips:
            fail(f"no clip folders in {domain_dir}")
    out = {c: preds_path(output_dir, dataset, c) for c in clips}
    todo = [c for c in clips if settings.overwrite or not os.path.exists(out[c])]
    if len(todo) < len(clips):
        print(f"{dataset}: {len(clips) - len(todo)} clip(s) already have preds.txt (skipped; --overwrite redoes them)")
    if not todo:
        return out
    model = load_detector(settings.det_model)
    from common.offline import set_threads

    set_threads(settings.threads)
    imgsz = settings.imgsz or training_imgsz(model)
    frames = {c: list_frames(os.path.join(domain_dir, c)) for c in todo}
    with tqdm(total=sum(map(len, frames.values())), desc=f"detect {dataset}", unit="frame",
              disable=not progress) as bar:
        for c in todo:
            rows = predict_frames(model, frames[c], imgsz, settings.conf, settings.iou, settings.batch,
                                  settings.device, on_batch=bar.update)
            write_mot(out[c], rows)
    return out


def add_detect_flags(parser, for_eval: bool = False) -> None:
    """Flags shared by detect.py and eval_detector_tm.py (one definition, two scripts). For the evaluator the
    weights are optional (needed only for clips without preds.txt) and the ground truth is required."""
    parser.add_argument("--dataset", required=not for_eval, default="kenai-train" if for_eval else None,
                        help="domain, e.g. kenai-val (a folder under --input_dir and --gt_dir)")
    parser.add_argument("--det_model", "--det-model", dest="det_model", required=not for_eval, default=None,
                        help="detector weights (train_detector.py's best.pt)"
                             + ("; used only for clips that have no preds.txt yet" if for_eval else ""))
    parser.add_argument("--input_dir", "--input-dir", dest="input_dir", required=True,
                        help="frames root: <dataset>/<clip>/<i>.<ext> (merged 3-channel or 1-channel frames)")
    parser.add_argument("--output_dir", "--output-dir", dest="output_dir", required=True,
                        help="results root: <dataset>/<clip>/preds.txt (metrics are written beside them)")
    parser.add_argument("--gt_dir", "--gt-dir", dest="gt_dir", required=for_eval, default=None,
                        help="MOT ground truth root: <dataset>/<clip>/gt.txt"
                             + ("" if for_eval else " (optional, for a summary line only)"))
    parser.add_argument("--conf", "--conf-thres", type=float, default=DEFAULT_CONF,
                        help="confidence threshold (CFC fisheye-advanced setting; see docs/paper_code_behaviour.md)")
    parser.add_argument("--iou", "--nms_thresh", type=float, default=DEFAULT_NMS_IOU,
                        help="NMS IoU threshold (CFC fisheye-advanced setting)")
    parser.add_argument("--img-size", "--img_size", dest="img_size", type=int, default=None,
                        help="inference image size (default: the training image size stored in the weights)")
    parser.add_argument("--batch-size", "--batch_size", dest="batch_size", type=int, default=DEFAULT_BATCH,
                        help="frames per forward pass")
    parser.add_argument("--device", default=None, help="cpu, 0, 0,1 ... (default: GPU 0 if present, else cpu)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for torch (default: all cores)")
    parser.add_argument("--overwrite", action="store_true", help="redo clips whose preds.txt already exists")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def add_conversion_flags(parser) -> None:
    """Input/output and split flags shared by the YOLO and COCO converters."""
    parser.add_argument("--mot-dir", required=True, help="MOT annotations root: <domain>/<clip>/gt.txt")
    parser.add_argument("--frames-dir", required=True,
                        help="frames root: <domain>/<clip>/<i>.jpg|png (raw or merged)")
    parser.add_argument("--output-dir", required=True, help="folder to write (must not be inside the inputs)")
    parser.add_argument("--train-domains", nargs="+", default=None,
                        help="domains of the train split (default: kenai-train)")
    parser.add_argument("--val-domains", nargs="+", default=None, help="domains of the val split (default: kenai-val)")
    parser.add_argument("--test-domains", nargs="*", default=None,
                        help="domains of the test split (default: every other domain present; the flag alone = none)")


def detect_settings(args) -> DetectSettings:
    return DetectSettings(args.det_model, args.conf, args.iou, args.img_size, args.batch_size, args.device,
                          args.overwrite, args.threads)
