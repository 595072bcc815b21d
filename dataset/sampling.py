"""Epoch order that a mid-epoch checkpoint can resume exactly: a seeded permutation per epoch, sharded over ranks,
and a callback that stores how many batches of the epoch were trained.

Lightning restores its own loop counters from a mid-epoch `last.ckpt`, but a plain shuffling DataLoader starts
the epoch over in a new order (Lightning warns "your dataloader is not resumable"). Here the order of epoch e
is a function of (seed, e) only, so after `--resume` the sampler regenerates it and skips the batches the
checkpoint says were trained: every sample of each epoch is trained on once, SIGKILL or not.
"""
from __future__ import annotations

import math
from typing import Any, Iterator, Optional

import numpy as np
from torch.utils.data import Sampler


def _rank_world() -> tuple[int, int]:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


class EpochSampler(Sampler[int]):
    """Indices of one rank: permutation(seed, epoch) (or 0..n-1), padded by wrapping to a multiple of the
    world size as torch's DistributedSampler, then every world-th index from this rank's position.

    `resume(epoch, skip)` makes the next iteration epoch `epoch` minus its first `skip` indices (of this rank);
    a skip that covers the whole epoch means the checkpoint was taken at its end: the next epoch starts whole.
    """

    def __init__(self, n: int, seed: int = 0, shuffle: bool = True):
        self.n, self.seed, self.shuffle = n, seed, shuffle
        self.epoch = 0
        self._resume: Optional[tuple[int, int]] = None

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def resume(self, epoch: int, skip: int) -> None:
        self._resume = (epoch, skip)

    def per_rank(self) -> int:
        return math.ceil(self.n / _rank_world()[1])

    def order(self, epoch: int) -> list[int]:
        """This rank's full order for `epoch`."""
        rank, world = _rank_world()
        idx = np.random.default_rng([self.seed, epoch]).permutation(self.n) if self.shuffle else np.arange(self.n)
        total = self.per_rank() * world
        idx = np.concatenate([idx, idx[:total - self.n]]) if total > self.n else idx
        return [int(i) for i in idx[rank:total:world]]

    def __iter__(self) -> Iterator[int]:
        epoch, skip = self.epoch, 0
        if self._resume is not None:
            epoch, skip = self._resume
            self._resume = None
            if skip >= self.per_rank():
                epoch, skip = epoch + 1, 0
            self.epoch = epoch
        return iter(self.order(epoch)[skip:])

    def __len__(self) -> int:
        # the full epoch, also when resuming: Lightning counts the batches already trained as fetched
        return self.per_rank()


def _callback_base():
    from pytorch_lightning.callbacks import Callback

    return Callback


class ResumeSampler(_callback_base()):
    """Saves (epoch, batches trained this epoch, batch size, ranks) in every checkpoint; on `--resume`, tells the
    training sampler where to start. A checkpoint written at the end of a training batch counts that batch."""

    def __init__(self, sampler: EpochSampler, batch_size: int):
        self.sampler, self.batch_size = sampler, batch_size
        self._trainer: Any = None

    def setup(self, trainer, pl_module, stage: str) -> None:
        self._trainer = trainer

    def state_dict(self) -> dict:
        if self._trainer is None:
            return {}
        progress = self._trainer.fit_loop.epoch_loop.batch_progress.current
        return {"epoch": int(self._trainer.current_epoch), "batches": int(progress.processed),
                "batch_size": self.batch_size, "world_size": _rank_world()[1]}

    def load_state_dict(self, state: dict) -> None:
        if not state:
            return
        skip = state["batches"] * state["batch_size"]
        if state.get("world_size", 1) != _rank_world()[1]:  # other per-rank orders: redo an unfinished epoch whole
            skip = skip * state["world_size"] if skip * state["world_size"] >= self.sampler.n else 0
        self.sampler.resume(state["epoch"], skip)
