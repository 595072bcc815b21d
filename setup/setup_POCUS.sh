#!/usr/bin/env bash
# Download and prepare the POCUS lung-ultrasound videos (github jannisborn/covid19_ultrasound) for SAVeD
# (docs/paper_code_behaviour.md#pocus-layout and #pocus-and-buv-downstream; README "POCUS").
#
#   bash setup/setup_POCUS.sh [DATA_ROOT] [--dry-run]
#
# Clones the repository (videos included, ~1 GB) into DATA_ROOT/covid19_ultrasound, decodes
# data/pocus_videos/<convex|linear>/<video> into data/pocus_videos_frames/<convex|linear>/<video>/frame_NNNN.png,
# median-filters them into data/pocus_videos_frames_median and flattens that into
# data/pocus_videos_frames_median_flat (the training input). Frames take ~5-10x the video size.
# The Butterfly videos are not redistributable: to include them, follow data/README.md of that repository
# (download the gallery zip, run data/parse_butterfly.sh) before running this script. pocovidnet (the downstream
# classifier) has its own requirements: follow covid19_ultrasound/pocovidnet/README.md.
USAGE="usage: bash setup/setup_POCUS.sh [DATA_ROOT (default Data/, or \$DATA_ROOT)] [--dry-run]"
source "$(dirname "${BASH_SOURCE[0]}")/setup_common.sh"
parse_common_args "$@"

POCUS="$DATA_ROOT/covid19_ultrasound"
DATA="$POCUS/data"

step "covid19_ultrasound (data + pocovidnet)"
clone https://github.com/jannisborn/covid19_ultrasound.git "$POCUS"

step "videos -> frames"
for domain in convex linear; do
    pyrun setup/convert_videos_to_frames.py --video_dir "$DATA/pocus_videos/$domain" --frames_dir "$DATA/pocus_videos_frames/$domain"
done

step "median-filtered frames (SAVeD's POCUS input)"
pyrun setup/classical_filter_frames_POCUS.py --frames-dir "$DATA/pocus_videos_frames" --output-dir "$DATA/pocus_videos_frames_median" --filter-type median

step "flat training tree (symlinks)"
pyrun setup/create_dataset_with_all_frames.py --frames_dir "$DATA/pocus_videos_frames_median" --frames_output_dir "$DATA/pocus_videos_frames_median_flat"

summary "$DATA/pocus_videos" "$DATA/pocus_videos_frames" "$DATA/pocus_videos_frames_median"
cat <<NEXT

Next (README "POCUS"): train SAVeD on the flat median-filtered frames (the README's data/image_dataset does not
match the POCUS frame pattern; see docs/paper_code_behaviour.md#pocus-layout):
  python main.py --dataset "POCUS" --base_folder $DATA/pocus_videos_frames_median_flat --epochs 120 --batch_size 16 --resolution_target 1024 --fine_layers --bottleneck_size 512 --with_skip_connections --target "gap1_and_curr_frame" --results_path checkpoints/POCUS_denoised_1024_fine_bnck_512_gap1_and_curr_frame_SKIP --model_type cnn
After denoise_POCUS.py, add_denoised_to_raw_2_ch.py and convert_frames_to_videos.py, swap the videos in safely:
  python setup/prepare_downstream.py swap --target $DATA/pocus_videos/convex --replacement <videos>/convex_median_denoised_2_ch
pocovidnet training: see $POCUS/pocovidnet/README.md.
NEXT
