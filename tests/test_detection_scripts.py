"""The README's detection commands, run as a user would: convert → train (network blocked) → detect → evaluate."""
from __future__ import annotations

import json
import os
import time

import numpy as np
import pytest

from common.mot import by_frame, preds_path, read_mot

SCRIPTS = ("setup/convert_mot_to_yolo.py", "setup/convert_mot_to_coco.py", "train_detector.py", "detect.py",
           "eval_detector_tm.py")
# Installed via PYTHONPATH in the child: any TCP/UDP connect is logged and refused, so a download attempt fails loudly.
SOCKET_GUARD = '''
import socket
_connect = socket.socket.connect
def _blocked(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        with open({log!r}, "a") as f:
            f.write(repr(address) + "\\n")
        raise OSError("network blocked by the test")
    return _connect(self, address)
socket.socket.connect = _blocked
open({log!r} + ".loaded", "a").close()
'''


@pytest.fixture(scope="module")
def trained(synthetic_cfc22, tmp_path_factory):
    """Convert the tiny benchmark, then train yolov8n from its yaml for 1 epoch at 32 px with the network blocked."""
    from tests.conftest import run_script

    work = tmp_path_factory.mktemp("det")
    guard = work / "guard"
    guard.mkdir()
    log = work / "connects.log"
    (guard / "sitecustomize.py").write_text(SOCKET_GUARD.format(log=str(log)))
    env = {"PYTHONPATH": f"{guard}{os.pathsep}{os.path.dirname(os.path.dirname(os.path.abspath(__file__)))}"}
    gt = os.path.join(synthetic_cfc22, "annotations_mot")
    frames = os.path.join(synthetic_cfc22, "frames", "raw")
    conv = run_script("setup/convert_mot_to_yolo.py", "--mot-dir", gt, "--frames-dir", frames,
                      "--output-dir", str(work / "yolo"), "--quiet")
    assert conv.returncode == 0, conv.stderr
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    t0 = time.time()
    train = run_script(os.path.join(repo, "train_detector.py"), "--data", str(work / "yolo" / "data.yaml"),
                       "--epochs", "1", "--batch-size", "16", "--weights", "yolov8n.pt", "--img-size", "32",
                       "--project", "yolo_train", "--name", "exp", "--workers", "0", "--threads", "2",
                       cwd=str(work), env=env)
    return {"work": work, "gt": gt, "frames": frames, "conv": conv, "train": train, "log": log, "env": env,
            "train_seconds": time.time() - t0, "best": work / "yolo_train" / "exp" / "weights" / "best.pt"}


def test_help_is_fast(run):
    for script in SCRIPTS:
        t0 = time.time()
        res = run(script, "--help")
        assert res.returncode == 0 and "usage" in res.stdout, script
        assert time.time() - t0 < 3.0, script  # no torch/ultralytics import before parsing


def test_convert_writes_yolo_dataset(trained):
    assert "train: kenai-train: 2 clips, 48 images" in trained["conv"].stdout
    assert sorted(os.listdir(trained["work"] / "yolo" / "images")) == ["test", "train", "val"]
    assert len(os.listdir(trained["work"] / "yolo" / "labels" / "val")) == 48


def test_convert_errors_are_one_line(run, synthetic_cfc22, tmp_path):
    res = run("setup/convert_mot_to_yolo.py", "--mot-dir", os.path.join(synthetic_cfc22, "annotations_mot"),
              "--frames-dir", str(tmp_path / "nope"), "--output-dir", str(tmp_path / "out"))
    assert res.returncode == 2 and res.stderr.strip().startswith("error: frames dir") and "Traceback" not in res.stderr


def test_coco_script(run, synthetic_cfc22, tmp_path):
    res = run("setup/convert_mot_to_coco.py", "--mot-dir", os.path.join(synthetic_cfc22, "annotations_mot"),
              "--frames-dir", os.path.join(synthetic_cfc22, "frames", "raw"), "--output-dir", str(tmp_path))
    assert res.returncode == 0, res.stderr
    assert sorted(os.listdir(tmp_path)) == sorted(f"{n}.json" for n in ("kenai-train", "kenai-val", "elwha",
                                                                         "train", "val", "test"))


def test_train_offline_writes_best_at_project_name(trained):
    assert trained["train"].returncode == 0, trained["train"].stderr[-2000:]
    assert "building yolov8n.yaml from scratch" in trained["train"].stdout
    assert trained["best"].is_file()
    assert os.path.exists(str(trained["log"]) + ".loaded")  # the guard was active in the child
    assert not trained["log"].exists() or trained["log"].read_text() == ""  # no connection was attempted


def test_train_rerun_skips_finished_run(trained, run):
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    res = run(os.path.join(repo, "train_detector.py"), "--data", str(trained["work"] / "yolo" / "data.yaml"),
              "--weights", "yolov8n.pt", "--project", "yolo_train", "--name", "exp", cwd=str(trained["work"]))
    assert res.returncode == 0 and "already trained" in res.stdout


@pytest.fixture(scope="module")
def detected(trained):
    """detect.py on kenai-val with the 1-epoch model (conf 1e-4 so that the untrained net still fires)."""
    from tests.conftest import run_script

    out = trained["work"] / "results"
    args = ("detect.py", "--dataset", "kenai-val", "--det_model", str(trained["best"]), "--input_dir",
            trained["frames"], "--output_dir", str(out), "--gt_dir", trained["gt"], "--conf", "0.0001",
            "--threads", "2", "--quiet")
    return {"out": out, "args": args, "first": run_script(*args), "again": run_script(*args)}


def test_detect_writes_one_mot_file_per_clip_and_resumes(detected):
    out = detected["out"]
    assert detected["first"].returncode == 0, detected["first"].stderr[-2000:]
    assert sorted(os.listdir(out / "kenai-val")) == ["clip000", "clip001"]
    rows = read_mot(str(out / "kenai-val" / "clip000" / "preds.txt"))
    assert rows.shape[1] == 10 and len(rows) > 0
    assert rows[:, 0].min() >= 1 and rows[:, 0].max() <= 24 and np.all(rows[:, 7:] == -1)
    assert np.all((rows[:, 6] > 0) & (rows[:, 6] <= 1))
    for frame_rows in by_frame(rows).values():
        assert len(set(frame_rows[:, 1])) == len(frame_rows)  # det_id unique within a frame
    assert detected["again"].returncode == 0 and "2 clip(s) already have preds.txt" in detected["again"].stdout


def test_eval_detects_missing_clips_then_scores_every_frame(trained, detected, run):
    out = detected["out"]
    kept = (out / "kenai-val" / "clip000" / "preds.txt").read_text()
    (out / "kenai-val" / "clip001" / "preds.txt").unlink()
    res = run("eval_detector_tm.py", "--dataset", "kenai-val", "--det_model", str(trained["best"]), "--input_dir",
              trained["frames"], "--output_dir", str(out), "--gt_dir", trained["gt"], "--conf", "0.0001",
              "--threads", "2", "--quiet", "--paper-compat", "--create_gifs", "--num-vis", "1")
    assert res.returncode == 0, res.stderr[-2000:]
    lines = res.stdout.splitlines()
    assert "1 clip(s) already have preds.txt" in res.stdout and (out / "kenai-val" / "clip001" / "preds.txt").is_file()
    assert (out / "kenai-val" / "clip000" / "preds.txt").read_text() == kept
    assert any(ln.startswith("mAP50: 0.") for ln in lines) and any(ln.startswith("mAP50-95: ") for ln in lines)
    assert any(ln.startswith("paper-compat mAP50") for ln in lines)
    csv_rows = (out / "kenai-val" / "metrics_det.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in csv_rows[1:]] == ["clip000", "clip001", "ALL"]
    assert len(list((out / "kenai-val" / "vis").glob("*.gif"))) == 1
    # the figures written from the preds.txt files are torchmetrics' for the same frames, bit for bit
    from dataset.annotations import load_domain
    from downstream import detection_metrics as dm
    from tests.downstream.test_detection_metrics import torchmetrics_map

    frames = [f for c in load_domain(trained["gt"], trained["frames"], "kenai-val")
              for f in dm.clip_frame_dets(c, read_mot(preds_path(str(out), "kenai-val", c.name)))[0]]
    written = json.loads((out / "kenai-val" / "metrics_det.json").read_text())["all"]
    ref = torchmetrics_map(frames)
    assert written["predictions"] > written["frames"] and {k: written[k] for k in ref} == ref


def test_eval_without_preds_or_model_is_one_line_error(trained, run, tmp_path):
    res = run("eval_detector_tm.py", "--dataset", "kenai-train", "--input_dir", trained["frames"],
              "--output_dir", str(tmp_path), "--gt_dir", trained["gt"])
    assert res.returncode == 2 and "pass --det_model" in res.stderr and "Traceback" not in res.stderr
