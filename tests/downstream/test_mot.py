"""The MOT reader/writer and the CFC counting rule on hand-made cases."""
from __future__ import annotations

import numpy as np
import pytest

from common.cli import UserError
from downstream.counting import count_crossings, nmae, with_stream_direction
from downstream.mot import by_track, read_mot, write_mot


def test_round_trip(tmp_path):
    rows = np.array([[2, 1, 10, 20, 5, 6, 0.875, -1, -1, -1], [1, 3, 1, 1, 2, 2, -1, -1, -1, -1]])
    write_mot(str(tmp_path / "a.txt"), rows)
    back = read_mot(str(tmp_path / "a.txt"))
    assert np.allclose(back, rows[[1, 0]])
    assert open(tmp_path / "a.txt").read().splitlines()[0] == "1,3,1,1,2,2,-1,-1,-1,-1"


def test_malformed_line_names_file_and_line(tmp_path):
    p = tmp_path / "gt.txt"
    p.write_text("1,1,1,1,2,2,-1,-1,-1,-1\n2,1,oops,1,2,2\n")
    with pytest.raises(UserError, match=r"gt.txt:2: non-numeric"):
        read_mot(str(p))
    p.write_text("1,1,1\n")
    with pytest.raises(UserError, match=r"gt.txt:1: expected at least 6"):
        read_mot(str(p))
    assert read_mot(str(tmp_path / "missing.txt"), allow_missing=True).shape == (0, 10)


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
    assert set(by_track(rows)) == {1, 2, 3, 4, 5, 6}
    assert with_stream_direction({"left": 2, "right": 1}, "left") == {"left": 2, "right": 1, "upstream": 2,
                                                                      "downstream": 1}


def test_nmae_hand_computed():
    gt = {"a": {"left": 2, "right": 3}, "b": {"left": 0, "right": 5}}
    pred = {"a": {"left": 1, "right": 3}, "b": {"left": 1, "right": 2}}
    value, per_clip = nmae(pred, gt)
    assert per_clip == {"a": 1, "b": 4} and value == pytest.approx(5 / 10)
    with pytest.raises(ValueError):
        nmae(pred, {"a": {"left": 0, "right": 0}})
