#!/usr/bin/env bash
# The main job: the whole SAVeD paper pipeline on the embedded synthetic sonar benchmark, ending with one table
# (raw vs CFC Baseline++ vs SAVeD: PSNR/SSIM vs clean, mAP50, mAP50-95, HOTA, MOTA, IDF1, nMAE, times).
#
#   bash demo.sh              # default preset: about 15 minutes on 2 CPU cores
#   bash demo.sh --quick      # smoke version (about 1.5 minutes), used by the tests
#   bash demo.sh --gpu        # bigger benchmark and budgets for a GPU machine
#   bash demo.sh --baselines  # also the median / mean / Gaussian rows (and UDVD, N2V when installed)
#   bash demo.sh --run NAME   # results in results/NAME (default: the preset name)
#   bash demo.sh --out DIR    # results in DIR instead
#   bash demo.sh --seed S     # seed of the synthetic data and of SAVeD's training (default 0)
#   bash demo.sh --detector-seeds N   # detectors trained per input kind, seeds 0..N-1, the same for every row (paired);
#                             # the table gives their mean, spread and intervals over seeds and test clips
#   bash demo.sh --pretrain none      # detectors from scratch instead of fine-tuned from the project's shared
#                             # pretrained detector (setup/pretrain_detector.py, cached in .cache/detector_pretrain)
#   bash demo.sh --data DIR   # the same comparison on your own annotated video (CFC22 or custom layout: README
#                             # "Your own annotated data"); DIR is only read; results in results/<DIR name>-<preset>
#     --train-domain D --val-domain D --test-domain D   roles of DIR's domains (default: kenai-train, kenai-val,
#                             elwha when present, else a deterministic split of the clips, with a warning)
#     --count auto|crossings|none   nMAE from left/right crossings, or per-frame count MAE (auto: from the GT)
#
# Every stage is a README command run as a user would (a subprocess of the script, not a private shortcut):
# generate data -> main.py -> denoise.py -> background_subtract_frames.py -> add_denoised_to_raw_2_ch.py ->
# make_baseline_plus_plus.py -> pretrain_detector.py (once, cached) -> convert_mot_to_yolo.py ->
# train_detector.py (per input kind and detector seed, fine-tuned from the pretrained detector) -> detect.py ->
# eval_detector_tm.py -> track.py -> track_eval.py -> count.py -> eval_count.py -> report.
# A finished step is skipped on re-run (stamps in results/<run>/.done); each step's log is in results/<run>/logs and
# its wall-clock seconds in results/<run>/timings.json (setup/steps.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"

PRESET=default
RUN=""
OUT=""
SEED=0
BASELINES=0
DATA_IN=""
OWN_FLAGS=()
DET_SEEDS=""
PRETRAIN=default
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) PRESET=quick ;;
        --gpu) PRESET=gpu ;;
        --baselines) BASELINES=1 ;;
        --run) RUN="$2"; shift ;;
        --out) OUT="$2"; shift ;;
        --seed) SEED="$2"; shift
            [[ "$SEED" =~ ^[0-9]+$ ]] || { echo "error: --seed needs a non-negative integer, got '$SEED'" >&2; exit 2; } ;;
        --data) DATA_IN="$2"; shift ;;
        --detector-seeds) DET_SEEDS="$2"; shift
            [[ "$DET_SEEDS" =~ ^[1-9][0-9]*$ ]] || { echo "error: --detector-seeds needs a positive integer, got '$DET_SEEDS'" >&2; exit 2; } ;;
        --pretrain) PRETRAIN="$2"; shift
            [[ "$PRETRAIN" =~ ^(default|none)$ ]] || { echo "error: --pretrain is 'default' or 'none', got '$PRETRAIN'" >&2; exit 2; } ;;
        --train-domain|--val-domain|--test-domain|--count) OWN_FLAGS+=("$1" "$2"); shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "error: unknown option $1 (see bash demo.sh --help)" >&2; exit 2 ;;
    esac
    shift
done

PY="$ROOT/.venv/bin/python"
if [ ! -x "$PY" ]; then
    echo "error: $PY not found; run: bash setup/setup.sh" >&2
    exit 2
fi
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"

# ---- presets: benchmark size and training budgets ------------------------------------------------------------
DEVICE=cpu
PRECISION=auto   # bf16 where the CPU/GPU runs it fast (AMX, AVX-512 BF16, Ampere+), else fp32: docs/inference.md
# ultralytics sets OMP_NUM_THREADS=1 when it is unset; set it to the core count so that no step inherits that
# (its later reset of torch's threads to cores - 1 is undone in common.offline.set_threads).
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-$(nproc 2>/dev/null || echo 2)}"
case "$PRESET" in
    default)
        CLIPS="2 kenai-train=6 elwha=12"; FRAMES=100; HEIGHT=256; WIDTH=128; FISH=4; TARGET_SCALE=4
        SAVED_EPOCHS=10; SAVED_BATCH=8; SAVED_ARCH="--resolution_target 1024 --fine_layers --bottleneck_size 64 --with_skip_connections"
        SAVED_SIZE="--train_resolution 256 --limit_train_batches 40 --limit_val_batches 5"   # native size, 400 steps
        YOLO_EPOCHS=3; YOLO_IMG=160; YOLO_BATCH=16; YOLO_MODEL=yolov8n.yaml; UDVD_EPOCHS=2
        N_DET_SEEDS=3; SCRATCH_EPOCHS=30; PRETRAIN_ARGS="--epochs 5" ;;
    quick)
        CLIPS=1; FRAMES=30; HEIGHT=128; WIDTH=64; FISH=2; TARGET_SCALE=2
        SAVED_EPOCHS=1; SAVED_BATCH=4; SAVED_ARCH="--resolution_target 1024 --fine_layers --bottleneck_size 16 --with_skip_connections"
        SAVED_SIZE="--train_resolution 128 --limit_train_batches 3"
        YOLO_EPOCHS=1; YOLO_IMG=64; YOLO_BATCH=8; YOLO_MODEL=yolov8n.yaml; UDVD_EPOCHS=1
        N_DET_SEEDS=1; SCRATCH_EPOCHS=1
        PRETRAIN_ARGS="--clips-per-domain 1 --frames 12 --epochs 1 --img-size 64 --batch-size 8" ;;
    gpu)
        CLIPS="10 elwha=20"; FRAMES=200; HEIGHT=512; WIDTH=256; FISH=4; TARGET_SCALE=2; DEVICE=0
        SAVED_EPOCHS=20; SAVED_BATCH=16; SAVED_ARCH="--resolution_target 1024 --fine_layers --bottleneck_size 512 --with_skip_connections"
        SAVED_SIZE="--train_resolution 512"
        YOLO_EPOCHS=20; YOLO_IMG=512; YOLO_BATCH=32; YOLO_MODEL=yolov8s.yaml; UDVD_EPOCHS=10
        N_DET_SEEDS=5; SCRATCH_EPOCHS=80; PRETRAIN_ARGS="--epochs 30 --clips-per-domain 6 --frames 200 --img-size 512 --batch-size 32 --model yolov8s.yaml" ;;
esac
N_DET_SEEDS="${DET_SEEDS:-$N_DET_SEEDS}"
DETECTOR_SEEDS=($(seq 0 $((N_DET_SEEDS - 1))))
# the pretraining imitates the benchmark's frames (size, fish) whatever the data: it stands in for COCO weights
PRETRAIN_ARGS="$PRETRAIN_ARGS --height $HEIGHT --width $WIDTH --fish-per-clip $FISH --target-scale $TARGET_SCALE"
[ "$PRETRAIN" = none ] && YOLO_EPOCHS="$SCRATCH_EPOCHS"
if [ -n "$DATA_IN" ] && [ -z "$RUN" ]; then
    RUN="$(basename "$(cd "$DATA_IN" 2>/dev/null && pwd || echo "$DATA_IN")")-$PRESET"
fi
RUN="${RUN:-$PRESET}"
OUT="${OUT:-results/$RUN}"
DATA="$OUT/data"
DOMAINS=(kenai-train kenai-val elwha)
COUNT_DOMAINS=(kenai-val elwha)  # where fish are counted by left/right crossings (nMAE); elwha is the test domain
OWN_SIZE=""
REPORT_INFO=()
if [ -n "$DATA_IN" ]; then
    # your own data: validate it before anything is trained (one line naming the file on a problem), then build
    # the working tree $DATA (CFC22 layout, symlinks into DIR) with the domain roles in $DATA/roles.txt
    "$PY" setup/check_own_data.py --data "$DATA_IN" --out "$DATA" "${OWN_FLAGS[@]}" --saved-args "$SAVED_ARCH $SAVED_SIZE"
    while IFS='=' read -r key value; do
        case "$key" in
            train) DOMAINS[0]="$value" ;;
            val) DOMAINS[1]="$value" ;;
            test) DOMAINS[2]="$value" ;;
            count_domains) read -r -a COUNT_DOMAINS <<< "$value" ;;
            train_resolution) OWN_SIZE="${value:+--train_resolution $value}" ;;
        esac
    done < "$DATA/roles.txt"
    REPORT_INFO=(--dataset-info "$DATA/own_data.json")
elif [ ${#OWN_FLAGS[@]} -gt 0 ]; then
    echo "error: ${OWN_FLAGS[0]} needs --data DIR (see bash demo.sh --help)" >&2
    exit 2
fi
mkdir -p "$OUT/logs" "$OUT/.done"

# ---- step runner (setup/steps.sh): skip what finished, keep every log, time each step into $OUT/timings.json,
#      stop with the step name and its log on failure
source "$ROOT/setup/steps.sh"

echo "SAVeD demo: preset '$PRESET', results in $OUT"
T_START=$SECONDS

# 1. data
[ -n "$DATA_IN" ] || step generate "$PY" setup/make_synthetic_dataset.py --out "$DATA" --seed "$SEED" --clips-per-domain $CLIPS --frames "$FRAMES" \
    --height "$HEIGHT" --width "$WIDTH" --fish-per-clip "$FISH" --target-scale "$TARGET_SCALE" --quiet --overwrite --preview "$OUT/synthetic_preview.png"

# 2. SAVeD training (README: CFC22 training command, smaller budget)
CKPT_DIR="$OUT/checkpoints/saved"
step train_saved "$PY" main.py --base_folder "$DATA/frames/raw_all" --annotations_folder "$DATA/annotations_mot_all" \
    --epochs "$SAVED_EPOCHS" --batch_size "$SAVED_BATCH" $SAVED_ARCH $SAVED_SIZE $OWN_SIZE --target "gap1_and_curr_frame" \
    --results_path "$CKPT_DIR" --model_type "cnn" --optimizer "adamw" --scheduler "plateau" --factor 0.1 --patience 2 \
    --seed "$SEED" --precision "$PRECISION"

# 3. SAVeD inference on every domain (README: denoise.py)
for d in "${DOMAINS[@]}"; do
    step "denoise_saved_$d" "$PY" denoise.py --model "$CKPT_DIR/best_model.ckpt" --input_dir "$DATA/frames/raw/$d" \
        --output_dir "$OUT/frames/saved/$d" --batch_size 8 --precision "$PRECISION"
done

# 4. CFC-style background subtraction, the merge [BS, SAVeD, SAVeD], and the CFC Baseline++ frames
step background_subtract "$PY" setup/background_subtract_frames.py --frames-dir "$DATA/frames/raw" --output-dir "$OUT/frames/raw_bs"
for d in "${DOMAINS[@]}"; do
    step "merge_$d" "$PY" setup/add_denoised_to_raw_2_ch.py --denoised_imgs "$OUT/frames/saved/$d" \
        --raw_imgs "$OUT/frames/raw_bs/$d" --added_imgs "$OUT/frames/saved_2ch/$d"
done
step baseline_pp "$PY" setup/make_baseline_plus_plus.py --frames-dir "$DATA/frames/raw" --output-dir "$OUT/frames/baseline_pp"

KINDS=(raw Baseline++ SAVeD)
declare -A FRAMES_OF=([raw]="$DATA/frames/raw" [Baseline++]="$OUT/frames/baseline_pp" [SAVeD]="$OUT/frames/saved_2ch")

# 4b. optional baseline denoisers, each merged the same way as SAVeD: median / mean / Gaussian (classical filters),
#     UDVD (our PyTorch implementation) and Noise2Void (CAREamics, only when .venv-n2v exists: bash setup/setup_n2v.sh)
merge_kind() {  # kind denoised_root
    for d in "${DOMAINS[@]}"; do
        step "merge_${1}_$d" "$PY" setup/add_denoised_to_raw_2_ch.py --denoised_imgs "$2/$d" \
            --raw_imgs "$OUT/frames/raw_bs/$d" --added_imgs "$OUT/frames/${1}_2ch/$d"
    done
    KINDS+=("$1"); FRAMES_OF[$1]="$OUT/frames/${1}_2ch"
}
if [ "$BASELINES" = 1 ]; then
    for f in median mean gaussian; do
        step "filter_$f" "$PY" setup/classical_filter_frames.py --filter-type "$f" --input-dir "$DATA/frames/raw" \
            --output-dir "$OUT/frames/$f"
        merge_kind "$f" "$OUT/frames/$f"
    done
    step train_udvd "$PY" other_baselines/udvd_train.py --data-path "$DATA/frames/raw_all" --dataset CFC22 \
        --checkpoint-dir "$OUT/checkpoints/udvd" --batch-size 16 --image-size 64 --stride 32 --num-epochs "$UDVD_EPOCHS" \
        --limit-batches 30 --seed 0 --no-progress --precision "$PRECISION"
    for d in "${DOMAINS[@]}"; do
        step "denoise_udvd_$d" "$PY" denoise.py --model "$OUT/checkpoints/udvd/best_model.ckpt" \
            --input_dir "$DATA/frames/raw/$d" --output_dir "$OUT/frames/udvd/$d" --batch_size 8 --precision "$PRECISION"
    done
    merge_kind UDVD "$OUT/frames/udvd"
    N2V_PY="$ROOT/.venv-n2v/bin/python"
    if [ -x "$N2V_PY" ]; then
        step train_n2v "$N2V_PY" other_baselines/n2v_cfc22.py --data_dir "$DATA/frames/raw" --work_dir "$OUT/checkpoints/n2v" \
            --epochs "$SAVED_EPOCHS" --patch_size 64 --num_steps 30 --seed 1 --no_progress
        for d in "${DOMAINS[@]}"; do  # --model DIR: the best checkpoint in the work dir (other_baselines/n2v_common.py)
            step "denoise_n2v_$d" "$N2V_PY" other_baselines/n2v_predict_cfc22.py --model "$OUT/checkpoints/n2v" \
                --input_dir "$DATA/frames/raw/$d" --output_dir "$OUT/frames/n2v/$d" --tile_size 64 --no_progress
        done
        merge_kind N2V "$OUT/frames/n2v"
    else
        echo "[skip] N2V: .venv-n2v not installed (bash setup/setup_n2v.sh, ~2 min and 5.5 GB)"
    fi
fi

# 5. the detector protocol (docs/detection.md): one shared pretrained detector (trained once, cached by content,
#    reused by every row and run), then per input kind and detector seed a fine-tuned detector, the same seeds for
#    every row; detection (kept at conf >= 0.001 for mAP; the tracker applies its own thresholds), tracking and
#    counting on the test domain. A detector's validation mAP50 (kenai-val) is in its results.csv.
GTDIR="$DATA/annotations_mot"
TEST="${DOMAINS[2]}"
if [ "$PRETRAIN" = default ]; then
    step pretrain_detector "$PY" setup/pretrain_detector.py --output "$OUT/detector_pretrained.pt" --quiet $PRETRAIN_ARGS
    INIT_WEIGHTS="$OUT/detector_pretrained.pt"
else
    INIT_WEIGHTS="${YOLO_MODEL%.yaml}.pt"   # not on disk: built from its yaml, random weights
fi
for kind in "${KINDS[@]}"; do
    key="${kind//+/p}"
    FR="${FRAMES_OF[$kind]}"
    YOLO_DIR="$OUT/yolo/$key"
    step "yolo_convert_$key" "$PY" setup/convert_mot_to_yolo.py --mot-dir "$GTDIR" --frames-dir "$FR" --output-dir "$YOLO_DIR" \
        --empty-frame-fraction 0.25 --quiet --train-domains "${DOMAINS[0]}" --val-domains "${DOMAINS[1]}" \
        --test-domains "$TEST"
    for s in "${DETECTOR_SEEDS[@]}"; do
        ks="${key}_seed$s"
        RESULTS_DIR="$OUT/downstream/$key/seed$s"
        step "train_detector_$ks" "$PY" train_detector.py --data "$YOLO_DIR/data.yaml" --epochs "$YOLO_EPOCHS" \
            --batch-size "$YOLO_BATCH" --weights "$INIT_WEIGHTS" --img-size "$YOLO_IMG" \
            --project "$OUT/yolo_train/$key" --name "seed$s" --device "$DEVICE" --seed "$s" --val-last-only
        W="$OUT/yolo_train/$key/seed$s/weights/best.pt"
        step "detect_${ks}_$TEST" "$PY" detect.py --dataset "$TEST" --det_model "$W" --input_dir "$FR" --output_dir "$RESULTS_DIR" \
            --conf 0.001 --quiet
        step "eval_det_${ks}_$TEST" "$PY" eval_detector_tm.py --dataset "$TEST" --input_dir "$FR" --output_dir "$RESULTS_DIR" --gt_dir "$GTDIR"
        step "track_${ks}_$TEST" "$PY" track.py --dataset "$TEST" --frames_dir "$FR" --detections_dir "$RESULTS_DIR"
        step "track_eval_${ks}_$TEST" "$PY" track_eval.py --dataset "$TEST" --frames_dir "$FR" --track_dir "$RESULTS_DIR" --annos_root "$GTDIR"
        if [[ " ${COUNT_DOMAINS[*]} " != *" $TEST "* ]]; then
            echo "[skip] count_${ks}_$TEST: no left/right crossings to count in $TEST (see $DATA/own_data.json)"
            continue
        fi
        step "count_${ks}_$TEST" "$PY" count.py --dataset "$TEST" --frames_dir "$FR" --track_dir "$RESULTS_DIR" \
            --metadata "$DATA/annotations/$TEST.json"
        step "eval_count_${ks}_$TEST" "$PY" eval_count.py --dataset "$TEST" --frames_dir "$FR" --track_dir "$RESULTS_DIR" --gt_dir "$GTDIR"
    done
done

# 6. the report (always rebuilt: it only reads the files above)
if [ "${STEPS_DRY_RUN:-0}" = 1 ]; then echo "+ (report)"; exit 0; fi
"$PY" -m downstream.report --run-dir "$OUT" --test-domain "${DOMAINS[2]}" --train-domain "${DOMAINS[0]}" \
    "${REPORT_INFO[@]}" --kinds "${KINDS[@]}" --detector-seeds "${DETECTOR_SEEDS[@]}" --val-domain "${DOMAINS[1]}" \
    --elapsed "$((SECONDS - T_START))"
