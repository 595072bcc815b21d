#!/usr/bin/env bash
# The paper's batch experiments: SAVeD training + inference + merge on CFC22, BUV (CVA), POCUS and Fluo, and the
# classical and learned baselines, as the README commands. Parameterised by environment variables; no machine paths.
#
#   bash denoise_runs.sh                                  # tiny version on synthetic data of each layout (CPU, minutes)
#   DRY_RUN=1 bash denoise_runs.sh                        # print the commands only
#   CFC22_ROOT=/data/CFC22 BUV_ROOT=/data/CVA-Net/miccai_buv POCUS_ROOT=/data/covid19_ultrasound/data \
#   FLUO_ROOT=/data/Fluo EPOCHS_SCALE=full bash denoise_runs.sh   # the paper's recipes on real data (GPUs)
#
# Variables: CFC22_ROOT (holds frames/ and annotations_mot*/), BUV_ROOT (holds rawframes_median/), POCUS_ROOT (holds
# pocus_videos_frames_median/), FLUO_ROOT (holds Fluo_median_flat/ or train/ test/), OUT (default runs/),
# DATASETS (default "CFC22 BUV POCUS Fluo"), BASELINES=1 adds median/mean/Gaussian (and UDVD; N2V if .venv-n2v exists),
# EPOCHS_SCALE=full uses the paper's epochs and resolution 1024 instead of the tiny CPU budget.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
PY="${PY:-$ROOT/.venv/bin/python}"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
OUT="${OUT:-runs}"
DATASETS="${DATASETS:-CFC22 BUV POCUS Fluo}"
BASELINES="${BASELINES:-0}"
DRY_RUN="${DRY_RUN:-0}"

run() {
    echo "+ $*"
    if [ "$DRY_RUN" != 1 ]; then "$@"; fi
}

if [ "${EPOCHS_SCALE:-tiny}" = full ]; then
    ARCH=(--resolution_target 1024 --fine_layers --bottleneck_size 512 --with_skip_connections)
    SIZE=(); E_CFC=20; E_BUV=40; E_POCUS=120; E_FLUO=1000; B=16; LIMIT=()
    UDVD=(--batch-size 140 --image-size 128 --stride 64 --num-epochs 10); N2V=(--epochs 20)
else
    ARCH=(--resolution_target 1024 --fine_layers --bottleneck_size 16 --with_skip_connections)
    SIZE=(--train_resolution 128); E_CFC=1; E_BUV=1; E_POCUS=1; E_FLUO=1; B=4; LIMIT=(--limit_train_batches 4)
    UDVD=(--batch-size 8 --image-size 64 --stride 32 --num-epochs 1 --limit-batches 4); N2V=(--epochs 1 --patch_size 64 --num_steps 4)
fi

# With no data root given, make a tiny synthetic dataset in that layout (the tiny default).
synthetic() {  # layout dest
    if [ ! -d "$2" ] || [ -z "$(ls -A "$2" 2>/dev/null)" ]; then
        run "$PY" setup/make_synthetic_dataset.py --layout "$1" --out "$2" --clips-per-domain 1 --frames 12 \
            --height 128 --width 64 --quiet
    fi
}

merge_domains() {  # denoised_root raw_root out_root domain...
    local den="$1" raw="$2" out="$3"; shift 3
    for d in "$@"; do
        run "$PY" setup/add_denoised_to_raw_2_ch.py --denoised_imgs "$den/$d" --raw_imgs "$raw/$d" --added_imgs "$out/$d"
    done
}

classical() {  # dataset input_root out_prefix domain...
    local ds="$1" in="$2" pre="$3"; shift 3
    [ "$BASELINES" = 1 ] || return 0
    for f in median mean gaussian; do
        run "$PY" setup/classical_filter_frames.py --dataset "$ds" --filter-type "$f" --input-dir "$in" --output-dir "${pre}_$f"
    done
}

for ds in $DATASETS; do
case "$ds" in
CFC22)
    R="${CFC22_ROOT:-$OUT/data/cfc22}"; [ -n "${CFC22_ROOT:-}" ] || synthetic cfc22 "$R"
    NAME=all_denoised_gap1_and_curr_frame_skip_adamw_plateau
    run "$PY" main.py --base_folder "$R/frames/raw_all" --annotations_folder "$R/annotations_mot_all" --epochs "$E_CFC" \
        --batch_size "$B" "${ARCH[@]}" "${SIZE[@]}" "${LIMIT[@]}" --target "gap1_and_curr_frame" \
        --results_path "$OUT/checkpoints/$NAME" --model_type "cnn" --optimizer "adamw" --scheduler "plateau" --factor 0.1 --patience 2
    for d in kenai-train kenai-val elwha; do
        run "$PY" denoise.py --model "$OUT/checkpoints/$NAME/best_model.ckpt" --input_dir "$R/frames/raw/$d" \
            --output_dir "$OUT/frames/$NAME/$d"
    done
    run "$PY" setup/background_subtract_frames.py --frames-dir "$R/frames/raw" --output-dir "$OUT/frames/raw_bs"
    merge_domains "$OUT/frames/$NAME" "$OUT/frames/raw_bs" "$OUT/frames/frames_with_denoised" kenai-train kenai-val elwha
    classical CFC22 "$R/frames/raw" "$OUT/frames/cfc22"
    if [ "$BASELINES" = 1 ]; then  # the learned baselines: UDVD (ours, PyTorch) and N2V (CAREamics, own venv)
        run "$PY" other_baselines/udvd_train.py --data-path "$R/frames/raw_all" --dataset CFC22 \
            --checkpoint-dir "$OUT/checkpoints/udvd_cfc22" --model blind-video-net-4 --n-frames 5 --lr 1e-4 "${UDVD[@]}"
        for d in kenai-train kenai-val elwha; do
            run "$PY" denoise.py --model "$OUT/checkpoints/udvd_cfc22/best_model.ckpt" --input_dir "$R/frames/raw/$d" \
                --output_dir "$OUT/frames/cfc22_udvd/$d"
        done
        if [ -x "$ROOT/.venv-n2v/bin/python" ]; then
            run "$ROOT/.venv-n2v/bin/python" other_baselines/n2v_cfc22.py --data_dir "$R/frames/raw" \
                --work_dir "$OUT/checkpoints/n2v_cfc22" "${N2V[@]}"
            ck="$(find "$OUT/checkpoints/n2v_cfc22" -name '*.ckpt' 2>/dev/null | sort | grep -v 'last.ckpt$' | tail -n 1 || true)"
            [ -n "$ck" ] || ck="$(find "$OUT/checkpoints/n2v_cfc22" -name '*.ckpt' 2>/dev/null | sort | tail -n 1 || true)"
            for d in kenai-train kenai-val elwha; do
                run "$ROOT/.venv-n2v/bin/python" other_baselines/n2v_predict_cfc22.py --model "${ck:-<n2v checkpoint>}" \
                    --input_dir "$R/frames/raw/$d" --output_dir "$OUT/frames/cfc22_n2v/$d"
            done
        else
            echo "skip N2V: .venv-n2v not installed (bash setup/setup_n2v.sh)"
        fi
    fi
    ;;
BUV)
    R="${BUV_ROOT:-$OUT/data/buv}"
    if [ -z "${BUV_ROOT:-}" ]; then
        synthetic cva "$R"
        run "$PY" setup/classical_filter_frames_CVA.py --filter-type median --input-dir "$R/rawframes" --output-dir "$R/rawframes_median"
    fi
    NAME=CVA_denoised_gap1_inverted_and_curr_frame_skip
    run "$PY" main.py --dataset "CVA" --base_folder "$R/rawframes_median" --epochs "$E_BUV" --batch_size "$B" "${ARCH[@]}" \
        "${SIZE[@]}" "${LIMIT[@]}" --target "gap1_inverted_and_curr_frame" --results_path "$OUT/checkpoints/$NAME" --model_type "cnn"
    for c in benign malignant; do
        run "$PY" denoise_CVA.py --model "$OUT/checkpoints/$NAME/best_model.ckpt" --input_dir "$R/rawframes_median/$c" \
            --output_dir "$R/rawframes_median_denoised/$c"
    done
    merge_domains "$R/rawframes_median_denoised" "$R/rawframes_median" "$R/rawframes_median_denoised_2_ch" benign malignant
    classical CVA "$R/rawframes" "$R/rawframes"
    ;;
POCUS)
    R="${POCUS_ROOT:-$OUT/data/pocus}"
    if [ -z "${POCUS_ROOT:-}" ]; then
        synthetic pocus "$R"
        run "$PY" setup/classical_filter_frames_POCUS.py --filter-type median --input-dir "$R/pocus_videos_frames" \
            --output-dir "$R/pocus_videos_frames_median"
    fi
    NAME=POCUS_denoised_gap1_and_curr_frame_skip
    run "$PY" main.py --dataset "POCUS" --base_folder "$R/pocus_videos_frames_median" --epochs "$E_POCUS" --batch_size "$B" \
        "${ARCH[@]}" "${SIZE[@]}" "${LIMIT[@]}" --target "gap1_and_curr_frame" --results_path "$OUT/checkpoints/$NAME" --model_type "cnn"
    for d in convex linear; do
        run "$PY" denoise_POCUS.py --model "$OUT/checkpoints/$NAME/best_model.ckpt" --input_dir "$R/pocus_videos_frames_median/$d" \
            --output_dir "$R/pocus_videos_frames_median_denoised/$d"
    done
    merge_domains "$R/pocus_videos_frames_median_denoised" "$R/pocus_videos_frames_median" \
        "$R/pocus_videos_frames_median_denoised_2_ch" convex linear
    for d in convex linear; do
        run "$PY" setup/convert_frames_to_videos.py --frames_dir "$R/pocus_videos_frames_median_denoised_2_ch/$d" \
            --video_dir "$R/pocus_videos/${d}_median_denoised_2_ch"
    done
    classical POCUS "$R/pocus_videos_frames" "$R/pocus_videos_frames"
    ;;
Fluo)
    R="${FLUO_ROOT:-$OUT/data/fluo}"
    if [ -z "${FLUO_ROOT:-}" ]; then
        synthetic fluo "$R"
        run "$PY" setup/classical_filter_frames_Fluo.py --filter-type median --input-dir "$R" --output-dir "$R/../fluo_median"
        run "$PY" setup/create_dataset_with_all_frames.py --frames_dir "$R/../fluo_median" --frames_output_dir "$R/../Fluo_median_flat"
        FLAT="$R/../Fluo_median_flat"; MED="$R/../fluo_median"
    else
        FLAT="$R/Fluo_median_flat"; MED="$R/Fluo_median"
    fi
    NAME=Fluo_median_denoised_identity_skip
    run "$PY" main.py --dataset "Fluo" --base_folder "$FLAT" --epochs "$E_FLUO" --batch_size "$B" "${ARCH[@]}" "${SIZE[@]}" \
        "${LIMIT[@]}" --target "identity" --results_path "$OUT/checkpoints/$NAME" --model_type "cnn"
    for d in train test; do
        run "$PY" denoise_Fluo.py --model "$OUT/checkpoints/$NAME/best_model.ckpt" --input_dir "$MED/$d" \
            --output_dir "$OUT/frames/Fluo_median_denoised_identity/$d"
    done
    ;;
*) echo "error: unknown dataset '$ds' in DATASETS (choose from CFC22 BUV POCUS Fluo)" >&2; exit 2 ;;
esac
done
echo "denoise_runs.sh: done ($DATASETS) -> $OUT"
