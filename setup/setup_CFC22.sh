#!/usr/bin/env bash
# Download and prepare the Caltech Fish Counting dataset (CFC22) for SAVeD (docs/paper_code_behaviour.md#cfc22-layout
# and #setup-scripts; README "CFC22").
#
#   bash setup/setup_CFC22.sh [DATA_ROOT] [--dry-run] [--delete-archives]
#   DATA_ROOT=/big/disk bash setup/setup_CFC22.sh
#
# Writes DATA_ROOT/CFC22/: frames/raw/<domain>/<clip>/<i>.jpg, annotations_mot/<domain>/<clip>/gt.txt,
# metadata/<domain>.json (+ annotations/<domain>.json links, where count.py looks), frames/raw_all and
# annotations_mot_all (flat symlinks, the training input), frames/raw_bs (+ raw_bs_all) background-subtracted,
# frames/raw_median median-filtered. Needs ~123 GB for the frames archive plus about as much extracted
# (--delete-archives removes each archive once extracted), ~2x the raw frames again for raw_bs and raw_median.
# Safe to re-run: finished downloads, extractions and clips are skipped.
USAGE="usage: bash setup/setup_CFC22.sh [DATA_ROOT (default Data/, or \$DATA_ROOT)] [--dry-run] [--delete-archives]"
source "$(dirname "${BASH_SOURCE[0]}")/setup_common.sh"
parse_common_args "$@"

URL=https://data.caltech.edu/records/1y23m-j8r69/files
CFC="$DATA_ROOT/CFC22"
# md5 sums published in the dataset's README (github visipedia/caltech-fish-counting)
declare -A MD5=(
    [fish_counting_frames.tar.gz]=176648e618fc5013db972aa7ded01517
    [fish_counting_annotations.tar.gz]=36492ff6fb076ed1922ea7881deb1aa2
    [fish_counting_metadata.tar.gz]=152286bd6f25f965aadf41e8a0c44140
)

step "download (frames 123 GB, annotations 5 MB, metadata 54 KB)"
for f in fish_counting_annotations.tar.gz fish_counting_metadata.tar.gz fish_counting_frames.tar.gz; do
    download "$URL/$f" "$CFC/archives/$f" "${MD5[$f]}"
done

step "extract"
for f in fish_counting_annotations.tar.gz fish_counting_metadata.tar.gz fish_counting_frames.tar.gz; do
    extract "$CFC/archives/$f" "$CFC"
done
run find "$CFC" -name .ipynb_checkpoints -prune -exec rm -rf {} +

step "annotations/ (MOT) -> annotations_mot/; metadata JSONs linked into annotations/"
if [ "$DRY_RUN" -eq 1 ] || [ ! -d "$CFC/annotations_mot" ]; then
    run mv "$CFC/annotations" "$CFC/annotations_mot"
fi
run mkdir -p "$CFC/annotations"
if [ "$DRY_RUN" -eq 1 ]; then
    run ln -sfn "$CFC/metadata/<domain>.json" "$CFC/annotations/<domain>.json"
else
    for j in "$CFC"/metadata/*.json; do run ln -sfn "$j" "$CFC/annotations/$(basename "$j")"; done
fi

step "flat training tree (symlinks)"
pyrun setup/create_dataset_with_all_frames.py --frames_dir "$CFC/frames/raw" --frames_output_dir "$CFC/frames/raw_all" \
    --annotations_dir "$CFC/annotations_mot" --annotations_output_dir "$CFC/annotations_mot_all"

step "background-subtracted frames (the 'raw' channel of the merged detector input)"
pyrun setup/background_subtract_frames.py --frames-dir "$CFC/frames/raw" --output-dir "$CFC/frames/raw_bs"
pyrun setup/create_dataset_with_all_frames.py --frames_dir "$CFC/frames/raw_bs" --frames_output_dir "$CFC/frames/raw_bs_all"

step "median-filtered frames (classical baseline)"
pyrun setup/classical_filter_frames.py --frames-dir "$CFC/frames/raw" --output-dir "$CFC/frames/raw_median" --filter-type median

summary "$CFC/frames/raw" "$CFC/frames/raw_bs" "$CFC/frames/raw_median" "$CFC/annotations_mot"
cat <<NEXT

Next (README "CFC22"): train SAVeD on the flat tree:
  FRAMES_DIR=$CFC/frames/ ANNOTATIONS_DIR=$CFC/
  python main.py --base_folder \$FRAMES_DIR/raw_all --annotations_folder \$ANNOTATIONS_DIR/annotations_mot_all --epochs 20 --batch_size 16 --resolution_target 1024 --fine_layers --bottleneck_size 512 --with_skip_connections --target "gap1_and_curr_frame" --results_path checkpoints/all_denoised_1024_fine_bnck_512_gap1_and_curr_frame_skip_adamw_plateau_scheduler_f0.1_pat2 --model_type cnn --optimizer adamw --scheduler plateau --factor 0.1 --patience 2
The merge step uses OTHER_FRAMES_DIR=$CFC/frames/raw_bs/
NEXT
