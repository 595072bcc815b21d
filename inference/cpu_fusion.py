"""CPU inference: each Conv2d followed by a ReLU runs as one oneDNN call on pre-packed weights, and a block fed
with a channel concatenation convolves the parts where they lie instead of copying them together.

Why: at 1024x512 in bf16 the README network spent about a sixth of its time in separate ReLU passes (one full
read and write of every activation at memory speed), another ~13 % concatenating channels-last feature maps (a
strided copy), and re-laid out its ~25M weights for oneDNN at every call. PyTorch ships the fused kernel its own
compiler uses (`torch.ops.mkldnn._convolution_pointwise`: the activation, or the addition of another tensor, is
applied as the result is written) and oneDNN's weight reorder; calling them directly computes the same function
with no compile step:
    relu(conv(cat[a, b], W))  =  relu(conv(b, W_b) + conv(a, W_a))     (W split along its input channels)
Inference only (these ops have no autograd formula), and only where oneDNN and the ops exist; elsewhere the model
is returned unchanged. In bf16 the partial sum is rounded to bf16 once more (about one bf16 step of the output,
below what the uint8 output shows); in fp32 the outputs agree to float rounding (tested).

The fused modules keep the original parameters (state_dict unchanged); the packed copies live in a small cache
keyed by input shape, dtype and channel slice, filled on first use.
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from common.precision import onednn_bf16_available, onednn_fused_conv_available

MAX_PACKED = 8  # packed weights kept per layer: (input shape, slice) pairs; a run sees a handful


class FusedConvReLU(nn.Module):
    """`relu(conv(x))` as one oneDNN call, the weights packed once per input shape (inference only)."""

    def __init__(self, conv: nn.Conv2d) -> None:
        super().__init__()
        self.weight = conv.weight
        self.bias = conv.bias
        self.padding = list(conv.padding)
        self.stride = list(conv.stride)
        self.dilation = list(conv.dilation)
        self.groups = conv.groups
        self._packed: dict[tuple, torch.Tensor] = {}

    def _packed_weight(self, x: torch.Tensor, lo: int, hi: int) -> torch.Tensor:
        """The weight's input channels lo:hi, packed by oneDNN for inputs shaped like `x`."""
        key = (tuple(x.shape), x.dtype, lo, hi, self.weight._version)
        packed = self._packed.get(key)
        if packed is None:
            if len(self._packed) >= MAX_PACKED:
                self._packed.clear()
            weight = self.weight.detach()[:, lo:hi].to(x.dtype).contiguous().to_mkldnn()
            packed = torch._C._nn.mkldnn_reorder_conv2d_weight(weight, self.padding, self.stride, self.dilation,
                                                               self.groups, list(x.shape))
            self._packed[key] = packed
        return packed

    def _check_inference(self, x: torch.Tensor) -> None:
        if torch.is_grad_enabled() and (x.requires_grad or self.weight.requires_grad):
            raise RuntimeError("FusedConvReLU is for inference: run it under torch.inference_mode() or no_grad()")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_inference(x)
        bias = None if self.bias is None else self.bias.detach().to(x.dtype)
        if x.dtype == torch.bfloat16 and not onednn_bf16_available():  # plain ops where oneDNN has no bf16
            return torch.relu(nn.functional.conv2d(x, self.weight.to(x.dtype), bias, self.stride, self.padding,
                                                   self.dilation, self.groups))
        return torch.ops.mkldnn._convolution_pointwise(x, self._packed_weight(x, 0, x.shape[1]), bias, self.padding,
                                                       self.stride, self.dilation, self.groups, "relu", [], None)

    def forward_parts(self, parts: list[torch.Tensor]) -> torch.Tensor:
        """`forward(torch.cat(parts, dim=1))` without the concatenation: one convolution per part, each adding
        the previous partial sum as it writes, the ReLU applied by the last."""
        if len(parts) == 1 or self.groups != 1 or (parts[0].dtype == torch.bfloat16 and not onednn_bf16_available()):
            return self.forward(parts[0] if len(parts) == 1 else torch.cat(parts, dim=1))
        for p in parts:
            self._check_inference(p)
        if sum(p.shape[1] for p in parts) != self.weight.shape[1]:
            raise ValueError(f"parts carry {sum(p.shape[1] for p in parts)} channels, the convolution expects "
                             f"{self.weight.shape[1]}")
        conv = torch.ops.mkldnn._convolution_pointwise
        bias = None if self.bias is None else self.bias.detach().to(parts[0].dtype)
        geometry = (self.padding, self.stride, self.dilation, self.groups)
        lo = 0
        y = None
        for i, p in enumerate(parts):
            hi = lo + p.shape[1]
            w = self._packed_weight(p, lo, hi)
            last = i == len(parts) - 1
            if y is None:
                y = conv(p, w, bias, *geometry, "none", [], None)
            else:
                y = conv.binary(p, y, w, None, *geometry, "add", None, "relu" if last else None, [], None)
            lo = hi
        return y


class FusedSequential(nn.Sequential):
    """An nn.Sequential whose first layer is fused: it also accepts its input as channel parts (`forward_parts`,
    called by `models.cnn.run_on_concat`)."""

    def forward_parts(self, parts: list[torch.Tensor]) -> torch.Tensor:
        y = self[0].forward_parts(parts)
        for layer in list(self)[1:]:
            y = layer(y)
        return y


class MaxPool2x2(nn.MaxPool2d):
    """2x2 max-pool, stride 2, computed as elementwise maxima of strided views for channels-last inputs of even
    size (~2.3x faster than PyTorch's CPU kernel, which also builds the indices it does not return; the maximum is
    exact, so outputs are identical); any other input goes to the standard kernel."""

    def __init__(self) -> None:
        super().__init__(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape if x.dim() == 4 else (0, 0, 1, 1)
        if h % 2 or w % 2 or not x.is_contiguous(memory_format=torch.channels_last):
            return super().forward(x)
        rows = x.permute(0, 2, 3, 1).reshape(n, h // 2, 2, w // 2, 2 * c)  # two columns side by side per row pair
        m = torch.maximum(rows[:, :, 0], rows[:, :, 1])
        return torch.maximum(m[..., :c], m[..., c:]).permute(0, 3, 1, 2)


def _plain_pool2(mod: nn.Module) -> bool:
    return (type(mod) is nn.MaxPool2d and mod.kernel_size in (2, (2, 2)) and mod.stride in (2, (2, 2))
            and mod.padding in (0, (0, 0)) and mod.dilation in (1, (1, 1)) and not mod.ceil_mode
            and not mod.return_indices)


def _fusable(conv: nn.Module, act: nn.Module) -> bool:
    return (type(conv) is nn.Conv2d and type(act) is nn.ReLU and conv.padding_mode == "zeros"
            and not isinstance(conv.padding, str))


def _fuse_in_place(module: nn.Module) -> int:
    """Replace every (Conv2d, ReLU) pair that follows each other inside a plain nn.Sequential (subclasses, whose
    forward may differ, are only searched) and every plain 2x2 max-pool; returns how many layers were replaced."""
    fused = 0
    for name, child in list(module.named_children()):
        if _plain_pool2(child):
            setattr(module, name, MaxPool2x2())
            fused += 1
            continue
        if type(child) is not nn.Sequential:
            fused += _fuse_in_place(child)
            continue
        layers = list(child)
        out: list[nn.Module] = []
        i = 0
        while i < len(layers):
            if i + 1 < len(layers) and _fusable(layers[i], layers[i + 1]):
                out += [FusedConvReLU(layers[i]), nn.Identity()]  # same indices, so the same state_dict keys
                fused += 1
                i += 2
            elif _plain_pool2(layers[i]):
                out.append(MaxPool2x2())
                fused += 1
                i += 1
            else:
                fused += _fuse_in_place(layers[i])
                out.append(layers[i])
                i += 1
        if any(a is not b for a, b in zip(out, layers)):
            setattr(module, name, (FusedSequential if isinstance(out[0], FusedConvReLU) else nn.Sequential)(*out))
    return fused


def fuse_for_cpu_inference(model: nn.Module, in_place: bool = False) -> tuple[nn.Module, int]:
    """`model` with its Conv2d+ReLU pairs fused and its 2x2 max-pools replaced, and how many layers were. A copy unless
    `in_place` (the caller's model is then untouched); `model` itself and 0 where the fused op is unavailable."""
    if not onednn_fused_conv_available():
        return model, 0
    target = model if in_place else copy.deepcopy(model)
    n = _fuse_in_place(target)
    return (target, n) if n else (model, 0)
