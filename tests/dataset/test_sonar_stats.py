"""dataset/sonar_stats.py on hand-made clips whose statistics are known by construction."""
from __future__ import annotations

import math

import numpy as np
import pytest

from dataset.sonar_stats import (STATS, correlation_length, fan_geometry, format_table, measure, target_mask,
                                 to_markdown)

H, W = 160, 120
APEX = (60.0, 175.0)  # below the image: the fan opens upwards
HALF_DEG = 18.0
R0, R1 = 20.0, 170.0


def fan(h: int = H, w: int = W, apex=APEX, half_deg: float = HALF_DEG, r0: float = R0, r1: float = R1,
        up: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mask, range, angle) of an ideal fan with its apex at `apex` (opening towards −y if `up`)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    dx, dy = xx - apex[0], (apex[1] - yy) if up else (yy - apex[1])
    rng, ang = np.hypot(dx, dy), np.arctan2(dx, dy)
    return (np.abs(ang) <= math.radians(half_deg)) & (rng >= r0) & (rng <= r1) & (dy > 0), rng, ang


def clip(static, noise, mask) -> np.ndarray:
    """uint8 frames = (static + noise) inside the fan, 0 outside."""
    return (np.clip(np.round(static + noise), 0, 255) * mask).astype(np.uint8)


def test_fan_geometry_finds_a_known_apex_below_and_above_the_image():
    rng = np.random.default_rng(0)
    mask, r, _ = fan()
    g = fan_geometry(clip(100.0, rng.normal(0, 5, (6, H, W)), mask))
    assert g.apex[0] == pytest.approx(APEX[0], abs=1.0) and g.apex[1] == pytest.approx(APEX[1], abs=2.5)
    assert math.degrees(g.half_angle) == pytest.approx(HALF_DEG, abs=0.5)
    assert g.r_min == pytest.approx(R0, abs=2.0) and g.r_max == pytest.approx(R1, abs=2.0)
    assert np.abs(g.range_px - r)[mask].max() < 3.0
    # eroded ~2 px: inside the fan, and nothing within 1 px of its outside
    from scipy.ndimage import binary_erosion

    assert (g.mask <= mask).all() and (g.mask <= binary_erosion(mask, iterations=1)).all()
    assert g.mask.sum() > 0.8 * mask.sum()
    # the same fan upside down: apex above the image, the narrow end is still the near range
    flipped = mask[::-1]
    g2 = fan_geometry(clip(100.0, rng.normal(0, 5, (6, H, W)), flipped))
    assert g2.apex[0] == pytest.approx(APEX[0], abs=1.0) and g2.apex[1] == pytest.approx(H - 1 - APEX[1], abs=2.5)
    assert g2.range_px[H - 5, W // 2] > g2.range_px[5, W // 2]
    # angles grow towards +x on both
    assert g.angle[80, 80] > 0 > g.angle[80, 40] and g2.angle[80, 80] > 0 > g2.angle[80, 40]


def test_a_clip_without_a_fan_is_measured_with_a_distant_apex():
    frames = np.random.default_rng(7).integers(60, 120, (6, 24, 32)).astype(np.uint8)
    g = fan_geometry(frames)
    assert g.apex[1] > 1e5 and g.mask.sum() == (24 - 4) * (32 - 4)  # the whole frame, eroded by 2 px
    s = measure(frames)
    assert s["r_min_over_r_max"] == pytest.approx(1.0, abs=1e-3) and s["corr_len_x"] < 1.0


def test_white_noise_has_sub_pixel_correlation_length():
    rng = np.random.default_rng(1)
    mask, _, _ = fan()
    s = measure(clip(100.0, rng.normal(0, 10, (20, H, W)), mask), gt_rows=np.zeros((0, 6)))
    assert list(s) == [k for k, _, _ in STATS]
    assert s["corr_len_x"] < 1.0 and abs(s["acf_x1"]) < 0.05 and abs(s["acf_y1"]) < 0.05
    assert s["sigma_r"] == pytest.approx(10.0 * math.sqrt(1 + 1 / 20), rel=0.1)  # the median carries noise too
    assert s["sigma_over_mean"] == pytest.approx(s["sigma_r"] / 100.0, rel=0.02)
    assert abs(s["skew_r"]) < 0.1
    # a flat scene: the per-pixel means vary only by noise/T, so the static share is 1/T; targets are NaN (empty gt)
    assert s["static_share"] == pytest.approx(1 / 20, abs=0.01)
    assert math.isnan(s["target_speed_px"]) and math.isnan(s["shadow_sigma"])
    # white noise: stripe share ≈ groups / pixels, i.e. 1 / (pixels per column) for columns
    per_col = mask.sum() / mask.any(axis=0).sum()
    assert s["stripe_share_column"] < 3.0 / per_col
    # filters on white noise: a 3×3×3 mean leaves ~1/sqrt(27) of σ, the 5×5 Gaussian (binomial) 70/256
    assert s["left_mean333"] == pytest.approx(1 / math.sqrt(27), rel=0.15)
    assert s["left_gauss5"] == pytest.approx(70 / 256, rel=0.15)


def test_noise_blurred_along_x_has_a_longer_correlation_length():
    from scipy.ndimage import uniform_filter1d

    rng = np.random.default_rng(2)
    mask, _, _ = fan()
    noise = uniform_filter1d(rng.normal(0, 20, (20, H, W)), 4, axis=2)
    s = measure(clip(100.0, noise, mask), gt_rows=np.zeros((0, 6)))
    # a 4-px box: ACF(k) = (4 - k) / 4, so it crosses 1/e at k = 4 (1 - 1/e) ≈ 2.53
    assert s["corr_len_x"] == pytest.approx(4 * (1 - 1 / math.e), abs=0.3)
    assert s["acf_x1"] == pytest.approx(0.75, abs=0.06) and abs(s["acf_y1"]) < 0.06


def test_correlation_length_interpolates_between_lags():
    assert correlation_length(np.array([1.0, 0.5, 0.2])) == pytest.approx(1 + (0.5 - 1 / math.e) / 0.3)
    assert math.isnan(correlation_length(np.array([1.0, 0.9, 0.8])))


def _ramp_scene() -> tuple[np.ndarray, np.ndarray]:
    mask, r, _ = fan()
    return mask, 30.0 + 170.0 * (r - R0) / (R1 - R0)  # local mean from 30 to 200 along the range


def test_additive_noise_has_slope_zero_multiplicative_slope_one():
    rng = np.random.default_rng(3)
    mask, scene = _ramp_scene()
    n = rng.normal(0, 1, (20, H, W))
    add = measure(clip(scene, 6.0 * n, mask), gt_rows=np.zeros((0, 6)))
    mult = measure(clip(scene, 0.15 * scene * n, mask), gt_rows=np.zeros((0, 6)))
    assert abs(add["noise_slope"]) < 0.15
    assert mult["noise_slope"] == pytest.approx(1.0, abs=0.15)
    # the ramp is brighter far away: near / far ≈ 30-ish / 200-ish
    assert add["near_far_ratio"] < 0.3


def test_static_scene_with_small_noise_is_almost_all_static():
    rng = np.random.default_rng(4)
    mask, scene = _ramp_scene()
    s = measure(clip(scene, rng.normal(0, 2, (20, H, W)), mask), gt_rows=np.zeros((0, 6)))
    assert s["static_share"] > 0.97
    assert s["static_detail_gauss5"] < 0.01  # a smooth ramp has no fine detail
    assert s["near_far_ratio"] == pytest.approx(np.mean(scene[mask & (fan()[1] <= R0 + 15)]) /
                                                np.mean(scene[mask & (fan()[1] >= R1 - 15)]), rel=0.1)


def test_known_stripes_are_found_by_columns_and_by_beams():
    rng = np.random.default_rng(5)
    mask, _, ang = fan()
    t = np.arange(20)[:, None, None]
    sign = np.where(t % 2 == 0, 1.0, -1.0)  # alternating in time: the temporal median is the scene itself
    noise = rng.normal(0, 3, (20, H, W))
    cols = np.where(np.arange(W) % 2 == 0, 6.0, -6.0)[None, None, :]
    s = measure(clip(100.0, noise + sign * cols, mask), gt_rows=np.zeros((0, 6)))
    assert s["stripe_share_column"] == pytest.approx(36 / (36 + 9 + 1 / 12), abs=0.08)
    assert s["stripe_share_column"] > 5 * s["stripe_share_beam"]  # a column is not a beam
    beams = np.where(np.floor(np.degrees(ang) / 4) % 2 == 0, 6.0, -6.0)[None]  # 4°-wide beam stripes
    s2 = measure(clip(100.0, noise + sign * beams, mask), gt_rows=np.zeros((0, 6)))
    assert s2["stripe_share_beam"] > 0.6 and s2["stripe_share_beam"] > s2["stripe_share_column"]


def _target_clip(shadow: bool) -> tuple[np.ndarray, np.ndarray]:
    """A bright 10×4 target moving 2 px/frame along x at y≈120; with `shadow`, darker pixels 30–70 px beyond it."""
    rng = np.random.default_rng(6)
    mask, r, ang = fan()
    frames, rows = [], []
    for t in range(20):
        img = np.full((H, W), 100.0)
        x0, y0 = 40 + 2 * t, 118
        img[y0:y0 + 4, x0:x0 + 10] = 200.0
        if shadow:
            box_r, box_a = r[y0:y0 + 4, x0:x0 + 10], ang[y0:y0 + 4, x0:x0 + 10]
            behind = ((r > box_r.max() + 30) & (r < box_r.max() + 70) & (ang >= box_a.min())
                      & (ang <= box_a.max()))
            img[behind] -= 30.0
        frames.append(clip(img, rng.normal(0, 3, (H, W)), mask))
        rows.append([t + 1, 1, x0 + 1, y0 + 1, 10, 4, -1, -1, -1, -1])
    return np.stack(frames), np.asarray(rows, float)


def test_target_with_a_dark_region_behind_it_has_a_negative_shadow():
    frames, rows = _target_clip(shadow=True)
    s = measure(frames, gt_rows=rows)
    assert s["shadow_sigma"] < -1.0
    assert s["target_length_over_width"] == pytest.approx(10 / W)
    assert s["target_speed_px"] == pytest.approx(2.0)
    assert s["target_contrast"] == pytest.approx(2.0, rel=0.05)  # 200 on a median background of 100
    plain = measure(_target_clip(shadow=False)[0], gt_rows=rows)
    assert abs(plain["shadow_sigma"]) < 0.3


def test_target_mask_from_gt_boxes_and_from_detection():
    frames, rows = _target_clip(shadow=False)
    g = fan_geometry(frames)
    from_gt = target_mask(frames, g, rows)
    assert from_gt[0, 118:122, 40:50].all() and from_gt[0, 116, 40] and not from_gt[0, 118, 60]  # dilated box only
    detected = target_mask(frames, g)
    hit = detected[:, 118:122, :].any(axis=(1, 2))
    assert hit.sum() >= 18  # the target is found in (almost) every frame
    assert detected[:, :100].sum() == 0  # the static noisy scene is not a target


def test_tables_have_one_column_per_clip_and_show_nan_as_a_dash():
    a = {k: 1.0 for k, _, _ in STATS}
    b = dict(a, shadow_sigma=float("nan"))
    text = format_table([("clipA", a), ("clipB", b)])
    lines = text.splitlines()
    assert lines[0].split() == ["statistic", "clipA", "clipB"] and len(lines) == 2 + len(STATS)
    shadow = next(line for line in lines if line.startswith("shadow behind target"))
    assert shadow.split()[-1] == "—" and shadow.split()[-2] == "1.00"
    md = to_markdown([("clipA", a)])
    assert md.splitlines()[0] == "| statistic | clipA |" and md.count("\n") == 1 + len(STATS)


def test_compare_to_reference_widens_the_range_by_the_margin():
    from dataset.sonar_stats import compare_to_reference, comparison_markdown

    ref = [{"sigma_r": 8.0, "skew_r": -0.4}, {"sigma_r": 10.0, "skew_r": -0.2}]
    rows = {r[0]: r for r in compare_to_reference(ref, [{"sigma_r": 11.4, "skew_r": -0.47}], margin=0.15)}
    assert rows["sigma_r"][1:5] == (8.0, 10.0, 11.4, 11.4) and rows["sigma_r"][5]   # 10 + 0.15*10 = 11.5
    assert not rows["skew_r"][5]                                                     # -0.4 - 0.06 = -0.46
    assert "| sigma_r: residual std (grey levels) | 8.00 – 10.00 | 11.40 – 11.40 | yes |" in \
        comparison_markdown(list(rows.values()), 0.15)
