"""Box conventions in one place: MOT rows (1-based left/top, width, height), 0-based pixel corners x1, y1, x2, y2,
YOLO's normalised centre/size, and IoU.

Pure numpy, no project imports: the dataset generator, the YOLO converter, the detection and tracking metrics and
the trackers all convert through here, so a box means the same thing everywhere (docs/detection.md, docs/tracking.md).
"""
from __future__ import annotations

import numpy as np


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


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of N×4 and M×4 corner boxes → N×M (0 where the union is empty)."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    ix = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    iy = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = ix * iy
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
