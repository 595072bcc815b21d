"""The project's shared detector starting point: one YOLO pretrained once on a synthetic domain of its own.

The paper fine-tuned COCO-pretrained weights; nothing may be downloaded here, so the project makes its own
starting point (docs/detection.md#the-detector-protocol-what-demosh-does-and-why). It is trained on a
*pretraining* domain: clips of the synthetic sonar generator with their own seed and domain names, never the
benchmark's validation or test clips, and with three channel layouts in equal shares so that it favours no input kind of the table:

- `raw`: the grey frame (read as three equal channels),
- `baseline_pp`: CFC Baseline++ [raw, background-subtracted, |frame difference|],
- `merged`: the denoiser merge [background-subtracted, denoised, denoised], with a Gaussian 3-D filter standing in
  for a denoiser (neither SAVeD nor the clean frames).

The weights are cached by content: the key hashes the spec (seed, clips, frame size, budget, ...), the recipe and
the source of the generator and of this module, so a change of any of them trains a new one and an unchanged one
is reused by every row, every later run and `train_detector.py --weights`.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from common.atomic import write_json
from common.cli import fail
from common.offline import ROOT

LAYOUTS = ("raw", "baseline_pp", "merged")
CACHE_ENV = "SAVED_DETECTOR_CACHE"
# Files whose bytes decide what the pretraining data look like: a change of any of them is a new cache entry.
GENERATOR_SOURCES = ("dataset/synthetic.py", "dataset/sonar_model.py", "dataset/filters.py",
                     "downstream/yolo/pretrain.py")


@dataclass(frozen=True)
class PretrainSpec:
    """What the pretraining domain holds and how long the detector trains on it."""

    seed: int = 1000                # the benchmark's data seeds are small integers; this one is its own
    domains: tuple[str, ...] = ("pretrain-a", "pretrain-b", "pretrain-c")  # each name gives its own acquisition style
    val_domain: str = "pretrain-val"  # a few short clips (one per layout) for the pretraining's own check
    val_frames: int = 30
    clips_per_domain: int = 3       # with 3 domains, every domain shows every layout
    frames: int = 100
    height: int = 256
    width: int = 128
    fish_per_clip: int = 4
    target_scale: float = 4.0
    epochs: int = 5
    imgsz: int = 256                # the frames' own size: at 160 px the fish are ~5 px tall and a randomly
    batch: int = 16                 # initialised YOLO's box loss starts near zero (docs/detection.md)
    model: str = "yolov8n.yaml"
    # Recipe fields that differ from downstream.yolo.train.Recipe(): a wide zoom range, so that the fish sizes of
    # the rows' smaller training images are seen too
    recipe: dict = field(default_factory=lambda: {"scale": 0.5})

    def key(self) -> str:
        """Content key: this spec, the recipe's defaults and the generator's source bytes."""
        from downstream.yolo.train import Recipe

        h = hashlib.sha256()
        spec = asdict(self)
        spec["recipe"] = asdict(Recipe(**self.recipe))
        h.update(json.dumps(spec, sort_keys=True).encode())
        for rel in GENERATOR_SOURCES:
            with open(os.path.join(ROOT, rel), "rb") as f:
                h.update(hashlib.sha256(f.read()).digest())
        return h.hexdigest()[:16]


def default_cache_dir() -> str:
    """$SAVED_DETECTOR_CACHE, else .cache/detector_pretrain in the repository."""
    return os.environ.get(CACHE_ENV) or os.path.join(ROOT, ".cache", "detector_pretrain")


def compose_layout(noisy: np.ndarray, layout: str) -> np.ndarray:
    """A T×H×W uint8 clip as the detector would see it in `layout`: T×H×W (grey) or T×H×W×3 in OpenCV's BGR
    order, the order the demo's frames are written in."""
    from common.imaging import to_uint8
    from dataset.filters import background_subtract, baseline_plus_plus, filter_clip

    if layout == "raw":
        return noisy
    if layout == "baseline_pp":
        return baseline_plus_plus(noisy)[..., ::-1].copy()  # RGB (raw, BS, |dBS|) -> BGR as cv2 writes it
    if layout == "merged":
        bs = to_uint8(background_subtract(noisy), 0.0, 1.0)
        den = filter_clip(noisy, "gaussian")
        return np.stack([bs, den, den], axis=-1)  # BGR [BS, denoised, denoised] as add_denoised_to_raw_2_ch
    raise ValueError(f"unknown layout {layout!r}; choose one of {', '.join(LAYOUTS)}")


def layout_of(clip_index: int) -> str:
    """The layout of the clip_index-th clip (counted over all domains): they rotate, so shares stay equal."""
    return LAYOUTS[clip_index % len(LAYOUTS)]


def write_pretraining_data(spec: PretrainSpec, root: str, progress: bool = True) -> dict[str, int]:
    """Render the pretraining clips into a CFC22-shaped tree under `root` (frames/<domain>/<clip>/<i>.jpg,
    annotations_mot/<domain>/<clip>/gt.txt); return how many clips each layout got."""
    from tqdm import tqdm

    from common.mot import write_mot
    from dataset.frames import write_frame
    from dataset.sonar_model import SonarParams
    from dataset.synthetic import render_clip

    params = SonarParams().scaled_targets(spec.target_scale)
    shares = {k: 0 for k in LAYOUTS}
    jobs = [(di, d, ci, spec.frames) for di, d in enumerate(spec.domains) for ci in range(spec.clips_per_domain)]
    jobs += [(len(spec.domains), spec.val_domain, ci, spec.val_frames) for ci in range(len(LAYOUTS))]
    for di, domain, ci, n_frames in tqdm(jobs, desc="pretraining clips", unit="clip", disable=not progress):
        noisy, _clean, rows = render_clip((spec.seed, di, ci), n_frames, spec.height, spec.width, 1.0,
                                          spec.fish_per_clip, domain, params)
        layout = layout_of(ci if domain == spec.val_domain else di * spec.clips_per_domain + ci)
        if domain != spec.val_domain:
            shares[layout] += 1
        clip = f"clip{ci:03d}-{layout}"
        frames = compose_layout(noisy, layout)
        for t, img in enumerate(frames):
            write_frame(os.path.join(root, "frames", domain, clip, f"{t}.jpg"), img)
        write_mot(os.path.join(root, "annotations_mot", domain, clip, "gt.txt"), rows)
    return shares


def pretrained_detector(spec: PretrainSpec, cache_dir: str | None = None, progress: bool = True,
                        threads: int | None = None) -> tuple[str, dict, bool]:
    """(path of the cached pretrained weights, its record, cache hit?): trained now on a miss, read on a hit.

    The record (`record.json` beside the weights) holds the spec, the key, the training seconds and the final
    validation mAP50 on held-out pretraining clips; a hit adds nothing to it.
    """
    cache_dir = cache_dir or default_cache_dir()
    key = spec.key()
    entry = os.path.join(cache_dir, key)
    weights, record_path = os.path.join(entry, "pretrained.pt"), os.path.join(entry, "record.json")
    if os.path.isfile(weights) and os.path.isfile(record_path):
        with open(record_path, encoding="utf-8") as f:
            return weights, json.load(f), True
    from downstream.yolo.convert import convert_mot_to_yolo
    from downstream.yolo.train import Recipe, final_val_map50, train_detector

    work = os.path.join(cache_dir, f".work-{key}")
    shutil.rmtree(work, ignore_errors=True)
    start = time.time()
    shares = write_pretraining_data(spec, os.path.join(work, "data"), progress)
    # validated on its own held-out clips, never on the benchmark's kenai-val
    convert_mot_to_yolo(os.path.join(work, "data", "annotations_mot"), os.path.join(work, "data", "frames"),
                        os.path.join(work, "yolo"), train_domains=list(spec.domains),
                        val_domains=[spec.val_domain], test_domains=[], empty_fraction=0.25, progress=progress)
    recipe = Recipe(**{**spec.recipe, "val": False})
    best = train_detector(os.path.join(work, "yolo", "data.yaml"), spec.epochs, spec.batch, spec.model, spec.imgsz,
                          os.path.join(work, "runs"), "pretrain", seed=spec.seed, overwrite=True, threads=threads,
                          recipe=recipe)
    seconds = time.time() - start
    val_map50 = final_val_map50(os.path.join(work, "runs", "pretrain", "results.csv"))
    val_map50 = None if val_map50 is None else round(val_map50, 4)
    os.makedirs(entry, exist_ok=True)
    tmp = weights + ".tmp"
    shutil.copyfile(best, tmp)
    os.replace(tmp, weights)
    record = {"key": key, "spec": asdict(spec), "layouts": shares, "seconds": round(seconds, 1),
              "val_map50": val_map50, "created": time.strftime("%Y-%m-%d %H:%M:%S")}
    record = json.loads(json.dumps(record))  # as a later hit reads it back (tuples become lists)
    write_json(record_path, record)
    shutil.rmtree(work, ignore_errors=True)
    return weights, record, False


def link_weights(weights: str, output: str) -> None:
    """Point `output` at the cached weights (a symlink, replaced atomically; refused over a regular file)."""
    if os.path.lexists(output) and not os.path.islink(output):
        fail(f"{output} exists and is not a link to pretrained weights; choose another --output")
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    tmp = output + ".tmp-link"
    if os.path.lexists(tmp):
        os.remove(tmp)
    os.symlink(os.path.abspath(weights), tmp)
    os.replace(tmp, output)
