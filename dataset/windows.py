"""The one windowed training dataset (every layout, every network) and its Lightning DataModule.

An item is (clip, t). It returns the frames at t + every offset in `offsets` (the network's `input_offsets`
plus the frames the target reads, t-2..t+2) as one K×H×W float tensor in [0, 1], with its provenance (clip
index, t). Targets are computed later, in the training step (dataset/targets.py).

Differences from the paper's datasets (docs/paper_code_behaviour.md#input-frames and #datasets-and-layouts), documented
in docs/training.md:
- Clip edges replicate the first/last frame (index clamped to the clip) instead of dropping the first and last
  3 frames, so every frame is a training sample and a 1-frame clip still trains (on copies of itself).
- Each clip is decoded once and resized once to the training size (bilinear, antialiased, on the [0, 1]
  tensor) into one uint8 memory-mapped array per clip (dataset/cache.py); the paper decoded five JPEGs per
  sample. Storing the resized frames as uint8 matches the paper, whose PIL resize also returned 8-bit. With
  `cache="none"` the workers decode and resize each window's frames on the fly instead (same values).
- The background B (docs/paper_code_behaviour.md#global-background) is computed once per clip over all of its frames
  (the paper: all but the 3 at each end) and only when the target needs it.
- A held-out validation split chooses best_model.ckpt
  (docs/paper_code_behaviour.md#defect-9-8-best-checkpoint-by-training-loss): whole clips when there are >= 2 clips,
  else the
  last frames of the single clip.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

from common.cli import UserError
from dataset.clips import Clip
from dataset.sampling import EpochSampler


def resize_unit(frames: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Resize N×1×h×w [0, 1] frames to `size` (H, W): bilinear with antialias, as torchvision's Resize
    (docs/paper_code_behaviour.md#frame-loading-and-layouts)."""
    if tuple(frames.shape[-2:]) == tuple(size):
        return frames
    return F.interpolate(frames, size=size, mode="bilinear", antialias=True, align_corners=False).clamp(0.0, 1.0)


def clip_background(frames: np.ndarray) -> np.ndarray:
    """The clip's global background B at original resolution (docs/paper_code_behaviour.md#global-background): temporal
    mean of the 5×5
    Gaussian-blurred frames (σ from OpenCV's rule), truncated to uint8 as the paper's cast."""
    from dataset.filters import blurred_background  # the same background as CFC background subtraction

    return background_uint8(blurred_background(frames))


def background_uint8(mean: np.ndarray) -> np.ndarray:
    """The mean blurred frame truncated to uint8, as the paper's cast."""
    return np.clip(mean.astype(np.float64) + 1e-4, 0, 255).astype(np.uint8)  # float blur of 10 gives 9.99999


@dataclass
class ClipData:
    """A prepared clip: where its resized uint8 frames live (memory-mapped), its size and optional extras."""

    name: str
    frames_path: str
    num_frames: int
    orig_hw: tuple[int, int]
    background_path: Optional[str] = None
    boxes: dict[int, np.ndarray] = field(default_factory=dict)  # 0-based frame → k×4 (left, top, w, h), 1-based px
    files: list[str] = field(default_factory=list)  # frame files, read on the fly when frames_path is None
    size: tuple[int, int] = (0, 0)  # training H×W


def prepare_clips(clips: Sequence[Clip], cache_dir: str, size: tuple[int, int], with_background: bool = False,
                  cache: str = "disk", workers: Optional[int] = None, progress: bool = False) -> list[ClipData]:
    """Cache every clip (resumable, parallel; dataset/cache.py) and describe each for the dataset."""
    from dataset.cache import prepare_cache

    if cache not in ("disk", "none"):
        raise UserError(f"--cache must be disk or none, got {cache!r}")
    for clip in clips if cache == "none" else ():
        if not os.path.isdir(clip.source):
            raise UserError(f"--cache none decodes frame folders on the fly; {clip.source} is a video or TIFF "
                            "stack: use --cache disk")
    done = prepare_cache(clips, cache_dir, size, with_background, store_frames=cache == "disk",
                         workers=workers, progress=progress)
    return [ClipData(e.clip.name, e.frames_path, rec["num_frames"], tuple(rec["orig_hw"]), e.background_path,
                     files=e.files, size=tuple(size)) for e, rec in done]


def prepare_clip(clip: Clip, cache_dir: str, size: tuple[int, int], exts: tuple[str, ...] = (),
                 with_background: bool = False) -> ClipData:
    """One clip's `prepare_clips` (its frames were already filtered by extension when the clip was found)."""
    return prepare_clips([clip], cache_dir, size, with_background)[0]


class DecodedFrames:
    """`cache="none"`: a clip's frames decoded and resized when indexed, like the cached uint8 array."""

    def __init__(self, files: Sequence[str], size: tuple[int, int]):
        self.files, self.shape = list(files), (len(files), *size)

    def __getitem__(self, idx: Sequence[int]) -> np.ndarray:
        from dataset.cache import decode_resized

        unique = sorted(set(idx))
        resized = dict(zip(unique, decode_resized([self.files[i] for i in unique], self.shape[1:])))
        return np.stack([resized[i] for i in idx])


def window_indices(t: int, offsets: Sequence[int], num_frames: int) -> list[int]:
    """Frame indices of the window at t: t + offset, clamped to the clip (edge frames replicated)."""
    return [min(max(t + o, 0), num_frames - 1) for o in offsets]


def box_mask(boxes: np.ndarray, orig_hw: tuple[int, int], size: tuple[int, int]) -> torch.Tensor:
    """1×H×W object mask: 1 inside each (1-based MOT) box scaled to the training size, 0 elsewhere
    (docs/paper_code_behaviour.md#annotations-and-object-mask and #defect-9-5-object-loss-without-gradient
    fixed: the paper's mask held 1/255 and blurred edges)."""
    h, w = size
    sy, sx = h / orig_hw[0], w / orig_hw[1]
    mask = torch.zeros(1, h, w)
    for left, top, bw, bh in boxes:
        x0, y0 = max(0, math.floor((left - 1) * sx)), max(0, math.floor((top - 1) * sy))
        x1, y1 = min(w, math.ceil((left - 1 + bw) * sx)), min(h, math.ceil((top - 1 + bh) * sy))
        mask[:, y0:y1, x0:x1] = 1.0
    return mask


class WindowDataset(Dataset):
    """Items (clip, t) → {"window": K×H×W float, "clip": int, "t": int[, "background"][, "mask"]: 1×H×W}.

    `window[k]` is frame t + offsets[k]. Memory maps are opened lazily in each worker process, so the dataset
    pickles small (DataLoader workers, DDP spawn).
    """

    def __init__(self, clips: Sequence[ClipData], items: Sequence[tuple[int, int]], offsets: Sequence[int],
                 with_background: bool = False, with_mask: bool = False):
        self.clips = list(clips)
        self.items = list(items)
        self.offsets = list(offsets)
        self.with_background = with_background
        self.with_mask = with_mask
        self._frames: dict[int, np.ndarray] = {}
        self._bg: dict[int, torch.Tensor] = {}

    def __len__(self) -> int:
        return len(self.items)

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_frames": {}, "_bg": {}}

    def _clip_frames(self, c: int) -> np.ndarray:
        if c not in self._frames:
            clip = self.clips[c]
            self._frames[c] = (np.load(clip.frames_path, mmap_mode="r") if clip.frames_path
                               else DecodedFrames(clip.files, clip.size))
        return self._frames[c]

    def __getitem__(self, i: int) -> dict:
        c, t = self.items[i]
        clip = self.clips[c]
        frames = self._clip_frames(c)
        idx = window_indices(t, self.offsets, clip.num_frames)
        item = {"window": torch.from_numpy(frames[idx].astype(np.float32)).div_(255.0), "clip": c, "t": t}
        size = tuple(frames.shape[1:])
        if self.with_background:
            if c not in self._bg:
                self._bg[c] = torch.from_numpy(np.load(clip.background_path))[None]
            item["background"] = self._bg[c]
        if self.with_mask:
            item["mask"] = box_mask(clip.boxes.get(t, np.zeros((0, 4))), clip.orig_hw, size)
        return item


def split_items(lengths: Sequence[int], val_fraction: float, seed: int = 0
                ) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Deterministic train/val split of all (clip, t) items.

    >= 2 clips: round(val_fraction × clips) whole clips (at least 1, never all) chosen by a seeded permutation,
    so validation frames are never neighbours of training frames. 1 clip: its last ceil(val_fraction × T)
    frames (if the clip has at least 2). val_fraction 0 → no validation set.
    """
    all_items = [[(c, t) for t in range(n)] for c, n in enumerate(lengths)]
    if val_fraction <= 0:
        return [it for clip in all_items for it in clip], []
    if len(lengths) >= 2:
        n_val = min(len(lengths) - 1, max(1, round(val_fraction * len(lengths))))
        order = np.random.default_rng(seed).permutation(len(lengths))
        val_clips = set(int(c) for c in order[:n_val])
        train = [it for c, clip in enumerate(all_items) if c not in val_clips for it in clip]
        val = [it for c, clip in enumerate(all_items) if c in val_clips for it in clip]
        return train, val
    n = lengths[0]
    n_val = min(n - 1, max(1, math.ceil(val_fraction * n))) if n >= 2 else 0
    return all_items[0][:n - n_val], all_items[0][n - n_val:]


def _datamodule_base():
    import pytorch_lightning as pl

    return pl.LightningDataModule


class DenoiseDataModule(_datamodule_base()):
    """Finds the clips of a layout, prepares the caches once (rank 0), splits train/val and serves loaders."""

    def __init__(self, dataset: str, base_folder: str, size: tuple[int, int], offsets: Sequence[int],
                 cache_dir: str, batch_size: int = 32, num_workers: int = 0, val_fraction: float = 0.1,
                 seed: int = 0, with_background: bool = False, annotations_folder: str = "",
                 with_mask: bool = False, pin_memory: bool = False, max_items: Optional[int] = None,
                 progress: bool = True, cache: str = "disk", prep_workers: Optional[int] = None):
        super().__init__()
        self.dataset, self.base_folder, self.size = dataset, base_folder, tuple(size)
        self.offsets, self.cache_dir = list(offsets), cache_dir
        self.batch_size, self.num_workers, self.pin_memory = batch_size, num_workers, pin_memory
        self.val_fraction, self.seed, self.max_items, self.progress = val_fraction, seed, max_items, progress
        self.with_background, self.annotations_folder, self.with_mask = with_background, annotations_folder, with_mask
        self.cache, self.prep_workers = cache, prep_workers
        self.clips: list[ClipData] = []
        self.train_sampler: Optional[EpochSampler] = None
        self.train_set: Optional[WindowDataset] = None
        self.val_set: Optional[WindowDataset] = None

    def _prepare(self, progress: bool) -> list[ClipData]:
        from dataset.layouts import layout_clips

        return prepare_clips(layout_clips(self.dataset, self.base_folder), self.cache_dir, self.size,
                             self.with_background, self.cache, self.prep_workers, progress)

    def prepare_data(self) -> None:
        if not self.clips:
            self.clips = self._prepare(self.progress)

    def setup(self, stage: Optional[str] = None) -> None:
        if self.train_set is not None:
            return
        self.clips = self.clips or self._prepare(False)
        if self.with_mask:
            self._load_boxes()
        train, val = split_items([c.num_frames for c in self.clips], self.val_fraction, self.seed)
        if self.max_items:
            train, val = train[:self.max_items], val[:self.max_items]
        make = lambda items: WindowDataset(self.clips, items, self.offsets, self.with_background, self.with_mask)  # noqa: E731
        self.train_set = make(train)
        self.val_set = make(val) if val else None
        self.train_sampler = EpochSampler(len(train), self.seed, shuffle=True)

    def _load_boxes(self) -> None:
        from dataset.layouts import annotation_file
        from common.mot import by_frame, read_mot

        for clip in self.clips:
            rows = read_mot(annotation_file(self.annotations_folder, clip.name))
            clip.boxes = {f - 1: r[:, 2:6] for f, r in by_frame(rows).items()}

    def _loader(self, ds: WindowDataset, sampler: EpochSampler) -> DataLoader:
        """Samplers shard over DDP ranks themselves (the Trainer runs with use_distributed_sampler=False)."""
        return DataLoader(ds, batch_size=self.batch_size, sampler=sampler, num_workers=self.num_workers,
                          pin_memory=self.pin_memory, persistent_workers=self.num_workers > 0)

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_set, self.train_sampler)

    def val_dataloader(self):
        if self.val_set is None:
            return []
        return self._loader(self.val_set, EpochSampler(len(self.val_set), shuffle=False))
