"""The detector protocol (docs/detection.md): every core kept after ultralytics' thread reset, an explicit recipe
without hidden gradient accumulation, and the shared pretrained detector's content-keyed cache."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from downstream.yolo import pretrain
from downstream.yolo.train import Recipe


def test_thread_count_survives_ultralytics_reset():
    import torch
    import ultralytics.utils.torch_utils as tu

    from common.offline import set_threads

    before = torch.get_num_threads()
    try:
        want = tu.NUM_THREADS + 1  # never what ultralytics would pick by itself (min(8, cores - 1))
        assert set_threads(want) == want
        tu.select_device("cpu", verbose=False)  # what every trainer, validator and predictor calls
        assert torch.get_num_threads() == want
    finally:
        set_threads(before)


def test_recipe_has_no_hidden_accumulation_and_explicit_optimizer():
    args = Recipe().train_args(batch=16)
    assert args["nbs"] == 16  # one optimizer step per batch
    assert args["optimizer"] != "auto" and args["lr0"] > 0
    assert args["cache"] == "ram" and args["val"] is True
    assert Recipe(nbs=64, cache=False).train_args(8)["nbs"] == 64
    assert Recipe(cache=False).train_args(8)["cache"] is False


def test_layouts_rotate_in_equal_shares_and_keep_channel_order():
    assert [pretrain.layout_of(i) for i in range(6)] == list(pretrain.LAYOUTS) * 2
    rng = np.random.default_rng(0)
    clip = rng.integers(0, 255, (5, 16, 12), dtype=np.uint8)
    assert pretrain.compose_layout(clip, "raw") is clip
    bpp = pretrain.compose_layout(clip, "baseline_pp")
    assert bpp.shape == (5, 16, 12, 3) and bpp.dtype == np.uint8
    np.testing.assert_array_equal(bpp[..., 2], clip)  # BGR as written by OpenCV: red = raw
    merged = pretrain.compose_layout(clip, "merged")
    assert merged.shape == (5, 16, 12, 3)
    np.testing.assert_array_equal(merged[..., 1], merged[..., 2])  # [BS, denoised, denoised]
    with pytest.raises(ValueError):
        pretrain.compose_layout(clip, "rgb")


@pytest.fixture
def fake_training(monkeypatch):
    """Replace the YOLO training by a stub writing best.pt and a results.csv; count its calls."""
    calls = []

    def fake_train(data, epochs, batch, weights, imgsz, project, name, **kw):
        calls.append({"data": data, "epochs": epochs, "recipe": kw.get("recipe")})
        run = os.path.join(project, name)
        os.makedirs(os.path.join(run, "weights"), exist_ok=True)
        with open(os.path.join(run, "weights", "best.pt"), "wb") as f:
            f.write(f"weights after {epochs} epochs".encode())
        with open(os.path.join(run, "results.csv"), "w") as f:
            f.write("epoch,   metrics/mAP50(B)\n1, 0.25\n2, 0.5\n")
        return os.path.join(run, "weights", "best.pt")

    import downstream.yolo.train as train_mod

    monkeypatch.setattr(train_mod, "train_detector", fake_train)
    return calls


TINY_SPEC = dict(clips_per_domain=1, frames=6, val_frames=4, height=32, width=24, fish_per_clip=1, target_scale=1.0,
                 epochs=2)


def test_pretraining_cache_miss_hit_and_content_change(tmp_path, fake_training, monkeypatch):
    spec = pretrain.PretrainSpec(**TINY_SPEC)
    cache = str(tmp_path / "cache")
    weights, record, hit = pretrain.pretrained_detector(spec, cache, progress=False)
    assert not hit and len(fake_training) == 1
    assert open(weights, "rb").read() == b"weights after 2 epochs"
    assert record["key"] == spec.key() and record["val_map50"] == 0.5
    assert record["layouts"] == {"raw": 1, "baseline_pp": 1, "merged": 1}  # rotating over all clips: equal shares
    assert fake_training[0]["recipe"].val is False  # validated once, at the end
    assert not [d for d in os.listdir(cache) if d.startswith(".work")]  # the rendered data are removed

    again, record2, hit2 = pretrain.pretrained_detector(pretrain.PretrainSpec(**TINY_SPEC), cache, progress=False)
    assert hit2 and again == weights and record2 == record and len(fake_training) == 1  # reused, not retrained

    longer = pretrain.PretrainSpec(**{**TINY_SPEC, "epochs": 3})
    assert longer.key() != spec.key()
    w3, _, hit3 = pretrain.pretrained_detector(longer, cache, progress=False)
    assert not hit3 and w3 != weights and len(fake_training) == 2

    # a change of the generator's source is a new entry too
    src = tmp_path / "generator.py"
    src.write_text("version = 1\n")
    monkeypatch.setattr(pretrain, "GENERATOR_SOURCES", (str(src),))
    k1 = spec.key()
    src.write_text("version = 2\n")
    assert spec.key() != k1


def test_pretraining_data_never_reuses_benchmark_clips(tmp_path):
    """Own seed and domain names: its clips differ from the benchmark's first clips at the same size."""
    from dataset.synthetic import render_clip

    spec = pretrain.PretrainSpec(**TINY_SPEC)
    shares = pretrain.write_pretraining_data(spec, str(tmp_path), progress=False)
    assert sum(shares.values()) == len(spec.domains)
    frames = sorted(os.listdir(tmp_path / "frames" / spec.domains[0] / "clip000-raw"))
    assert len(frames) == spec.frames
    assert len(os.listdir(tmp_path / "frames" / spec.val_domain)) == len(pretrain.LAYOUTS)
    ours = render_clip((spec.seed, 0, 0), spec.frames, spec.height, spec.width, 1.0, 1, spec.domains[0])[0]
    bench = render_clip((0, 0, 0), spec.frames, spec.height, spec.width, 1.0, 1, "kenai-train")[0]
    assert not np.array_equal(ours, bench)


def test_pretrain_cli_links_and_records(tmp_path, fake_training, monkeypatch):
    import importlib.util

    spec_ = importlib.util.spec_from_file_location("pretrain_cli", os.path.join(
        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "setup", "pretrain_detector.py"))
    cli = importlib.util.module_from_spec(spec_)
    spec_.loader.exec_module(cli)
    out = tmp_path / "run" / "detector_pretrained.pt"
    flags = ["--output", str(out), "--cache-dir", str(tmp_path / "c"), "--clips-per-domain", "1", "--frames", "6",
             "--height", "32", "--width", "24", "--fish-per-clip", "1", "--epochs", "2", "--quiet"]
    assert cli.main(flags) == 0
    assert os.path.islink(out) and open(out, "rb").read() == b"weights after 2 epochs"
    rec = json.loads((tmp_path / "run" / "detector_pretrained.pt.json").read_text())
    assert rec["cache_hit"] is False and rec["seconds"] >= 0
    assert cli.main(flags) == 0
    assert json.loads((tmp_path / "run" / "detector_pretrained.pt.json").read_text())["cache_hit"] is True
    assert len(fake_training) == 1
