"""Count evaluation (downstream/counting.py): stream direction naming and nMAE (the per-frame count error is
tested with the own-data demo, tests/test_demo_own_data.py)."""
from __future__ import annotations

import pytest

from downstream.counting import nmae, with_stream_direction


def test_stream_direction_names_the_counts():
    assert with_stream_direction({"left": 2, "right": 1}, "left") == {"left": 2, "right": 1, "upstream": 2,
                                                                      "downstream": 1}
    assert with_stream_direction({"left": 2, "right": 1}, None) == {"left": 2, "right": 1}


def test_nmae_hand_computed():
    gt = {"a": {"left": 2, "right": 3}, "b": {"left": 0, "right": 5}}
    pred = {"a": {"left": 1, "right": 3}, "b": {"left": 1, "right": 2}}
    value, per_clip = nmae(pred, gt)
    assert per_clip == {"a": 1, "b": 4} and value == pytest.approx(5 / 10)
    with pytest.raises(ValueError):
        nmae(pred, {"a": {"left": 0, "right": 0}})

