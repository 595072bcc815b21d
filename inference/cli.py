"""The flags the four denoise*.py scripts share (docs/paper_code_behaviour.md#inference-flags), and their one `main`.

The scripts differ only in defaults (`SCRIPT_DEFAULTS`): the `--model` default, the frame type preferred
when a clip folder holds several, the output format, and the network aspect used when a paper checkpoint
does not record its training resolution. No torch import here: `--help` stays instant.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass

from common.cli import ArgumentParser

# Architecture flags of the paper scripts, mapped to ModelConfig fields. They are overrides: only the ones the
# user typed reach load_denoiser (our checkpoints describe themselves; paper checkpoints need them,
# docs/paper_code_behaviour.md#checkpoint-layout).
ARCH_FLAGS = {
    "model_type": "model_type",
    "resolution_size": "resolution_target",
    "fine_layers": "fine_layers",
    "bottleneck_size": "bottleneck_size",
    "num_prev_frames": "num_prev_frames",
    "with_skip_connections": "with_skip_connections",
    "with_residual_connections": "with_residual_connections",
    "with_resnet_blocks": "with_resnet_blocks",
}


@dataclass(frozen=True)
class ScriptDefaults:
    dataset: str
    model: str | None          # None: --model is required (as in the paper's CVA/POCUS/Fluo scripts)
    frame_ext: str             # preferred input frame type (docs/paper_code_behaviour.md#inference-script-variants);
                               # any image type present is accepted
    fmt: str                   # output format
    aspect: float              # W/H of the fallback network size for checkpoints without a training resolution


SCRIPT_DEFAULTS = {
    "cfc22": ScriptDefaults("CFC22", "checkpoints/all_denoised_1024_fine_bnck_512_SKIP/best_model.ckpt", ".jpg", "png", 0.5),
    "cva": ScriptDefaults("CVA (BUV)", None, ".png", "png", 1.0),      # trained res × res
                                                                       # (docs/paper_code_behaviour.md#defect-9-2-wrong-inference-resolution)
    "pocus": ScriptDefaults("POCUS", None, ".png", "png", 0.5),
    "fluo": ScriptDefaults("Fluo", None, ".tif", "tif", 1.0),          # trained res × res
                                                                       # (docs/paper_code_behaviour.md#defect-9-2-wrong-inference-resolution)
}


def build_parser(script: str, description: str | None = None) -> argparse.ArgumentParser:
    d = SCRIPT_DEFAULTS[script]
    p = ArgumentParser(description=description or f"Denoise {d.dataset} clips with a trained SAVeD checkpoint.",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    io = p.add_argument_group("input / output")
    io.add_argument("--model", default=d.model, required=d.model is None,
                    help="trained checkpoint (.ckpt: ours, or the paper's with its architecture flags)")
    io.add_argument("--input_dir", required=True,
                    help="a domain/class folder of clip folders (paper layout), a folder of frames, a video or a "
                         "multi-page TIFF")
    io.add_argument("--output_dir", required=True,
                    help="output root; mirrors the input tree (same clip folders and frame name stems); must not be "
                         "inside the input")
    io.add_argument("--format", dest="fmt", choices=("png", "jpg", "tif"), default=d.fmt,
                    help="output image format (png is lossless; the paper wrote JPEG q75 for CFC22); tif with "
                         "--normalize none stores the raw float32 output, as the paper's Fluo script")
    io.add_argument("--jpeg_quality", type=int, default=95, help="JPEG quality when --format jpg")
    io.add_argument("--frame_ext", default=d.frame_ext,
                    help="frame type to take when a clip folder holds several image types (else any type present)")
    io.add_argument("--normalize", choices=("frame", "clip", "none"), default="frame",
                    help="output mapping to 0..255: frame = the paper's per-frame min-max (flickers), clip = one "
                         "min-max per clip, none = fixed [0,1] range")
    io.add_argument("--overwrite", action="store_true", help="recompute frames whose output already exists "
                                                             "(default: skip them, so a re-run resumes)")
    io.add_argument("--preview", action="store_true",
                    help="also write a side-by-side raw | denoised GIF per clip into <output_dir>/_previews/")
    io.add_argument("--max_frames", type=int, default=None,
                    help="stop after writing this many frames (a quick look; re-run without it to finish)")
    io.add_argument("--quiet", action="store_true", help="no progress bars")

    arch = p.add_argument_group("architecture (optional for our checkpoints, which record it; required for the paper's "
                                "checkpoints; a flag that contradicts the checkpoint is an error)")
    arch.add_argument("--model_type", default=None, help="network type (paper default: cnn)")
    arch.add_argument("--resolution_size", type=int, default=None,
                      help="the training --resolution_target (paper default: 512); for a paper checkpoint the network "
                           f"input is res x {d.aspect:g}*res")
    arch.add_argument("--fine_layers", action="store_true", default=None, help="the checkpoint was trained with --fine_layers")
    arch.add_argument("--bottleneck_size", type=int, default=None, help="combiner width (paper default: 16)")
    arch.add_argument("--num_prev_frames", type=int, default=None, help="previous frames in the input (paper default: 2)")
    arch.add_argument("--with_skip_connections", action="store_true", default=None, help="skip-connection CNN (README model)")
    arch.add_argument("--with_residual_connections", action="store_true", default=None, help="residual CNN variant")
    arch.add_argument("--with_resnet_blocks", action="store_true", default=None, help="ResNet-block CNN variant")

    run = p.add_argument_group("speed and scale")
    run.add_argument("--batch_size", type=int, default=0,
                     help="frames per network call; 0 = auto (8 on GPU; on CPU ~128k pixels per call, e.g. 1 at 1024x512)")
    run.add_argument("--device", default="auto", help="auto (GPU if present), cpu, cuda or cuda:<i>")
    run.add_argument("--precision", choices=("fp32", "bf16", "fp16", "auto"), default="fp32",
                     help="autocast precision. auto = bf16 where the device has fast bf16 (AMX / AVX-512 BF16 CPUs, "
                          "Ampere+ GPUs), else fp32; bf16 is ~2.3x faster on an AMX CPU and its 8-bit outputs differ "
                          "from fp32 by < 1 grey level on average (docs/inference.md)")
    run.add_argument("--num_workers", type=int, default=2, help="threads decoding frames and, separately, writing outputs")
    run.add_argument("--devices", type=int, default=1, help="spread clips over N GPUs, one process each")
    run.add_argument("--shard", default=None,
                     help="K/N: process only clips i (0-based, sorted) with i %% N == K-1, e.g. "
                          "--shard $SLURM_ARRAY_TASK_ID/N with --array=1-N")
    return p


def overrides_from_args(args: argparse.Namespace) -> dict:
    """Only the architecture flags the user actually gave (their defaults are None)."""
    return {field: getattr(args, flag) for flag, field in ARCH_FLAGS.items() if getattr(args, flag) is not None}


def main(script: str, argv: list[str] | None = None, description: str | None = None) -> int:
    args = build_parser(script, description).parse_args(argv)
    from common.cli import UserError, fail, require_file
    from inference.engine import InferenceOptions, RunSpec, denoise_tree, parse_shard

    d = SCRIPT_DEFAULTS[script]
    require_file(args.model, "checkpoint (--model)")
    if args.devices < 1:
        fail("--devices must be >= 1")
    opts = InferenceOptions(output_dir=args.output_dir, fmt=args.fmt, jpeg_quality=args.jpeg_quality,
                            normalize=args.normalize, batch_size=args.batch_size, device=args.device,
                            precision=args.precision, num_workers=args.num_workers, overwrite=args.overwrite,
                            preview=args.preview, max_frames=args.max_frames, progress=not args.quiet)
    spec = RunSpec(checkpoint=args.model, input_dir=args.input_dir, opts=opts, overrides=overrides_from_args(args),
                   fallback_resolution=args.resolution_size, aspect=d.aspect, prefer_ext=args.frame_ext,
                   shard=parse_shard(args.shard), devices=args.devices)
    try:
        s = denoise_tree(spec)
    except UserError as exc:  # models/ names the config field; the denoise scripts call it --resolution_size
        raise UserError(str(exc).replace("--resolution_target ", "--resolution_size ")) from None
    at = "x".join(str(v) for v in s["network_size"]) if s["network_size"] else "each frame's own size"
    print(f"{s['clips']} clip(s): {s['written']} frames written, {s['skipped']} already done; "
          f"{s['fps']:.2f} frames/s on {s['device']} at {at}"
          f"{' (encoder reuse)' if s.get('encoder_reuse') else ''} -> {args.output_dir}")
    return 0
