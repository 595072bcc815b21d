"""The paper's U-Net baselines `unet` and `unet_downscaled` (docs/paper_code_behaviour.md#other-model-types), plus the
U-Net parts shared with models/unet3d.py (`DoubleConv`, `Down`, `Up`, written once for 2-D and 3-D through `dims`).

Three UNSHARED encoders (one per input frame t, t-1, t-2); at each level the three features are summed and passed
through a squeeze combiner (c -> c/2 -> c); a standard U-Net decoder (ConvT up, pad, cat[skip, up], DoubleConv)
ends in a 1×1 head. The paper's registered-but-unused `combiner` (DoubleConv 3072->1024) and spare encoder are not
built (docs/paper_code_behaviour.md#dead-code): `unet` has 81,302,113 parameters, `unet_downscaled` 19,494,253.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from models import ModelConfig

_CONV = {2: nn.Conv2d, 3: nn.Conv3d}
_BN = {2: nn.BatchNorm2d, 3: nn.BatchNorm3d}
_POOL = {2: nn.MaxPool2d, 3: nn.MaxPool3d}


class DoubleConv(nn.Sequential):
    """(conv 3×3[×3] without bias, BN, ReLU) twice; `mid` is the width between the two convs."""

    def __init__(self, cin: int, cout: int, mid: int | None = None, dims: int = 2):
        mid = mid or cout
        conv, bn = _CONV[dims], _BN[dims]
        super().__init__(
            conv(cin, mid, 3, padding=1, bias=False), bn(mid), nn.ReLU(inplace=True),
            conv(mid, cout, 3, padding=1, bias=False), bn(cout), nn.ReLU(inplace=True),
        )


class Down(nn.Sequential):
    """Max-pool by 2 in every spatial (and temporal) dim, then DoubleConv."""

    def __init__(self, cin: int, cout: int, mid: int | None = None, dims: int = 2):
        super().__init__(_POOL[dims](2), DoubleConv(cin, cout, mid, dims))


def pad_to(x: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """Zero-pad x's trailing spatial dims (split evenly) to ref's size: odd sizes survive pool/upsample."""
    pads: list[int] = []
    for dim in range(x.dim() - 1, 1, -1):  # F.pad lists the last dim first
        diff = ref.shape[dim] - x.shape[dim]
        pads += [diff // 2, diff - diff // 2]
    return F.pad(x, pads) if any(pads) else x


class Up(nn.Module):
    """Upsample x by 2 (ConvT halving the width, or (tri/bi)linear interpolation), pad to the skip, cat[skip, up],
    DoubleConv. `cin` is the width after concatenation when interpolating, the width of x when transposing."""

    def __init__(self, cin: int, cout: int, mid: int | None = None, dims: int = 2, interpolate: bool = False):
        super().__init__()
        self.interpolate = interpolate
        if interpolate:
            self.mode = "bilinear" if dims == 2 else "trilinear"
            self.up = None
            self.conv = DoubleConv(cin, cout, mid or cin // 2, dims)
        else:
            self.up = (nn.ConvTranspose2d if dims == 2 else nn.ConvTranspose3d)(cin, cin // 2, 2, stride=2)
            self.conv = DoubleConv(cin, cout, mid, dims)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        if self.up is None:
            x = F.interpolate(x, scale_factor=2, mode=self.mode, align_corners=True)
        else:
            x = self.up(x)
        return self.conv(torch.cat([skip, pad_to(x, skip)], dim=1))


class UNetEncoder(nn.Module):
    """One frame's encoder: DoubleConv(1->64), then Down to 128, 256, 512, 1024; returns all five levels."""

    def __init__(self, widths: list[int], mid_div: int):
        super().__init__()
        self.inc = DoubleConv(1, widths[0], widths[0] // mid_div)
        self.downs = nn.ModuleList(Down(a, b, b // mid_div) for a, b in zip(widths[:-1], widths[1:]))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        feats = [self.inc(x)]
        for down in self.downs:
            feats.append(down(feats[-1]))
        return feats


class MultiFrameUNet(nn.Module):
    """Input B×3×H×W (frames t, t-1, t-2), output B×1×H×W; H, W multiples of 16. `mid_div`=16 is unet_downscaled,
    whose DoubleConvs narrow their middle width 16-fold (the paper meant it to match the CNN's size)."""

    def __init__(self, mid_div: int = 1, n_frames: int = 3, widths: tuple[int, ...] = (64, 128, 256, 512, 1024)):
        super().__init__()
        self.n_frames = n_frames
        w = list(widths)
        self.encoders = nn.ModuleList(UNetEncoder(w, mid_div) for _ in range(n_frames))
        self.combiners = nn.ModuleList(
            nn.Sequential(nn.Conv2d(c, c // 2, 3, padding=1), nn.ReLU(inplace=True),
                          nn.Conv2d(c // 2, c, 3, padding=1), nn.ReLU(inplace=True))
            for c in w
        )
        self.ups = nn.ModuleList(Up(c, c // 2, (c // 2) // mid_div) for c in w[::-1][:-1])
        self.head = nn.Conv2d(w[0], 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.n_frames:
            raise ValueError(f"{type(self).__name__} expects B×{self.n_frames}×H×W, got {tuple(x.shape)}")
        per_frame = [enc(x[:, i : i + 1]) for i, enc in enumerate(self.encoders)]
        levels = [comb(sum(f[k] for f in per_frame)) for k, comb in enumerate(self.combiners)]
        y = levels[-1]
        for up, skip in zip(self.ups, levels[-2::-1]):
            y = up(y, skip)
        return self.head(y)


def build_unet(config: ModelConfig) -> MultiFrameUNet:
    return MultiFrameUNet(mid_div=1)


def build_unet_downscaled(config: ModelConfig) -> MultiFrameUNet:
    return MultiFrameUNet(mid_div=16)
