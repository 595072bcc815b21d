"""PSNR and SSIM of uint8-range images: the one implementation, from torchmetrics.

The synthetic generator reports the noisy-vs-clean PSNR of its benchmark and the results report scores every
denoiser's frames against the clean ones (docs/report.md); both call these, so the two numbers are comparable.
PSNR is computed in float64. SSIM runs one float32 frame at a time on one torch thread: torchmetrics convolves with
a full 2-D Gaussian window, and on this project's 2-core CPU that convolution took 5 ms per 256×128 frame on one
thread against 37–71 ms on two (thread start-up per small convolution dominates), and batching frames did not help
on one thread (10 ms per frame in batches of 8; the report scores thousands of frames). float32 moves the mean SSIM of sonar frames by about 1e-7 (measured against float64); in
bright flat areas the variance cancellation E[x²] − μ² costs more (about 2e-4 at grey level 100).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

DATA_RANGE = 255.0
SSIM_BATCH = 1          # frames per torchmetrics call (see the module docstring)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two uint8-range arrays of the same shape (one MSE over every element); inf if identical."""
    import torch
    from torchmetrics.functional.image import peak_signal_noise_ratio

    if np.shape(a) != np.shape(b):
        raise ValueError(f"psnr of arrays of different shapes {np.shape(a)} and {np.shape(b)}")
    return float(peak_signal_noise_ratio(torch.as_tensor(np.asarray(a, dtype=np.float64)),
                                         torch.as_tensor(np.asarray(b, dtype=np.float64)), data_range=DATA_RANGE))


def ssim_frames(a: Sequence[np.ndarray] | np.ndarray, b: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
    """Mean SSIM of each pair of gray frames (Wang et al. 2004: Gaussian window σ = 1.5, K1 = 0.01, K2 = 0.03):
    two N×H×W stacks (or lists of N same-shape H×W frames) → N values."""
    import torch
    from torchmetrics.functional.image import structural_similarity_index_measure

    a, b = np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32)
    if a.ndim != 3 or a.shape != b.shape:
        raise ValueError(f"ssim needs two stacks of gray frames of one shape, got {a.shape} and {b.shape}")
    out = [np.zeros(0)]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for start in range(0, len(a), SSIM_BATCH):
            chunk = slice(start, start + SSIM_BATCH)
            values = structural_similarity_index_measure(
                torch.from_numpy(a[chunk])[:, None], torch.from_numpy(b[chunk])[:, None], data_range=DATA_RANGE,
                sigma=1.5, k1=0.01, k2=0.03, reduction="none")
            out.append(values.double().numpy().reshape(-1))
    finally:
        torch.set_num_threads(threads)
    return np.concatenate(out)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM of two uint8-range gray images (`ssim_frames` of one pair)."""
    if np.ndim(a) != 2:
        raise ValueError(f"ssim needs two gray images, got shape {np.shape(a)}")
    return float(ssim_frames(np.asarray(a)[None], np.asarray(b)[None])[0])
