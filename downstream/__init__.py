"""Detection, tracking, counting, metrics and the report: everything after denoising."""
