"""`--precision auto` (common/precision.py) and bf16 against fp32: the device check, the fallback to fp32, and a
checkpoint trained in bf16 that loads and denoises in fp32 within one grey level of bf16."""
from __future__ import annotations

import argparse
import glob
import os

import numpy as np
import pytest

import common.precision as precision
from common.precision import cpu_bf16_reason, resolve_precision


def test_an_explicit_precision_is_kept_whatever_the_device(monkeypatch):
    monkeypatch.setattr(precision, "bf16_speed_reason", lambda device: None)
    assert resolve_precision("bf16", "cpu") == "bf16"
    assert resolve_precision("32-true", "cpu", fast="bf16-mixed", slow="32-true") == "32-true"


def test_auto_is_fp32_on_a_device_without_fast_bf16_and_says_so(monkeypatch, capsys):
    monkeypatch.setattr(precision, "bf16_speed_reason", lambda device: None)
    assert resolve_precision("auto", "cpu") == "fp32"
    assert resolve_precision("auto", "cpu", fast="bf16-mixed", slow="32-true") == "32-true"
    assert "--precision auto -> fp32 (no fast bf16 on cpu)" in capsys.readouterr().out


def test_auto_is_bf16_where_the_device_has_it(monkeypatch, capsys):
    monkeypatch.setattr(precision, "bf16_speed_reason", lambda device: "AMX")
    assert resolve_precision("auto", "cpu", fast="bf16-mixed", slow="32-true") == "bf16-mixed"
    assert "--precision auto -> bf16-mixed (AMX on cpu)" in capsys.readouterr().out


def test_cpu_check_reads_the_cpuinfo_flags_when_torch_has_no_probe(monkeypatch, tmp_path):
    import torch

    for probe in ("_is_amx_tile_supported", "_is_avx512_bf16_supported"):
        monkeypatch.setattr(torch.cpu, probe, lambda: False, raising=False)
    info = tmp_path / "cpuinfo"
    monkeypatch.setattr(precision, "CPUINFO", str(info))
    info.write_text("flags\t\t: fpu sse2 avx2 avx512f\n")
    assert cpu_bf16_reason() is None  # AVX-512 without its BF16 extension: emulated, slower than fp32
    info.write_text("flags\t\t: fpu avx512f avx512_bf16\n")
    assert cpu_bf16_reason() == "AVX-512 BF16"
    info.write_text("flags\t\t: fpu avx512f avx512_bf16 amx_tile amx_bf16\n")
    assert cpu_bf16_reason() == "AMX"


def test_cpuinfo_flags_parse_the_first_flags_line(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu amx_bf16 avx512_bf16\nbugs\t\t: spectre\n"
                    "processor\t: 1\nflags\t\t: fpu\n")
    assert precision._cpuinfo_flags(str(info)) == {"fpu", "amx_bf16", "avx512_bf16"}
    assert precision._cpuinfo_flags(str(tmp_path / "absent")) == set()


def test_engine_and_trainer_resolve_auto_through_the_one_check(monkeypatch):
    from inference.denoiser import Denoiser
    from models import ModelConfig, build_model
    from models.training import resolve_machine
    from tests.inference.helpers import TINY_CNN

    monkeypatch.setattr(precision, "bf16_speed_reason", lambda device: None)
    cfg = ModelConfig.from_dict(TINY_CNN).to_dict()
    assert Denoiser(build_model(cfg), cfg, (64, 32), device="cpu", precision="auto").precision == "fp32"
    args = argparse.Namespace(accelerator="cpu", devices="auto", num_nodes=1, precision="auto", num_workers=None)
    assert resolve_machine(args)["precision"] == "32-true"
    monkeypatch.setattr(precision, "bf16_speed_reason", lambda device: "AMX")
    assert Denoiser(build_model(cfg), cfg, (64, 32), device="cpu", precision="auto").precision == "bf16"
    assert resolve_machine(args)["precision"] == "bf16-mixed"


@pytest.fixture(scope="module")
def bf16_checkpoint(synthetic_cfc22, tmp_path_factory) -> str:
    """A few bf16-mixed steps of main.py's small CNN on the synthetic benchmark."""
    from main import parse_args
    from models.training import train

    results = str(tmp_path_factory.mktemp("bf16") / "run")
    train(parse_args(["--base_folder", os.path.join(synthetic_cfc22, "frames", "raw_all"), "--results_path", results,
                      "--epochs", "1", "--batch_size", "4", "--target", "gap1_and_curr_frame", "--train_resolution",
                      "64", "--fine_layers", "--limit_train_batches", "6", "--learning_rate", "0.002",
                      "--num_workers", "0", "--precision", "bf16-mixed"]))
    return os.path.join(results, "last.ckpt")


def test_a_bf16_trained_checkpoint_denoises_in_fp32_within_a_grey_level_of_bf16(bf16_checkpoint, synthetic_cfc22):
    import torch

    from dataset.frames import read_frame
    from inference.denoiser import load_for_inference
    from inference.output import map_output

    state = torch.load(bf16_checkpoint, map_location="cpu", weights_only=True)["state_dict"]
    assert all(v.dtype == torch.float32 for v in state.values() if v.is_floating_point())  # master weights stay fp32
    clip = sorted(glob.glob(os.path.join(synthetic_cfc22, "frames", "raw", "elwha", "*")))[0]
    frames = np.stack([read_frame(p) for p in sorted(glob.glob(os.path.join(clip, "*.jpg")),
                                                     key=lambda p: int(os.path.basename(p).split(".")[0]))[:6]])
    outs = {}
    for p in ("fp32", "bf16"):
        den = load_for_inference(bf16_checkpoint, None, "cpu", p, 2)
        outs[p] = [map_output(y, "frame") for _, y in den.run(frames, len(frames))]
    assert len(outs["fp32"]) == len(frames) and outs["fp32"][0].shape == frames[0].shape
    diff = np.abs(np.stack(outs["fp32"]).astype(int) - np.stack(outs["bf16"]).astype(int))
    print(f"bf16 vs fp32: mean {diff.mean():.3f}, max {diff.max()} grey levels")
    assert diff.mean() <= 1.0, diff.mean()
    assert np.stack(outs["fp32"]).std() > 5  # a real image, not a constant frame that would pass trivially
