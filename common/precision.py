"""`--precision auto`: bf16 where the device runs it fast, fp32 elsewhere. One decision for every script.

bf16 pays off only where the hardware has bf16 arithmetic: on a CPU, AMX tiles (Sapphire Rapids and later Xeons)
or AVX-512 BF16 (Cooper Lake, Zen 4), which oneDNN uses for convolutions and matmuls; on a GPU, native bf16
(Ampere and later). Elsewhere PyTorch emulates bf16 and it is slower than fp32, so `auto` keeps fp32 there.
No torch import at module level: the scripts' `--help` stays instant.
"""
from __future__ import annotations

import functools
import os

CPUINFO = "/proc/cpuinfo"  # its "flags" line names amx_bf16 / avx512_bf16 where the CPU has them


def _cpuinfo_flags(path: str | None = None) -> set[str]:
    """The CPU's feature flags from /proc/cpuinfo (empty where that file does not exist, e.g. macOS)."""
    path = path or CPUINFO
    if not os.path.exists(path):
        return set()
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    return set()


def cpu_bf16_reason() -> str | None:
    """Why this CPU runs bf16 fast (e.g. "AMX"), or None when it would be emulated."""
    import torch

    if not torch.backends.mkldnn.is_available():
        return None
    probe = getattr(torch.cpu, "_is_amx_tile_supported", None)  # torch's own CPUID checks when present
    if probe is not None and probe():
        return "AMX"
    probe = getattr(torch.cpu, "_is_avx512_bf16_supported", None)
    if probe is not None and probe():
        return "AVX-512 BF16"
    flags = _cpuinfo_flags()
    if "amx_bf16" in flags:
        return "AMX"
    if "avx512_bf16" in flags:
        return "AVX-512 BF16"
    return None


@functools.lru_cache(maxsize=None)
def onednn_fused_conv_available() -> bool:
    """Whether this PyTorch has oneDNN and the fused convolution kernel its compiler uses
    (`torch.ops.mkldnn._convolution_pointwise`) with oneDNN's weight packing: x86 builds of PyTorch >= 2.1.
    The CPU fusions of inference (inference/cpu_fusion.py) and of UDVD training (models/udvd.py) need it."""
    import torch

    mkldnn = getattr(torch.ops, "mkldnn", None)
    return bool(torch.backends.mkldnn.is_available() and mkldnn is not None
                and hasattr(mkldnn, "_convolution_pointwise") and hasattr(torch._C._nn, "mkldnn_reorder_conv2d_weight"))


@functools.lru_cache(maxsize=None)
def onednn_bf16_available() -> bool:
    """Whether oneDNN's CPU kernels take bf16 here: they need AVX-512 (BW/VL/DQ) or AVX-NE-CONVERT, and without
    them the fused calls of inference/cpu_fusion.py and models/udvd.py raise, so both fall back to plain ops."""
    import torch

    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def bf16_speed_reason(device) -> str | None:
    """Why `device` runs bf16 faster than fp32 ("AMX", "AVX-512 BF16", "CUDA bf16"), or None when it does not."""
    import torch

    kind = getattr(device, "type", str(device)).split(":")[0]
    if kind == "cuda":
        if not torch.cuda.is_available():
            return None
        try:  # native bf16 only: recent torch would otherwise also report the (slow) emulated path
            native = torch.cuda.is_bf16_supported(including_emulation=False)
        except TypeError:
            native = torch.cuda.is_bf16_supported()
        return "CUDA bf16" if native else None
    if kind == "cpu":
        return cpu_bf16_reason()
    return None


def resolve_precision(spec: str, device, fast: str = "bf16", slow: str = "fp32", announce: bool = True) -> str:
    """`spec` unchanged unless it is `auto`: then `fast` where bf16 is fast on `device`, else `slow`.

    Training passes Lightning's names (`bf16-mixed` / `32-true`), inference the engine's (`bf16` / `fp32`).
    With `announce` the choice and its reason are printed, so a log says which path ran.
    """
    if spec != "auto":
        return spec
    reason = bf16_speed_reason(device)
    chosen = fast if reason else slow
    if announce:
        why = f"{reason} on {device}" if reason else f"no fast bf16 on {device}"
        print(f"--precision auto -> {chosen} ({why})", flush=True)
    return chosen
