"""Denoise Cell Tracking Challenge (Fluo) sequences with a trained SAVeD checkpoint
(docs/paper_code_behaviour.md#inference-scripts; README Fluo command).

    python denoise_Fluo.py --model checkpoints/<run>/best_model.ckpt \
        --input_dir $FLUO_DIR/train --output_dir $FLUO_DENOISED_DIR/train \
        --model_type "cnn" --resolution_size 1024 --fine_layers --bottleneck_size 512 --with_skip_connections

Frames `t<NNN>.tif` (8- or 16-bit) or multi-page TIFF stacks; outputs keep the names as 8-bit TIFF
(`--normalize none` writes the raw float32 output, as the paper did). See docs/inference.md.
"""
from common.cli import run_cli

if __name__ == "__main__":
    from inference.cli import main

    run_cli(lambda: main("fluo", description=__doc__.split("\n\n")[0]))
