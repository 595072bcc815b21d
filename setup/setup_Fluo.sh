#!/usr/bin/env bash
# Download and prepare the Cell Tracking Challenge sequences Fluo-C2DL-MSC and Fluo-N2DH-GOWT1 for SAVeD
# (docs/paper_code_behaviour.md#fluo-layout; README "Fluo").
#
#   bash setup/setup_Fluo.sh [DATA_ROOT] [--dry-run] [--delete-archives]
#
# Downloads the training and challenge (test) zips from data.celltrackingchallenge.net (~2.5 GB in all),
# links sequences 01 and 02 into DATA_ROOT/Fluo/<train|test>/<dataset>_<seq>/t<NNN>.tif, median-filters them
# into DATA_ROOT/Fluo_median (single-channel uint8 TIFF; 16-bit sources are min-max scaled per clip) and
# flattens that into DATA_ROOT/Fluo_median_flat (the training input).
USAGE="usage: bash setup/setup_Fluo.sh [DATA_ROOT (default Data/, or \$DATA_ROOT)] [--dry-run] [--delete-archives]"
source "$(dirname "${BASH_SOURCE[0]}")/setup_common.sh"
parse_common_args "$@"

CTC=http://data.celltrackingchallenge.net
DATASETS=(Fluo-C2DL-MSC Fluo-N2DH-GOWT1)

step "download (Cell Tracking Challenge)"
for ds in "${DATASETS[@]}"; do
    download "$CTC/training-datasets/$ds.zip" "$DATA_ROOT/archives/$ds-train.zip"
    download "$CTC/test-datasets/$ds.zip" "$DATA_ROOT/archives/$ds-test.zip"
done

step "extract and link sequences 01/02 into Fluo/<train|test>/<dataset>_<seq>"
for ds in "${DATASETS[@]}"; do
    for split in train test; do
        extract "$DATA_ROOT/archives/$ds-$split.zip" "$DATA_ROOT/$ds/$split"
        run mkdir -p "$DATA_ROOT/Fluo/$split"
        for seq in 01 02; do
            run ln -sfn "$DATA_ROOT/$ds/$split/$ds/$seq" "$DATA_ROOT/Fluo/$split/${ds}_$seq"
        done
    done
done

step "median-filtered frames (SAVeD's Fluo input)"
pyrun setup/classical_filter_frames_Fluo.py --frames-dir "$DATA_ROOT/Fluo" --output-dir "$DATA_ROOT/Fluo_median" --filter-type median

step "flat training tree (symlinks)"
pyrun setup/create_dataset_with_all_frames.py --frames_dir "$DATA_ROOT/Fluo_median" --frames_output_dir "$DATA_ROOT/Fluo_median_flat"

summary "$DATA_ROOT/Fluo" "$DATA_ROOT/Fluo_median"
cat <<NEXT

Next (README "Fluo"): train SAVeD on the flat median-filtered frames:
  FLUO_DIR=$DATA_ROOT/Fluo_median_flat
  python main.py --dataset "Fluo" --base_folder \$FLUO_DIR --epochs 1000 --batch_size 8 --resolution_target 1024 --fine_layers --bottleneck_size 512 --with_skip_connections --target "identity" --results_path checkpoints/Fluo_median_denoised_1024sq_fine_bnck_512_identity_SKIP_1000_epochs --model_type cnn
For inference per split use --input_dir $DATA_ROOT/Fluo_median/<train|test> (the flat tree has no train/test level).
NEXT
