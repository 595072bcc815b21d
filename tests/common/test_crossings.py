"""The CFC counting rule (common/crossings.py) on hand-made tracks."""
from __future__ import annotations

import numpy as np

from common.crossings import count_crossings, track_direction


def _track(tid, xs, width=10, frame0=1):
    return [[frame0 + i, tid, x, 5, width, 4, -1, -1, -1, -1] for i, x in enumerate(xs)]


def test_counting_rule_hand_cases():
    W = 100  # centre x = (left - 1 + 5) / 100
    rows = np.array(
        _track(1, [11, 41, 71])            # 0.15 -> 0.75: right
        + _track(2, [81, 51, 21])          # 0.85 -> 0.25: left
        + _track(3, [21, 61, 31])          # goes right then turns back: 0.25 -> 0.35, no crossing
        + _track(4, [46, 47, 48])          # stationary at the middle: below min travel
        + _track(5, [46, 70, 90])          # starts at exactly 0.5 (45+5)/100 -> not < 0.5, no right count
        + _track(6, [60, 40])              # 0.64 -> 0.44: left
    , dtype=float)
    assert count_crossings(rows, W) == {"left": 2, "right": 1}


def test_direction_needs_the_minimum_travel():
    assert track_direction(0.49, 0.52) is None                  # crosses, but travels 0.03 < 0.05
    assert track_direction(0.49, 0.52, min_travel=0.01) == "right"
    assert track_direction(0.7, 0.2) == "left" and track_direction(0.1, 0.4) is None
