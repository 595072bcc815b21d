"""Detector inference: frames → MOT detection rows (preds.txt) with a local ultralytics model (docs/detection.md).

Heavy imports (cv2, torch, ultralytics) stay inside functions so the scripts' `--help` is instant.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from common.boxes import xyxy_to_mot
from common.cli import check_not_inside, fail, require_dir
from common.mot import preds_path, write_mot
from dataset.frames import frame_index, list_clip_dirs, list_frames

# Inference settings of the CFC "fisheye-advanced" configuration that track.py copies
# (docs/paper_code_behaviour.md#detector-inference).
DEFAULT_CONF = 0.05
DEFAULT_NMS_IOU = 0.25
DEFAULT_BATCH = 32


def default_device() -> str:
    """GPU 0 when torch sees one, else the CPU (ultralytics' device spelling)."""
    import torch

    return "0" if torch.cuda.is_available() else "cpu"


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
