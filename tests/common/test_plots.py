"""The loss curve (common/plots.py): Lightning's CSV log read back into per-epoch series, and the PNG written."""
from __future__ import annotations

from common.plots import plot_loss, read_loss_curve


def test_loss_curve_from_lightning_csv(tmp_path):
    p = tmp_path / "metrics.csv"
    p.write_text("epoch,step,train_loss_epoch,train_loss_step,val_loss\n0,9,0.5,,\n0,9,,,0.6\n1,19,0.3,,\n1,19,,,0.4\n")
    s = read_loss_curve(str(p))
    assert s == {"train_loss": [(0, 0.5), (1, 0.3)], "val_loss": [(0, 0.6), (1, 0.4)]}
    assert plot_loss(s, str(tmp_path / "loss.png")) and (tmp_path / "loss.png").stat().st_size > 0
    assert read_loss_curve(str(tmp_path / "absent.csv")) == {}
    assert not plot_loss({}, str(tmp_path / "none.png")) and not (tmp_path / "none.png").exists()
