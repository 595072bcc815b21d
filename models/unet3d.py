"""`UNetTiny3D` (`unet_tiny_3d`, alias `unet_4hlayers_3d`; docs/paper_code_behaviour.md#other-model-types): a 3-D U-Net
over a 31-frame window.

Input B×1×H×W×T (T = 31 frames t-15 … t+15), or equivalently B×T×H×W (frames as channels, as the 2-D windows are
built) which is permuted for you. DoubleConv3d blocks (3×3×3 without bias, BN3d, ReLU), four Down blocks pooling H, W
and T, widths 4→8→16→32→32 (bilinear halves the last), trilinear Up blocks, and a Conv3d head with kernel
[1, 1, 31] that collapses T. Output B×1×H×W. H and W must be multiples of 16.
"""
from __future__ import annotations

import torch
from torch import nn

from models import ModelConfig
from models.unet import Down, DoubleConv, Up


class UNetTiny3D(nn.Module):
    def __init__(self, n_timesteps_in: int = 31, num_layers: int = 4, start_hidden_dim: int = 4):
        super().__init__()
        self.n_frames = n_timesteps_in
        w = [start_hidden_dim * 2**k for k in range(num_layers + 1)]
        w[-1] //= 2  # bilinear=True halves the bottom width (milesial convention)
        self.inc = DoubleConv(1, w[0], dims=3)
        self.downs = nn.ModuleList(Down(a, b, dims=3) for a, b in zip(w[:-1], w[1:]))
        ups = []
        for k in range(num_layers - 1, -1, -1):  # concat width = skip w[k] + upsampled (w[k] after the first)
            cout = w[k] // 2 if k > 0 else w[0]
            ups.append(Up(2 * w[k], cout, w[k], dims=3, interpolate=True))
        self.ups = nn.ModuleList(ups)
        self.head = nn.Conv3d(w[0], 1, kernel_size=(1, 1, n_timesteps_in))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 4 and x.shape[1] == self.n_frames:
            x = x.permute(0, 2, 3, 1).unsqueeze(1)  # B×T×H×W -> B×1×H×W×T
        if x.dim() != 5 or x.shape[1] != 1 or x.shape[-1] != self.n_frames:
            raise ValueError(f"UNetTiny3D expects B×1×H×W×{self.n_frames} (or B×{self.n_frames}×H×W), got {tuple(x.shape)}")
        feats = [self.inc(x)]
        for down in self.downs:
            feats.append(down(feats[-1]))
        y = feats[-1]
        for up, skip in zip(self.ups, feats[-2::-1]):
            y = up(y, skip)
        return self.head(y).squeeze(-1)


def build_unet_tiny_3d(config: ModelConfig) -> UNetTiny3D:
    return UNetTiny3D(n_timesteps_in=31, num_layers=4, start_hidden_dim=4)
