"""Image quality of a denoiser's frames against the synthetic clean frames: PSNR and SSIM (common.quality) after
a per-frame least-squares gain/offset fit (docs/report.md).
"""
from __future__ import annotations

import os

import numpy as np

from common.quality import psnr, ssim


def fit_to(img: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Least-squares gain and offset mapping `img` onto `ref`, clipped to 0..255.

    Denoiser outputs (SAVeD's, like the paper's) are min-max stretched per frame, so their intensity scale is
    arbitrary; PSNR/SSIM are computed after this fit, for every row alike, so they measure structure, not scale.
    """
    x = img.astype(np.float64).ravel()
    y = ref.astype(np.float64).ravel()
    var = x.var()
    gain = ((x - x.mean()) * (y - y.mean())).mean() / var if var > 0 else 0.0
    out = gain * (img.astype(np.float64) - x.mean()) + y.mean()
    return np.clip(out, 0, 255)


def _fitted_pairs(clip_dir: str, clean_dir: str, channel: int | None, max_frames: int | None):
    """(frame fitted onto its clean frame, clean frame) for each frame of a clip that has a readable clean twin."""
    import cv2

    from dataset.frames import frame_index, list_frames

    frames = list_frames(clip_dir)
    clean_files = {frame_index(p): p for p in list_frames(clean_dir, required=False)}
    if max_frames:
        frames = frames[:: max(1, len(frames) // max_frames)]
    for f in frames:
        img = cv2.imread(f, cv2.IMREAD_UNCHANGED)
        if img is None:
            continue
        if img.ndim == 3:
            img = img[:, :, channel] if channel is not None else cv2.cvtColor(img[:, :, :3], cv2.COLOR_BGR2GRAY)
        clean_path = clean_files.get(frame_index(f))
        clean = cv2.imread(clean_path, cv2.IMREAD_GRAYSCALE) if clean_path else None
        if clean is None:
            continue
        if img.shape != clean.shape:
            img = cv2.resize(img, (clean.shape[1], clean.shape[0]), interpolation=cv2.INTER_AREA)
        yield fit_to(img, clean), clean


def image_quality(frames_root: str, clean_root: str, domains: list[str], channel: int | None = None,
                  max_frames_per_clip: int | None = None, per_clip: dict | None = None) -> dict[str, float]:
    """Mean PSNR and SSIM of an image tree against the synthetic clean frames (same clip and frame names).

    `channel` picks one channel of colour frames (BGR order as OpenCV reads them); None reads grayscale.
    `per_clip`, when given, receives {clip: [(psnr, ssim) per frame]} (the bootstrap over clips re-pools them).
    """
    from dataset.frames import list_clip_dirs

    scores: list[tuple[float, float]] = []
    for domain in domains:
        droot = os.path.join(frames_root, domain)
        if not os.path.isdir(droot):
            continue
        for clip_dir in list_clip_dirs(droot):
            clean_dir = os.path.join(clean_root, domain, os.path.basename(clip_dir))
            if not os.path.isdir(clean_dir):
                continue
            # (PSNR capped at 100 dB, SSIM) per frame; common.quality scores SSIM one frame per call anyway
            clip_scores = [(min(psnr(img, clean), 100.0), ssim(img, clean))
                           for img, clean in _fitted_pairs(clip_dir, clean_dir, channel, max_frames_per_clip)]
            scores += clip_scores
            if per_clip is not None and clip_scores:
                per_clip.setdefault(os.path.basename(clip_dir), []).extend(clip_scores)
    if not scores:
        return {}
    return {"psnr": float(np.mean([p for p, _ in scores])), "ssim": float(np.mean([s for _, s in scores]))}
