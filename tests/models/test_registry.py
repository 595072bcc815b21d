"""models/__init__.py: ModelConfig defaults, the registry, input offsets, size rules, and a torch-free import."""
import importlib
import subprocess
import sys

import pytest

from common.cli import UserError
from models import MODEL_REGISTRY, ModelConfig, build_model, check_size, input_offsets, model_spec, size_multiple


def test_config_defaults_are_the_paper_main_py_defaults():
    cfg = ModelConfig()
    assert (cfg.model_type, cfg.resolution_target, cfg.fine_layers, cfg.bottleneck_size) == ("cnn", 512, False, 16)
    assert not (cfg.with_skip_connections or cfg.with_residual_connections or cfg.with_resnet_blocks)
    assert (cfg.num_prev_frames, cfg.window_size, cfg.input_height, cfg.input_width) == (2, 3, None, None)


def test_from_dict_reads_only_model_fields():
    cfg = ModelConfig.from_dict({"resolution_target": 1024, "lr": 1e-3, "target": "identity"})
    assert cfg.resolution_target == 1024 and cfg.to_dict()["bottleneck_size"] == 16


@pytest.mark.parametrize("flags, offsets", [
    (dict(), [0, -1, -2]),
    (dict(num_prev_frames=5), [0, -1, -2, -3, -4, -5]),
    (dict(model_type="unet"), [0, -1, -2]),
    (dict(model_type="unet_downscaled"), [0, -1, -2]),
    (dict(model_type="ae"), [0, -1, -2]),
    (dict(model_type="unet_tiny_3d"), list(range(-15, 16))),
    (dict(model_type="unet_4hlayers_3d"), list(range(-15, 16))),
])
def test_input_offsets(flags, offsets):
    assert input_offsets(ModelConfig(**flags)) == offsets
    assert input_offsets(flags) == offsets  # a plain dict works too


def test_udvd_offsets_are_declared_for_its_registry_line():
    if "udvd" not in MODEL_REGISTRY:
        pytest.skip("models/udvd.py is not registered yet")
    assert input_offsets({"model_type": "udvd"}) == [-2, -1, 0, 1, 2]


@pytest.mark.parametrize("flags, multiple", [
    (dict(resolution_target=1024, with_skip_connections=True, bottleneck_size=512), 64),
    (dict(resolution_target=1024), 16),
    (dict(resolution_target=512, fine_layers=True), 32),
    (dict(resolution_target=2048, with_skip_connections=True), 128),
    (dict(model_type="ae"), 64),
    (dict(model_type="unet"), 16),
])
def test_size_multiple(flags, multiple):
    assert size_multiple(flags) == multiple


def test_unknown_model_type_lists_the_valid_ones():
    with pytest.raises(UserError, match=r"unknown --model_type 'resnet50'; valid: .*cnn.*unet_tiny_3d"):
        build_model({"model_type": "resnet50"})


def test_training_size_must_fit_the_depth():
    with pytest.raises(UserError, match=r"input_height×input_width 1024x100 \(H×W\) does not fit --model_type cnn: "
                                        r"H and W must be positive multiples of 64$"):
        build_model(ModelConfig(resolution_target=1024, bottleneck_size=512, with_skip_connections=True,
                                input_height=1024, input_width=100))


def test_one_size_rule_with_one_message():
    check_size({"model_type": "unet"}, 32, 48)
    for h, w in ((32, 40), (0, 16), (-16, 16)):
        with pytest.raises(UserError, match=rf"--image-size {h}x{w} \(H×W\) does not fit --model_type unet: H and W "
                                            r"must be positive multiples of 16; pick another"):
            check_size({"model_type": "unet"}, h, w, "--image-size", "pick another")


def test_udvd_multiple_is_its_pooling_depth():
    from models.udvd import DEPTH

    assert size_multiple({"model_type": "udvd"}) == 2**DEPTH
    assert model_spec("udvd").native_size and not model_spec("cnn").native_size


@pytest.mark.parametrize("name", sorted(MODEL_REGISTRY))
def test_every_spec_states_offsets_multiple_and_input_layout(name):
    spec, cfg = model_spec(name), ModelConfig(model_type=name)
    offsets = spec.input_offsets(cfg)
    assert offsets and 0 in offsets and len(set(offsets)) == len(offsets)
    mult = spec.multiple(cfg)
    assert mult >= 1 and mult & (mult - 1) == 0  # a power of two: 2**poolings
    if spec.is_3d:  # the 3-D U-Net's window is the 31 frames it reads, normalised per window
        assert spec.window_size == len(offsets) == 31 and spec.minmax_window
    assert callable(getattr(importlib.import_module(spec.module), spec.builder))  # one file, one builder


def test_importing_models_does_not_import_torch():
    """Scripts import ModelConfig for their flags; --help must stay fast (no torch at import)."""
    code = "import sys, models; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=__file__.rsplit("/tests/", 1)[0])
    assert out.stdout.strip() == "False"
