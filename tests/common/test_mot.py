"""The MOT reader/writer (common/mot.py) on hand-made files."""
from __future__ import annotations

import numpy as np
import pytest

from common.cli import UserError
from common.mot import by_frame, by_track, preds_path, read_mot, write_mot


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


def test_grouping_by_frame_and_track():
    rows = np.array([[2, 7, 1, 1, 2, 2, -1, -1, -1, -1], [1, 7, 3, 1, 2, 2, -1, -1, -1, -1],
                     [1, 4, 5, 1, 2, 2, -1, -1, -1, -1]], float)
    assert {k: len(v) for k, v in by_frame(rows).items()} == {2: 1, 1: 2}
    assert by_track(rows)[7][:, 0].tolist() == [1, 2]          # each track sorted by frame
    assert preds_path("out", "elwha", "c1").split("/")[-3:] == ["elwha", "c1", "preds.txt"]
