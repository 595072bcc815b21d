"""The network side of inference: the device, the loaded model and the recipe that turns a clip's frames into
outputs (docs/inference.md, docs/paper_code_behaviour.md#inference-algorithm).

`Denoiser.run` reads a clip's frames in order, builds each target's window from the network's `ModelSpec` offsets
(edge frames replicated), turns it into the network input with `models.network_input` (the recipe training uses),
batches, reuses each frame's encoder features when the model allows it, and yields outputs at the frame size.
"""
from __future__ import annotations

import contextlib
import copy
from typing import Iterable, Iterator, Sequence

import numpy as np

from common.cli import fail

PRECISIONS = ("fp32", "bf16", "fp16", "auto")  # auto: bf16 where the device runs it fast (common/precision.py)


def resolve_device(spec: str = "auto"):
    """`auto` → the first GPU if there is one, else CPU; `cuda[:i]` must exist."""
    import torch

    spec = (spec or "auto").lower()
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if spec == "cpu":
        return torch.device("cpu")
    if spec.startswith("cuda"):
        if not torch.cuda.is_available():
            fail(f"--device {spec}: no CUDA device is available here (use --device cpu or auto)")
        dev = torch.device(spec)
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            fail(f"--device {spec}: only {torch.cuda.device_count()} CUDA device(s) present")
        return dev
    fail(f"--device must be auto, cpu, cuda or cuda:<i>, got {spec!r}")


def network_size(config: dict, fallback_resolution: int | None = None, aspect: float = 0.5
                 ) -> tuple[int, int] | None:
    """The H×W the network sees: the checkpoint's training resolution (fixing
    docs/paper_code_behaviour.md#defect-9-2-wrong-inference-resolution); for a paper checkpoint, which
    does not record it, `(res, res*aspect)` from `--resolution_size` (the paper used res × res/2 everywhere);
    None (each frame's own size) for patch-trained networks (`ModelSpec.native_size`, e.g. UDVD, as its paper's
    inference does) without a training resolution."""
    from models import model_spec

    h, w = config.get("input_height"), config.get("input_width")
    if not (h and w) and model_spec(config).native_size:
        return None
    if h and w:
        return int(h), int(w)
    res = int(fallback_resolution or config.get("resolution_target") or 512)
    return res, max(1, int(round(res * aspect)))


def auto_batch_size(size: tuple[int, int] | None, device) -> int:
    """Frames per network call when --batch_size is 0 (auto): 8 on a GPU; on a CPU about 128k pixels per call,
    since big batches of big frames spill the caches (at 1024x512, batch 8 ran slower than batch 1 on 2 cores)."""
    if getattr(device, "type", str(device)) != "cpu":
        return 8
    pixels = (size[0] * size[1]) if size else 512 * 256
    return int(max(1, min(8, (1 << 17) // max(1, pixels))))


class Denoiser:
    """A loaded network plus the recipe that turns a clip's raw frames into its outputs
    (docs/paper_code_behaviour.md#inference-algorithm).

    `run` consumes frames in order, builds each target's window from `input_offsets` (edge frames replicated),
    and yields (frame index, float32 output at the original frame size).
    """

    def __init__(self, model, config: dict, size: tuple[int, int] | None, device="cpu", precision: str = "fp32",
                 batch_size: int = 8, reuse_encoder: bool = True, fuse_cpu: bool = True, copy_model: bool = True):
        import torch

        from common.precision import resolve_precision
        from inference.cpu_fusion import fuse_for_cpu_inference
        from models import input_offsets, model_spec

        if precision not in PRECISIONS:
            fail(f"--precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
        if batch_size < 0:
            fail(f"--batch_size must be >= 1 (or 0 for auto), got {batch_size}")
        self.device = torch.device(device) if not isinstance(device, torch.device) else device
        precision = resolve_precision(precision, self.device)
        self.config = dict(config)
        self.spec = model_spec(config)
        self.is_3d = self.spec.is_3d
        self.model = model.to(self.device).eval()
        if not self.is_3d:  # NHWC convolutions: ~1.2x faster on CPU (oneDNN) and with tensor cores on GPU
            self.model = self.model.to(memory_format=torch.channels_last)
        # bf16 for 2-D networks: the weights are cast once here instead of by autocast at every batch (that cast
        # of ~25M weights cost as much as a 128x64 batch; pure bf16 ran 1.4x faster than autocast there, same
        # outputs: these networks are convolutions, activations and resizes only). On a copy unless the caller
        # hands the model over (`copy_model=False`), so a caller's model stays fp32. 3-D networks and fp16 keep
        # autocast.
        self.dtype = torch.bfloat16 if precision == "bf16" and not self.is_3d else torch.float32
        copied = not copy_model  # the caller hands the model over (load_for_inference): change it in place
        if self.dtype != torch.float32:
            self.model = (self.model if copied else copy.deepcopy(self.model)).to(self.dtype)
            copied = True
        # on a CPU, Conv2d+ReLU pairs run as one oneDNN call on pre-packed weights (inference/cpu_fusion.py)
        self.fused_layers = 0
        if self.device.type == "cpu" and not self.is_3d and fuse_cpu:
            self.model, self.fused_layers = fuse_for_cpu_inference(self.model, in_place=copied)
        self.size = None if size is None else (int(size[0]), int(size[1]))
        self.precision = precision
        self.batch_size = int(batch_size) or auto_batch_size(self.size, self.device)
        self.offsets = input_offsets(config)
        # encoding each frame once skips the per-window input recipe, so only plain channel inputs may reuse it
        self.reuse_encoder = bool(reuse_encoder and not (self.spec.is_3d or self.spec.minmax_window)
                                  and hasattr(model, "encode_frame") and hasattr(model, "decode_features"))

    def _autocast(self):
        import torch

        if self.precision == "fp32" or self.dtype != torch.float32:
            return contextlib.nullcontext()
        dtype = torch.bfloat16 if self.precision == "bf16" else torch.float16
        return torch.autocast(self.device.type, dtype=dtype)

    def _prepare(self, imgs: list[np.ndarray]):
        """uint8 H×W frames → N×1×h×w float in [0,1] at the network size (bilinear, antialiased, as in training)."""
        import torch
        import torch.nn.functional as F

        x = torch.from_numpy(np.stack(imgs)).to(self.device).unsqueeze(1).float().div_(255.0)
        if self.size is not None and tuple(x.shape[-2:]) != self.size:
            x = F.interpolate(x, size=self.size, mode="bilinear", align_corners=False, antialias=True)
        return x if self.is_3d else x.contiguous(memory_format=torch.channels_last)

    def _window_batch(self, buf: dict, batch: Sequence[int], clamp):
        """The network input of each target, by the recipe training uses (models/network_input.py): B×C×h×w
        for 2-D networks, B×1×h×w×T min-max normalised per window for the 3-D U-Net."""
        import torch

        from models.network_input import network_input

        frames = torch.cat([torch.cat([buf[clamp(t + o)] for o in self.offsets], dim=1) for t in batch])
        return network_input(frames, self.spec)

    def run(self, frames: Iterable[np.ndarray], n: int, targets: Sequence[int] | None = None,
            out_size: tuple[int, int] | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """Yield (t, output) for each target t (default: every frame), ascending. `frames` yields all n frames
        in order (it is read only as far as needed); `out_size` defaults to the frames' own H×W."""
        targets = sorted(set(range(n) if targets is None else targets))
        if not targets:
            return
        if targets[0] < 0 or targets[-1] >= n:
            fail(f"frame targets outside the clip (0..{n - 1})")
        lo_off = min(self.offsets)

        def clamp(i: int) -> int:
            return min(max(i, 0), n - 1)

        it = iter(frames)
        next_idx = 0
        buf: dict[int, object] = {}    # frame index → 1×1×h×w network-size frame tensor
        feats: dict[int, list] = {}    # frame index → its encoder outputs (encoder reuse)
        for b in range(0, len(targets), self.batch_size):
            batch = targets[b:b + self.batch_size]
            need = sorted({clamp(t + o) for t in batch for o in self.offsets})
            fresh: dict[int, np.ndarray] = {}
            while next_idx <= need[-1]:
                try:
                    img = next(it)
                except StopIteration:
                    fail(f"clip ended after {next_idx} frames, expected {n}")
                if out_size is None:
                    out_size = tuple(img.shape[:2])
                if next_idx >= need[0]:  # frames before the first target's window are never needed
                    fresh[next_idx] = img
                next_idx += 1
            result = self._infer(fresh, buf, feats, batch, need, clamp, tuple(out_size))
            if b + self.batch_size < len(targets):  # forget frames no later window needs
                floor = clamp(targets[b + self.batch_size] + lo_off)
                for d in (buf, feats):
                    for i in [i for i in d if i < floor]:
                        del d[i]
            for j, t in enumerate(batch):
                yield t, result[j]

    def _infer(self, fresh: dict, buf: dict, feats: dict, batch: Sequence[int], need: Sequence[int], clamp,
               out_size: tuple[int, int]) -> np.ndarray:
        """One batch → B×H×W float32 outputs at `out_size`. Inference mode is entered per batch, so it does not
        stay switched on in the caller's thread while `run` is suspended at a yield."""
        import torch
        import torch.nn.functional as F

        with torch.inference_mode():
            if fresh:
                for i, x in zip(fresh, self._prepare(list(fresh.values())).split(1)):
                    buf[i] = x
            with self._autocast():
                if self.reuse_encoder:
                    missing = [i for i in need if i not in feats]
                    if missing:
                        enc = self.model.encode_frame(_cat([buf[i] for i in missing]).to(self.dtype))
                        for j, i in enumerate(missing):
                            feats[i] = [f[j:j + 1] for f in enc]
                    per_frame = [[_cat([feats[clamp(t + o)][lvl] for t in batch])
                                  for lvl in range(len(feats[need[0]]))] for o in self.offsets]
                    out = self.model.decode_features(per_frame)
                else:
                    out = self.model(self._window_batch(buf, batch, clamp).to(self.dtype))
            while out.dim() > 4:
                out = out.squeeze(-1)
            out = out.float()
            if tuple(out.shape[-2:]) != out_size:
                out = F.interpolate(out, size=out_size, mode="bicubic", align_corners=False, antialias=True)
            return out[:, 0].cpu().numpy()


def _cat(tensors: list):
    """torch.cat along the batch, without the copy when there is one tensor (batch 1, the CPU default at large
    frames: copying every encoder feature map three times per frame cost ~5 % of the bf16 time)."""
    import torch

    return tensors[0] if len(tensors) == 1 else torch.cat(tensors)


def load_for_inference(checkpoint: str, overrides: dict | None, device, precision: str, batch_size: int,
                       fallback_resolution: int | None = None, aspect: float = 0.5) -> Denoiser:
    """Load the checkpoint once (the paper reloaded it per clip) and wrap it for inference."""
    from models.checkpoint import load_denoiser

    model, config = load_denoiser(checkpoint, overrides=overrides or None, map_location="cpu")
    size = network_size(config, fallback_resolution, aspect)
    return Denoiser(model, config, size, device=device, precision=precision, batch_size=batch_size, copy_model=False)
