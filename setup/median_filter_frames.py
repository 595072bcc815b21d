#!/usr/bin/env python
"""Temporal median filter (size 3 along time, reflect) + the paper's min-max → 3-channel uint8 frames
(the paper's median_filter_frames.py, docs/paper_code_behaviour.md#setup-scripts); same as classical_filter_frames.py
--filter-type median.

    python setup/median_filter_frames.py --frames-dir Data/CFC22/frames/raw --output-dir Data/CFC22/frames/raw_median
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from classical_filter_frames import main, run_cli  # noqa: E402

if __name__ == "__main__":
    run_cli(lambda: main(filter_type="median"))
