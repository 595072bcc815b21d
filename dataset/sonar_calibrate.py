"""Calibrate the sonar model to a user's own clips (`make_synthetic_dataset.py --like CLIP...`).

The real clips are measured with `dataset.sonar_stats.measure`; then a short calibration clip is rendered,
measured the same way, and the parameters that drive each statistic are corrected multiplicatively, a few
rounds. Each statistic has one main knob, which keeps the loop simple and stable:

| statistic | knob |
|---|---|
| noise σ_r (grey levels) | `noise_sigma` |
| mean in-fan intensity | `floor`, `bed_level` (together) |
| near ÷ far mean intensity | `near_far_gain` |
| cross-beam correlation length, relative to the frame width | `beams` |
| static share of the in-fan variance | `bed_contrast` |
| log-log slope of σ vs local mean | `noise_mult` |
| skew of the residual | `speckle_looks` |
| fan half-angle, near ÷ far range | `fov_deg`, `range_start` (taken directly) |

Target size, speed and contrast are scene properties, not calibrated (the real clips rarely have enough
targets to measure them well); `--target-scale` changes the size.
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from dataset.sonar_model import SonarParams, render_clip

NEUTRAL_STYLE = {"level": 1.0, "gain": 1.0, "texture_scale": 1.0}
CALIBRATED = ("sigma_r", "mean_intensity", "near_far_ratio", "corr_len_x", "static_share", "noise_slope", "skew_r")


def _finite(x) -> bool:
    return x is not None and isinstance(x, (int, float)) and math.isfinite(x)


def measure_clips(paths: list[str], max_frames: int = 120, progress: bool = True) -> list[tuple[str, dict]]:
    """Statistics of each real clip (at most `max_frames` frames each)."""
    import os

    from common.cli import fail
    from dataset.sonar_stats import load_clip, measure

    out = []
    for p in paths:
        if not os.path.exists(p):
            fail(f"--like: no such clip: {p}")
        frames = load_clip(p, max_frames=max_frames)
        if frames.shape[0] < 5:
            fail(f"--like: {p} has {frames.shape[0]} frames; at least 5 are needed to measure its noise")
        if progress:
            print(f"[like] measuring {p} ({frames.shape[0]} frames, {frames.shape[1]}x{frames.shape[2]})")
        out.append((os.path.basename(os.path.normpath(p)), measure(frames, name=p)))
    return out


def target_statistics(measured: list[tuple[str, dict]]) -> dict[str, float]:
    """Mean of each calibrated statistic over the real clips (NaNs skipped)."""
    keys = CALIBRATED + ("fan_half_angle_deg", "r_min_over_r_max")
    t: dict[str, float] = {}
    for k in keys:
        vals = [float(s[k]) for _, s in measured if _finite(s.get(k))]
        if vals:
            t[k] = float(np.mean(vals))
    return t


def _update(p: SonarParams, t: dict, m: dict) -> SonarParams:
    """One multiplicative correction of each knob toward its target statistic."""
    ch: dict = {}
    if _finite(t.get("sigma_r")) and _finite(m.get("sigma_r")) and m["sigma_r"] > 0:
        ch["noise_sigma"] = float(np.clip(p.noise_sigma * t["sigma_r"] / m["sigma_r"], 0.5, 80))
    if _finite(t.get("mean_intensity")) and _finite(m.get("mean_intensity")) and m["mean_intensity"] > 0:
        k = float(np.clip(t["mean_intensity"] / m["mean_intensity"], 0.5, 2.0))
        ch["floor"], ch["bed_level"] = p.floor * k, p.bed_level * k
    if _finite(t.get("near_far_ratio")) and _finite(m.get("near_far_ratio")) and m["near_far_ratio"] > 0:
        k = (t["near_far_ratio"] / m["near_far_ratio"]) ** 1.5
        ch["near_far_gain"] = float(np.clip(p.near_far_gain * k, 0.2, 30))
    if _finite(t.get("corr_len_x")) and _finite(m.get("corr_len_x")) and t["corr_len_x"] > 0:
        ch["beams"] = int(np.clip(round(p.beams * m["corr_len_x"] / t["corr_len_x"]), 8, 1024))
    if _finite(t.get("static_share")) and _finite(m.get("static_share")):
        q = lambda s: min(max(s, 0.01), 0.995) / (1 - min(max(s, 0.01), 0.995))  # noqa: E731
        ch["bed_contrast"] = float(np.clip(p.bed_contrast * math.sqrt(q(t["static_share"]) / q(m["static_share"])),
                                           0.02, 3.0))
    if _finite(t.get("noise_slope")) and _finite(m.get("noise_slope")):
        ch["noise_mult"] = float(np.clip(p.noise_mult + 0.8 * (t["noise_slope"] - m["noise_slope"]), -0.5, 1.5))
    if _finite(t.get("skew_r")) and _finite(m.get("skew_r")) and t["skew_r"] < -0.02 and m["skew_r"] < -0.02:
        ch["speckle_looks"] = float(np.clip(p.speckle_looks * (m["skew_r"] / t["skew_r"]) ** 2, 0.5, 100))
    return replace(p, **ch)


def calibrate(target: dict[str, float], height: int, width: int, base: SonarParams | None = None,
              rounds: int = 4, frames: int = 40, seed: int = 12345, progress: bool = True
              ) -> tuple[SonarParams, dict[str, float]]:
    """Parameters whose generated clips match `target`; returns them and the statistics they reach."""
    from dataset.sonar_stats import measure

    p = base or SonarParams()
    if _finite(target.get("fan_half_angle_deg")):
        p = replace(p, fov_deg=float(np.clip(2 * target["fan_half_angle_deg"], 5, 130)))
    if _finite(target.get("r_min_over_r_max")):
        p = replace(p, range_start=float(np.clip(target["r_min_over_r_max"], 0.0, 0.8)))
    m: dict[str, float] = {}
    for i in range(rounds + 1):
        noisy, _, _ = render_clip(np.random.default_rng(seed), frames, height, width, 1.0, 0, p, NEUTRAL_STYLE)
        m = measure(noisy)
        if progress:
            got = ", ".join(f"{k} {m.get(k, float('nan')):.3g}/{target[k]:.3g}" for k in CALIBRATED if k in target)
            print(f"[like] round {i}: measured/target {got}")
        if i < rounds:
            p = _update(p, target, m)
    return p, m


def calibrate_like(paths: list[str], base: SonarParams | None = None, progress: bool = True) -> SonarParams:
    """`--like`: measure the real clips and calibrate the model at their own frame size (the first clip's), where
    their statistics were measured. The parameters are physical (beams, noise, gain), so they carry over to
    any generated frame size: a smaller display shows the same sonar with coarser pixels."""
    measured = measure_clips(paths, progress=progress)
    target = target_statistics(measured)
    h, w = int(measured[0][1]["height"]), int(measured[0][1]["width"])
    params, _ = calibrate(target, h, w, base=base, progress=progress)
    return params
