"""The report's figures: metric bars, crops around fish, and a side-by-side GIF of the clips (docs/report.md)."""
from __future__ import annotations

import os

import numpy as np

from common.imaging import write_gif
from common.mot import by_frame, read_mot
from common.plots import pyplot, save_figure
from downstream.report_table import COLUMNS, Row


def plot_bars(rows: list[Row], path: str, keys=("map50", "hota", "mota", "idf1", "nmae")) -> bool:
    """Grouped bars of the downstream metrics, one colour per row; False (nothing written) without any of `keys`."""
    keys = [k for k in keys if any(k in r.metrics for r in rows)]
    if not keys:
        return False
    fig, ax = pyplot().subplots(figsize=(7, 3.4))
    width = 0.8 / max(1, len(rows))
    x = np.arange(len(keys))
    for i, r in enumerate(rows):
        ax.bar(x + i * width, [r.metrics.get(k, np.nan) for k in keys], width, label=r.kind)
    ax.set_xticks(x + width * (len(rows) - 1) / 2)
    ax.set_xticklabels([COLUMNS[k][0] for k in keys])
    ax.axhline(0, color="k", lw=0.5)
    ax.set_title("Downstream metrics on the test domain (nMAE: lower is better)")
    ax.legend(fontsize=8)
    save_figure(fig, path)
    return True


def crop_grid(panels: dict[str, str], gt_txt: str, frame_idx: list[int], path: str, size: int = 64) -> bool:
    """A grid of crops around fish: one column per source (name → clip folder), one row per chosen frame."""
    import cv2

    from dataset.frames import list_frames

    rows_by_frame = by_frame(read_mot(gt_txt, allow_missing=True))
    tiles = []
    for t in frame_idx:
        boxes = rows_by_frame.get(t + 1)
        if boxes is None:
            continue
        left, top, w, h = boxes[0][2:6]
        cx, cy = int(left - 1 + w / 2), int(top - 1 + h / 2)
        row = []
        for name, clip_dir in panels.items():
            files = {os.path.splitext(os.path.basename(f))[0]: f for f in list_frames(clip_dir, required=False)}
            f = files.get(str(t))
            img = cv2.imread(f, cv2.IMREAD_GRAYSCALE) if f else None
            if img is None:
                img = np.zeros((size, size), np.uint8)
            pad = np.pad(img, size, mode="constant")
            crop = pad[cy + size - size // 2: cy + size + size // 2, cx + size - size // 2: cx + size + size // 2]
            crop = cv2.resize(crop, (2 * size, 2 * size), interpolation=cv2.INTER_NEAREST)
            cv2.putText(crop, name, (2, 12), cv2.FONT_HERSHEY_PLAIN, 0.8, 255, 1)
            row.append(crop)
        tiles.append(np.hstack(row))
    if not tiles:
        return False
    from dataset.frames import write_frame

    write_frame(path, np.vstack(tiles))
    return True


def side_by_side_gif(panels: dict[str, str], path: str, max_frames: int = 60, fps: float = 10.0) -> bool:
    """An animated GIF with the named clip folders side by side (e.g. raw | SAVeD | clean)."""
    import cv2

    from dataset.frames import list_frames

    lists = [list_frames(d, required=False) for d in panels.values()]
    n = min((len(x) for x in lists), default=0)
    if n == 0:
        return False
    images = []
    for i in range(min(n, max_frames)):
        parts = []
        for files in lists:
            img = cv2.imread(files[i], cv2.IMREAD_GRAYSCALE)
            if parts and img.shape != parts[0].shape:
                img = cv2.resize(img, (parts[0].shape[1], parts[0].shape[0]))
            parts.append(img)
        frame = np.hstack(parts)
        for j, name in enumerate(panels):
            cv2.putText(frame, name, (3 + j * parts[0].shape[1], 12), cv2.FONT_HERSHEY_PLAIN, 0.8, 255, 1)
        images.append(frame)
    write_gif(path, images, fps)
    return True
