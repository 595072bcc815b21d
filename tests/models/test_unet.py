"""unet / unet_downscaled (docs/paper_code_behaviour.md#other-model-types): used-parameter counts, three unshared
encoders, odd sizes, padding."""
import pytest
import torch

from models import ModelConfig, build_model
from models.unet import pad_to

torch.set_num_threads(1)


@pytest.mark.parametrize("name, expected", [("unet", 81_302_113), ("unet_downscaled", 19_494_253)])
def test_used_parameter_counts(name, expected):
    """Hand-derived from the paper's layout (3 encoders + 5 squeeze combiners + 4 Up + head); ~81.3 M and ~19.5 M in the paper."""
    model = build_model(ModelConfig(model_type=name))
    assert sum(p.numel() for p in model.parameters()) == expected


@pytest.mark.parametrize("name, h, w", [("unet", 32, 16), ("unet_downscaled", 64, 32), ("unet_downscaled", 40, 24)])
def test_output_shape(name, h, w):  # 40×24 is not a multiple of 16: padding keeps the size
    model = build_model(ModelConfig(model_type=name)).eval()
    with torch.no_grad():
        assert model(torch.rand(2, 3, h, w)).shape == (2, 1, h, w)


def test_encoders_are_not_shared_so_frame_order_matters():
    torch.manual_seed(0)
    model = build_model(ModelConfig(model_type="unet_downscaled")).eval()
    x = torch.rand(1, 3, 32, 32)

    assert model.encoders[0].inc[0].weight is not model.encoders[1].inc[0].weight
    with torch.no_grad():
        assert not torch.allclose(model(x), model(x[:, [1, 0, 2]]))


def test_pad_to_centres_and_puts_the_odd_pixel_last():
    x = torch.ones(1, 1, 2, 3)
    y = pad_to(x, torch.zeros(1, 1, 5, 4))

    assert y.shape == (1, 1, 5, 4)
    assert y[0, 0, :, :].sum() == 6
    assert torch.equal(y[0, 0, 1:3, 0:3], torch.ones(2, 3))  # 1 row above, 2 below; 0 left, 1 right
