"""How sonar-like is a clip? Noise, texture, static scene, range profile, filter response and target statistics.

The synthetic benchmark is only as useful as it is close to real imaging sonar (DIDSON/ARIS), so this module
measures a clip — real or generated — with one fixed set of definitions, and the generator is calibrated until
its numbers match those of real clips. Everything is measured inside the fan-shaped field of view (estimated from
the clip itself) with moving targets masked out, on the residual r = frame − per-pixel temporal median M.
The exact definitions are in docs/sonar_realism.md ("Measuring a clip").

Pure numpy/scipy/cv2: no torch, so the CLI (setup/sonar_stats.py) starts instantly.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from common.cli import fail
from dataset.filters import blur5, mean_3d
from dataset.frames import is_video, list_frames, read_clip_array, read_frame

EDGE_ERODE_PX = 2        # fan mask erosion: the black/fan transition is not sonar texture
DETAIL_ERODE_PX = 3      # extra erosion for the 5×5-Gaussian detail share (the kernel reaches 2 px)
TARGET_PAD_PX = 3        # dilation of target boxes/blobs before they are excluded
TARGET_SIGMAS = 4.0      # threshold of the target detector, in robust σ of the smoothed residual
TARGET_PEAK_SIGMAS = 8.0  # ... and a blob must reach this peak (hysteresis: noise blobs rarely do)
TARGET_MIN_AREA = 15     # smallest detected blob (pixels) that counts as a target
LINK_MAX_PX = 25.0       # largest centroid jump (px/frame) linking two detections into one track
SHADOW_RANGE_PX = (25.0, 75.0)  # where a target's acoustic shadow is looked for, beyond its far edge
MAX_ACF_LAG = 40
ACF_FRAMES = 40          # frames used for the autocorrelation and noise slope (evenly spaced, deterministic)
FILTER_FRAMES = 40       # centre frames used for the filter-residual statistics
SHADOW_MAX_TARGETS = 300  # target-frames used for the shadow statistic (evenly spaced)


# --------------------------------------------------------------------------------------------------- loading
def load_clip(path: str, max_frames: int | None = None) -> np.ndarray:
    """A clip as uint8 T×H×W grayscale: a video file (colour → gray) or a folder of frames (sorted numerically)."""
    if not os.path.exists(path):
        fail(f"clip not found: {path}")
    if os.path.isdir(path) and max_frames:
        paths = list_frames(path)[:max_frames]
        frames = [read_frame(p) for p in paths]
        if any(f.shape != frames[0].shape for f in frames):
            return read_clip_array(path)[:max_frames]  # the shared reader names the mismatching frames
        arr = np.stack(frames)
    elif os.path.isdir(path) or is_video(path) or path.lower().endswith((".tif", ".tiff")):
        arr = read_clip_array(path)
    else:
        fail(f"not a clip (video file or folder of frames): {path}")
    if max_frames:
        arr = arr[:max_frames]
    if arr.ndim != 3 or len(arr) == 0:
        fail(f"clip has no frames: {path}")
    return np.ascontiguousarray(arr, dtype=np.uint8)


# --------------------------------------------------------------------------------------------------- fan
@dataclass
class FanGeometry:
    """Where the sonar's field of view is and the polar coordinates (range, beam angle) of every pixel."""

    mask: np.ndarray        # H×W bool, in-fan pixels, eroded so the fan's edge transition is excluded
    apex: tuple[float, float]  # (x, y) pixels; may lie outside the image
    range_px: np.ndarray    # H×W float32, distance from the apex
    angle: np.ndarray       # H×W float32 radians, 0 on the fan's axis, positive towards +x
    r_min: float            # nearest / farthest in-fan range (px), over the un-eroded fan
    r_max: float
    half_angle: float       # radians


def _disk(radius: int) -> np.ndarray:
    import cv2

    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))


def _erode(mask: np.ndarray, px: int) -> np.ndarray:
    import cv2

    return cv2.erode(mask.astype(np.uint8), _disk(px), borderType=cv2.BORDER_CONSTANT, borderValue=0) > 0


def _dilate(mask: np.ndarray, px: int) -> np.ndarray:
    import cv2

    return cv2.dilate(mask.astype(np.uint8), _disk(px)) > 0


def _fan_region(frames: np.ndarray) -> np.ndarray:
    """Un-eroded field of view: pixels not black on average, holes filled, the largest blob only."""
    import cv2
    from scipy.ndimage import binary_fill_holes

    mean = frames.mean(axis=0, dtype=np.float32)
    thr = max(1.0, 0.02 * float(np.percentile(mean, 99)))
    raw = cv2.morphologyEx((mean > thr).astype(np.uint8), cv2.MORPH_OPEN, _disk(1))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(raw, connectivity=8)
    if n <= 1:
        fail("no field of view found: every pixel is black")
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return binary_fill_holes(labels == biggest)


def _robust_line(y: np.ndarray, x: np.ndarray) -> tuple[float, float] | None:
    """x = a + b·y through the rows of a straight fan side: Theil–Sen start, then least squares on inliers."""
    from scipy.stats import theilslopes

    if len(y) < 8:
        return None
    step = max(1, len(y) // 400)  # Theil–Sen is quadratic in the number of rows
    b, a, _, _ = theilslopes(x[::step], y[::step])
    for tol in (5.0, 3.0, 1.5):  # shrinking tolerance: the start may be a few px off on jagged edges
        inl = np.abs(x - (a + b * y)) <= tol
        if inl.sum() < 8:
            return None
        b, a = np.polyfit(y[inl], x[inl], 1)
    return float(a), float(b)


def fan_geometry(frames: np.ndarray) -> FanGeometry:
    """Estimate the fan: mask from the clip's mean image, apex where the two straight side edges meet.

    Each side edge is fitted as x = a + b·y over the rows where the fan neither touches the image border nor
    bends along its near/far arcs (robust fit, arcs are outliers). The narrow end of the fan is the near range.
    A field of view without slanted sides (e.g. a rectangular image) gets an apex far below the image, so range
    runs along −y and every angle is ~0.
    """
    frames = np.asarray(frames)
    if frames.ndim != 3 or len(frames) == 0:
        raise ValueError(f"expected a non-empty T×H×W clip, got shape {frames.shape}")
    h, w = frames.shape[1:]
    region = _fan_region(frames)
    rows = np.nonzero(region.any(axis=1))[0]
    left = np.argmax(region[rows], axis=1)
    right = w - 1 - np.argmax(region[rows, ::-1], axis=1)
    inner = (left > 0) & (right < w - 1)
    yy = rows[inner].astype(np.float64)
    fit_l = _robust_line(yy, left[inner].astype(np.float64))
    fit_r = _robust_line(yy, right[inner].astype(np.float64))
    width_top = float(np.mean(right[: max(1, len(rows) // 4)] - left[: max(1, len(rows) // 4)]))
    width_bot = float(np.mean(right[-max(1, len(rows) // 4):] - left[-max(1, len(rows) // 4):]))
    apex_below = width_bot <= width_top  # narrow end = near range = apex side
    if fit_l is not None and fit_r is not None and abs(fit_l[1] - fit_r[1]) > 1e-3:
        (al, bl), (ar, br) = fit_l, fit_r
        ay = (ar - al) / (bl - br)
        ax = al + bl * ay
        apex_below = ay > rows.mean()
    else:  # parallel or unfitted sides: a (practically) infinitely distant apex
        bl = br = 0.0
        ax, ay = (w - 1) / 2.0, (h - 1 + 1e6) if apex_below else -1e6
    down = -1.0 if apex_below else 1.0  # direction of increasing range along y
    yv, xv = np.mgrid[0:h, 0:w].astype(np.float64)
    dx, dy = xv - ax, yv - ay
    theta_l, theta_r = math.atan(bl * down), math.atan(br * down)  # beam angles of the two side edges
    axis = (theta_l + theta_r) / 2.0
    rng = np.hypot(dx, dy)
    ang = np.arctan2(dx, down * dy) - axis
    half = abs(theta_r - theta_l) / 2.0
    if half < 1e-3:
        half = float(np.abs(ang[region]).max()) if region.any() else 0.0
    return FanGeometry(mask=_erode(region, EDGE_ERODE_PX), apex=(float(ax), float(ay)),
                       range_px=rng.astype(np.float32), angle=ang.astype(np.float32),
                       r_min=float(rng[region].min()), r_max=float(rng[region].max()), half_angle=float(half))


# --------------------------------------------------------------------------------------------------- targets
@dataclass
class _TargetBox:
    t: int        # 0-based frame
    track: int
    x0: int       # 0-based, x1/y1 exclusive
    y0: int
    x1: int
    y1: int

    @property
    def centre(self) -> tuple[float, float]:
        return (self.x0 + self.x1) / 2.0, (self.y0 + self.y1) / 2.0


def _boxes_from_gt(gt_rows: np.ndarray, shape: tuple[int, int, int]) -> list[_TargetBox]:
    t_n, h, w = shape
    arr = np.asarray(gt_rows, dtype=np.float64)
    if arr.size == 0:
        return []
    boxes = []
    for r in arr.reshape(-1, arr.shape[-1]):
        t = int(r[0]) - 1
        x0, y0 = int(math.floor(r[2] - 1)), int(math.floor(r[3] - 1))
        x1, y1 = int(math.ceil(r[2] - 1 + r[4])), int(math.ceil(r[3] - 1 + r[5]))
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
        if 0 <= t < t_n and x1 > x0 and y1 > y0:
            boxes.append(_TargetBox(t, int(r[1]), x0, y0, x1, y1))
    return boxes


def _detect_blobs(frames: np.ndarray, med: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, list[_TargetBox]]:
    """Moving targets without annotations: blobs of |smoothed residual| > TARGET_SIGMAS robust σ with at least
    TARGET_MIN_AREA pixels and a peak above TARGET_PEAK_SIGMAS robust σ.

    Returns the detection mask (all blobs, bright and dark) and the boxes of the bright blobs linked into tracks
    by nearest centroid (dark blobs are mostly the targets' shadows, not targets).
    """
    import cv2

    t_n = len(frames)
    det = np.zeros(frames.shape, bool)
    sub = np.linspace(0, t_n - 1, min(t_n, 20)).round().astype(int)
    smooth = blur5(frames[sub]) - med[None]
    vals = smooth[:, mask]
    sigma = 1.4826 * float(np.median(np.abs(vals - np.median(vals)))) if vals.size else 0.0
    if sigma <= 0:
        return det, []
    boxes: list[_TargetBox] = []
    prev: list[tuple[float, float, int]] = []
    next_id = 1
    for t in range(t_n):
        s = blur5(frames[t:t + 1])[0] - med
        hit = (np.abs(s) > TARGET_SIGMAS * sigma) & mask
        n, labels, stats, cents = cv2.connectedComponentsWithStats(hit.astype(np.uint8), connectivity=8)
        big = np.nonzero(stats[:, cv2.CC_STAT_AREA] >= TARGET_MIN_AREA)[0]
        big = big[big > 0]
        keep = np.zeros(n, bool)
        for k in big:
            x, y, bw, bh = (int(v) for v in stats[k, :4])
            win = labels[y:y + bh, x:x + bw] == k
            keep[k] = np.abs(s[y:y + bh, x:x + bw][win]).max() > TARGET_PEAK_SIGMAS * sigma
        det[t] = keep[labels]
        cur: list[tuple[float, float, int]] = []
        for k in np.nonzero(keep)[0]:
            if s[labels == k].mean() <= 0:
                continue
            cx, cy = cents[k]
            dists = [math.hypot(cx - px, cy - py) for px, py, _ in prev]
            j = int(np.argmin(dists)) if dists else -1
            if j >= 0 and dists[j] <= LINK_MAX_PX:
                tid = prev.pop(j)[2]
            else:
                tid, next_id = next_id, next_id + 1
            x, y, bw, bh = (int(v) for v in stats[k, :4])
            boxes.append(_TargetBox(t, tid, x, y, x + bw, y + bh))
            cur.append((float(cx), float(cy), tid))
        prev = cur
    return det, boxes


def _targets(frames: np.ndarray, med: np.ndarray, geom: FanGeometry, gt_rows: np.ndarray | None
             ) -> tuple[np.ndarray, list[_TargetBox]]:
    if gt_rows is not None:
        boxes = _boxes_from_gt(gt_rows, frames.shape)
        tm = np.zeros(frames.shape, bool)
        for b in boxes:
            tm[b.t, b.y0:b.y1, b.x0:b.x1] = True
    else:
        tm, boxes = _detect_blobs(frames, med, geom.mask)
    for t in np.nonzero(tm.any(axis=(1, 2)))[0]:
        tm[t] = _dilate(tm[t], TARGET_PAD_PX)
    return tm, boxes


def temporal_median(frames: np.ndarray) -> np.ndarray:
    """Per-pixel median over the whole clip (float32): the static scene each frame is compared with."""
    return np.median(np.asarray(frames), axis=0).astype(np.float32)


def target_mask(frames: np.ndarray, geom: FanGeometry, gt_rows: np.ndarray | None = None) -> np.ndarray:
    """T×H×W bool: pixels of moving targets (MOT gt boxes when given, else detected), dilated by a few pixels."""
    frames = np.asarray(frames)
    return _targets(frames, temporal_median(frames), geom, gt_rows)[0]


# --------------------------------------------------------------------------------------------------- statistics
def _acf_along(r: np.ndarray, valid: np.ndarray, axis: int, max_lag: int, select: np.ndarray | None = None
               ) -> np.ndarray:
    """Normalised autocorrelation of r along `axis` (2 = x, 1 = y) over pairs of valid pixels, lags 0..max_lag.

    `select` (same shape as a frame) restricts the first pixel of each pair (e.g. to a range band).
    """
    mu = float(r[valid].mean())
    rc = np.where(valid, r - mu, 0.0).astype(np.float32)
    out = np.full(max_lag + 1, np.nan)
    n = r.shape[axis]
    for k in range(0, min(max_lag, n - 1) + 1):
        a_sl = [slice(None)] * 3
        b_sl = [slice(None)] * 3
        a_sl[axis] = slice(0, n - k)
        b_sl[axis] = slice(k, n)
        pair = valid[tuple(a_sl)] & valid[tuple(b_sl)]
        if select is not None:
            pair &= select[tuple(a_sl)[1:]][None]
        a = rc[tuple(a_sl)][pair]
        b = rc[tuple(b_sl)][pair]
        den = math.sqrt(float(np.dot(a, a)) * float(np.dot(b, b)))
        if den > 0:
            out[k] = float(np.dot(a, b)) / den
        if k > 0 and out[k] < 1 / math.e:
            break
    return out


def correlation_length(acf: np.ndarray) -> float:
    """First lag where the ACF falls to 1/e, linearly interpolated between integer lags (NaN if it never does)."""
    level = 1 / math.e
    for k in range(1, len(acf)):
        if np.isnan(acf[k]):
            return float("nan")
        if acf[k] < level:
            return float(k - 1 + (acf[k - 1] - level) / (acf[k - 1] - acf[k]))
    return float("nan")


def _between_share(r: np.ndarray, groups: np.ndarray) -> float:
    """Share of the variance of r explained by the means of `groups` (integer labels, same length)."""
    if r.size < 2:
        return float("nan")
    mu = r.mean()
    tot = float(((r - mu) ** 2).sum())
    if tot <= 0:
        return float("nan")
    cnt = np.bincount(groups)
    sm = np.bincount(groups, weights=r)
    ok = cnt > 0
    means = sm[ok] / cnt[ok]
    return float((cnt[ok] * (means - mu) ** 2).sum() / tot)


def _even(n: int, k: int, lo: int = 0) -> np.ndarray:
    """At most k evenly spaced integers in [lo, n) (all of them when there are few): deterministic subsampling."""
    if n - lo <= k:
        return np.arange(lo, n)
    return np.unique(np.linspace(lo, n - 1, k).round().astype(int))


def _noise_slope(frames: np.ndarray, med: np.ndarray, r: np.ndarray, valid: np.ndarray, bins: int = 10) -> float:
    m = np.broadcast_to(med, r.shape)[valid]
    v = frames[valid].astype(np.float32)
    rv = r[valid]
    if m.size < 10 * bins:
        return float("nan")
    edges = np.unique(np.quantile(m, np.linspace(0, 1, bins + 1)))
    idx = np.clip(np.searchsorted(edges, m, side="right") - 1, 0, len(edges) - 2)
    xs, ys = [], []
    for b in range(len(edges) - 1):
        sel = idx == b
        if sel.sum() < 50:
            continue
        mean, sd = float(v[sel].mean()), float(rv[sel].std())
        if mean >= 1 and sd > 0:
            xs.append(math.log(mean))
            ys.append(math.log(sd))
    if len(xs) < 2 or np.ptp(xs) == 0:
        return float("nan")
    return float(np.polyfit(xs, ys, 1)[0])


def _shadow(r: np.ndarray, boxes: list, geom: FanGeometry, sigma: float) -> float:
    """Mean residual 25–75 px beyond each target along its beams, in units of sigma_r (negative = shadow).

    Only the (dilated) target boxes of the same frame are left out of the region, not dark detections: those
    are usually the shadows being measured.
    """
    if not boxes or not sigma > 0:
        return float("nan")
    lo, hi = SHADOW_RANGE_PX
    per_frame: dict[int, list] = {}
    for b in boxes:
        per_frame.setdefault(b.t, []).append(b)
    vals = []
    for i in _even(len(boxes), SHADOW_MAX_TARGETS):
        b = boxes[i]
        rng = geom.range_px[b.y0:b.y1, b.x0:b.x1]
        ang = geom.angle[b.y0:b.y1, b.x0:b.x1]
        far = float(rng.max())
        a0, a1 = float(ang.min()), float(ang.max())
        region = ((geom.range_px >= far + lo) & (geom.range_px <= far + hi) & (geom.angle >= a0)
                  & (geom.angle <= a1) & geom.mask)
        for o in per_frame[b.t]:
            p = TARGET_PAD_PX
            region[max(0, o.y0 - p):o.y1 + p, max(0, o.x0 - p):o.x1 + p] = False
        if region.sum() >= 10:
            vals.append(float(r[b.t][region].mean()) / sigma)
    return float(np.mean(vals)) if vals else float("nan")


def _target_stats(frames: np.ndarray, med: np.ndarray, boxes: list) -> dict[str, float]:
    nan = float("nan")
    if not boxes:
        return {"target_length_over_width": nan, "target_speed_px": nan, "target_contrast": nan}
    w = frames.shape[2]
    lengths = [max(b.x1 - b.x0, b.y1 - b.y0) for b in boxes]
    contrast = []
    for b in boxes:
        m = float(med[b.y0:b.y1, b.x0:b.x1].mean())
        if m > 0:
            contrast.append(float(frames[b.t, b.y0:b.y1, b.x0:b.x1].mean()) / m)
    speeds = []
    tracks: dict[int, list] = {}
    for b in boxes:
        tracks.setdefault(b.track, []).append(b)
    for tr in tracks.values():
        tr.sort(key=lambda b: b.t)
        for p, q in zip(tr[:-1], tr[1:]):
            if q.t > p.t:
                (px, py), (qx, qy) = p.centre, q.centre
                speeds.append(math.hypot(qx - px, qy - py) / (q.t - p.t))
    return {"target_length_over_width": float(np.median(lengths)) / w,
            "target_speed_px": float(np.median(speeds)) if speeds else nan,
            "target_contrast": float(np.median(contrast)) if contrast else nan}


def _filter_residuals(frames: np.ndarray, med: np.ndarray, valid: np.ndarray) -> dict[str, float]:
    """Noise σ a filter F lets through: std of F(frames) − F(M) = F(r) over valid pixels, for a per-frame 5×5
    Gaussian, a 3×3×3 mean and a 5-frame temporal median (M is constant in time, so F(M) = M for the median).

    The static scene's blur loss is deliberately not part of it (that is static_detail_gauss5).
    """
    nan = float("nan")
    t_n = len(frames)
    if t_n < 5:
        return {"gauss5": nan, "mean333": nan, "tmedian5": nan}
    res: dict[str, list] = {"gauss5": [], "mean333": [], "tmedian5": []}
    for t in _even(t_n - 2, FILTER_FRAMES, lo=2):
        ok = valid[t - 2:t + 3].all(axis=0)
        if not ok.any():
            continue
        r5 = frames[t - 2:t + 3].astype(np.float32) - med[None]
        res["gauss5"].append(blur5(r5[2:3])[0][ok])
        res["mean333"].append(mean_3d(r5[1:4])[1][ok])
        res["tmedian5"].append(np.median(r5, axis=0)[ok])
    return {k: float(np.concatenate(v).std()) if v else nan for k, v in res.items()}


def measure(frames: np.ndarray, gt_rows: np.ndarray | None = None, name: str = "") -> dict[str, float]:
    """Every statistic of STATS for one clip (NaN where it cannot be measured); see docs/sonar_realism.md."""
    import cv2
    from scipy.stats import skew

    frames = np.asarray(frames)
    if frames.ndim != 3 or len(frames) == 0:
        fail(f"{name or 'clip'}: expected a non-empty T×H×W clip, got shape {frames.shape}")
    frames = frames.astype(np.uint8, copy=False)
    t_n, h, w = frames.shape
    nan = float("nan")
    geom = fan_geometry(frames)
    med = temporal_median(frames)
    tmask, boxes = _targets(frames, med, geom, gt_rows)
    valid = geom.mask[None] & ~tmask
    r = frames.astype(np.float32) - med[None]
    rv = r[valid]
    out: dict[str, float] = {"frames": float(t_n), "height": float(h), "width": float(w)}
    if rv.size < 100:
        fail(f"{name or 'clip'}: fewer than 100 in-fan pixels outside targets; nothing to measure")
    values = frames[valid].astype(np.float64)
    sigma = float(rv.std())
    out["mean_intensity"] = float(values.mean())
    out["fan_half_angle_deg"] = math.degrees(geom.half_angle)
    out["r_min_over_r_max"] = geom.r_min / geom.r_max if geom.r_max > 0 else nan
    out["sigma_r"] = sigma
    out["sigma_over_mean"] = sigma / out["mean_intensity"] if out["mean_intensity"] > 0 else nan
    out["skew_r"] = float(skew(rv)) if sigma > 0 else nan
    sub = _even(t_n, ACF_FRAMES)
    r_s, v_s = r[sub], valid[sub]
    out["noise_slope"] = _noise_slope(frames[sub], med, r_s, v_s)
    acf_x = _acf_along(r_s, v_s, 2, MAX_ACF_LAG) if sigma > 0 else np.full(2, nan)
    acf_y = _acf_along(r_s, v_s, 1, 1) if sigma > 0 else np.full(2, nan)
    out["corr_len_x"] = correlation_length(acf_x)
    span = geom.r_max - geom.r_min
    rel = (geom.range_px - geom.r_min) / span if span > 0 else np.zeros((h, w), np.float32)
    for key, band in (("corr_len_x_near", rel < 1 / 3), ("corr_len_x_far", rel >= 2 / 3)):
        out[key] = correlation_length(_acf_along(r_s, v_s, 2, MAX_ACF_LAG, select=band)) \
            if sigma > 0 and (v_s & band[None]).any() else nan
    out["acf_x1"] = float(acf_x[1]) if len(acf_x) > 1 else nan
    out["acf_y1"] = float(acf_y[1]) if len(acf_y) > 1 else nan

    # Static scene: per-pixel mean over the valid samples of each pixel.
    cnt = valid.sum(axis=0)
    total = np.where(valid, frames, 0).sum(axis=0, dtype=np.float64)
    plain = frames.mean(axis=0, dtype=np.float64)
    static = np.where(cnt > 0, total / np.maximum(cnt, 1), plain)
    seen = geom.mask & (cnt > 0)
    var_all = float(values.var())
    # weighted by each pixel's valid samples, so that (law of total variance) the share stays within [0, 1]
    wts = cnt[seen].astype(np.float64)
    between = float(np.sum(wts * (static[seen] - values.mean()) ** 2) / wts.sum()) if wts.sum() > 0 else nan
    out["static_share"] = between / var_all if var_all > 0 else nan
    inner = _erode(geom.mask, DETAIL_ERODE_PX)
    s32 = static.astype(np.float32)
    detail = s32 - cv2.GaussianBlur(s32, (5, 5), 0)
    var_s = float(s32[inner].var()) if inner.any() else 0.0
    out["static_detail_gauss5"] = float(detail[inner].var()) / var_s if var_s > 0 else nan
    near = geom.mask & (rel <= 0.1)
    far = geom.mask & (rel >= 0.9)
    far_mean = float(static[far].mean()) if far.any() else nan
    out["near_far_ratio"] = float(static[near].mean()) / far_mean if near.any() and far_mean > 0 else nan

    left = _filter_residuals(frames, med, valid)
    out["gauss5_over_mean333"] = left["gauss5"] / left["mean333"] if left["mean333"] > 0 else nan
    out["tmedian5_over_gauss5"] = left["tmedian5"] / left["gauss5"] if left["gauss5"] > 0 else nan
    for k in ("gauss5", "mean333", "tmedian5"):
        out[f"left_{k}"] = left[k] / sigma if sigma > 0 else nan

    out.update(_target_stats(frames, med, boxes))
    out["shadow_sigma"] = _shadow(r, boxes, geom, sigma)

    n_beams = max(1, int(round(2 * geom.half_angle * (geom.r_min + geom.r_max) / 2)))
    beam = np.clip(((geom.angle + geom.half_angle) / (2 * geom.half_angle + 1e-12) * n_beams).astype(np.int64),
                   0, n_beams - 1)
    tt = np.broadcast_to(np.arange(t_n)[:, None, None], r.shape)[valid]
    out["stripe_share_beam"] = _between_share(rv.astype(np.float64), tt * n_beams + np.broadcast_to(beam, r.shape)[valid])
    cols = np.broadcast_to(np.arange(w)[None, None, :], r.shape)[valid]
    out["stripe_share_column"] = _between_share(rv.astype(np.float64), tt * w + cols)
    return {k: out.get(k, nan) for k, _label, _fmt in STATS}


# --------------------------------------------------------------------------------------------------- tables
# (key, human label, number format): the order of the table rows and of measure()'s keys.
STATS: list[tuple[str, str, str]] = [
    ("frames", "frames", "{:.0f}"),
    ("height", "height (px)", "{:.0f}"),
    ("width", "width (px)", "{:.0f}"),
    ("fan_half_angle_deg", "fan half-angle (deg)", "{:.1f}"),
    ("r_min_over_r_max", "r_min / r_max", "{:.3f}"),
    ("mean_intensity", "mean in-fan intensity", "{:.1f}"),
    ("sigma_r", "sigma_r: residual std (grey levels)", "{:.2f}"),
    ("sigma_over_mean", "sigma_r / mean", "{:.3f}"),
    ("noise_slope", "noise slope (0 add., 1 mult.)", "{:.2f}"),
    ("skew_r", "residual skewness", "{:.2f}"),
    ("corr_len_x", "corr. length x (px)", "{:.2f}"),
    ("corr_len_x_near", "corr. length x, near third (px)", "{:.2f}"),
    ("corr_len_x_far", "corr. length x, far third (px)", "{:.2f}"),
    ("acf_x1", "ACF x-lag 1", "{:.3f}"),
    ("acf_y1", "ACF y-lag 1", "{:.3f}"),
    ("static_share", "static share of variance", "{:.3f}"),
    ("static_detail_gauss5", "static detail removed by 5x5 Gauss", "{:.3f}"),
    ("near_far_ratio", "near / far mean intensity", "{:.2f}"),
    ("gauss5_over_mean333", "left: Gauss5 / mean3x3x3", "{:.2f}"),
    ("tmedian5_over_gauss5", "left: tmedian5 / Gauss5", "{:.2f}"),
    ("left_gauss5", "left by Gauss5 / sigma_r", "{:.3f}"),
    ("left_mean333", "left by mean3x3x3 / sigma_r", "{:.3f}"),
    ("left_tmedian5", "left by tmedian5 / sigma_r", "{:.3f}"),
    ("target_length_over_width", "target length / frame width", "{:.3f}"),
    ("target_speed_px", "target speed (px/frame)", "{:.2f}"),
    ("target_contrast", "target contrast (box / M)", "{:.2f}"),
    ("shadow_sigma", "shadow behind target (sigma_r)", "{:.2f}"),
    ("stripe_share_beam", "stripe share, beams", "{:.4f}"),
    ("stripe_share_column", "stripe share, columns", "{:.4f}"),
]


def _cells(results: list[tuple[str, dict]]) -> tuple[list[str], list[list[str]]]:
    names = [n for n, _ in results]
    rows = []
    for key, label, fmt in STATS:
        row = [label]
        for _, stats in results:
            v = stats.get(key, float("nan"))
            row.append("—" if v is None or (isinstance(v, float) and math.isnan(v)) else fmt.format(v))
        rows.append(row)
    return names, rows


def format_table(results: list[tuple[str, dict]]) -> str:
    """Side-by-side text table: one column per clip, one row per statistic."""
    names, rows = _cells(results)
    header = ["statistic"] + names
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    lines = ["  ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(r))
             for r in [header] + rows]
    lines.insert(1, "  ".join("-" * wd for wd in widths))
    return "\n".join(lines)


def to_markdown(results: list[tuple[str, dict]]) -> str:
    """The same table as Markdown, for docs."""
    names, rows = _cells(results)
    lines = ["| statistic | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


# Statistics that describe the sensor and the scene (compared against reference clips); sizes are not.
COMPARED = [k for k, _, _ in STATS if k not in ("frames", "height", "width")]


def compare_to_reference(reference: list[dict], others: list[dict], margin: float = 0.15
                         ) -> list[tuple[str, float, float, float, float, bool]]:
    """Per statistic: (key, reference min, max, others' min, max, inside) where `inside` says every other clip
    lies in the reference range widened by `margin` × its largest magnitude at each end."""
    out = []
    for key in COMPARED:
        ref = [float(s[key]) for s in reference if s.get(key) is not None and math.isfinite(float(s[key]))]
        oth = [float(s[key]) for s in others if s.get(key) is not None and math.isfinite(float(s[key]))]
        if not ref or not oth:
            continue
        lo, hi = min(ref), max(ref)
        pad = margin * max(abs(lo), abs(hi))
        out.append((key, lo, hi, min(oth), max(oth), lo - pad <= min(oth) and max(oth) <= hi + pad))
    return out


def comparison_markdown(rows: list[tuple[str, float, float, float, float, bool]], margin: float) -> str:
    """The reference-vs-generated table as Markdown."""
    labels = {k: (label, fmt) for k, label, fmt in STATS}
    lines = [f"| statistic | reference | generated | inside (±{margin:.0%}) |", "|---|---:|---:|:---:|"]
    for key, lo, hi, olo, ohi, ok in rows:
        label, fmt = labels[key]
        lines.append(f"| {label} | {fmt.format(lo)} – {fmt.format(hi)} | {fmt.format(olo)} – {fmt.format(ohi)} | "
                     f"{'yes' if ok else 'no'} |")
    return "\n".join(lines)
