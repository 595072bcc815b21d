"""Training augmentations in plain torch (docs/paper_code_behaviour.md#augmentations), plus the Gaussian blur the
targets share.

The paper used a kornia `AugmentationSequential` (salt-and-pepper amount 0.5 / salt ratio 0.5, Gaussian blur 5×5
σ∈[0.1, 2], motion blur kernel 5 angle ±30° direction ±0.5, random erasing scale 0.001 ratio 0.3–3.33, brightness
factor 0.2–2.0), each member firing with its own probability, `same_on_batch=True`, and ONE parameter draw applied
to the input frames, the target and the object mask alike. `Augmenter` does the same: every tensor passed in one
call receives the identical transform. kornia is not a dependency; each op is a few lines here.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor


def opencv_sigma(ksize: int) -> float:
    """The σ OpenCV derives for a Gaussian kernel of size `ksize` when σ=0 (the global background uses 5×5 with σ=0 → 1.1,
    docs/paper_code_behaviour.md#global-background)."""
    return 0.3 * ((ksize - 1) * 0.5 - 1) + 0.8


def gaussian_kernel1d(ksize: int, sigma: float, device=None, dtype=torch.float32) -> Tensor:
    x = torch.arange(ksize, device=device, dtype=dtype) - (ksize - 1) / 2
    k = torch.exp(-(x ** 2) / (2 * sigma ** 2))
    return k / k.sum()


def filter2d(x: Tensor, kernel: Tensor) -> Tensor:
    """Correlate every channel of N×C×H×W `x` with one 2-D kernel (reflect border, as OpenCV's default)."""
    kh, kw = kernel.shape
    c = x.shape[1]
    pad = (kw // 2, kw // 2, kh // 2, kh // 2)
    mode = "reflect" if min(x.shape[-2:]) > max(kh, kw) // 2 else "replicate"
    w = kernel.to(x).expand(c, 1, kh, kw)
    return F.conv2d(F.pad(x, pad, mode=mode), w, groups=c)


def gaussian_blur(x: Tensor, ksize: int = 5, sigma: Optional[float] = None) -> Tensor:
    """Separable Gaussian blur of N×C×H×W `x`; σ=None takes OpenCV's rule for `ksize`."""
    k = gaussian_kernel1d(ksize, sigma if sigma is not None else opencv_sigma(ksize), x.device, x.dtype)
    return filter2d(x, k[:, None] * k[None, :])


def motion_kernel(ksize: int, angle_deg: float, direction: float) -> Tensor:
    """A normalised line kernel through the centre at `angle_deg`; `direction` in [-1, 1] tilts the weights
    towards one end (0 = uniform), as kornia's motion blur."""
    weights = (1.0 + direction * torch.linspace(-1.0, 1.0, ksize)).clamp(min=0)
    kernel = torch.zeros(ksize, ksize)
    c = (ksize - 1) / 2
    a = math.radians(angle_deg)
    for i, w in enumerate(weights.tolist()):
        r = i - c
        x, y = c + r * math.cos(a), c - r * math.sin(a)
        # bilinear splat of the line sample onto the grid
        x0, y0 = math.floor(x), math.floor(y)
        for dx, dy in ((0, 0), (1, 0), (0, 1), (1, 1)):
            xi, yi = x0 + dx, y0 + dy
            if 0 <= xi < ksize and 0 <= yi < ksize:
                kernel[yi, xi] += w * (1 - abs(x - xi)) * (1 - abs(y - yi))
    return kernel / kernel.sum()


class Augmenter:
    """Apply the paper's five augmentations, each with its own probability, identically to several tensors."""

    def __init__(self, salt_and_pepper_p: float = 0.0, gaussian_blur_p: float = 0.0, motion_blur_p: float = 0.0,
                 brightness_p: float = 0.0, erase_p: float = 0.0, generator: Optional[torch.Generator] = None):
        self.p = dict(salt_and_pepper=salt_and_pepper_p, gaussian_blur=gaussian_blur_p, motion_blur=motion_blur_p,
                      erase=erase_p, brightness=brightness_p)
        self.g = generator

    @property
    def active(self) -> bool:
        return any(p > 0 for p in self.p.values())

    def _u(self, lo: float = 0.0, hi: float = 1.0) -> float:
        return lo + (hi - lo) * float(torch.rand((), generator=self.g))

    def __call__(self, tensors: Sequence[Tensor]) -> list[Tensor]:
        """Transform a list of N×C_i×H×W tensors with one shared parameter draw; returns them in order."""
        if not self.active:
            return list(tensors)
        sizes = [t.shape[1] for t in tensors]
        x = torch.cat(list(tensors), dim=1)
        for name, p in self.p.items():
            if p > 0 and self._u() < p:
                x = getattr(self, "_" + name)(x)
        return list(torch.split(x, sizes, dim=1))

    def _salt_and_pepper(self, x: Tensor, amount: float = 0.5, salt_ratio: float = 0.5) -> Tensor:
        n, _, h, w = x.shape
        r = torch.rand((1, 1, h, w), generator=self.g).to(x.device)  # same pixels on the batch and every tensor
        x = torch.where(r < amount * salt_ratio, torch.ones_like(x), x)
        return torch.where((r >= amount * salt_ratio) & (r < amount), torch.zeros_like(x), x)

    def _gaussian_blur(self, x: Tensor) -> Tensor:
        return gaussian_blur(x, 5, self._u(0.1, 2.0))

    def _motion_blur(self, x: Tensor) -> Tensor:
        return filter2d(x, motion_kernel(5, self._u(-30.0, 30.0), self._u(-0.5, 0.5)))

    def _brightness(self, x: Tensor) -> Tensor:
        # kornia's brightness adds (factor - 1) and clips to [0, 1]
        return (x + (self._u(0.2, 2.0) - 1.0)).clamp(0.0, 1.0)

    def _erase(self, x: Tensor, scale: float = 0.001) -> Tensor:
        h, w = x.shape[-2:]
        ratio = math.exp(self._u(math.log(0.3), math.log(1 / 0.3)))
        area = scale * h * w
        eh = max(1, min(h, int(round(math.sqrt(area * ratio)))))
        ew = max(1, min(w, int(round(math.sqrt(area / ratio)))))
        top = int(self._u() * (h - eh + 1))
        left = int(self._u() * (w - ew + 1))
        x = x.clone()
        x[..., top:top + eh, left:left + ew] = 0.0
        return x
