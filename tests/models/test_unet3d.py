"""UNetTiny3D (docs/paper_code_behaviour.md#other-model-types): 31-frame window in, one frame out, hand-counted
parameters."""
import pytest
import torch

from models import ModelConfig, build_model

torch.set_num_threads(1)


def test_parameter_count_is_the_hand_count():
    # DoubleConv3d(1,4) 556 + Downs 2,624 + 10,432 + 41,600 + 55,424 + Ups 69,216 + 17,328 + 4,344 + 1,312 + head 125
    model = build_model(ModelConfig(model_type="unet_tiny_3d"))
    assert sum(p.numel() for p in model.parameters()) == 202_961


def test_volume_and_frames_as_channels_give_the_same_frame():
    torch.manual_seed(0)
    model = build_model(ModelConfig(model_type="unet_4hlayers_3d")).eval()
    frames = torch.rand(2, 31, 32, 16)  # B×T×H×W
    volume = frames.permute(0, 2, 3, 1).unsqueeze(1)  # B×1×H×W×T

    with torch.no_grad():
        out = model(volume)
        assert out.shape == (2, 1, 32, 16)
        assert torch.equal(out, model(frames))


def test_wrong_window_length_is_refused():
    model = build_model(ModelConfig(model_type="unet_tiny_3d"))
    with pytest.raises(ValueError, match="31"):
        model(torch.rand(1, 1, 32, 16, 15))
