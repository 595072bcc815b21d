"""Denoising inference: one engine (`inference.engine`) behind the four `denoise*.py` scripts
(docs/paper_code_behaviour.md#inference-scripts), split by job: `inference.denoiser` (model, windows, batches),
`inference.io` (reader and writer threads, output names), `inference.output` (0..255 mapping, preview GIFs).

`inference.cli` holds the flags the scripts share; the engine has no argparse in it, so benchmarks and tests
call it directly.
"""
