"""Denoise BUV (CVA-Net breast ultrasound) clips with a trained SAVeD checkpoint
(docs/paper_code_behaviour.md#inference-scripts; README BUV command).

    python denoise_CVA.py --model checkpoints/<run>/best_model.ckpt \
        --input_dir rawframes_median/benign --output_dir rawframes_median_denoised/benign \
        --model_type "cnn" --resolution_size 1024 --fine_layers --bottleneck_size 512 --with_skip_connections

Frames are `<NNNNNN>.png`; outputs keep the names (PNG). The network runs at the checkpoint's training
resolution (the paper denoised its 1024x1024-trained model at 1024x512,
docs/paper_code_behaviour.md#defect-9-2-wrong-inference-resolution). See docs/inference.md.
"""
from common.cli import run_cli

if __name__ == "__main__":
    from inference.cli import main

    run_cli(lambda: main("cva", description=__doc__.split("\n\n")[0]))
