"""bench/bench_saved_budget.py: the val_loss it reports is the last one logged, and bad input is one line.
(The learning curve itself trains for minutes and is run by hand; its figures are printed, never asserted.)"""
from __future__ import annotations


def test_last_val_loss_reads_the_newest_metrics_csv(tmp_path, bench_module):
    logs = tmp_path / "ckpt" / "logs" / "version_0"
    logs.mkdir(parents=True)
    (logs / "metrics.csv").write_text("epoch,step,train_loss,val_loss\n0,39,0.5,\n0,39,,0.25\n1,79,0.3,\n1,79,,0.125\n2,119,0.2,\n")
    bench = bench_module("bench_saved_budget")
    assert bench.last_val_loss(str(tmp_path / "ckpt")) == 0.125
    assert bench.last_val_loss(str(tmp_path / "nothing")) is None


def test_refuses_data_without_clean_frames(tmp_path, run):
    (tmp_path / "data" / "frames" / "raw" / "kenai-val").mkdir(parents=True)
    r = run("bench/bench_saved_budget.py", "--data", str(tmp_path / "data"), "--out", str(tmp_path / "out"))
    assert r.returncode == 2 and "clean/" in r.stderr and "Traceback" not in r.stderr
    r = run("bench/bench_saved_budget.py", "--rounds", "0", "--out", str(tmp_path / "out"))
    assert r.returncode == 2 and "--rounds" in r.stderr
