"""The physically based sonar model: geometry of the fan, the log-domain speckle, and the statistics that make
the benchmark behave like real DIDSON video (grain across beams, a static scene, range gain, slow small
targets with shadows), measured with the same tool users run on their clips."""
from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest

from dataset.sonar_model import SonarParams, load_params, log_speckle, make_fan, render_clip, to_display
from dataset.sonar_stats import measure

STYLE = {"level": 1.0, "gain": 1.0, "texture_scale": 1.0}


@pytest.fixture(scope="module")
def clip():
    """One clip at the size the statistics are specified for (512x256), with targets: (noisy, clean, rows)."""
    return render_clip(np.random.default_rng(7), 40, 512, 256, 1.0, 3, SonarParams(), STYLE)


@pytest.fixture(scope="module")
def stats(clip):
    noisy, _, rows = clip
    return measure(noisy, gt_rows=rows)


def test_fan_fits_the_frame_and_spans_the_field_of_view():
    p = SonarParams()
    fan = make_fan(200, 100, p)
    ys, xs = np.nonzero(fan.mask)
    assert xs.min() >= 0 and xs.max() <= 99 and ys.min() >= 0 and ys.max() <= 199
    assert xs.max() - xs.min() >= 90 or ys.max() - ys.min() >= 190  # fills one dimension
    # apex below the image, far range at the top: the fan is narrow at the bottom and wide at the top
    assert fan.mask[ys.max()].sum() < fan.mask[ys.min() + 5].sum()
    assert math.degrees(2 * fan.half) == pytest.approx(p.fov_deg)
    assert fan.r0 == pytest.approx(p.range_start * fan.r1)


def test_scan_conversion_keeps_a_constant_and_is_zero_outside_the_fan():
    fan = make_fan(64, 32, SonarParams())
    img = to_display(fan, np.full((fan.beams, fan.samples), 7.0, np.float32))
    inner = fan.mask & np.roll(fan.mask, 1, 1) & np.roll(fan.mask, -1, 1) & np.roll(fan.mask, 1, 0) & np.roll(fan.mask, -1, 0)
    assert np.allclose(img[inner], 7.0, atol=1e-4)
    assert np.all(img[~fan.mask] == 0)


def test_log_speckle_is_standardised_and_skewed_left():
    x = log_speckle(np.random.default_rng(0), (200_000,), looks=2.0).astype(np.float64)
    assert abs(x.mean()) < 0.01 and abs(x.std() - 1) < 0.01
    skew = np.mean((x - x.mean()) ** 3) / x.std() ** 3
    assert -1.0 < skew < -0.5  # the log of a Gamma(2) variate: about -0.78


def test_same_generator_same_clip_and_noise_zero_is_clean():
    a = render_clip(np.random.default_rng(3), 8, 96, 48, 1.0, 2, SonarParams(), STYLE)
    b = render_clip(np.random.default_rng(3), 8, 96, 48, 1.0, 2, SonarParams(), STYLE)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    noisy0, clean0, _ = render_clip(np.random.default_rng(3), 8, 96, 48, 0.0, 2, SonarParams(), STYLE)
    assert np.array_equal(noisy0, clean0)


def test_noise_is_grainy_across_beams(stats):
    assert stats["corr_len_x"] > 1.5       # white noise: < 0.5 px
    assert stats["acf_x1"] > 0.6


def test_scene_is_mostly_static(stats):
    assert stats["static_share"] > 0.7


def test_noise_is_nearly_additive_and_skewed_left(stats):
    assert stats["noise_slope"] < 0.5
    assert stats["skew_r"] < 0


def test_echo_falls_with_range(stats):
    assert stats["near_far_ratio"] > 1.8


def test_noise_level_is_that_of_the_real_clips_and_scales_with_the_knob(clip, stats):
    assert 6.0 < stats["sigma_r"] < 12.0
    noisy2, _, rows2 = render_clip(np.random.default_rng(7), 40, 512, 256, 2.0, 3, SonarParams(), STYLE)
    assert measure(noisy2, gt_rows=rows2)["sigma_r"] > 1.6 * stats["sigma_r"]


def test_targets_are_brighter_than_the_bed_and_cast_a_shadow(stats):
    assert 1.3 < stats["target_contrast"] < 2.5
    assert stats["shadow_sigma"] < -0.2


def test_targets_are_slow_and_small(clip):
    _, _, rows = clip
    assert len(rows) > 0
    lengths = np.maximum(rows[:, 4], rows[:, 5]) / 256.0
    assert 0.03 < np.median(lengths) < 0.1
    for tid in np.unique(rows[:, 1]):
        tr = rows[rows[:, 1] == tid]
        if len(tr) > 5:
            cx = tr[:, 2] + tr[:, 4] / 2
            speed = np.median(np.abs(np.diff(cx)) / np.maximum(1, np.diff(tr[:, 0])))
            assert speed < 3.0  # px/frame at 256 px wide: real fish move 0.2-0.8 % of the width per frame


def test_target_scale_makes_longer_fish():
    p = SonarParams()
    assert p.scaled_targets(2).target_length == pytest.approx(tuple(2 * v for v in p.target_length))


def test_params_round_trip_through_json(tmp_path):
    p = replace(SonarParams(), beams=64, noise_sigma=5.5)
    path = tmp_path / "summary.json"
    path.write_text(json.dumps({"layout": "cfc22", "sonar": p.to_dict()}))
    assert load_params(str(path)) == p
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"beamz": 3}))
    from common.cli import UserError

    with pytest.raises(UserError, match="unknown sonar parameters"):
        load_params(str(bad))


def test_like_recovers_the_statistics_of_another_sonar(tmp_path, run):
    """--like on a clip from a different sonar (fewer beams, less noise, other fan) calibrates the generator to it."""
    import os

    from dataset.frames import write_frame
    from dataset.sonar_calibrate import calibrate_like

    other = replace(SonarParams(), beams=48, noise_sigma=6.0, fov_deg=40.0, range_start=0.3, near_far_gain=3.0)
    noisy, _, _ = render_clip(np.random.default_rng(1), 30, 160, 120, 1.0, 0, other, STYLE)
    clip_dir = tmp_path / "their_clip"
    os.makedirs(clip_dir)
    for i, img in enumerate(noisy):
        write_frame(str(clip_dir / f"{i}.png"), img)
    want = measure(noisy)

    params = calibrate_like([str(clip_dir)], progress=False)
    assert params.fov_deg == pytest.approx(40.0, abs=3.0) and params.range_start == pytest.approx(0.3, abs=0.06)
    got = measure(render_clip(np.random.default_rng(2), 30, 160, 120, 1.0, 0, params, STYLE)[0])
    for key, tol in (("sigma_r", 0.15), ("corr_len_x", 0.2), ("near_far_ratio", 0.2), ("static_share", 0.1)):
        assert got[key] == pytest.approx(want[key], rel=tol), key

    out = tmp_path / "syn"
    r = run("setup/make_synthetic_dataset.py", "--out", str(out), "--like", str(clip_dir), "--clips-per-domain", "1",
            "--frames", "6", "--height", "64", "--width", "48", "--quiet")
    assert r.returncode == 0, r.stderr
    sonar = json.loads((out / "summary.json").read_text())["sonar"]
    assert sonar["fov_deg"] == pytest.approx(40.0, abs=3.0) and sonar["noise_sigma"] < SonarParams().noise_sigma
    missing = run("setup/make_synthetic_dataset.py", "--out", str(tmp_path / "x"), "--like", str(tmp_path / "nope.avi"))
    assert missing.returncode == 2 and "no such clip" in missing.stderr and "Traceback" not in missing.stderr
