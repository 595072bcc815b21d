#!/usr/bin/env bash
# Download and prepare the BUV breast-lesion ultrasound videos (CVA-Net, MICCAI 2022) for SAVeD
# (docs/paper_code_behaviour.md#buv-layout and #pocus-and-buv-downstream; README "BUV").
#
#   bash setup/setup_BUV.sh [DATA_ROOT] [--dry-run] [--delete-archives]
#
# Clones github.com/jhl-Det/CVA-Net into DATA_ROOT/CVA-Net, downloads "Miccai 2022 BUV Dataset.7z" from the
# Google Drive link the paper's setup used (the CVA-Net README also gives a Baidu mirror) and extracts it to
# DATA_ROOT/CVA-Net/miccai_buv (rawframes/<benign|malignant>/<video>/<NNNNNN>.png, train.json, val.json), then
# writes rawframes_median (the temporal-median frames SAVeD trains on). About 2 GB download, ~2x that extracted
# and again for rawframes_median.
# CVA-Net itself needs its own environment (Python 3.7, PyTorch 1.5.1, CUDA ops built with nvcc): follow
# DATA_ROOT/CVA-Net/README.md; this script does not install it (no sudo, no conda here).
USAGE="usage: bash setup/setup_BUV.sh [DATA_ROOT (default Data/, or \$DATA_ROOT)] [--dry-run] [--delete-archives]"
source "$(dirname "${BASH_SOURCE[0]}")/setup_common.sh"
parse_common_args "$@"

CVA="$DATA_ROOT/CVA-Net"
BUV="$CVA/miccai_buv"
DATA_ID=1LVXK34OJhC2LkqqyMmVFnXsXQavvZdeF      # "Miccai 2022 BUV Dataset.7z"
WEIGHTS_ID=1Wqlh0gBgbzWrXZEcjrPhRqRZ1lmf33iP   # CVA-Net pretrained checkpoint (optional)
GDRIVE="https://drive.usercontent.google.com/download?export=download&confirm=t&id"

step "CVA-Net (downstream model)"
clone https://github.com/jhl-Det/CVA-Net.git "$CVA"

step "download the BUV dataset (Google Drive; mirror: https://pan.baidu.com/s/1yYME7-DvvIEZzCb72NXaJA?pwd=jnie)"
download "$GDRIVE=$DATA_ID" "$DATA_ROOT/archives/Miccai_2022_BUV_Dataset.7z"
download "$GDRIVE=$WEIGHTS_ID" "$DATA_ROOT/archives/CVA-Net_pretrained.pth"

step "extract"
extract "$DATA_ROOT/archives/Miccai_2022_BUV_Dataset.7z" "$CVA/miccai_buv_download"
if [ "$DRY_RUN" -eq 1 ]; then
    run ln -sfn "$CVA/miccai_buv_download/<folder holding rawframes/>" "$BUV"
elif [ ! -e "$BUV" ]; then
    SRC="$(dirname "$(find "$CVA/miccai_buv_download" -type d -name rawframes -print -quit)")"
    if [ "$SRC" = "." ] || [ -z "$SRC" ]; then
        echo "error: no rawframes/ folder inside $CVA/miccai_buv_download; check the archive" >&2; exit 1
    fi
    run ln -sfn "$SRC" "$BUV"
fi

step "median-filtered frames (SAVeD's BUV training input)"
pyrun setup/classical_filter_frames_CVA.py --frames-dir "$BUV/rawframes" --output-dir "$BUV/rawframes_median" --filter-type median

summary "$BUV/rawframes" "$BUV/rawframes_median"
cat <<NEXT

Next (README "BUV"): train SAVeD on the median-filtered frames:
  python main.py --dataset "CVA" --base_folder $BUV/rawframes_median --epochs 40 --batch_size 8 --resolution_target 1024 --fine_layers --bottleneck_size 512 --with_skip_connections --target "gap1_inverted_and_curr_frame" --results_path checkpoints/CVA_denoised_1024_fine_bnck_512_gap1_inverted_and_curr_frame_SKIP_40_epoch_median_sq --model_type cnn
then denoise_CVA.py and add_denoised_to_raw_2_ch.py per class, and swap the merged frames in for CVA-Net:
  python setup/prepare_downstream.py swap --target $BUV/rawframes --replacement $BUV/rawframes_median_denoised_2_ch
CVA-Net training: see $CVA/README.md (./configs/configs.sh in its own environment).
NEXT
