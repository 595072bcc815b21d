#!/usr/bin/env python
"""classical_filter_frames.py with --dataset POCUS fixed (the paper's per-dataset script name;
docs/paper_code_behaviour.md#setup-scripts).

    python setup/classical_filter_frames_POCUS.py --frames-dir IN --output-dir OUT --filter-type median
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from classical_filter_frames import main, run_cli  # noqa: E402

if __name__ == "__main__":
    run_cli(lambda: main(dataset="POCUS"))
