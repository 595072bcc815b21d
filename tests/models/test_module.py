"""Losses and the LightningModule's wiring: input channel order, targets, schedulers, gradients
(docs/paper_code_behaviour.md#training)."""
from __future__ import annotations

import pytest
import torch

from common.cli import UserError
from models.losses import build_loss
from models.module import DenoiserModule, window_offsets

torch.set_num_threads(1)
SMALL = dict(model_type="cnn", resolution_target=512, bottleneck_size=16, input_height=32, input_width=16)


def config(**kw) -> dict:
    from models import ModelConfig

    return ModelConfig(**{**SMALL, **kw}).to_dict()


def test_mse_and_mean_l1_against_hand_values_and_the_paper_sum():
    pred, target = torch.tensor([[0.0, 1.0], [2.0, 3.0]]), torch.tensor([[1.0, 1.0], [0.0, 3.0]])
    assert float(build_loss("mse")(pred, target, None)) == pytest.approx((1 + 0 + 4 + 0) / 4)
    assert float(build_loss("l1")(pred, target, None)) == pytest.approx((1 + 0 + 2 + 0) / 4)
    assert float(build_loss("l1_sum")(pred, target, None)) == pytest.approx(3.0)


def test_l1_and_obj_object_term_has_a_gradient_and_ignores_pixels_inside_objects():
    pred = torch.zeros(1, 1, 2, 2, requires_grad=True)
    mask = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]])
    loss = build_loss("l1_and_obj", loss_lambda=0.0)(pred, torch.zeros_like(pred), mask)
    loss.backward()
    assert pred.grad[0, 0, 0, 0] == 0  # inside an object: weight 0
    assert (pred.grad[0, 0].flatten()[1:] > 0).all()  # outside: pushed towards "no object" (the paper had no grad)
    with pytest.raises(UserError, match="annotations_folder"):
        build_loss("l1_and_obj")(pred, pred, None)


def test_unknown_loss_and_perceptual_without_local_weights_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="unknown --loss 'ssim'; valid: mse"):
        build_loss("ssim")
    with pytest.raises(UserError, match="--vgg_weights"):
        build_loss("perceptual")
    with pytest.raises(UserError, match="not found"):
        build_loss("perceptual", vgg_weights=str(tmp_path / "vgg19.pth"))


def test_window_offsets_join_network_inputs_and_target_frames():
    assert window_offsets(config(), "gap1_and_curr_frame") == [-2, -1, 0, 1]
    assert window_offsets(config(num_prev_frames=5), "identity") == [-5, -4, -3, -2, -1, 0]


def test_inputs_are_current_previous_two_back_and_the_target_is_built_in_the_step():
    module = DenoiserModule(config(), target="gap1_and_curr_frame")
    window = torch.stack([torch.full((32, 16), v) for v in (0.1, 0.2, 0.3, 0.6)])[None]  # offsets -2, -1, 0, +1
    x, target, mask = module.inputs_and_target({"window": window})
    assert [round(float(v), 3) for v in x[0, :, 0, 0]] == [0.3, 0.2, 0.1]  # [f_t, f_{t-1}, f_{t-2}]
                                                                           # (docs/paper_code_behaviour.md#input-frames)
    assert float(target[0, 0, 0, 0]) == pytest.approx(0.3 + 0.3 + 0.0) and mask is None


def test_training_step_backpropagates_into_the_network():
    module = DenoiserModule(config(), target="gap1_and_curr_frame", brightness_p=1.0)
    module.log = lambda *a, **k: None
    loss = module.training_step({"window": torch.rand(2, 4, 32, 16)}, 0)
    loss.backward()
    assert torch.isfinite(loss) and any(p.grad is not None and p.grad.abs().sum() > 0 for p in module.parameters())


@pytest.mark.parametrize("scheduler,cls", [("plateau", "ReduceLROnPlateau"), ("step", "StepLR"),
                                           ("cosine", "CosineAnnealingLR")])
def test_schedulers_and_what_plateau_watches(scheduler, cls):
    module = DenoiserModule(config(), target="identity", scheduler=scheduler, monitor="val_loss", optimizer="adam")
    conf = module.configure_optimizers()
    assert type(conf["optimizer"]).__name__ == "Adam"
    assert type(conf["lr_scheduler"]["scheduler"]).__name__ == cls and conf["lr_scheduler"]["monitor"] == "val_loss"


def test_hyperparameters_hold_the_model_config_as_a_plain_dict():
    module = DenoiserModule(config(), target="identity", dataset="Fluo", extra_flag=3)
    hp = dict(module.hparams)
    assert hp["model_config"] == config() and hp["target"] == "identity" and hp["dataset"] == "Fluo"
    assert hp["extra_flag"] == 3


def test_bad_optimizer_scheduler_or_target_are_user_errors():
    for kw, msg in ((dict(optimizer="lbfgs"), "--optimizer"), (dict(scheduler="warm"), "--scheduler"),
                    (dict(target="gap9"), "--target")):
        with pytest.raises(UserError, match=msg):
            DenoiserModule(config(), **{"target": "identity", **kw})


def test_the_3d_unet_reads_a_31_frame_window():
    module = DenoiserModule(config(model_type="unet_tiny_3d", window_size=31), target="gap1_and_curr_frame")
    assert module.window_offsets == list(range(-15, 16))
    module.log = lambda *a, **k: None
    loss = module.training_step({"window": torch.rand(1, 31, 32, 16)}, 0)
    assert torch.isfinite(loss)


def test_perceptual_loss_with_a_local_vgg19_file(tmp_path):
    from torchvision.models.vgg import cfgs, make_layers

    path = str(tmp_path / "vgg19.pth")
    torch.save({f"features.{k}": v for k, v in make_layers(cfgs["E"]).state_dict().items()}, path)
    loss_fn = build_loss("perceptual", vgg_weights=path)
    pred = torch.rand(1, 1, 32, 32, requires_grad=True)
    loss = loss_fn(pred, torch.rand(1, 1, 32, 32), None)
    loss.backward()
    assert torch.isfinite(loss) and pred.grad.abs().sum() > 0
    module = DenoiserModule(config(), target="identity", loss="perceptual", vgg_weights=path)
    assert not any(k.startswith("loss") for k in module.state_dict())  # VGG stays out of the checkpoint
