"""Denoising inference: one engine (`inference.engine`) behind the four `denoise*.py` scripts (reference §5).

`inference.cli` holds the flags the scripts share; the engine has no argparse in it, so benchmarks and tests
call it directly.
"""
