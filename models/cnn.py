"""`DenoisingCNN`: the paper's CNN family (docs/paper_code_behaviour.md#model-and-flags) as ONE configurable network.

Two topologies, chosen from the `ModelConfig` flags:
- "skips" (`--with_skip_connections`, `--with_residual_connections` or `--with_resnet_blocks`): the README model
  (docs/paper_code_behaviour.md#readme-network). A shared per-frame encoder (conv unit, max-pool, internal 1×1 skip)
  feeds a SUM bottleneck with a squeeze
  combiner, per-level feature combiners on cat[t, t-1, t-2], and a decoder that concatenates [upsampled, skip].
- "plain" (no skip flag, or `--num_prev_frames 5`): shared encoder, summed over frames, combiner, ConvT decoder.

Module names equal the paper's used state-dict keys (docs/paper_code_behaviour.md#checkpoint-layout), so importing a
paper checkpoint only drops dead keys.
Only modules used by `forward` are registered: the paper configuration has exactly 25,543,281 parameters.
"""
from __future__ import annotations

import torch
from torch import nn

from common.cli import UserError
from models import ModelConfig

LEVELS = {512: 5, 1024: 6, 2048: 7}  # encoder depth of the fine/skip variants per --resolution_target
                                     # (docs/paper_code_behaviour.md#architecture-flags)


def valid_bottlenecks(resolution_target: int) -> list[int]:
    """--bottleneck_size values whose combiner exists in the paper code
    (docs/paper_code_behaviour.md#architecture-flags)."""
    top = {512: 64, 1024: 512, 2048: 1024}[resolution_target]
    return [b for b in (16, 32, 64, 128, 256, 512, 1024) if b <= top]


def check_cnn_config(cfg: ModelConfig) -> None:
    """Reject flag combinations the paper code cannot build, naming the valid values (one-line UserError)."""
    if cfg.resolution_target not in LEVELS:
        raise UserError(f"--resolution_target {cfg.resolution_target} is not supported; valid: 512, 1024, 2048")
    if cfg.num_prev_frames not in (2, 5):
        raise UserError(f"--num_prev_frames {cfg.num_prev_frames} is not supported; valid: 2, 5")
    if cfg.num_prev_frames == 5:
        if cfg.resolution_target == 2048:
            raise UserError("--num_prev_frames 5 exists only at --resolution_target 512 or 1024")
        return  # the 5-frame network takes no other flag (bottleneck fixed at 16,
                # docs/paper_code_behaviour.md#architecture-flags)
    valid = valid_bottlenecks(cfg.resolution_target)
    if cfg.bottleneck_size not in valid:
        raise UserError(
            f"--bottleneck_size {cfg.bottleneck_size} is not valid at --resolution_target {cfg.resolution_target}; "
            f"valid: {', '.join(map(str, valid))}"
        )


def unit_style(cfg: ModelConfig) -> str | None:
    """'resnet' | 'residual' | 'plain' for the skip topology, None for the plain topology (precedence as in
    docs/paper_code_behaviour.md#network-selection)."""
    if cfg.num_prev_frames == 5:
        return None
    if cfg.with_resnet_blocks:  # the paper checks this last, so it wins over --with_residual_connections
        return "resnet"
    if cfg.with_residual_connections:
        return "residual"
    return "plain" if cfg.with_skip_connections else None


def _plain_widths(cfg: ModelConfig) -> list[int]:
    """Encoder widths of the no-skip topology: fine = 16…top (one level per ×2), non-fine = 64…top
    (docs/paper_code_behaviour.md#architecture-flags)."""
    levels = LEVELS[cfg.resolution_target]
    fine = cfg.fine_layers and cfg.num_prev_frames == 2
    return [16 * 2**k for k in range(levels)] if fine else [64 * 2**k for k in range(levels - 2)]


def cnn_size_multiple(cfg: ModelConfig) -> int:
    check_cnn_config(cfg)
    depth = LEVELS[cfg.resolution_target] if unit_style(cfg) else len(_plain_widths(cfg))
    return 2**depth


def conv_units(cin: int, cout: int, style: str, project: bool = True) -> list[nn.Module]:
    """One 'conv unit' of the skip topology: Conv3×3+ReLU, or a residual / BN-ResNet block
    (docs/paper_code_behaviour.md#architecture-flags).

    Returned as a flat list so the plain unit keeps the paper's Sequential indices (`.0` conv, `.2` next conv).
    """
    if style == "plain":
        return [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(inplace=True)]
    if style == "resnet":
        return [ResNetBlock(cin, cout)]
    return [ResidualBlock(cin, cout, project=project)]


class ResNetBlock(nn.Module):
    """conv-BN-ReLU-conv-BN + shortcut (1×1 conv + BN when the width changes), then ReLU (--with_resnet_blocks,
    docs/paper_code_behaviour.md#architecture-flags)."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
        )
        self.shortcut = (
            nn.Identity() if cin == cout else nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.shortcut(x))


class ResidualBlock(nn.Module):
    """Two Conv3×3 (ReLU between) + identity or 1×1 projection, then ReLU (--with_residual_connections,
    docs/paper_code_behaviour.md#architecture-flags).

    With project=False (the decoder blocks) the residual is added only where the widths match, as in the paper.
    """

    def __init__(self, cin: int, cout: int, project: bool = True):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(cout, cout, 3, padding=1)
        )
        if cin == cout:
            self.shortcut: nn.Module | None = nn.Identity()
        else:
            self.shortcut = nn.Conv2d(cin, cout, 1) if project else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return torch.relu(y if self.shortcut is None else y + self.shortcut(x))


def run_on_concat(block: nn.Module, parts: list[torch.Tensor]) -> torch.Tensor:
    """`block(torch.cat(parts, dim=1))`. A block that takes the parts directly (`forward_parts`, added by the CPU
    inference fusion in inference/cpu_fusion.py) computes the same without copying them into one tensor."""
    forward_parts = getattr(block, "forward_parts", None)
    return forward_parts(parts) if forward_parts is not None else block(torch.cat(parts, dim=1))


class PooledSkip(nn.Sequential):
    """Max-pool, then the 'internal skip' of each encoder level (docs/paper_code_behaviour.md#readme-network).

    Plain/ResNet: x = p + Conv1×1(p), p = maxpool(a). Residual variant: x = block(p), where the block adds p itself;
    the paper computed that branch and passed the plain pooled tensor on (a bug,
    docs/paper_code_behaviour.md#architecture-flags); here it feeds the next level.
    """

    def __init__(self, width: int, style: str):
        branch = ResidualBlock(width, width) if style == "residual" else nn.Conv2d(width, width, 1)
        super().__init__(nn.MaxPool2d(2), branch)
        self.add_pooled = style != "residual"

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        p = self[0](a)
        y = self[1](p)
        return p + y if self.add_pooled else y


class DenoisingCNN(nn.Module):
    """Input B×C×H×W, channel i = frame t - i (C = num_prev_frames + 1); output B×1×H×W, no output activation.

    H and W must be multiples of `self.size_multiple`. `encode_frame`/`decode_features` let inference encode each
    frame once and reuse it in every window it belongs to; forward is defined through them.
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        check_cnn_config(config)
        self.config = config
        self.n_frames = config.num_prev_frames + 1
        self.style = unit_style(config)
        self.size_multiple = cnn_size_multiple(config)
        b = 16 if config.num_prev_frames == 5 else config.bottleneck_size
        self.bottleneck_size = b
        if self.style is None:
            self._build_plain(_plain_widths(config), b)
        else:
            self._build_skips(config.resolution_target, b, self.style)

    # ----------------------------------------------------------------------------------------------- building
    def _combiner(self, width: int, b: int, style: str) -> nn.Sequential:
        """Squeeze combiner on the summed bottom features: width -> b -> width
        (docs/paper_code_behaviour.md#readme-network)."""
        return nn.Sequential(*conv_units(width, b, style), *conv_units(b, width, style))

    def _build_plain(self, widths: list[int], b: int) -> None:
        """No-skip variant (--fine_layers on/off, --num_prev_frames 5;
        docs/paper_code_behaviour.md#architecture-flags); widths end at the combiner's width."""
        layers: list[nn.Module] = []
        cin = 1
        for c in widths:
            layers += [nn.Conv2d(cin, c, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
            cin = c
        self.encoder = nn.Sequential(*layers)
        self.add_module(f"combiner_{b}", self._combiner(widths[-1], b, "plain"))
        outs = widths[::-1][1:] + [1]
        dec: list[nn.Module] = []
        for cin, cout in zip(widths[::-1], outs):
            dec += [nn.ConvTranspose2d(cin, cout, 2, stride=2), nn.ReLU(inplace=True)]
        self.future_decoder = nn.Sequential(*dec[:-1])  # no activation after the last ConvT
        self.levels = 0

    def _build_skips(self, resolution_target: int, b: int, style: str) -> None:
        """README topology (docs/paper_code_behaviour.md#readme-network) at 5/6/7 levels; res 2048 has the paper's
        narrower decoder (docs/paper_code_behaviour.md#architecture-flags)."""
        levels = LEVELS[resolution_target]
        c = [16 * 2**k for k in range(levels)]
        self.levels = levels
        cin = 1
        for k in range(1, levels + 1):
            self.add_module(f"enc{k}_conv", nn.Sequential(*conv_units(cin, c[k - 1], style)))
            self.add_module(f"enc{k}_skip", PooledSkip(c[k - 1], style))
            cin = c[k - 1]
        self.add_module(f"combiner_{b}", self._combiner(c[-1], b, style))
        # Level-1 (full resolution) combiner omitted: the paper computes it and discards it
        # (docs/paper_code_behaviour.md#defect-9-3-full-resolution-skip-feature-discarded).
        fc = {}
        for k in range(2, levels + 1):
            w = c[k - 1]
            if style == "resnet":
                fc[str(k - 1)] = nn.Sequential(nn.Conv2d(3 * w, w, 1, bias=False), nn.BatchNorm2d(w), ResNetBlock(w, w))
            else:
                fc[str(k - 1)] = nn.Sequential(*conv_units(3 * w, w, style), *conv_units(w, w, style))
        self.feature_combiners = nn.ModuleDict(fc)  # keys "1".."L-1" = levels 2..L, the paper's indices
        wide = resolution_target != 2048
        top = c[-1]
        self.dec1 = nn.Sequential(nn.ConvTranspose2d(top, top // 2, 2, stride=2), nn.ReLU(inplace=True))
        ch = top // 2 + top
        for j in range(2, levels + 1):
            idx = levels - j  # 0-based level whose feature is concatenated after this block
            mid = c[idx + 1] if wide else c[idx]
            last = j == levels
            up = 1 if last else (c[idx] if wide else c[idx] // 2)
            block = [*conv_units(ch, mid, style, project=False), nn.ConvTranspose2d(mid, up, 2, stride=2)]
            if not last:
                block.append(nn.ReLU(inplace=True))
            self.add_module(f"dec{j}", nn.Sequential(*block))
            ch = up + c[idx]

    # ----------------------------------------------------------------------------------------------- running
    def encode_frame(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Encode one frame (B×1×H×W): [level-2 … level-L skip features, bottom features] (plain: [bottom])."""
        if not self.levels:
            return [self.encoder(x)]
        feats = []
        for k in range(1, self.levels + 1):
            a = getattr(self, f"enc{k}_conv")(x)
            if k > 1:  # the level-1 feature only fed the discarded full-resolution combiner
                feats.append(a)
            x = getattr(self, f"enc{k}_skip")(a)
        feats.append(x)
        return feats

    def decode_features(self, per_frame: list[list[torch.Tensor]]) -> torch.Tensor:
        """Combine the encodings of the window's frames (in input order t, t-1, …) and decode to B×1×H×W."""
        if len(per_frame) != self.n_frames:
            raise ValueError(f"expected encodings of {self.n_frames} frames, got {len(per_frame)}")
        z = per_frame[0][-1]
        for f in per_frame[1:]:
            z = z + f[-1]  # order-free sum: only the skip combiners see which frame is current
                           # (docs/paper_code_behaviour.md#readme-network)
        z = getattr(self, f"combiner_{self.bottleneck_size}")(z)
        if not self.levels:
            return self.future_decoder(z)
        y = self.dec1(z)
        for j in range(2, self.levels + 1):
            level = self.levels - j + 2
            skip = run_on_concat(self.feature_combiners[str(level - 1)], [f[level - 2] for f in per_frame])
            y = run_on_concat(getattr(self, f"dec{j}"), [y, skip])  # upsampled first, skip second
                                                                       # (docs/paper_code_behaviour.md#readme-network)
        return y

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.n_frames:
            raise ValueError(f"DenoisingCNN expects B×{self.n_frames}×H×W, got {tuple(x.shape)}")
        return self.decode_features([self.encode_frame(x[:, i : i + 1]) for i in range(self.n_frames)])


def build_cnn(config: ModelConfig) -> DenoisingCNN:
    return DenoisingCNN(config)
