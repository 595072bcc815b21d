#!/usr/bin/env bash
# Create .venv-n2v/ at the repository root with CAREamics (Noise2Void) and the torch it requires.
#   bash setup/setup_n2v.sh        # idempotent: a second run only re-checks the import (seconds)
# Why a second environment: careamics pins torch<2.14 / torchvision<=0.26, the main .venv has torch 2.14.1.
# Cost (measured on this machine, x86_64, Python 3.11): see docs/baselines.md; the script prints it each run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
VENV="$ROOT/.venv-n2v"
REQ="$ROOT/other_baselines/requirements-n2v.txt"
STAMP="$VENV/.requirements.sha256"

start=$(date +%s)
if [ ! -x "$VENV/bin/python" ]; then
    echo "[setup_n2v] creating $VENV"
    "$PY" -m venv "$VENV"
fi
want="$(sha256sum "$REQ" | cut -d' ' -f1)"
have="$(cat "$STAMP" 2>/dev/null || true)"
if [ "$want" != "$have" ]; then
    echo "[setup_n2v] installing $(basename "$REQ") (first run: several minutes, several GB)"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ"
    "$VENV/bin/python" -m pip check >/dev/null || { "$VENV/bin/python" -m pip check; exit 1; }
    echo "$want" > "$STAMP"
else
    echo "[setup_n2v] requirements already installed"
fi
"$VENV/bin/python" - <<'PY'
# Import check: careamics and its torch load offline, and this torch is not the main venv's.
import careamics, torch
print(f"[setup_n2v] ok: careamics {careamics.__version__}, torch {torch.__version__} at {torch.__file__}")
PY
echo "[setup_n2v] disk used by .venv-n2v: $(du -sh "$VENV" | cut -f1); took $(( $(date +%s) - start )) s"
