#!/usr/bin/env bash
# The paper's batch experiments: SAVeD training + inference + merge on CFC22, BUV (CVA), POCUS and Fluo, and the
# classical and learned baselines, as the README commands. Parameterised by environment variables; no machine paths.
#
#   bash denoise_runs.sh                                  # tiny version on synthetic data of each layout (CPU, minutes)
#   DRY_RUN=1 bash denoise_runs.sh                        # print the commands only
#   CFC22_ROOT=/data/CFC22 BUV_ROOT=/data/CVA-Net/miccai_buv POCUS_ROOT=/data/covid19_ultrasound/data \
#   FLUO_ROOT=/data/Fluo EPOCHS_SCALE=full bash denoise_runs.sh   # the paper's recipes on real data (GPUs)
#
# Variables: CFC22_ROOT (holds frames/ and annotations_mot*/), BUV_ROOT (holds rawframes/ and rawframes_median/),
# POCUS_ROOT (holds pocus_videos_frames/ and pocus_videos_frames_median/), FLUO_ROOT (holds Fluo_median_flat/ and
# Fluo_median/), OUT (default runs/), DATASETS (default "CFC22 BUV POCUS Fluo"), BASELINES=1 adds
# median/mean/Gaussian (and UDVD; N2V if .venv-n2v exists), EPOCHS_SCALE=full uses the paper's epochs and
# resolution 1024 instead of the tiny CPU budget.
# Everything is written under $OUT (checkpoints/, frames/, videos/, data/ for the synthetic stand-ins, logs/);
# the data roots are only read. Each command is a step of setup/steps.sh, as in demo.sh: a finished step is
# skipped on re-run (stamps in $OUT/.done), so re-running the same command resumes; logs in $OUT/logs, times in
# $OUT/timings.json.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
PY="${PY:-$ROOT/.venv/bin/python}"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
OUT="${OUT:-runs}"
DATASETS="${DATASETS:-CFC22 BUV POCUS Fluo}"
BASELINES="${BASELINES:-0}"
STEPS_DRY_RUN="${DRY_RUN:-0}"
source "$ROOT/setup/steps.sh"

if [ "${EPOCHS_SCALE:-tiny}" = full ]; then
    ARCH=(--resolution_target 1024 --fine_layers --bottleneck_size 512 --with_skip_connections)
    SIZE=(); E_CFC=20; E_BUV=40; E_POCUS=120; E_FLUO=1000; B=16; LIMIT=()
    UDVD=(--batch-size 140 --image-size 128 --stride 64 --num-epochs 10); N2V=(--epochs 20)
else
    ARCH=(--resolution_target 1024 --fine_layers --bottleneck_size 16 --with_skip_connections)
    SIZE=(--train_resolution 128); E_CFC=1; E_BUV=1; E_POCUS=1; E_FLUO=1; B=4; LIMIT=(--limit_train_batches 4)
    UDVD=(--batch-size 8 --image-size 64 --stride 32 --num-epochs 1 --limit-batches 4); N2V=(--epochs 1 --patch_size 64 --num_steps 4)
fi

# With no data root given, make a tiny synthetic dataset in that layout under $OUT/data (the tiny default).
synthetic() {  # step_prefix layout dest
    step "$1_synthetic" "$PY" setup/make_synthetic_dataset.py --layout "$2" --out "$3" --clips-per-domain 1 --frames 12 \
        --height 128 --width 64 --quiet --overwrite
}

merge_domains() {  # step_prefix denoised_root raw_root out_root domain...
    local pre="$1" den="$2" raw="$3" out="$4"; shift 4
    for d in "$@"; do
        step "${pre}_merge_$d" "$PY" setup/add_denoised_to_raw_2_ch.py --denoised_imgs "$den/$d" --raw_imgs "$raw/$d" \
            --added_imgs "$out/$d"
    done
}

classical() {  # step_prefix dataset input_root out_prefix: median/mean/Gaussian frames in <out_prefix>_<filter>
    local pre="$1" ds="$2" in="$3" out="$4"
    [ "$BASELINES" = 1 ] || return 0
    for f in median mean gaussian; do
        step "${pre}_filter_$f" "$PY" setup/classical_filter_frames.py --dataset "$ds" --filter-type "$f" --input-dir "$in" \
            --output-dir "${out}_$f"
    done
}

for ds in $DATASETS; do
case "$ds" in
CFC22)
    R="${CFC22_ROOT:-$OUT/data/cfc22}"; [ -n "${CFC22_ROOT:-}" ] || synthetic cfc22 cfc22 "$R"
    NAME=all_denoised_gap1_and_curr_frame_skip_adamw_plateau
    step cfc22_train "$PY" main.py --base_folder "$R/frames/raw_all" --annotations_folder "$R/annotations_mot_all" \
        --epochs "$E_CFC" --batch_size "$B" "${ARCH[@]}" "${SIZE[@]}" "${LIMIT[@]}" --target "gap1_and_curr_frame" \
        --results_path "$OUT/checkpoints/$NAME" --model_type "cnn" --optimizer "adamw" --scheduler "plateau" --factor 0.1 --patience 2
    for d in kenai-train kenai-val elwha; do
        step "cfc22_denoise_$d" "$PY" denoise.py --model "$OUT/checkpoints/$NAME/best_model.ckpt" --input_dir "$R/frames/raw/$d" \
            --output_dir "$OUT/frames/$NAME/$d"
    done
    step cfc22_background_subtract "$PY" setup/background_subtract_frames.py --frames-dir "$R/frames/raw" --output-dir "$OUT/frames/raw_bs"
    merge_domains cfc22 "$OUT/frames/$NAME" "$OUT/frames/raw_bs" "$OUT/frames/frames_with_denoised" kenai-train kenai-val elwha
    classical cfc22 CFC22 "$R/frames/raw" "$OUT/frames/cfc22"
    if [ "$BASELINES" = 1 ]; then  # the learned baselines: UDVD (ours, PyTorch) and N2V (CAREamics, own venv)
        step cfc22_udvd_train "$PY" other_baselines/udvd_train.py --data-path "$R/frames/raw_all" --dataset CFC22 \
            --checkpoint-dir "$OUT/checkpoints/udvd_cfc22" --model blind-video-net-4 --n-frames 5 --lr 1e-4 "${UDVD[@]}"
        for d in kenai-train kenai-val elwha; do
            step "cfc22_udvd_denoise_$d" "$PY" denoise.py --model "$OUT/checkpoints/udvd_cfc22/best_model.ckpt" \
                --input_dir "$R/frames/raw/$d" --output_dir "$OUT/frames/cfc22_udvd/$d"
        done
        if [ -x "$ROOT/.venv-n2v/bin/python" ]; then
            step cfc22_n2v_train "$ROOT/.venv-n2v/bin/python" other_baselines/n2v_cfc22.py --data_dir "$R/frames/raw" \
                --work_dir "$OUT/checkpoints/n2v_cfc22" "${N2V[@]}"
            for d in kenai-train kenai-val elwha; do  # --model DIR: the best checkpoint in it (n2v_common.py)
                step "cfc22_n2v_denoise_$d" "$ROOT/.venv-n2v/bin/python" other_baselines/n2v_predict_cfc22.py \
                    --model "$OUT/checkpoints/n2v_cfc22" --input_dir "$R/frames/raw/$d" --output_dir "$OUT/frames/cfc22_n2v/$d"
            done
        else
            echo "skip N2V: .venv-n2v not installed (bash setup/setup_n2v.sh)"
        fi
    fi
    ;;
BUV)
    R="${BUV_ROOT:-$OUT/data/buv}"
    if [ -z "${BUV_ROOT:-}" ]; then
        synthetic buv cva "$R"
        step buv_median_input "$PY" setup/classical_filter_frames_CVA.py --filter-type median --input-dir "$R/rawframes" \
            --output-dir "$R/rawframes_median"
    fi
    NAME=CVA_denoised_gap1_inverted_and_curr_frame_skip
    F="$OUT/frames/buv"
    step buv_train "$PY" main.py --dataset "CVA" --base_folder "$R/rawframes_median" --epochs "$E_BUV" --batch_size "$B" \
        "${ARCH[@]}" "${SIZE[@]}" "${LIMIT[@]}" --target "gap1_inverted_and_curr_frame" --results_path "$OUT/checkpoints/$NAME" \
        --model_type "cnn"
    for c in benign malignant; do
        step "buv_denoise_$c" "$PY" denoise_CVA.py --model "$OUT/checkpoints/$NAME/best_model.ckpt" \
            --input_dir "$R/rawframes_median/$c" --output_dir "$F/rawframes_median_denoised/$c"
    done
    merge_domains buv "$F/rawframes_median_denoised" "$R/rawframes_median" "$F/rawframes_median_denoised_2_ch" benign malignant
    classical buv CVA "$R/rawframes" "$F/rawframes"
    ;;
POCUS)
    R="${POCUS_ROOT:-$OUT/data/pocus}"
    if [ -z "${POCUS_ROOT:-}" ]; then
        synthetic pocus pocus "$R"
        step pocus_median_input "$PY" setup/classical_filter_frames_POCUS.py --filter-type median \
            --input-dir "$R/pocus_videos_frames" --output-dir "$R/pocus_videos_frames_median"
    fi
    NAME=POCUS_denoised_gap1_and_curr_frame_skip
    F="$OUT/frames/pocus"
    step pocus_train "$PY" main.py --dataset "POCUS" --base_folder "$R/pocus_videos_frames_median" --epochs "$E_POCUS" \
        --batch_size "$B" "${ARCH[@]}" "${SIZE[@]}" "${LIMIT[@]}" --target "gap1_and_curr_frame" \
        --results_path "$OUT/checkpoints/$NAME" --model_type "cnn"
    for d in convex linear; do
        step "pocus_denoise_$d" "$PY" denoise_POCUS.py --model "$OUT/checkpoints/$NAME/best_model.ckpt" \
            --input_dir "$R/pocus_videos_frames_median/$d" --output_dir "$F/pocus_videos_frames_median_denoised/$d"
    done
    merge_domains pocus "$F/pocus_videos_frames_median_denoised" "$R/pocus_videos_frames_median" \
        "$F/pocus_videos_frames_median_denoised_2_ch" convex linear
    for d in convex linear; do
        step "pocus_videos_$d" "$PY" setup/convert_frames_to_videos.py \
            --frames_dir "$F/pocus_videos_frames_median_denoised_2_ch/$d" --video_dir "$OUT/videos/pocus/${d}_median_denoised_2_ch"
    done
    classical pocus POCUS "$R/pocus_videos_frames" "$F/pocus_videos_frames"
    ;;
Fluo)
    R="${FLUO_ROOT:-$OUT/data/fluo}"
    if [ -z "${FLUO_ROOT:-}" ]; then
        FLAT="$OUT/data/Fluo_median_flat"; MED="$OUT/data/fluo_median"
        synthetic fluo fluo "$R"
        step fluo_median_input "$PY" setup/classical_filter_frames_Fluo.py --filter-type median --input-dir "$R" --output-dir "$MED"
        step fluo_flatten "$PY" setup/create_dataset_with_all_frames.py --frames_dir "$MED" --frames_output_dir "$FLAT"
    else
        FLAT="$R/Fluo_median_flat"; MED="$R/Fluo_median"
    fi
    NAME=Fluo_median_denoised_identity_skip
    step fluo_train "$PY" main.py --dataset "Fluo" --base_folder "$FLAT" --epochs "$E_FLUO" --batch_size "$B" "${ARCH[@]}" \
        "${SIZE[@]}" "${LIMIT[@]}" --target "identity" --results_path "$OUT/checkpoints/$NAME" --model_type "cnn"
    for d in train test; do
        step "fluo_denoise_$d" "$PY" denoise_Fluo.py --model "$OUT/checkpoints/$NAME/best_model.ckpt" --input_dir "$MED/$d" \
            --output_dir "$OUT/frames/Fluo_median_denoised_identity/$d"
    done
    ;;
*) echo "error: unknown dataset '$ds' in DATASETS (choose from CFC22 BUV POCUS Fluo)" >&2; exit 2 ;;
esac
done
echo "denoise_runs.sh: done ($DATASETS) -> $OUT"
