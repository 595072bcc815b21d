#!/usr/bin/env bash
# UDVD baseline setup. The paper cloned the UDVD repository here (docs/paper_code_behaviour.md#baselines); this project
# writes the
# network itself (models/udvd.py) and trains it with other_baselines/udvd_train.py in the main .venv, so there is
# nothing to clone or install: this script only checks that the network builds and is blind at pixel p.
#   bash setup/setup_udvd.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="$ROOT/.venv/bin/python"
[ -x "$PY" ] || { echo "error: $PY not found; run bash setup/setup.sh first" >&2; exit 2; }
echo "[setup_udvd] nothing to clone: UDVD lives in models/udvd.py (main .venv)"
PYTHONPATH="$ROOT" "$PY" - <<'PY'
import torch
from models import build_model, input_offsets
torch.set_num_threads(1)
net = build_model({"model_type": "udvd"}).eval()
x = torch.rand(1, 5, 16, 16, requires_grad=True)
net(x)[0, 0, 8, 8].backward()
assert x.grad[0, 2, 8, 8].item() == 0.0, "blind spot broken"
n = sum(p.numel() for p in net.parameters())
print(f"[setup_udvd] ok: UDVD builds ({n:,} parameters), window {input_offsets({'model_type': 'udvd'})}, blind at p")
PY
