"""`AE_1024` (`--model_type ae`; docs/paper_code_behaviour.md#other-model-types): a plain auto-encoder over the three
frames stacked as channels.

Encoder 6× [Conv3×3, ReLU, MaxPool] (3→16…512, the frames are encoded jointly); decoder 6× [bilinear ×2 upsample
(align_corners=True), Conv3×3, BN, ReLU] to 256, 128, 64, 32, 16, 1. Kept as in the paper: the output passes a
final BN+ReLU, so it is non-negative. The per-frame chunks the paper computed and never used are not computed.
3,145,731 parameters; H and W must be multiples of 64.
"""
from __future__ import annotations

import torch
from torch import nn

from models import ModelConfig


class AE1024(nn.Module):
    def __init__(self, in_channels: int = 3):
        super().__init__()
        self.n_frames = in_channels
        enc: list[nn.Module] = []
        cin = in_channels
        for c in (16, 32, 64, 128, 256, 512):
            enc += [nn.Conv2d(cin, c, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
            cin = c
        self.encoder = nn.Sequential(*enc)
        dec: list[nn.Module] = []
        for c in (256, 128, 64, 32, 16, 1):
            dec += [nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True),
                    nn.Conv2d(cin, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(inplace=True)]
            cin = c
        self.decoder = nn.Sequential(*dec)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.n_frames:
            raise ValueError(f"AE1024 expects B×{self.n_frames}×H×W, got {tuple(x.shape)}")
        return self.decoder(self.encoder(x))


def build_ae(config: ModelConfig) -> AE1024:
    return AE1024(in_channels=3)
