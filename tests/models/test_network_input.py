"""models/network_input.py: one input recipe for training and inference. For every registered network, a training
item (dataset/windows.py + DenoiserModule.inputs_and_target) and an inference window (the engine's Denoiser)
built from the same frames are the same network input; plus the formulas on tiny tensors."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import default_collate

from dataset.windows import ClipData, WindowDataset
from inference.denoiser import Denoiser
from models import MODEL_REGISTRY, ModelConfig, model_spec
from models.module import DenoiserModule, window_offsets
from models.network_input import network_input, target_like_input, window_range

TARGET = "gap1_and_curr_frame"  # reads t-1..t+1: training windows carry frames some networks do not read


class Recorder(torch.nn.Module):
    """Stands in for a network: keeps every input it is called on and returns B×1×H×W zeros."""

    def __init__(self):
        super().__init__()
        self.seen: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append(x.detach().clone())
        return torch.zeros(x.shape[0], 1, x.shape[2], x.shape[3])


def _config(name: str) -> dict:
    """The network's smallest legal training size, twice as high as wide (as CFC22 frames)."""
    mult = model_spec(name).multiple(ModelConfig(model_type=name))
    return ModelConfig(model_type=name, input_height=2 * mult, input_width=mult).to_dict()


def _training_input(cfg: dict, frames: np.ndarray, targets: list[int], tmp_path, monkeypatch) -> torch.Tensor:
    path = str(tmp_path / "frames.npy")
    np.save(path, frames)
    clip = ClipData("clip", path, len(frames), frames.shape[1:], size=frames.shape[1:])
    ds = WindowDataset([clip], [(0, t) for t in targets], window_offsets(cfg, TARGET))
    monkeypatch.setattr("models.module.build_model", lambda config: Recorder())  # the input path only
    module = DenoiserModule(cfg, target=TARGET)
    x, _, _ = module.inputs_and_target(default_collate([ds[i] for i in range(len(ds))]))
    return x


def _inference_input(cfg: dict, frames: np.ndarray, targets: list[int]) -> torch.Tensor:
    recorder = Recorder()
    den = Denoiser(recorder, cfg, frames.shape[1:], batch_size=len(targets), reuse_encoder=False)
    assert sorted(t for t, _ in den.run(iter(frames), len(frames), targets)) == targets
    assert len(recorder.seen) == 1
    return recorder.seen[0]


@pytest.mark.parametrize("name", sorted(MODEL_REGISTRY))
def test_training_item_and_inference_window_give_the_same_network_input(name, tmp_path, monkeypatch):
    cfg = _config(name)
    h, w = cfg["input_height"], cfg["input_width"]
    frames = np.random.default_rng(0).integers(0, 256, size=(6, h, w), dtype=np.uint8)
    frames[3] //= 4  # one dark frame: windows that hold it have another range than those that do not
    targets = [0, 2, 5]  # both clip edges (replicated frames) and the middle
    train = _training_input(cfg, frames, targets, tmp_path, monkeypatch)
    infer = _inference_input(cfg, frames, targets)
    torch.testing.assert_close(train, infer, atol=1e-6, rtol=0)
    offsets = model_spec(name).input_offsets(ModelConfig.from_dict(cfg))
    if model_spec(name).is_3d:
        assert tuple(train.shape) == (3, 1, h, w, len(offsets))
        assert torch.allclose(train.flatten(1).amin(1), torch.zeros(3)) and torch.allclose(train.flatten(1).amax(1),
                                                                                             torch.ones(3))
    else:  # frames as channels in offset order, plain /255
        assert tuple(train.shape) == (3, len(offsets), h, w)
        t, k = 2, offsets.index(-1) if -1 in offsets else 0
        expected = frames[min(max(t + offsets[k], 0), 5)].astype(np.float32) / 255
        np.testing.assert_allclose(train[1, k].numpy(), expected, atol=1e-6)


# --------------------------------------------------------------------------------------------- formulas
def test_2d_input_is_the_frames_unchanged():
    frames = torch.rand(2, 3, 4, 5)
    assert torch.equal(network_input(frames, "cnn"), frames)
    target = torch.rand(2, 1, 4, 5)
    assert torch.equal(target_like_input(target, frames, {"model_type": "unet"}), target)


def test_3d_input_puts_time_last_and_min_max_normalises_each_window():
    ramp = torch.arange(31, dtype=torch.float32).view(1, 31, 1, 1).expand(1, 31, 1, 2)  # frame k holds k
    frames = torch.cat([ramp, 0.5 * ramp + 2.0])  # the second window is an affine copy of the first
    x = network_input(frames, "unet_tiny_3d")
    assert tuple(x.shape) == (2, 1, 1, 2, 31)
    expected = torch.arange(31, dtype=torch.float32) / 30  # (k - 0) / (30 - 0)
    torch.testing.assert_close(x[0, 0, 0, 1], expected)
    torch.testing.assert_close(x[1, 0, 0, 0], expected)  # per window: the affine copy normalises the same


def test_a_constant_window_maps_to_zero_not_nan():
    x = network_input(torch.full((1, 31, 2, 2), 0.7), "unet_4hlayers_3d")
    assert torch.equal(x, torch.zeros(1, 1, 2, 2, 31))


def test_the_3d_target_is_rescaled_by_its_window_range():
    frames = torch.tensor([0.2, 0.6]).view(1, 2, 1, 1).expand(1, 2, 1, 2)
    lo, hi = window_range(frames)
    assert (float(lo), float(hi)) == pytest.approx((0.2, 0.6))
    target = torch.tensor([[[[0.4, 1.0]]]])
    torch.testing.assert_close(target_like_input(target, frames, "unet_tiny_3d"), torch.tensor([[[[0.5, 2.0]]]]))


def test_input_must_be_a_batch_of_channel_frames():
    with pytest.raises(ValueError, match="B×C×H×W"):
        network_input(torch.rand(31, 4, 4), "unet_tiny_3d")


def test_3d_training_step_feeds_the_network_normalised_windows(monkeypatch):
    """A dim window (values 0..0.25) reaches the network stretched to 0..1, as at inference."""
    recorder = Recorder()
    monkeypatch.setattr("models.module.build_model", lambda config: recorder)
    module = DenoiserModule(ModelConfig(model_type="unet_tiny_3d", window_size=31).to_dict(), target="identity")
    module.log = lambda *a, **k: None
    window = torch.rand(2, 31, 16, 16) * 0.25
    module._loss({"window": window}, augment=False)
    (x,) = recorder.seen
    assert tuple(x.shape) == (2, 1, 16, 16, 31)
    torch.testing.assert_close(x.flatten(1).amax(1), torch.ones(2))
    torch.testing.assert_close(x[:, 0, :, :, 15], (window[:, 15] - window.flatten(1).amin(1).view(2, 1, 1))
                               / (window.flatten(1).amax(1) - window.flatten(1).amin(1)).view(2, 1, 1))
