"""Train Noise2Void (CAREamics) on POCUS frames, as the paper did (docs/paper_code_behaviour.md#baselines; default 120
epochs).

Runs with the N2V environment (create it once with `bash setup/setup_n2v.sh`):
    .venv-n2v/bin/python other_baselines/n2v_POCUS.py --data_dir /path/to/frames --work_dir checkpoints/n2v_POCUS
then denoise with other_baselines/n2v_predict_POCUS.py --model <the printed checkpoint>, or --model <the --work_dir>
(its checkpoint with the lowest validation loss).
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common.cli import run_cli  # noqa: E402
from other_baselines.n2v_common import train_cli  # noqa: E402


def main(argv=None) -> int:
    return train_cli("POCUS", __doc__, argv)


if __name__ == "__main__":
    run_cli(main)
