# The step runner shared by demo.sh and denoise_runs.sh (sourced, not run; needs $OUT and $PY).
#
#   step NAME COMMAND...
#
# A step whose stamp $OUT/.done/NAME exists is skipped, so re-running a script resumes after its last finished
# step (delete the stamp to redo one). Otherwise COMMAND runs with its output in $OUT/logs/NAME.log; on success
# the stamp is written (whole seconds) and $OUT/timings.json, a JSON object {step name: wall-clock seconds}, gets
# NAME's time (rewritten atomically; steps skipped on a re-run keep the time of the run that did them). The report
# reads the times from that file, not from stamp names. On failure: the step's name, the end of its log, exit 1.
# STEPS_DRY_RUN=1 prints each command (`+ cmd`, shell-quoted) and runs, creates and stamps nothing.

step() {
    local name="$1"; shift
    if [ "${STEPS_DRY_RUN:-0}" = 1 ]; then
        printf '+'; printf ' %q' "$@"; printf '\n'
        return 0
    fi
    if [ -f "$OUT/.done/$name" ]; then
        echo "[done] $name (skipped; delete $OUT/.done/$name to redo)"
        return 0
    fi
    mkdir -p "$OUT/logs" "$OUT/.done"
    local log="$OUT/logs/$name.log" t0="${EPOCHREALTIME:-$SECONDS}" s0=$SECONDS  # EPOCHREALTIME: bash >= 5
    printf '[run ] %-34s ' "$name"
    echo "\$ $*" > "$log"
    if "$@" >> "$log" 2>&1; then
        step_timing "$name" "$t0" "${EPOCHREALTIME:-$SECONDS}"
        echo "$((SECONDS - s0))" > "$OUT/.done/$name"
        echo "$((SECONDS - s0)) s"
    else
        echo "FAILED"
        echo "error: step '$name' failed; log: $log" >&2
        tail -n 15 "$log" >&2
        echo "re-run the same command to resume from this step" >&2
        exit 1
    fi
}

step_timing() {  # NAME START END (two $EPOCHREALTIME readings): timings.json[NAME] = END - START, atomically
    "$PY" - "$OUT/timings.json" "$@" <<'PY'
import json
import os
import sys

from common.atomic import write_json

path, name, start, end = sys.argv[1:]
times = {}
if os.path.exists(path):
    try:
        with open(path, encoding="utf-8") as f:
            times = json.load(f)
    except ValueError:
        print(f"warning: {path} was not valid JSON; starting it afresh", file=sys.stderr)
    if not isinstance(times, dict):
        times = {}
seconds = float(end.replace(",", ".")) - float(start.replace(",", "."))  # the locale may use a decimal comma
times[name] = round(seconds, 2)
write_json(path, times)
PY
}
