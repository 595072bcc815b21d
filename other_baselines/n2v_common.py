"""Noise2Void with CAREamics (docs/paper_code_behaviour.md#baselines): the training and prediction shared by
n2v_{cfc22,CVA,POCUS}.py and
n2v_predict_{cfc22,CVA,POCUS}.py. Runs only in `.venv-n2v` (setup/setup_n2v.sh): CAREamics pins an older torch.

Follows the paper's runs: CAREamics' N2V with its default U-Net, 2-D patches 128x128 (axes YX), batch 32,
every frame of every clip as training data, grayscale frames read with OpenCV (here: dataset/frames.py), at least
5 validation patches (1 % of the patches), prediction in 128x128 tiles, every frame written.

What differs, and why:
- normalisation (docs/paper_code_behaviour.md#defect-9-16-n2v-normalisation): the paper passed 0-1 mean/std constants
  while reading frames at 0-255. Here CAREamics
  computes the mean/std from the training frames as read (0-255, float32) and stores them in its checkpoint;
  prediction reads the frames the same way, so statistics and images share one scale. Predictions come back
  on that scale and are saved as rint -> clip(0, 255) -> uint8 (the paper cast straight to uint8: wrap-around);
- the output tree and file names are denoise.py's (`<output_dir>/<clip>/<frame stem>.png`), every frame;
- tiles overlap by 48 px (CAREamics' default; the paper's overlap of 2 px leaves seams);
- frames of a clip are predicted in chunks through one datamodule (the paper built one per image);
- paths are flags, not hard-coded; the checkpoint kept is CAREamics' (best by validation loss, and last).
"""
from __future__ import annotations

import argparse
import math
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from common.cli import ArgumentParser, UserError, check_not_inside, fail, require_dir
from common.imaging import to_uint8
from dataset.frames import read_frame, write_frame
from dataset.layouts import get_layout, layout_clips

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N2V_VENV = os.path.join(ROOT, ".venv-n2v")
FORMATS = ("png", "jpg", "tif")
TRAIN_EPOCHS = {"CFC22": 20, "CVA": 120, "POCUS": 120}  # docs/paper_code_behaviour.md#baselines


def require_careamics() -> Any:
    """Import careamics, or explain in one line how to get the environment it needs."""
    try:
        import careamics
    except ImportError:
        fail(f"careamics is not importable by {sys.executable}; run `bash setup/setup_n2v.sh` and use "
             f"{os.path.join(N2V_VENV, 'bin', 'python')}")
    import torch

    main_venv = os.path.realpath(os.path.join(ROOT, ".venv")) + os.sep
    if os.path.realpath(torch.__file__).startswith(main_venv):
        fail(f"torch is imported from the main .venv ({torch.__file__}); run the N2V scripts with .venv-n2v")
    return careamics


def read_for_n2v(file_path: Path, *args: Any, **kwargs: Any) -> np.ndarray:
    """CAREamics read function: a frame as grayscale float32 on the 0-255 scale (the same for training,
    statistics and prediction, fixing docs/paper_code_behaviour.md#defect-9-16-n2v-normalisation)."""
    return read_frame(str(file_path)).astype(np.float32)


def clip_frame_paths(dataset: str, root: str) -> list[tuple[str, list[str]]]:
    """(clip name, frame paths) for every folder clip under `root` in `dataset`'s layout (dataset/layouts.py)."""
    clips = layout_clips(dataset, root)
    out = [(c.name, [os.path.join(c.source, n) for n in c.frame_names]) for c in clips if c.frame_names]
    if len(out) < len(clips):
        skipped = [c.name for c in clips if not c.frame_names]
        fail(f"N2V reads frame folders; extract these video/TIFF clips to frames first: {', '.join(skipped[:3])}")
    return out


def n_val_patches(frames: Sequence[str], patch: int, fraction: float = 0.01, minimum: int = 5) -> int:
    """The paper's validation share: `fraction` of all patches, at least `minimum`
    (docs/paper_code_behaviour.md#baselines)."""
    h, w = read_frame(frames[0]).shape
    per_frame = max(1, h // patch) * max(1, w // patch)
    return max(minimum, int(math.ceil(fraction * per_frame * len(frames))))


def train_n2v(dataset: str, data_dir: str, work_dir: str, epochs: int, patch_size: int = 128, batch_size: int = 32,
              num_steps: int | None = None, val_percentage: float = 0.01, min_val_patches: int = 5,
              num_workers: int = 0, seed: int = 1, progress: bool = True) -> dict:
    """Train N2V on every frame under `data_dir`; returns {"checkpoint": best/last path, "frames": n, ...}."""
    require_careamics()
    from careamics import CAREamist
    from careamics.config import create_advanced_n2v_config
    from careamics.dataset.factory import ReadFuncLoading

    name, _ = get_layout(dataset)
    require_dir(data_dir, "--data_dir")
    if patch_size % 8 or patch_size < 16:
        fail(f"--patch_size {patch_size} must be a multiple of 8 and >= 16 (CAREamics U-Net)")
    frames = [p for _, paths in clip_frame_paths(dataset, data_dir) for p in paths]
    n_val = n_val_patches(frames, patch_size, val_percentage, min_val_patches)
    try:
        config = create_advanced_n2v_config(
            experiment_name=f"n2v_{name}", data_type="custom", axes="YX", patch_size=[patch_size, patch_size],
            batch_size=batch_size, num_epochs=epochs, num_steps=num_steps, n_val_patches=n_val, in_memory=None,
            num_workers=num_workers, trainer_params={"accelerator": "auto", "devices": 1}, seed=seed,
        )
    except ValueError as exc:  # pydantic's ValidationError: a flag CAREamics refuses
        raise UserError(f"CAREamics refused the N2V settings: {' '.join(str(exc).split())}") from exc
    os.makedirs(work_dir, exist_ok=True)
    careamist = CAREamist(config, work_dir=work_dir, enable_progress_bar=progress)
    try:
        careamist.train(train_data=frames, loading=ReadFuncLoading(read_for_n2v))
    except ValueError as exc:  # CAREamics' own checks on the data (e.g. too few patches for validation)
        raise UserError(f"N2V training refused the data under {data_dir}: {' '.join(str(exc).split())}") from exc
    checkpoints = [str(p) for p in careamist.get_checkpoints()]
    return {"frames": len(frames), "val_patches": n_val, "checkpoints": checkpoints,
            "checkpoint": best_checkpoint(checkpoints)}


_LOSS_IN_NAME = re.compile(r"_(\d+\.\d+)(?:-v\d+)?\.ckpt$")  # Lightning adds -v1 when a name repeats
_LAST = re.compile(r"(?:^|[_-])last(?:-v\d+)?\.ckpt$")


def _natural_key(path: str) -> list:
    """Sort key that orders `epoch_9` before `epoch_10` (a plain string sort does not)."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path)]


def best_checkpoint(paths: Sequence[str]) -> str | None:
    """The one rule for which N2V checkpoint to denoise with (demo.sh and denoise_runs.sh use it through
    `--model DIR`). CAREamics keeps its top-3 checkpoints by validation loss, named
    `<experiment>_<epoch>_step_<step>_<val_loss>.ckpt`, plus `<experiment>_last.ckpt`: take the lowest loss in the
    name (the later epoch on a tie); names without a loss → the latest epoch; only `last` files → the latest one."""
    if not paths:
        return None
    kept = sorted((p for p in paths if not _LAST.search(os.path.basename(p))), key=_natural_key)
    if not kept:
        return max(paths, key=_natural_key)
    scored = [(float(m.group(1)), p) for p in kept if (m := _LOSS_IN_NAME.search(os.path.basename(p)))]
    if not scored:
        return kept[-1]
    lowest = min(loss for loss, _ in scored)
    return [p for loss, p in scored if loss == lowest][-1]


def best_checkpoint_in(work_dir: str) -> str:
    """`best_checkpoint` over every *.ckpt under a training --work_dir; one-line error when there is none."""
    paths = [str(p) for p in Path(work_dir).rglob("*.ckpt")] if os.path.isdir(work_dir) else []
    found = best_checkpoint(paths)
    if found is None:
        fail(f"no N2V checkpoint (*.ckpt) under {work_dir}; train one first with the n2v training script")
    return found


def predict_n2v(checkpoint: str, dataset: str, input_dir: str, output_dir: str, tile_size: int = 128,
                tile_overlap: int = 48, chunk: int = 32, fmt: str = "png", overwrite: bool = False,
                progress: bool = True) -> dict:
    """Denoise every frame of every clip under `input_dir` into denoise.py's layout; resumes by skipping
    frames already written (writes are atomic)."""
    from tqdm import tqdm

    require_careamics()
    from careamics import CAREamist

    if fmt not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if tile_size % 8 or tile_overlap % 2 or not 0 <= tile_overlap < tile_size:
        fail(f"--tile_size {tile_size} must be a multiple of 8 and --tile_overlap {tile_overlap} even and smaller")
    if not os.path.isfile(checkpoint):
        fail(f"N2V checkpoint not found: {checkpoint}")
    require_dir(input_dir, "--input_dir")
    check_not_inside(output_dir, input_dir)
    clips = clip_frame_paths(dataset, input_dir)
    todo: list[tuple[str, str]] = []
    for clip_name, paths in clips:
        rel = os.path.relpath(os.path.dirname(paths[0]), input_dir)  # denoise.py's tree: "" for a lone clip
        out_dir = output_dir if rel == "." else os.path.join(output_dir, rel)
        for p in paths:
            out = os.path.join(out_dir, f"{os.path.splitext(os.path.basename(p))[0]}.{fmt}")
            if overwrite or not os.path.exists(out):
                todo.append((p, out))
    total = sum(len(p) for _, p in clips)
    if not todo:
        return {"clips": len(clips), "written": 0, "skipped": total}
    work = tempfile.mkdtemp(prefix="n2v_predict_")  # CAREamics wants a work dir; keep it out of the outputs
    try:
        careamist = CAREamist(checkpoint_path=checkpoint, work_dir=work, enable_progress_bar=False)
    except (KeyError, ValueError, RuntimeError, OSError) as exc:
        shutil.rmtree(work, ignore_errors=True)
        raise UserError(f"not a CAREamics N2V checkpoint: {checkpoint} ({exc.__class__.__name__}: {exc})") from exc
    bar = tqdm(total=total, initial=total - len(todo), unit="frame", desc="N2V", disable=not progress, file=sys.stderr)
    for s in range(0, len(todo), chunk):
        part = todo[s:s + chunk]
        images = [read_for_n2v(Path(p)) for p, _ in part]
        preds, _ = careamist.predict(images, data_type="array", axes="YX", tile_size=(tile_size, tile_size),
                                     tile_overlap=(tile_overlap, tile_overlap), batch_size=chunk, num_workers=0,
                                     checkpoint=checkpoint)
        for (_, out), pred in zip(part, preds):
            # 0-255 scale → rounded, clipped, no wrap-around (docs/paper_code_behaviour.md#defect-9-16-n2v-normalisation)
            write_frame(out, to_uint8(np.squeeze(pred), 0.0, 255.0))
        bar.update(len(part))
    bar.close()
    shutil.rmtree(work, ignore_errors=True)
    return {"clips": len(clips), "written": len(todo), "skipped": total - len(todo)}


# ----------------------------------------------------------------------------------------------------------------
# The two command lines (each n2v_*.py script is these plus its dataset name)
# ----------------------------------------------------------------------------------------------------------------
def train_cli(dataset: str, doc: str, argv: Sequence[str] | None = None) -> int:
    p = ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data_dir", required=True, help="frames to train on (every frame of every clip under it)")
    p.add_argument("--work_dir", default=os.path.join("checkpoints", f"n2v_{dataset}"),
                   help="CAREamics work dir: checkpoints/ and logs go here")
    p.add_argument("--epochs", type=int, default=TRAIN_EPOCHS[dataset], help="training epochs (paper: 20 CFC22, 120 CVA/POCUS)")
    p.add_argument("--patch_size", type=int, default=128, help="square training patch side (multiple of 8)")
    p.add_argument("--batch_size", type=int, default=32, help="patches per batch")
    p.add_argument("--num_steps", type=int, default=None, help="cap batches per epoch (default: all patches once)")
    p.add_argument("--val_percentage", type=float, default=0.01, help="share of patches held out for validation")
    p.add_argument("--min_val_patches", type=int, default=5, help="at least this many validation patches")
    p.add_argument("--num_workers", type=int, default=0, help="DataLoader workers")
    p.add_argument("--seed", type=int, default=1, help="random seed (CAREamics wants >= 1)")
    p.add_argument("--no_progress", action="store_true", help="no progress bars")
    args = p.parse_args(argv)
    if args.epochs < 1 or args.batch_size < 1:
        fail("--epochs and --batch_size must be >= 1")
    out = train_n2v(dataset, args.data_dir, args.work_dir, args.epochs, args.patch_size, args.batch_size,
                    args.num_steps, args.val_percentage, args.min_val_patches, args.num_workers, args.seed,
                    progress=not args.no_progress)
    print(f"N2V ({dataset}): trained on {out['frames']} frames, {out['val_patches']} validation patches; "
          f"checkpoint {out['checkpoint']}")
    return 0


def predict_cli(dataset: str, doc: str, argv: Sequence[str] | None = None) -> int:
    p = ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="CAREamics checkpoint (.ckpt) written by the n2v training script, "
                   "or its --work_dir: then the best checkpoint in it (lowest validation loss)")
    p.add_argument("--input_dir", required=True, help="a domain/class folder of clips (or one clip folder)")
    p.add_argument("--output_dir", required=True, help="denoised frames: same tree and frame names as the input")
    p.add_argument("--tile_size", type=int, default=128, help="prediction tile side (multiple of 8)")
    p.add_argument("--tile_overlap", type=int, default=48, help="tile overlap in pixels (even)")
    p.add_argument("--batch_size", type=int, default=32, help="frames per prediction call")
    p.add_argument("--format", default="png", choices=FORMATS, help="output image format (denoise.py's default: png)")
    p.add_argument("--overwrite", action="store_true", help="redo frames that already exist")
    p.add_argument("--no_progress", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    if args.batch_size < 1:
        fail("--batch_size must be >= 1")
    if os.path.isdir(args.model):
        args.model = best_checkpoint_in(args.model)
        print(f"N2V ({dataset}): checkpoint {args.model}")
    out = predict_n2v(args.model, dataset, args.input_dir, args.output_dir, args.tile_size, args.tile_overlap,
                      args.batch_size, args.format, args.overwrite, progress=not args.no_progress)
    print(f"N2V ({dataset}): {out['clips']} clips, {out['written']} frames written, {out['skipped']} already done "
          f"-> {args.output_dir}")
    return 0
