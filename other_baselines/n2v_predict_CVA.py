"""Denoise CVA frames with a trained Noise2Void model into denoise.py's layout (docs/paper_code_behaviour.md#baselines;
every frame, same tree and frame names under --output_dir).

Runs with the N2V environment (`bash setup/setup_n2v.sh`):
    .venv-n2v/bin/python other_baselines/n2v_predict_CVA.py --model checkpoints/n2v_CVA \
        --input_dir /path/to/frames/<domain> --output_dir results/frames/n2v/<domain>
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common.cli import run_cli  # noqa: E402
from other_baselines.n2v_common import predict_cli  # noqa: E402


def main(argv=None) -> int:
    return predict_cli("CVA", __doc__, argv)


if __name__ == "__main__":
    run_cli(main)
