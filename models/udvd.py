"""UDVD baseline: the blind-spot video denoiser of Sheth et al., "Unsupervised Deep Video Denoising" (ICCV 2021).

Written from the paper's description for this project (docs/paper_code_behaviour.md#baselines: the SAVeD authors ran a
vendored copy of
the UDVD repository with `--model blind-video-net-4`). The network sees five frames [t-2 .. t+2] and predicts
frame t without ever seeing pixel p of any input frame when it predicts pixel p, so it can be trained with a
plain MSE against the *noisy* centre frame (the blind-spot loss): for noise that is independent per pixel the
only way to lower that loss is to predict the clean signal.

How the blind spot is built (Laine et al. 2019, used by UDVD):
- every convolution is "shifted down": output row y sees only input rows <= y;
- before each 2x max-pool the features are shifted down one row, so a pooled row never sees a row below the
  block it stands for and the nearest-neighbour upsampling keeps rows <= y;
- after the last stage the output is shifted down one more row: pixel (y, x) now sees only rows < y;
- the input is rotated by 0/90/180/270 degrees, each rotation runs through the same two-stage network (the
  four half-planes "above", "left", "below", "right"), the results are rotated back and a 1x1 head fuses them:
  the union of the four strict half-planes is every pixel except p itself.

Two cascaded stages (the UDVD video design): stage 1, one U-Net shared over the triplets (t-2, t-1, t),
(t-1, t, t+1) and (t, t+1, t+2); stage 2, a U-Net over the three stage-1 feature maps. Both stages run inside
the same rotation, so the blind spot survives the cascade.

Size rule: H and W must be divisible by 2**DEPTH (= 8). Other sizes are zero-padded at the bottom/right and
cropped back; zero (not reflect or replicate) padding, because a mirrored copy of pixel p in the padding
would be visible to the "from below/right" rotations and break the blind spot.

Input B x 5 x H x W float in [0, 1] (channels in `input_offsets` order [-2, -1, 0, 1, 2]); output B x 1 x H x W.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from common.precision import onednn_bf16_available, onednn_fused_conv_available

# Fixed architecture constants (the shared ModelConfig carries no UDVD-specific fields; changing these changes
# the checkpoint's tensor shapes, which load_state_dict then reports).
DEPTH = 3  # number of 2x poolings per U-Net: H and W must be divisible by 2**DEPTH
FEATURES = 48  # U-Net width, as in the blind-spot networks of Laine et al. / UDVD
STAGE_OUT = 32  # features each stage hands on
HEAD = 96  # width of the 1x1 fusion head
N_FRAMES = 5
CENTRE = N_FRAMES // 2


def shift_down(x: torch.Tensor, rows: int = 1) -> torch.Tensor:
    """Move the content `rows` rows down (zeros enter at the top): row y then holds what row y-rows held."""
    return F.pad(x, (0, 0, rows, 0))[:, :, : x.shape[2], :]


SLOPE = 0.1  # LeakyReLU negative slope


class _FusedShiftConv(torch.autograd.Function):
    """Training form of ShiftConv on a CPU: the two top rows of zeros are written once (not a zero-filled copy
    padded on three sides), the width padding is the convolution's own, and the LeakyReLU is applied by oneDNN
    as the convolution writes its result (`torch.ops.mkldnn._convolution_pointwise`, the kernel PyTorch's own
    compiler fuses to). Backward: the LeakyReLU gradient from the saved output, then PyTorch's convolution
    backward. The same function as the plain form (tested, gradients included); ~10 % faster bf16 steps."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        padded = torch.empty((n, c, h + 2, w), dtype=x.dtype, device=x.device, memory_format=torch.channels_last)
        padded[:, :, :2].zero_()
        padded[:, :, 2:].copy_(x)
        y = torch.ops.mkldnn._convolution_pointwise(padded, weight, bias, [0, 1], [1, 1], [1, 1], 1,
                                                    "leaky_relu", [SLOPE], None)
        ctx.save_for_backward(padded, weight, y)
        return y

    @staticmethod
    def backward(ctx, grad_y: torch.Tensor):
        padded, weight, y = ctx.saved_tensors
        grad_pre = torch.ops.aten.leaky_relu_backward(grad_y, y, SLOPE, True)
        need = ctx.needs_input_grad
        grad_padded, grad_w, grad_b = torch.ops.aten.convolution_backward(
            grad_pre, padded, weight, [weight.shape[0]], [1, 1], [0, 1], [1, 1], False, [0, 0], 1,
            [need[0], need[1], need[2]])
        return (None if grad_padded is None else grad_padded[:, :, 2:]), grad_w, grad_b


class ShiftConv(nn.Conv2d):
    """3x3 convolution whose output row y sees only input rows y-2 .. y (zero padding on top only), then LeakyReLU.

    Equal ways to compute it, each the faster one where it runs: without gradients the convolution pads two rows
    on both sides and the two extra bottom rows (the only ones that see the bottom padding) are dropped, which
    saves a padded copy of every input (~20 % of CPU inference time); with gradients on a CPU, `_FusedShiftConv`
    (set `fused = False` for the plain form, the readable definition); elsewhere the input is padded explicitly,
    because dropped rows would hand the convolution's backward a gradient in another memory layout, which made
    bf16 training steps 2x slower."""

    fused = True  # use _FusedShiftConv for CPU training steps where oneDNN has the fused kernel

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__(cin, cout, kernel_size=3, padding=0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.is_grad_enabled():
            return F.leaky_relu(F.conv2d(x, self.weight, self.bias, padding=(2, 1))[:, :, : x.shape[2]], SLOPE)
        if self.fused and x.device.type == "cpu" and onednn_fused_conv_available():
            weight, bias = self.weight, self.bias
            if torch.is_autocast_enabled("cpu"):  # the fused kernel is not an autocast op: cast as autocast would
                dtype = torch.get_autocast_dtype("cpu")
                if dtype == torch.bfloat16 and not onednn_bf16_available():
                    # no oneDNN bf16 kernels on this CPU (AVX2 only): the plain form, which autocast handles
                    return F.leaky_relu(F.conv2d(F.pad(x, (1, 1, 2, 0)), self.weight, self.bias), SLOPE)
                x, weight, bias = x.to(dtype), weight.to(dtype), bias.to(dtype)
            with torch.autocast("cpu", enabled=False):
                return _FusedShiftConv.apply(x, weight, bias)
        return F.leaky_relu(F.conv2d(F.pad(x, (1, 1, 2, 0)), self.weight, self.bias), SLOPE)


def _block(cin: int, cout: int, n: int = 2) -> nn.Sequential:
    return nn.Sequential(*[ShiftConv(cin if i == 0 else cout, cout) for i in range(n)])


class BlindUNet(nn.Module):
    """U-Net whose output row y depends only on input rows <= y (its "upward" half-plane, row y included)."""

    def __init__(self, cin: int, cout: int, width: int = FEATURES, depth: int = DEPTH) -> None:
        super().__init__()
        self.enc = nn.ModuleList([_block(cin, width)] + [_block(width, width, 1) for _ in range(depth)])
        self.dec = nn.ModuleList([_block(2 * width, width) for _ in range(depth)])
        self.out = _block(width, cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for i, block in enumerate(self.enc):
            if i > 0:
                x = F.max_pool2d(shift_down(x), 2)  # shift first: a pooled row must not see the row below it
            x = block(x)
            skips.append(x)
        skips.pop()  # the bottom features are x itself
        for block in self.dec:
            x = F.interpolate(x, scale_factor=2, mode="nearest")
            x = block(torch.cat([x, skips.pop()], dim=1))
        return self.out(x)


class UDVD(nn.Module):
    """Two-stage blind-spot video denoiser over a 5-frame window (see the module docstring)."""

    def __init__(self, batched: bool | None = None, fused: bool = True) -> None:
        super().__init__()
        # batched=False runs the straightforward loop (each rotation, each triplet its own call), fused=False the
        # plain shifted convolutions: the same function, kept as the readable definition that tests and the
        # bench compare to. batched=None (auto) batches where it was measured faster: inference, and any
        # training off the CPU; CPU training steps ran faster looped (64x64 patches, batch 16: bf16 0.77 vs 0.71,
        # fp32 0.27 vs 0.16 steps/s), as the 4-12x larger batched tensors leave the caches.
        self.batched = batched
        self.stage1 = BlindUNet(3, STAGE_OUT)
        self.stage2 = BlindUNet(3 * STAGE_OUT, STAGE_OUT)
        self.head = nn.Sequential(
            nn.Conv2d(4 * STAGE_OUT, HEAD, 1), nn.LeakyReLU(SLOPE),
            nn.Conv2d(HEAD, HEAD, 1), nn.LeakyReLU(SLOPE),
            nn.Conv2d(HEAD, 1, 1),
        )
        for mod in self.modules():  # He init for LeakyReLU: torch's default init shrinks the signal ~10x per U-Net
            if isinstance(mod, nn.Conv2d):
                nn.init.kaiming_normal_(mod.weight, a=SLOPE, nonlinearity="leaky_relu")
                nn.init.zeros_(mod.bias)
        self.fused = fused

    @property
    def fused(self) -> bool:
        """Whether CPU training steps use the fused shifted convolution (`_FusedShiftConv`)."""
        return all(m.fused for m in self.modules() if isinstance(m, ShiftConv))

    @fused.setter
    def fused(self, value: bool) -> None:
        for m in self.modules():
            if isinstance(m, ShiftConv):
                m.fused = bool(value)

    def _batch(self, x: torch.Tensor) -> bool:
        if self.batched is not None:
            return self.batched
        return not torch.is_grad_enabled() or x.device.type != "cpu"

    def _half_plane(self, x: torch.Tensor) -> torch.Tensor:
        """Features at (y, x) from input rows < y only (one rotation's view, or several stacked on the batch).

        The three triplets share stage 1, so they run as one call on a 3x batch (triplet-major), and their
        features are laid side by side on the channels in triplet order, as stage 2 expects."""
        triplets = [x[:, i : i + 3] for i in range(N_FRAMES - 2)]
        if not self._batch(x):
            return shift_down(self.stage2(torch.cat([self.stage1(t) for t in triplets], dim=1)))
        s1 = self.stage1(torch.cat(triplets, dim=0))
        return shift_down(self.stage2(torch.cat(s1.chunk(len(triplets), dim=0), dim=1)))

    def _views(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The four rotations' half-plane features, each rotated back. Rotations whose frames have the same
        shape run as one batch (all four for square inputs; 0/180 and 90/270 otherwise)."""
        if not self._batch(x):
            return [torch.rot90(self._half_plane(torch.rot90(x, k, (2, 3))), -k, (2, 3)) for k in range(4)]
        groups = [(0, 1, 2, 3)] if x.shape[2] == x.shape[3] else [(0, 2), (1, 3)]
        views: list[torch.Tensor] = [x] * 4
        for ks in groups:
            feats = self._half_plane(torch.cat([torch.rot90(x, k, (2, 3)) for k in ks], dim=0))
            for k, f in zip(ks, feats.chunk(len(ks), dim=0)):
                views[k] = torch.rot90(f, -k, (2, 3))
        return views

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != N_FRAMES:
            raise ValueError(f"UDVD expects B x {N_FRAMES} x H x W frames [t-2..t+2], got {tuple(x.shape)}")
        h, w = x.shape[-2:]
        m = 2**DEPTH
        ph, pw = (-h) % m, (-w) % m
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph))  # zeros keep the blind spot (module docstring)
        out = self.head(torch.cat(self._views(x), dim=1))
        return out[:, :, :h, :w]


def build_udvd(config: object = None) -> UDVD:
    """Registry builder: UDVD has fixed hyper-parameters, so the shared ModelConfig fields do not apply."""
    return UDVD()
