#!/usr/bin/env bash
# Create .venv/ at the repository root, install the pinned stack, and make every library run offline.
#   bash setup/setup.sh          # idempotent: a second run takes seconds
# Nothing outside the repository is written except pip's cache.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
VENV="$ROOT/.venv"
STAMP="$VENV/.requirements.sha256"

if [ ! -x "$VENV/bin/python" ]; then
    echo "[setup] creating $VENV"
    "$PY" -m venv "$VENV"
fi
want="$(sha256sum requirements.txt | cut -d' ' -f1)"
have="$(cat "$STAMP" 2>/dev/null || true)"
if [ "$want" != "$have" ]; then
    echo "[setup] installing requirements.txt (first run: ~2 min, ~6 GB)"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt
    echo "$want" > "$STAMP"
else
    echo "[setup] requirements already installed"
fi

# Offline configuration for ultralytics: its settings dir lives in the repo, with a local font so that
# nothing is fetched when it draws labels (it otherwise downloads Arial.ttf).
YOLO_DIR="$ROOT/.yolo/Ultralytics"
mkdir -p "$YOLO_DIR"
if [ ! -f "$YOLO_DIR/Arial.ttf" ]; then
    font="$("$VENV/bin/python" -c 'import matplotlib, os; print(os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data/fonts/ttf/DejaVuSans.ttf"))')"
    cp "$font" "$YOLO_DIR/Arial.ttf"
    cp "$font" "$YOLO_DIR/Arial.Unicode.ttf"
fi
"$VENV/bin/python" - <<'PY'
# Import-time check that the stack is usable offline (also warms .pyc caches).
import common.offline  # noqa: F401  (sets the offline environment variables)
import torch, cv2, numpy, PIL, scipy  # noqa: F401
print(f"[setup] ok: torch {torch.__version__}, numpy {numpy.__version__}, opencv {cv2.__version__}")
PY
