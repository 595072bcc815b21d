"""Baseline denoisers the paper compares with (reference §8): UDVD (models/udvd.py + udvd_train.py) and
Noise2Void (CAREamics, in its own environment .venv-n2v: n2v_*.py)."""
