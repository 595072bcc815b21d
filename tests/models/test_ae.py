"""AE_1024 (docs/paper_code_behaviour.md#other-model-types): joint 3-channel encoder, BN+ReLU output (non-negative),
hand-counted parameters."""
import torch

from models import ModelConfig, build_model

torch.set_num_threads(1)


def test_parameter_count_is_the_hand_count():
    # encoder convs 1,572,768 + decoder (conv + BN) 1,572,963; the paper's "about 3.15 M"
    assert sum(p.numel() for p in build_model(ModelConfig(model_type="ae")).parameters()) == 3_145_731


def test_output_shape_and_non_negative_output():
    model = build_model(ModelConfig(model_type="ae"))  # train mode: BN uses batch statistics
    y = model(torch.rand(2, 3, 128, 64))

    assert y.shape == (2, 1, 128, 64)
    assert float(y.min()) >= 0.0
