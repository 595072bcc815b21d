"""Baseline denoisers the paper compares with (docs/paper_code_behaviour.md#baselines): UDVD (models/udvd.py +
udvd_train.py) and Noise2Void (CAREamics, in its own environment .venv-n2v: n2v_*.py)."""
