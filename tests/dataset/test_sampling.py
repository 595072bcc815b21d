"""dataset/sampling.py: per-epoch seeded order, sharding over ranks, and the resume position."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from dataset import sampling
from dataset.sampling import EpochSampler, ResumeSampler


def test_each_epoch_has_its_own_reproducible_permutation():
    s = EpochSampler(10, seed=5)
    e0 = list(s)
    s.set_epoch(1)
    e1 = list(s)
    assert sorted(e0) == sorted(e1) == list(range(10)) and e0 != e1
    again = EpochSampler(10, seed=5)
    again.set_epoch(1)
    assert list(again) == e1 and list(EpochSampler(4, shuffle=False)) == [0, 1, 2, 3]


def test_ranks_split_a_padded_epoch(monkeypatch):
    shards = []
    for rank in range(3):
        monkeypatch.setattr(sampling, "_rank_world", lambda r=rank: (r, 3))
        s = EpochSampler(7, shuffle=False)
        shards.append(list(s))
        assert len(s) == 3
    assert shards == [[0, 3, 6], [1, 4, 0], [2, 5, 1]]  # 9 = 7 + the first 2 again, as DistributedSampler


def test_resume_skips_the_trained_part_of_the_epoch_once():
    s = EpochSampler(10, seed=1)
    s.set_epoch(2)
    full = list(s)
    s.resume(2, 4)
    assert list(s) == full[4:] and len(s) == 10  # the length stays the epoch's: Lightning counts from 4
    assert list(s) == full  # the skip applied once
    s.resume(2, 10)  # a checkpoint from the end of epoch 2: epoch 3 starts whole
    s.set_epoch(0)
    nxt = EpochSampler(10, seed=1)
    nxt.set_epoch(3)
    assert list(s) == list(nxt) and s.epoch == 3


def test_callback_stores_batches_trained_and_restores_them():
    s = EpochSampler(20, seed=0)
    cb = ResumeSampler(s, batch_size=4)
    trainer = SimpleNamespace(current_epoch=1, fit_loop=SimpleNamespace(epoch_loop=SimpleNamespace(
        batch_progress=SimpleNamespace(current=SimpleNamespace(processed=3)))))
    cb.setup(trainer, None, "fit")
    state = cb.state_dict()
    assert state == {"epoch": 1, "batches": 3, "batch_size": 4, "world_size": 1}
    fresh = EpochSampler(20, seed=0)
    ResumeSampler(fresh, 4).load_state_dict(state)
    fresh_full = EpochSampler(20, seed=0)
    fresh_full.set_epoch(1)
    assert list(fresh) == list(fresh_full)[12:]


@pytest.mark.parametrize("batches,expected_epoch,expected_skip", [(2, 1, 0), (3, 2, 0)])
def test_a_different_rank_count_redoes_an_unfinished_epoch_whole(batches, expected_epoch, expected_skip):
    s = EpochSampler(12, seed=0)
    ResumeSampler(s, 2).load_state_dict({"epoch": 1, "batches": batches, "batch_size": 2, "world_size": 2})
    want = EpochSampler(12, seed=0)
    want.set_epoch(expected_epoch)
    assert list(s) == list(want)[expected_skip:]
