"""models/checkpoint.py: our round trip, flag/checkpoint contradictions, the paper-checkpoint import
(docs/paper_code_behaviour.md#checkpoint-layout), and damaged files, all as one-line UserErrors."""
import argparse
import re

import pytest
import torch

from common.cli import UserError
from models import ModelConfig, build_model
from models.checkpoint import load_denoiser, save_denoiser, save_paper_style_state_dict, to_paper_state_dict

torch.set_num_threads(1)

README = dict(model_type="cnn", resolution_target=1024, fine_layers=True, bottleneck_size=512,
              with_skip_connections=True)
SMALL = dict(resolution_target=512, bottleneck_size=16, with_skip_connections=True, input_height=64, input_width=32)


def trained_like(cfg: ModelConfig, seed: int = 0):
    """A network with non-default weights and BN statistics, so a wrong load would show in the outputs."""
    torch.manual_seed(seed)
    model = build_model(cfg)
    with torch.no_grad():
        for t in model.state_dict().values():
            if t.is_floating_point():
                t.add_(0.01 * torch.randn_like(t))
    return model.eval()


@pytest.mark.parametrize("flags, shape", [
    (SMALL, (1, 3, 64, 32)),
    (dict(resolution_target=512, bottleneck_size=16, with_resnet_blocks=True), (1, 3, 64, 32)),
    (dict(model_type="ae"), (1, 3, 64, 64)),
    (dict(model_type="unet_tiny_3d"), (1, 1, 16, 16, 31)),
])
def test_round_trip_gives_identical_outputs(tmp_path, flags, shape):
    cfg = ModelConfig(**flags)
    model = trained_like(cfg)
    path = str(tmp_path / "best_model.ckpt")
    save_denoiser(path, model, cfg, target="gap1_and_curr_frame", dataset="CFC22")
    x = torch.rand(*shape)

    loaded, config = load_denoiser(path)

    assert config == cfg.to_dict()
    assert not loaded.training
    raw = torch.load(path, weights_only=True)
    assert raw["hyper_parameters"]["target"] == "gap1_and_curr_frame"
    assert all(k.startswith("model.") for k in raw["state_dict"])
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))


def test_agreeing_flags_are_accepted_and_contradicting_flags_are_named(tmp_path):
    cfg = ModelConfig(**SMALL)
    path = str(tmp_path / "m.ckpt")
    save_denoiser(path, build_model(cfg), cfg)

    load_denoiser(path, {"resolution_target": 512, "with_skip_connections": True, "bottleneck_size": None})
    with pytest.raises(UserError) as err:
        load_denoiser(path, {"bottleneck_size": 512, "resolution_target": 1024})

    msg = str(err.value)
    assert "--bottleneck_size 512 contradicts the checkpoint's 16" in msg
    assert "--resolution_target 1024 contradicts the checkpoint's 512" in msg
    assert "\n" not in msg


def test_paper_state_dict_has_the_paper_key_set_and_size():
    model = build_model(ModelConfig(**README))
    paper = to_paper_state_dict(model)

    assert sum(v.numel() for v in paper.values()) == 32_398_130  # registered total,
                                                                 # docs/paper_code_behaviour.md#readme-network
    ours = {k.rsplit(".", 1)[0] for k in model.state_dict()}
    used = re.compile(r"^(enc[1-6]_conv\.0|enc[1-6]_skip\.1|combiner_512\.[02]|feature_combiners\.[1-5]\.[02]"
                      r"|dec1\.0|dec[2-6]\.[02])$")
    dead = re.compile(r"^(encoder\.(0|3|6|9|12|15)|future_decoder\.(0|2|4|6|8|10)"
                      r"|combiner_(16|32|64|128|256)\.[02]|feature_combiners\.0\.[02])$")
    modules = {k.rsplit(".", 1)[0] for k in paper}
    assert all(used.match(m) for m in ours) and len(ours) == 6 + 6 + 2 + 10 + 1 + 10
    assert {m for m in modules - ours} == {m for m in modules if dead.match(m)}
    assert len(modules - ours) == 6 + 6 + 10 + 2


def test_paper_checkpoint_imports_with_identical_outputs(tmp_path):
    model = trained_like(ModelConfig(**README))
    path = str(tmp_path / "paper.ckpt")
    paper_flags = {"target": "gap1_and_curr_frame", "loss": "mse", "lr": 1e-4, "optimizer": "adamw"}
    save_paper_style_state_dict(model, path, paper_flags)
    x = torch.rand(1, 3, 128, 64)

    loaded, config = load_denoiser(path, {k: v for k, v in README.items()})

    assert config["bottleneck_size"] == 512 and config["input_height"] is None
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))


@pytest.mark.parametrize("wrong, shown", [
    (dict(resolution_target=512, bottleneck_size=64), "cnn --resolution_target 512 --bottleneck_size 64"),
    (dict(with_skip_connections=False), "cnn --resolution_target 1024 --bottleneck_size 512 --num_prev_frames 2 "
                                        "--fine_layers`"),
])
def test_paper_checkpoint_with_wrong_flags_is_one_line(tmp_path, wrong, shown):
    path = str(tmp_path / "paper.ckpt")
    save_paper_style_state_dict(build_model(ModelConfig(**README)), path)

    with pytest.raises(UserError, match=rf"does not fit the network `{shown}.*pass the architecture flags") as err:
        load_denoiser(path, {**README, **wrong})
    assert "\n" not in str(err.value)


def test_paper_hyper_parameters_that_record_the_architecture_are_checked(tmp_path):
    """The keys cannot tell a wrong --bottleneck_size (every combiner is registered), recorded flags can."""
    path = str(tmp_path / "paper.ckpt")
    save_paper_style_state_dict(build_model(ModelConfig(**README)), path, {"bottleneck_size": 512, "lr": 1e-4})

    with pytest.raises(UserError, match="--bottleneck_size 16 contradicts the checkpoint's 512"):
        load_denoiser(path, {**README, "bottleneck_size": 16})


def test_damaged_files_are_user_errors(tmp_path):
    cfg = ModelConfig(**SMALL)
    good = tmp_path / "good.ckpt"
    save_denoiser(str(good), build_model(cfg), cfg)
    (tmp_path / "text.ckpt").write_bytes(b"this is not a checkpoint")
    (tmp_path / "cut.ckpt").write_bytes(good.read_bytes()[:5000])
    torch.save([1, 2, 3], str(tmp_path / "list.ckpt"))
    torch.save({"epoch": 3}, str(tmp_path / "nostate.ckpt"))
    torch.save({"state_dict": {}, "hyper_parameters": {"args": argparse.Namespace(lr=1)}}, str(tmp_path / "unsafe.ckpt"))

    for name, message in [("missing.ckpt", "checkpoint not found"), ("text.ckpt", "cannot read checkpoint"),
                          ("cut.ckpt", "cannot read checkpoint"), ("list.ckpt", "not a denoiser checkpoint"),
                          ("nostate.ckpt", "no state_dict"), ("unsafe.ckpt", "weights_only")]:
        with pytest.raises(UserError, match=message) as err:
            load_denoiser(str(tmp_path / name))
        assert "\n" not in str(err.value)


def test_stored_weights_that_do_not_fit_their_config_are_refused(tmp_path):
    cfg = ModelConfig(**SMALL)
    other = ModelConfig(**{**SMALL, "bottleneck_size": 32})
    path = str(tmp_path / "m.ckpt")
    save_denoiser(path, build_model(other), cfg)  # weights of b=32 under a b=16 config

    with pytest.raises(UserError, match=r"missing keys \(e.g. combiner_16"):
        load_denoiser(path)


def test_loaded_network_is_fp32_trainable_and_fully_materialised_whatever_dtype_was_stored(tmp_path):
    """load_denoiser builds the network without initialising it and takes the stored tensors: the result must be
    what loading into a freshly built network gives (fp32, gradients on, no placeholder tensors left)."""
    torch.manual_seed(0)
    cfg = ModelConfig(model_type="cnn", resolution_target=512, fine_layers=True, with_skip_connections=True)
    model = build_model(cfg)
    path = str(tmp_path / "half.ckpt")
    save_denoiser(path, model.to(torch.bfloat16), cfg)
    loaded, _ = load_denoiser(path)
    tensors = [*loaded.parameters(), *loaded.buffers()]
    assert all(not t.is_meta for t in tensors)
    assert all(p.dtype == torch.float32 and p.requires_grad for p in loaded.parameters())
    for k, v in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v.float()), k
