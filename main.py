"""Train the SAVeD denoiser (self-supervised, no clean video needed). Same flags as the paper's main.py.

    # CFC22 (README): frames/raw_all from setup, annotations optional (only --loss l1_and_obj reads them)
    python main.py --base_folder $FRAMES_DIR/raw_all --annotations_folder $ANNOTATIONS_DIR/annotations_mot_all \
        --epochs 20 --batch_size 16 --resolution_target 1024 --fine_layers --bottleneck_size 512 \
        --with_skip_connections --target "gap1_and_curr_frame" --results_path checkpoints/cfc22 --model_type "cnn" \
        --optimizer "adamw" --scheduler "plateau" --factor 0.1 --patience 2
    # BUV / POCUS / Fluo / your own data: --dataset "CVA" | "POCUS" | "Fluo" | "custom_dataset"
    # quick CPU check of a recipe: add --epochs 1 --train_resolution 128 --limit_train_batches 2
    # continue a run: the same command plus --resume (epoch, optimizer and scheduler state restored)
    # at scale: --checkpoint_every_n_steps 2000 --limit_val_batches 500 (exact mid-epoch resume), --cache none

Writes into --results_path: best_model.ckpt (lowest val_loss on held-out clips; train_loss if there is no
validation split), last.ckpt, logs/ (CSV, TensorBoard if installed), loss_curve.png, training_summary.json and
cache/ (clips resized once to the training size, uint8, reused by later runs). See docs/training.md for every flag and each
difference from the paper code.
"""
from __future__ import annotations

import argparse

from common.cli import ArgumentParser, run_cli

PAPER_CLIPS = ("kenai-channel_2018-07-13-JD194_LeftNear_Stratum1_Set1_LN_2018-07-13_100000_1160_1511",
               "elwha_Elwha_2018_OM_ARIS_2018_07_12_2018-07-12_230000_2233_2464",
               "elwha_Elwha_2018_OM_ARIS_2018_07_13_2018-07-13_050000_1052_1470",
               "elwha_Elwha_2018_OM_ARIS_2018_07_14_2018-07-14_230000_2087_2473",
               "elwha_Elwha_2018_OM_ARIS_2018_07_09_2018-07-09_220000_1217_1543")


def _probability(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"a probability must lie in [0, 1], got {text}")
    return value


def _positive(kind):
    def parse(text: str):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return value
    return parse


def _batches(text: str) -> int | float:
    """Lightning's convention: an integer counts batches, a float <= 1 is a fraction of the epoch."""
    return float(text) if "." in text else int(text)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    a = p.add_argument
    # --- data (docs/paper_code_behaviour.md#datasets-and-layouts)
    a("--base_folder", required=True, help="folder of training clips (CFC22: frames/raw_all; a clip = a folder of frames)")
    a("--annotations_folder", default="", help="CFC22 annotations_mot_all (<clip>/gt.txt); optional, read only by --loss l1_and_obj")
    a("--dataset", default="CFC22", help="layout: CFC22, CVA (BUV), POCUS, Fluo, custom (= custom_dataset)")
    a("--resolution_target", type=int, default=512, help="CNN size class 512/1024/2048 and the training frame height "
      "(frames resized to res×res/2, or res×res for CVA and Fluo)")
    a("--train_resolution", type=int, default=None, help="train on frames of this height instead of "
      "--resolution_target (same network; e.g. 128 for a quick CPU check). Stored in the checkpoint for inference")
    a("--cache_dir", default=None, help="where decoded+resized clips are cached (default: <results_path>/cache)")
    a("--cache", default="disk", choices=("disk", "none"), help="disk: each frame resized once into a uint8 "
      "memory-mapped cache (H×W bytes per frame); none: DataLoader workers decode and resize on the fly (0 bytes)")
    a("--cache_workers", type=_positive(int), default=None, help="processes that prepare the cache "
      "(default: all cores, shared by the DDP ranks of a node)")
    a("--val_fraction", type=float, default=0.1, help="share of clips held out to choose best_model.ckpt "
      "(1 clip: its last frames); 0 = no validation, best by train_loss as the paper")
    a("--num_workers", type=int, default=None, help="data-loader workers (default: 0 on CPU, min(8, cores) on GPU)")
    a("--window_size", type=int, default=3, help="frames per window (forced to 31 for unet_tiny_3d, as the paper)")
    for i, clip in enumerate(PAPER_CLIPS, 1):
        a(f"--inference_clip{i}", default=clip, help="accepted for compatibility; unused (validation uses held-out clips)")
    # --- model (docs/paper_code_behaviour.md#model-and-flags)
    a("--model_type", default="cnn", help="cnn, unet, unet_downscaled, unet_tiny_3d, ae (or udvd)")
    a("--fine_layers", action="store_true", help="6-level 16..512 encoder (forced on by --with_skip_connections)")
    a("--bottleneck_size", type=int, default=16, help="width of the squeeze combiner at the lowest resolution")
    a("--with_skip_connections", action="store_true", help="the README model: per-level skip feature combiners")
    a("--with_residual_connections", action="store_true", help="residual conv units (res 1024)")
    a("--with_resnet_blocks", action="store_true", help="BN ResNet conv units (wins over residual)")
    a("--num_prev_frames", type=int, default=2, choices=(2, 5), help="previous frames the CNN sees besides f_t")
    # --- target and loss (docs/paper_code_behaviour.md#targets and #losses)
    a("--target", default="l1", help="self-supervised target, e.g. gap1_and_curr_frame (CFC22/POCUS), "
      "gap1_inverted_and_curr_frame (BUV), identity (Fluo); see docs/training.md")
    a("--paper_targets", action="store_true", help="reproduce the paper's training targets (frame5 = f_t bug; see docs/paper_code_behaviour.md)")
    a("--loss", default="mse", help="mse, l1 (mean), l1_sum (paper's l1), l1_and_obj, mse_and_focal, perceptual")
    a("--loss_lambda", type=float, default=0.5, help="weight of the MSE term in l1_and_obj and mse_and_focal")
    a("--vgg_weights", default="", help="local torchvision VGG19 state_dict for --loss perceptual (no downloads)")
    # --- optimisation (docs/paper_code_behaviour.md#optimizer-and-scheduler)
    a("--epochs", type=int, default=100, help="training epochs")
    a("--batch_size", type=int, default=32, help="samples per step per device")
    a("--learning_rate", type=float, default=0.0005, help="initial learning rate (not scaled with the device count)")
    a("--optimizer", default="adamw", help="adamw, adam, sgd, rmsprop")
    a("--scheduler", default="plateau", help="plateau (default; the paper's default 'step' drives the LR to ~0), "
      "step, cosine, none")
    a("--step_size", type=int, default=2, help="StepLR period in epochs (--scheduler step)")
    a("--gamma", type=float, default=0.05, help="StepLR factor (--scheduler step)")
    a("--factor", type=float, default=0.1, help="ReduceLROnPlateau factor (--scheduler plateau)")
    a("--patience", type=int, default=4, help="ReduceLROnPlateau patience in epochs")
    a("--min_lr", type=float, default=1e-6, help="learning-rate floor of the plateau and cosine schedulers")
    for name in ("salt_and_pepper_p", "gaussian_blur_p", "motion_blur_p", "brightness_p", "erase_p"):
        a(f"--{name}", type=_probability, default=0.0, help=f"probability of the {name[:-2].replace('_', ' ')} "
          "augmentation (same draw on inputs and target)")
    # --- run
    a("--results_path", default="checkpoints/tmp", help="output folder for checkpoints, logs and plots")
    a("--resume", action="store_true", help="continue from <results_path>/last.ckpt (epoch, optimizer, scheduler)")
    a("--overwrite", action="store_true", help="start over even if results_path already holds a run")
    a("--seed", type=int, default=0, help="global seed (weights, shuffling, augmentations, val split)")
    a("--accelerator", default="auto", help="auto, cpu or gpu")
    a("--devices", default="auto", help="devices per node: auto (all GPUs / 1 CPU process), N or a list '0,1'; "
      ">1 trains with DDP")
    a("--num_nodes", type=int, default=1, help="nodes for multi-node DDP")
    a("--precision", default="32", help="Lightning precision: 32 (default, the paper's), bf16-mixed, 16-mixed, or auto = "
      "bf16-mixed where the device has fast bf16 (AMX / AVX-512 BF16 CPUs, Ampere+ GPUs), else 32")
    a("--limit_train_batches", type=_batches, default=None, help="batches per epoch (int) or fraction (float <= 1)")
    a("--limit_val_batches", type=_batches, default=None,
      help="validation batches per epoch (int) or fraction (float <= 1); default all held-out frames")
    a("--checkpoint_every_n_steps", type=_positive(int), default=None, help="also write a "
      "resumable last.ckpt every N training steps (mid-epoch); --resume continues from the next batch")
    a("--checkpoint_every_n_minutes", type=_positive(float), default=None,
      help="also write a resumable last.ckpt every N minutes of training (mid-epoch)")
    a("--debug", action="store_true", help="tiny run: 10 training and 10 validation samples")
    a("--wandb", action="store_true", help="also log to Weights & Biases (offline mode; needs wandb installed)")
    a("--no_logging", action="store_true", help="accepted for compatibility (W&B is opt-in here; CSV logs are always written)")
    return p.parse_args(argv)


def main() -> int:
    args = parse_args()
    from models.training import train

    summary = train(args)
    if summary:
        print(f"best model: {summary['best_model']} ({summary['monitor']} {summary['best_score']})")
    return 0


if __name__ == "__main__":
    run_cli(main)
