"""DenoisingCNN: parameter counts from docs/paper_code_behaviour.md#readme-network and #architecture-flags, shapes of
every variant, encode/decode equivalence, frame-order behaviour, the residual-branch fix and the flag errors."""
import pytest
import torch

from common.cli import UserError
from models import ModelConfig, build_model

torch.set_num_threads(1)

README = dict(resolution_target=1024, fine_layers=True, bottleneck_size=512, with_skip_connections=True)


def n_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def test_paper_configuration_has_exactly_the_used_parameters():
    model = build_model(ModelConfig(**README))  # no forward at 1024

    assert n_params(model) == 25_543_281  # "used in forward", docs/paper_code_behaviour.md#readme-network
    assert sorted(model.feature_combiners.keys()) == ["1", "2", "3", "4", "5"]  # no level-1 combiner
    assert not hasattr(model, "encoder") and not hasattr(model, "future_decoder")


@pytest.mark.parametrize("flags, expected", [
    (dict(resolution_target=1024, fine_layers=True, bottleneck_size=512), 6_991_025),
    (dict(resolution_target=1024, fine_layers=True, bottleneck_size=16), 2_419_393),
    (dict(resolution_target=1024, fine_layers=False, bottleneck_size=512), 6_958_273),
])
def test_no_skip_variants_match_the_reference_counts(flags, expected):
    assert n_params(build_model(ModelConfig(**flags))) == expected  # docs/paper_code_behaviour.md#architecture-flags


def test_skip_connections_force_fine_layers():
    coarse = build_model(ModelConfig(resolution_target=512, fine_layers=False, with_skip_connections=True))
    fine = build_model(ModelConfig(resolution_target=512, fine_layers=True, with_skip_connections=True))

    assert n_params(coarse) == n_params(fine)


VARIANTS = [  # (flags, H, W): H, W the smallest sizes the depth allows, small enough for 2 shared cores
    (dict(resolution_target=512, bottleneck_size=64, with_skip_connections=True), 64, 32),
    (dict(**README), 128, 64),
    (dict(resolution_target=2048, bottleneck_size=16, with_skip_connections=True), 128, 128),
    (dict(resolution_target=512, fine_layers=True), 64, 32),  # broken in the paper (channel mismatch), fixed
    (dict(resolution_target=512), 16, 8),
    (dict(resolution_target=1024, fine_layers=True, bottleneck_size=32), 128, 64),
    (dict(resolution_target=1024), 32, 16),
    (dict(resolution_target=2048, fine_layers=True, bottleneck_size=16), 128, 128),
    (dict(resolution_target=1024, bottleneck_size=16, with_residual_connections=True), 128, 64),
    (dict(resolution_target=512, bottleneck_size=16, with_resnet_blocks=True), 64, 32),
    (dict(resolution_target=512, num_prev_frames=5), 16, 8),
    (dict(resolution_target=1024, num_prev_frames=5), 32, 16),
]


@pytest.mark.parametrize("flags, h, w", VARIANTS)
def test_every_variant_maps_frames_to_one_output_frame(flags, h, w):
    model = build_model(ModelConfig(**flags)).eval()
    x = torch.rand(2, model.n_frames, h, w)

    with torch.no_grad():
        y = model(x)

    assert model.n_frames == flags.get("num_prev_frames", 2) + 1
    assert y.shape == (2, 1, h, w)
    assert h % model.size_multiple == 0 and w % model.size_multiple == 0


@pytest.mark.parametrize("flags, h, w", [VARIANTS[0], VARIANTS[4], VARIANTS[9]])
def test_forward_equals_decode_of_per_frame_encodings(flags, h, w):
    torch.manual_seed(0)
    model = build_model(ModelConfig(**flags)).eval()
    x = torch.rand(1, 3, h, w)

    with torch.no_grad():
        direct = model(x)
        reused = model.decode_features([model.encode_frame(x[:, i : i + 1]) for i in range(3)])

    assert torch.equal(direct, reused)


def test_encoding_each_frame_once_reproduces_every_window():
    torch.manual_seed(0)
    model = build_model(ModelConfig(resolution_target=512, bottleneck_size=16, with_skip_connections=True)).eval()
    clip = torch.rand(5, 1, 64, 32)

    with torch.no_grad():
        codes = [model.encode_frame(clip[i : i + 1]) for i in range(5)]
        for t in range(2, 5):
            window = torch.cat([clip[t], clip[t - 1], clip[t - 2]]).unsqueeze(0)  # channels t, t-1, t-2
            assert torch.equal(model(window), model.decode_features([codes[t], codes[t - 1], codes[t - 2]]))


def test_skip_model_sees_frame_order_but_plain_model_only_sums():
    torch.manual_seed(0)
    x = torch.rand(1, 3, 64, 32)
    swapped = x[:, [1, 0, 2]]
    skip = build_model(ModelConfig(resolution_target=512, with_skip_connections=True)).eval()
    plain = build_model(ModelConfig(resolution_target=512, fine_layers=True)).eval()

    with torch.no_grad():
        assert not torch.allclose(skip(x), skip(swapped))
        assert torch.allclose(plain(x), plain(swapped), atol=1e-6)


def test_output_has_no_activation():
    model = build_model(ModelConfig(resolution_target=512, with_skip_connections=True)).eval()
    last = model.dec5[-1]  # ConvT 32 -> 1, the output layer at res 512
    with torch.no_grad():
        last.weight.zero_()
        last.bias.fill_(-5.0)
        y = model(torch.rand(1, 3, 64, 32))

    assert torch.all(y == -5.0)  # unbounded: a ReLU/sigmoid would clip this


def test_residual_branch_feeds_the_next_level():
    """The paper computed this branch and discarded it (a bug, docs/paper_code_behaviour.md#architecture-flags); here
    changing it changes the output."""
    torch.manual_seed(0)
    model = build_model(ModelConfig(resolution_target=512, with_residual_connections=True)).eval()
    x = torch.rand(1, 3, 64, 32)
    with torch.no_grad():
        before = model(x)
        model.enc2_skip[1].body[2].weight.add_(0.5)
        after = model(x)

    assert not torch.allclose(before, after)


def test_wrong_number_of_frames_is_refused():
    model = build_model(ModelConfig(resolution_target=512, with_skip_connections=True))
    with pytest.raises(ValueError, match="B×3×H×W"):
        model(torch.rand(1, 6, 64, 32))


@pytest.mark.parametrize("flags, message", [
    (dict(resolution_target=512, bottleneck_size=128), "valid: 16, 32, 64"),
    (dict(resolution_target=1024, bottleneck_size=1024), "valid: 16, 32, 64, 128, 256, 512$"),
    (dict(resolution_target=1024, bottleneck_size=100), "--bottleneck_size 100"),
    (dict(resolution_target=768), "valid: 512, 1024, 2048"),
    (dict(num_prev_frames=3), "valid: 2, 5"),
    (dict(resolution_target=2048, num_prev_frames=5), "512 or 1024"),
])
def test_invalid_flags_name_the_valid_values(flags, message):
    with pytest.raises(UserError, match=message):
        build_model(ModelConfig(**flags))
