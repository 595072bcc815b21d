"""Denoise CFC22 sonar clips with a trained SAVeD checkpoint (docs/paper_code_behaviour.md#inference-scripts; the
README's CFC22 command).

    python denoise.py --model checkpoints/<run>/best_model.ckpt \
        --input_dir $FRAMES_DIR/raw/kenai-val --output_dir $RESULTS_DIR/frames/<run>/kenai-val \
        --model_type "cnn" --resolution_size 1024 --fine_layers --bottleneck_size 512 --with_skip_connections

Every input frame gets an output with the same name stem (PNG by default), clip edges included. The
architecture flags are only needed for checkpoints written by the paper code; ours record them. A re-run
skips finished frames. See docs/inference.md for every flag.
"""
from common.cli import run_cli

if __name__ == "__main__":
    from inference.cli import main

    run_cli(lambda: main("cfc22", description=__doc__.split("\n\n")[0]))
