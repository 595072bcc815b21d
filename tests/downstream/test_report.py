"""The report builder on fixed inputs: image metrics, table, validation, files written and read back."""
from __future__ import annotations

import json

import numpy as np
import pytest

from downstream.report_figures import plot_bars
from downstream.report_quality import fit_to, image_quality
from downstream.report_table import Row, format_table, validate, write_report


def test_image_quality_reads_trees(tmp_path):
    from dataset.frames import write_frame

    clean = np.full((8, 8), 100, np.uint8)
    write_frame(str(tmp_path / "clean/d/c/0.png"), clean)
    noisy = clean.copy()
    noisy[:, :4] = 110
    write_frame(str(tmp_path / "den/d/c/0.png"), noisy)
    q = image_quality(str(tmp_path / "den"), str(tmp_path / "clean"), ["d"])
    # the gain/offset fit maps the half-10/half-0 offset onto the constant clean frame exactly
    assert q["psnr"] == pytest.approx(100.0)
    ramp = np.tile(np.arange(0, 80, 10, dtype=np.uint8), (8, 1))
    write_frame(str(tmp_path / "clean/d/c/0.png"), ramp)
    write_frame(str(tmp_path / "den/d/c/0.png"), (ramp * 2 + 7).astype(np.uint8))  # same structure, other scale
    assert image_quality(str(tmp_path / "den"), str(tmp_path / "clean"), ["d"])["psnr"] == pytest.approx(100.0)


def test_fit_to_is_least_squares():
    ref = np.array([[0, 50], [100, 150]], np.uint8)
    assert np.allclose(fit_to(ref // 2, ref), ref, atol=1)
    assert np.allclose(fit_to(np.full((2, 2), 9, np.uint8), ref), ref.mean())


def test_table_validation_and_files(tmp_path):
    rows = [Row("raw", {"map50": 0.5, "mota": -0.2, "nmae": 0.4, "psnr": 20.0}),
            Row("SAVeD", {"map50": 0.7, "mota": 0.3, "nmae": 0.1})]
    table = format_table(rows)
    assert table.splitlines()[0].startswith("| input | PSNR (dB) | mAP50 | MOTA | nMAE")
    assert "| SAVeD | — | 0.700 | 0.300 | 0.100 |" in table
    assert validate(rows) == []
    assert validate([Row("bad", {"map50": 1.5, "hota": float("nan")})]) == [
        "bad.map50 = 1.5 is outside [0.0, 1.0]", "bad.hota is not a finite number: nan"]
    assert plot_bars(rows, str(tmp_path / "bars.png"))
    write_report(str(tmp_path), rows, {"run": "t"}, {"bars": "bars.png"})
    data = json.load(open(tmp_path / "metrics.json"))
    assert data["rows"]["SAVeD"]["map50"] == 0.7 and data["run"] == "t"
    assert "![bars](bars.png)" in open(tmp_path / "report.md").read()

