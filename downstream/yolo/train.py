"""Offline ultralytics training of the one-class fish detector (docs/detection.md).

- Training never downloads: a `--weights` name that is not a file on disk is built from its architecture yaml.
- HSV augmentation is off by default: the merged frames are pseudo-colour (each channel means something else).
- A finished run is skipped, an interrupted one resumed from last.pt (`_checkpoint_finished`).

One monkeypatch, in `_guard_amp_check`: on a GPU, ultralytics' automatic-mixed-precision self-test downloads
yolo26n.pt to compare outputs. Offline that download fails, so when those weights are not in ultralytics' weights
folder we replace `ultralytics.engine.trainer.check_amp` with a function that trusts the `amp` flag. CPU runs and
machines that have the file keep ultralytics' own check.

Heavy imports (torch, ultralytics) stay inside functions so `train_detector.py --help` is instant.
"""
from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import asdict, dataclass

from common.cli import fail
from downstream.yolo.predict import default_device


@dataclass(frozen=True)
class Recipe:
    """The optimisation and augmentation choices of a detector training, explicit instead of ultralytics' "auto".

    Defaults are the protocol of docs/detection.md, chosen on the validation domain: one optimizer step per batch
    (`nbs` = batch: ultralytics otherwise accumulates gradients up to 64 images per step), AdamW at a fixed
    learning rate with a short warmup, and a zoom range that keeps small fish several pixels tall.
    """

    optimizer: str = "AdamW"
    lr0: float = 0.002
    lrf: float = 0.1            # final learning rate = lr0 * lrf (linear decay)
    warmup_epochs: float = 1.0
    warmup_bias_lr: float = 0.0  # ultralytics' 0.1 is meant for SGD; with Adam it throws the biases away at start
    nbs: int | None = None      # nominal batch size; None = the batch size (no gradient accumulation)
    scale: float = 0.25         # random zoom +/- this fraction (ultralytics' default 0.5 shrinks small fish to ~2 px)
    mosaic: float = 1.0
    close_mosaic: int = 2       # last epochs without mosaic
    cache: bool = True          # decoded training images kept in RAM (small datasets: no re-decoding per epoch)
    val: bool = True            # validate after every epoch (False: only after the last one, which saves time)

    def train_args(self, batch: int) -> dict:
        """The ultralytics `train()` keyword arguments of this recipe for a batch size."""
        args = asdict(self)
        args["nbs"] = self.nbs or batch
        args["cache"] = "ram" if self.cache else False
        return args


VAL_MAP50 = "metrics/mAP50(B)"  # ultralytics' results.csv column of the validation mAP50


def read_results_csv(path: str) -> list[dict[str, str]]:
    """The rows of an ultralytics results.csv, column names without their padding spaces ([] when absent)."""
    import csv

    if not os.path.isfile(path):
        return []
    with open(path, encoding="utf-8", newline="") as f:
        rows = [{(k or "").strip(): v for k, v in r.items()} for r in csv.DictReader(f)]
    return [r for r in rows if any((v or "").strip() for v in r.values())]


def final_val_map50(path: str) -> float | None:
    """The validation mAP50 on the last line of a results.csv; None when the file, the column or a number is
    missing."""
    import math

    rows = read_results_csv(path)
    try:
        value = float(rows[-1][VAL_MAP50]) if rows else None
    except (KeyError, TypeError, ValueError):
        return None
    return value if value is not None and math.isfinite(value) else None


def resolve_weights(weights: str, model_yaml: str | None = None) -> tuple[str, str | None, str]:
    """(model source, weights to transfer or None, one-line explanation) without ever downloading.

    An existing file is used as is. A name that is not on disk (`yolov5s.pt`, `yolov8n.pt`, `yolo11n.pt`) is mapped
    to its architecture yaml (ultralytics' yolov5s.yaml is the anchor-free "yolov5su" family) and built from
    scratch. `model_yaml` forces the architecture; existing weights are then transferred into it.
    """
    have = bool(weights) and os.path.isfile(weights)
    if model_yaml:
        if have:
            return model_yaml, weights, f"model: {model_yaml}, initialised from {weights}"
        return model_yaml, None, f"model: {model_yaml} from scratch ({weights or 'no weights'} not on disk)"
    if have:
        return weights, None, f"model: fine-tuning {weights}"
    stem = os.path.splitext(os.path.basename(weights or ""))[0]
    if not stem:
        fail("no --weights or --model-yaml given")
    if os.path.dirname(weights) or os.path.splitext(weights)[1] not in ("", ".pt", ".yaml"):
        fail(f"weights file not found: {weights}")
    return f"{stem}.yaml", None, (f"model: {weights} is not on disk and nothing is downloaded: building {stem}.yaml "
                                  "from scratch (random init; pass a local .pt to fine-tune)")


def _build_yolo(source: str, transfer: str | None):
    from ultralytics import YOLO

    try:
        model = YOLO(source)
    except (FileNotFoundError, KeyError, AttributeError) as exc:
        fail(f"cannot build a YOLO model from {source!r} ({exc}); use e.g. yolov5s.pt, yolov8n.pt, yolo11n.pt "
             "or an existing weights file")
    if transfer:
        model.load(transfer)
    return model


def _checkpoint_finished(path: str) -> bool | None:
    """True if an ultralytics checkpoint is final (optimizer stripped, epoch -1), False if resumable, None if absent."""
    if not os.path.isfile(path):
        return None
    import torch

    try:  # ultralytics checkpoints pickle the model object, so weights_only=True cannot read them
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the same user problem
        fail(f"unreadable checkpoint {path} ({exc.__class__.__name__}); pass --overwrite to retrain")
    return ckpt.get("epoch", -1) == -1 or ckpt.get("optimizer") is None


def _guard_amp_check(device: str, amp: bool) -> None:
    """The module's one monkeypatch: ultralytics' GPU AMP self-test downloads yolo26n.pt, so without that file
    `trainer.check_amp` is replaced by a function that trusts `amp` (process-wide; only training calls it)."""
    if not amp or device.startswith("cpu"):
        return
    import ultralytics.engine.trainer as trainer
    from ultralytics.utils import WEIGHTS_DIR

    if not (WEIGHTS_DIR / "yolo26n.pt").is_file():
        trainer.check_amp = lambda model: True


@contextlib.contextmanager
def _dataset_errors_as_user_errors():
    """ultralytics reports a bad data.yaml (missing images folder...) as RuntimeError('Dataset ...'): one line."""
    try:
        yield
    except RuntimeError as exc:
        if str(exc).startswith("Dataset"):
            fail(str(exc).splitlines()[0].replace("❌ ", ""))
        raise


def _print_epoch(trainer) -> None:
    """One line per epoch (ultralytics is silenced by YOLO_VERBOSE=0)."""
    if trainer.epoch >= trainer.epochs:  # the final validation of best.pt fires the callback once more
        return
    m = trainer.metrics or {}
    print(f"epoch {trainer.epoch + 1}/{trainer.epochs}: val mAP50 {m.get(VAL_MAP50, float('nan')):.3f}, "
          f"mAP50-95 {m.get('metrics/mAP50-95(B)', float('nan')):.3f}", flush=True)

def train_detector(data: str, epochs: int, batch: int, weights: str, imgsz: int, project: str, name: str,
                   device: str | None = None, workers: int = 2, seed: int = 0, model_yaml: str | None = None,
                   patience: int = 100, overwrite: bool = False, resume: bool = False, hsv: bool = False,
                   amp: bool | None = None, plots: bool = False, threads: int | None = None,
                   recipe: Recipe | None = None) -> str:
    """Train (or resume) a one-class YOLO detector; returns `<project>/<name>/weights/best.pt`.

    The run directory is exactly `<project>/<name>` (absolute, so ultralytics does not nest it under runs/detect,
    and exist_ok so it never becomes `<name>2`). A finished run is skipped, an interrupted one resumed from
    last.pt, `overwrite` retrains from scratch. `recipe`: optimizer, schedule and augmentation (`Recipe()`).
    Every CPU core is used (`threads`, default all), also after ultralytics' own thread reset.
    """
    import common.offline  # noqa: F401  (before ultralytics: offline, no autoinstall)

    data = os.path.abspath(data)
    if not os.path.isfile(data):
        fail(f"data yaml not found: {data}")
    save_dir = os.path.abspath(os.path.join(project, name))
    best, last = (os.path.join(save_dir, "weights", f) for f in ("best.pt", "last.pt"))
    if overwrite:  # ultralytics appends to an existing results.csv: start from an empty folder
        shutil.rmtree(save_dir, ignore_errors=True)
    state = _checkpoint_finished(last)
    if state and not os.path.isfile(best) and not resume:  # finished, but best.pt was removed: train again
        shutil.rmtree(save_dir, ignore_errors=True)
        state = None
    if state and not resume:
        print(f"already trained: {best} (pass --overwrite to retrain)")
        return best
    if resume and state is None:
        fail(f"nothing to resume: {last} does not exist")
    if resume and state:
        fail(f"{last} is a finished run; nothing to resume (pass --overwrite to retrain)")

    from ultralytics import YOLO

    from common.offline import set_threads

    set_threads(threads)
    device = device or default_device()
    use_amp = (not device.startswith("cpu")) if amp is None else amp
    _guard_amp_check(device, use_amp)
    if state is False:
        print(f"resuming the interrupted run from {last}")
        model = YOLO(last)
        model.add_callback("on_fit_epoch_end", _print_epoch)
        with _dataset_errors_as_user_errors():
            model.train(resume=True, data=data, device=device, workers=workers)
        return best
    source, transfer, message = resolve_weights(weights, model_yaml)
    print(message)
    model = _build_yolo(source, transfer)
    model.add_callback("on_fit_epoch_end", _print_epoch)
    hsv_args = {} if hsv else {"hsv_h": 0.0, "hsv_s": 0.0, "hsv_v": 0.0}
    with _dataset_errors_as_user_errors():
        model.train(data=data, epochs=epochs, batch=batch, imgsz=imgsz, project=os.path.dirname(save_dir),
                    name=os.path.basename(save_dir), exist_ok=True, device=device, workers=workers, seed=seed,
                    deterministic=True, patience=patience, amp=use_amp, plots=plots, verbose=False, **hsv_args,
                    **(recipe or Recipe()).train_args(batch))
    if not os.path.isfile(best):
        fail(f"training finished without writing {best}")
    return best
