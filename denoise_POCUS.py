"""Denoise POCUS lung-ultrasound clips with a trained SAVeD checkpoint (docs/paper_code_behaviour.md#inference-scripts;
README POCUS command).

    python denoise_POCUS.py --model checkpoints/<run>/best_model.ckpt \
        --input_dir $PATH_TO_DATASET/convex --output_dir $PATH_TO_DATASET_denoised/convex \
        --model_type "cnn" --resolution_size 1024 --fine_layers --bottleneck_size 512 --with_skip_connections

Clip folders (e.g. `<video>.mp4/frame_<NNNN>.png`) or the videos themselves; outputs keep the frame names
(PNG), every frame included (the paper wrote a wrongly named extra frame and dropped the edges,
docs/paper_code_behaviour.md#defect-9-9-inference-drops-and-misnames-frames).
"""
from common.cli import run_cli

if __name__ == "__main__":
    from inference.cli import main

    run_cli(lambda: main("pocus", description=__doc__.split("\n\n")[0]))
