"""A physically based imaging-sonar clip: scene, speckle and targets on the beam × range-sample grid, then
scan-converted to the fan, as a DIDSON/ARIS display does.

Why this shape (each choice answers a statistic measured on real DIDSON clips; docs/sonar_realism.md has the
table and the measuring tool, `setup/sonar_stats.py`):
- **Polar grid, then scan conversion.** A multibeam sonar samples ~96 beams over a ~29° field of view and
  ~512 range samples. Independent noise per (beam, sample) cell, interpolated to the Cartesian fan, is
  correlated across beams over a width that grows with range (a beam spans more pixels far away), which is the
  grain of real sonar. Per-frame spatial smoothing cannot remove such grain without blurring the scene.
- **Speckle in the display (log) domain.** Displays show echo level in dB, so the multiplicative speckle of the
  echo becomes nearly additive noise with a negative skew (the log of a Gamma variate). A display floor keeps
  dark water above zero: clipping is a trace, not a mass at 0.
- **A strong static scene with fine detail.** The river bed (rocks, ripples, weed) does not move between frames
  and carries fine structure at the beam's resolution; most of the in-fan variance is this static scene.
- **Range gain** falls ≈3× from near to far; **radial stripes** are per-beam gain changes from frame to frame;
  **flicker** is a slow AR(1) global gain (CV 1–2 %).
- **Targets** are small (≈6 % of the frame width), slow (≈1–2 px/frame at 512×256), 1.7–1.9× brighter than
  the bed around them, made of 1–3 bright segments along an undulating body, and cast an acoustic shadow
  farther along their beams. Stationary debris is bright, part of the bed, and never annotated.

Everything is drawn from the generator passed in, so the same seed gives the same clip.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace

import numpy as np


@dataclass(frozen=True)
class SonarParams:
    """Everything that sets how a generated clip looks. Defaults are chosen inside the ranges measured on the
    real DIDSON clips (docs/sonar_realism.md); `--like CLIP` replaces them with values measured on the user's own
    clips (`calibrate`). Intensities are display grey levels (0–255) at `noise=1`."""

    beams: int = 96                 # beams across the field of view (DIDSON: 96)
    samples: int = 512              # range samples per beam, at most (fewer when the display has fewer rows)
    fov_deg: float = 28.5           # full field of view across beams
    range_start: float = 0.12       # start of the range window as a fraction of its end (0 = the apex is shown)
    floor: float = 8.0              # display floor: the grey level of empty water at far range
    bed_level: float = 18.0         # mean echo of the bed at the far end of the range, above the floor
    near_far_gain: float = 4.0      # range gain near ÷ far
    bed_contrast: float = 0.5       # log-amplitude std of the bed's large-scale texture
    bed_detail: float = 0.18        # log-amplitude std of its fine, beam-scale detail (rocks, ripples)
    noise_sigma: float = 12.2       # std of the display-domain speckle per polar cell (before scan conversion)
    speckle_looks: float = 8.0      # Gamma shape of the echo power: fewer looks = more negative skew
    speckle_rho: float = 0.12       # frame-to-frame correlation of the speckle (water and scatterers move little)
    beam_overlap: float = 0.25      # share of each neighbouring beam's echo a beam also receives (beam pattern)
    noise_mult: float = 0.15        # noise std grows as (local level / mean)^noise_mult (0 = purely additive)
    stripe_sigma: float = 1.0       # per-beam, per-frame gain stripe std, grey levels at the mean level
    stripe_rho: float = 0.6         # frame-to-frame correlation of the stripes
    flicker_cv: float = 0.015       # global gain flicker, coefficient of variation
    flicker_rho: float = 0.9        # AR(1) coefficient of the flicker
    target_length: tuple[float, float] = (0.038, 0.048)  # body length ÷ frame width (its box is ~15 % longer)
    target_speed: tuple[float, float] = (0.004, 0.0075)  # frame widths per frame
    target_contrast: float = 2.1    # echo in the target's box ÷ bed echo there (the display's floor lowers it)
    shadow_depth: float = 0.85      # echo removed right behind a target (0–1), fading over `shadow_length`
    shadow_length: float = 0.18     # shadow extent along the beam, fraction of the range window

    def scaled_targets(self, scale: float) -> "SonarParams":
        """The same sensor with targets `scale`× longer (the CPU demo uses bigger fish than the real lampreys)."""
        lo, hi = self.target_length
        return replace(self, target_length=(lo * scale, hi * scale))

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> "SonarParams":
        known = {f.name for f in fields(cls)}
        return cls(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items() if k in known})


# ---- geometry -------------------------------------------------------------------------------------------------
@dataclass
class Fan:
    """Scan-conversion geometry of an H×W display: where each pixel falls on the polar grid and back."""

    h: int
    w: int
    beams: int
    samples: int
    half: float             # half field of view (radians)
    r0: float               # near and far range, pixels
    r1: float
    apex: tuple[float, float]
    mask: np.ndarray        # H×W in-fan pixels
    map_b: np.ndarray       # H×W float32 beam coordinate of each pixel (for cv2.remap)
    map_s: np.ndarray       # H×W float32 sample coordinate
    cell_x: np.ndarray      # beams×samples Cartesian x of each polar cell
    cell_y: np.ndarray      # beams×samples Cartesian y
    cell_u: np.ndarray      # samples: normalised range 0 (near) .. 1 (far)


def make_fan(h: int, w: int, p: SonarParams) -> Fan:
    """Fit the fan (apex below the image, far range at the top) into H×W and build both mappings."""
    half = math.radians(p.fov_deg) / 2.0
    rs = p.range_start
    # Fan extent in units of the far range: vertical 1 - rs*cos(half), horizontal 2*sin(half).
    scale = min((h - 1.0) / (1.0 - rs * math.cos(half)), (w - 1.0) / (2.0 * math.sin(half)))
    r1, r0 = scale, scale * rs
    ax = (w - 1) / 2.0
    ay = (h - 1) / 2.0 + (r1 + r0 * math.cos(half)) / 2.0   # centre the fan's vertical extent
    samples = int(max(8, min(p.samples, round(r1 - r0) + 1)))
    beams = int(p.beams)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    dx, dy = xx - ax, ay - yy
    r = np.hypot(dx, dy)
    th = np.arctan2(dx, dy)
    mb = (th + half) / (2 * half) * (beams - 1)
    ms = (r - r0) / (r1 - r0) * (samples - 1)
    mask = (np.abs(th) <= half) & (r >= r0) & (r <= r1)
    tb = np.linspace(-half, half, beams)[:, None]
    rr = np.linspace(r0, r1, samples)[None, :]
    return Fan(h=h, w=w, beams=beams, samples=samples, half=half, r0=r0, r1=r1, apex=(ax, ay), mask=mask,
               map_b=mb.astype(np.float32), map_s=ms.astype(np.float32),
               cell_x=(ax + rr * np.sin(tb)).astype(np.float32), cell_y=(ay - rr * np.cos(tb)).astype(np.float32),
               cell_u=np.linspace(0.0, 1.0, samples).astype(np.float32))


def to_display(fan: Fan, polar: np.ndarray) -> np.ndarray:
    """Scan conversion: bilinear interpolation of a beams×samples array onto the H×W fan (0 outside)."""
    import cv2

    img = cv2.remap(np.ascontiguousarray(polar.T, dtype=np.float32), fan.map_b, fan.map_s, cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
    return np.where(fan.mask, img, 0.0).astype(np.float32)


def sample_image(fan: Fan, img: np.ndarray) -> np.ndarray:
    """The inverse: sample an H×W Cartesian image at every polar cell (what the sonar 'sees' of a scene)."""
    import cv2

    out = cv2.remap(img.astype(np.float32), fan.cell_x, fan.cell_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return out  # beams×samples


# ---- scene ----------------------------------------------------------------------------------------------------
def _field(rng: np.random.Generator, h: int, w: int, sigma: float) -> np.ndarray:
    """Zero-mean, unit-std Gaussian random field with correlation length `sigma` pixels."""
    from scipy.ndimage import gaussian_filter

    f = gaussian_filter(rng.standard_normal((h, w)), max(sigma, 0.3), mode="reflect")
    f -= f.mean()
    return f / (f.std() + 1e-8)


def render_bed(rng: np.random.Generator, fan: Fan, p: SonarParams, style: dict) -> np.ndarray:
    """Static bed echo on the polar grid (display grey levels above the floor, before range gain): large-scale
    patches and ridges, fine detail at the beam's resolution, and 1–2 bright pieces of debris."""
    h, w = fan.h, fan.w
    big = _field(rng, h, w, 0.05 * w * style["texture_scale"])
    ridges = np.abs(_field(rng, h, w, 0.03 * w * style["texture_scale"]))
    # short bright fragments (rocks, ripple crests): thin lines where one field crosses zero, kept only where a
    # second field is high, so they break up instead of closing into cells
    ridges = np.exp(-ridges / 0.2) * np.clip(_field(rng, h, w, 0.02 * w * style["texture_scale"]) + 0.3, 0, 1.5)
    mid = _field(rng, h, w, 0.012 * w * style["texture_scale"])
    fine = _field(rng, h, w, max(0.6, 0.004 * w))
    log_amp = (p.bed_contrast * (0.8 * big + 0.45 * mid + 0.35 * (ridges - ridges.mean()) / (ridges.std() + 1e-8))
               + p.bed_detail * fine)
    img = np.exp(log_amp - 0.5 * np.var(log_amp))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    for _ in range(int(rng.integers(1, 3))):  # stationary debris: bright, compact, never annotated
        dx, dy = rng.uniform(0.3, 0.7) * w, rng.uniform(0.25, 0.8) * h
        s = rng.uniform(0.012, 0.02) * w
        img += rng.uniform(1.0, 1.6) * np.exp(-((xx - dx) ** 2 + ((yy - dy) / 0.6) ** 2) / (2 * s * s))
    polar = sample_image(fan, img)
    # The operator sets gain so that the bed's level follows the range gain, not the texture: divide out the
    # texture's own slow trend along the range (a bright patch may still sit anywhere across the beams).
    from scipy.ndimage import gaussian_filter1d

    trend = gaussian_filter1d(polar.mean(axis=0), sigma=max(2.0, fan.samples / 25.0), mode="nearest")
    return polar / np.maximum(trend, 1e-3)[None, :] * float(trend.mean())


def range_gain(fan: Fan, p: SonarParams, style: dict) -> np.ndarray:
    """Echo gain per range sample: `near_far_gain`× at the near end, 1 at the far end, smooth in between."""
    g = p.near_far_gain * style["gain"]
    return (g ** (1.0 - fan.cell_u)).astype(np.float32)


# ---- targets --------------------------------------------------------------------------------------------------
@dataclass
class Target:
    x0: float          # centre x at frame `start` (pixels)
    y0: float
    vx: float          # pixels per frame (sign = direction)
    vy: float
    length: float      # pixels
    start: int
    turn_at: int       # frame where it turns back, or -1
    phase: float
    segments: int      # bright segments along the body (1–3)
    seg_pos: tuple     # their positions along the body (-0.5 tail .. 0.5 head)


def make_targets(rng: np.random.Generator, n: int, frames: int, fan: Fan, p: SonarParams) -> list[Target]:
    """Slow targets placed so that most cross the middle of the frame during the clip (the counting line)."""
    w = fan.w
    out = []
    for i in range(n):
        speed = rng.uniform(*p.target_speed) * w
        direction = 1 if rng.random() < 0.5 else -1
        length = rng.uniform(*p.target_length) * w
        start = int(rng.integers(0, max(1, frames // 3))) if i > 0 else 0
        span = speed * (frames - start)
        # where it crosses the middle: somewhere in its life, so its track crosses the counting line; a quarter
        # of the targets are placed to stay on one side (they are seen, tracked, but not counted).
        if rng.random() < 0.75:
            x_mid_t = rng.uniform(0.15, 0.85) * (frames - start)
            x0 = w / 2.0 - direction * speed * x_mid_t
        else:
            side = rng.choice([-1, 1])
            x0 = w / 2.0 + side * rng.uniform(0.12, 0.4) * w - direction * 0.5 * span * (side == direction)
        # range: inside the fan's range window (away from both ends)
        y0 = fan.apex[1] - (fan.r0 + rng.uniform(0.2, 0.85) * (fan.r1 - fan.r0))
        turn_at = int(rng.integers(start + frames // 4, frames)) if rng.random() < 0.15 else -1
        k = int(rng.integers(1, 4))
        seg = tuple(sorted(rng.uniform(-0.4, 0.4, size=k)))
        out.append(Target(x0=float(x0), y0=float(y0), vx=float(direction * speed), vy=float(rng.uniform(-0.1, 0.1) * speed),
                          length=float(length), start=start, turn_at=turn_at, phase=float(rng.uniform(0, 2 * np.pi)),
                          segments=k, seg_pos=seg))
    return out


def target_position(f: Target, t: int) -> tuple[float, float, float]:
    """Centre (x, y) and heading sign at frame t."""
    dt = t - f.start
    if f.turn_at >= 0 and t > f.turn_at:
        d1 = f.turn_at - f.start
        return f.x0 + f.vx * d1 - f.vx * (t - f.turn_at), f.y0 + f.vy * dt, -float(np.sign(f.vx))
    return f.x0 + f.vx * dt, f.y0 + f.vy * dt, float(np.sign(f.vx))


def target_body(fan: Fan, f: Target, t: int) -> tuple[np.ndarray, tuple[slice, slice]] | None:
    """The body's echo (0..1 peak) on the polar cells near it: (values, (beam slice, sample slice)) or None."""
    cx, cy, heading = target_position(f, t)
    L = f.length
    s = np.linspace(-0.5, 0.5, 15)
    wave = 0.06 * L * np.sin(2 * np.pi * (1.2 * s - 0.15 * t) + f.phase)
    px, py = cx + heading * s * L, cy + wave
    thick = max(0.8, 0.09 * L)
    # polar window around the body
    rr = np.hypot(px - fan.apex[0], fan.apex[1] - py)
    th = np.arctan2(px - fan.apex[0], fan.apex[1] - py)
    pad_r, pad_t = 3 * thick + 2, (3 * thick + 2) / max(rr.min(), 1.0)
    b_lo = int(np.floor((th.min() - pad_t + fan.half) / (2 * fan.half) * (fan.beams - 1)))
    b_hi = int(np.ceil((th.max() + pad_t + fan.half) / (2 * fan.half) * (fan.beams - 1))) + 1
    s_lo = int(np.floor((rr.min() - pad_r - fan.r0) / (fan.r1 - fan.r0) * (fan.samples - 1)))
    s_hi = int(np.ceil((rr.max() + pad_r - fan.r0) / (fan.r1 - fan.r0) * (fan.samples - 1))) + 1
    b_lo, b_hi = max(0, b_lo), min(fan.beams, b_hi)
    s_lo, s_hi = max(0, s_lo), min(fan.samples, s_hi)
    if b_lo >= b_hi or s_lo >= s_hi:
        return None
    X = fan.cell_x[b_lo:b_hi, s_lo:s_hi][..., None]
    Y = fan.cell_y[b_lo:b_hi, s_lo:s_hi][..., None]
    d2 = (X - px) ** 2 + (Y - py) ** 2
    # brightness along the body: a dim body with 1–3 bright segments (swim bladder, head, bends)
    amp = 0.45 + sum(0.55 * np.exp(-((s - c) ** 2) / (2 * 0.07 ** 2)) for c in f.seg_pos)
    sig = thick * (0.6 + 0.5 * np.sqrt(np.clip(0.5 + s, 0, 1)))
    body = np.max(np.minimum(amp, 1.0) * np.exp(-d2 / (2 * sig ** 2)), axis=-1)
    if body.max() < 0.05:
        return None
    return body.astype(np.float32), (slice(b_lo, b_hi), slice(s_lo, s_hi))


def peak_echo(body: np.ndarray, contrast: float) -> float:
    """Peak echo (× the local bed) that makes the target's box `contrast`× brighter than the bed on average,
    whatever its size: the body fills only part of its box (thin, undulating), so its peak is brighter."""
    on = body >= 0.3 * body.max()
    bi, si = np.nonzero(on)
    fill = float(body[bi.min():bi.max() + 1, si.min():si.max() + 1].mean())
    return 1.0 + (contrast - 1.0) / max(fill, 0.05)


def shadow_mask(fan: Fan, body: np.ndarray, where: tuple[slice, slice], p: SonarParams) -> np.ndarray:
    """Echo multiplier (≤1) on the full polar grid: each beam the body covers is darkened just beyond the
    body's far edge, fading out over `shadow_length` of the range window."""
    out = np.ones((fan.beams, fan.samples), np.float32)
    bs, ss = where
    cover = body.max(axis=1)
    n = max(2, int(p.shadow_length * fan.samples))
    fade = np.linspace(1.0, 0.0, n, dtype=np.float32)
    for j, c in enumerate(cover):
        if c < 0.3:
            continue
        far = ss.start + int(np.nonzero(body[j] >= 0.3 * body[j].max())[0].max()) + 1
        seg = slice(far, min(fan.samples, far + n))
        out[bs.start + j, seg] = 1.0 - p.shadow_depth * min(1.0, c) * fade[: seg.stop - seg.start]
    return out


# ---- noise ----------------------------------------------------------------------------------------------------
def log_speckle(rng: np.random.Generator, shape: tuple, looks: float) -> np.ndarray:
    """Standardised display-domain speckle: log of a Gamma(looks) echo power, zero mean, unit std, skewed left."""
    from scipy.special import polygamma, psi

    g = rng.gamma(looks, 1.0 / looks, size=shape)
    x = np.log(g) - (psi(looks) - math.log(looks))
    return (x / math.sqrt(float(polygamma(1, looks)))).astype(np.float32)


class SpeckleStream:
    """Display-domain speckle frame after frame: AR(1) in time (`speckle_rho`) and shared between neighbouring
    beams (`beam_overlap`), renormalised to unit std so `noise_sigma` keeps its meaning."""

    def __init__(self, rng: np.random.Generator, shape: tuple, p: SonarParams):
        self.rng, self.shape, self.p = rng, shape, p
        o = p.beam_overlap
        self.kernel = np.array([o, 1.0, o], np.float32) / math.sqrt(1.0 + 2 * o * o)
        self.state = self._draw()

    def _draw(self) -> np.ndarray:
        from scipy.ndimage import correlate1d

        x = log_speckle(self.rng, self.shape, self.p.speckle_looks)
        return correlate1d(x, self.kernel, axis=0, mode="reflect")

    def next(self) -> np.ndarray:
        out = self.state
        rho = self.p.speckle_rho
        self.state = rho * self.state + math.sqrt(1 - rho * rho) * self._draw()
        return out


def ar1(rng: np.random.Generator, n: int, rho: float, shape: tuple = ()) -> np.ndarray:
    """n steps of a stationary unit-variance AR(1) process (per element of `shape`)."""
    out = np.empty((n, *shape), np.float32)
    x = rng.standard_normal(shape)
    for i in range(n):
        out[i] = x
        x = rho * x + math.sqrt(1 - rho * rho) * rng.standard_normal(shape)
    return out


# ---- one clip -------------------------------------------------------------------------------------------------
def render_clip(rng: np.random.Generator, frames: int, h: int, w: int, noise: float, n_targets: int,
                p: SonarParams, style: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(noisy uint8 T×H×W, clean uint8 T×H×W, MOT rows N×10 with 1-based frames and pixels).

    clean = floor + gain × (bed with shadows + targets), the display without speckle, stripes or flicker;
    noisy = clean × flicker + stripes + speckle, scan-converted, rounded, clipped to 0..255.
    """
    fan = make_fan(h, w, p)
    gain = range_gain(fan, p, style)[None, :] * (p.bed_level * style["level"])
    bed = render_bed(rng, fan, p, style)
    targets = make_targets(rng, n_targets, frames, fan, p)
    flick = 1.0 + p.flicker_cv * ar1(rng, frames, p.flicker_rho)
    stripes = ar1(rng, frames, p.stripe_rho, (fan.beams, 1)) * p.stripe_sigma
    mean_level = float(np.mean(gain * bed)) + p.floor
    speckle = SpeckleStream(rng, (fan.beams, fan.samples), p)
    noisy = np.zeros((frames, h, w), np.uint8)
    clean = np.zeros((frames, h, w), np.uint8)
    rows = []
    for t in range(frames):
        echo = bed.copy()
        bodies = []
        for tid, f in enumerate(targets, 1):
            if t < f.start:
                continue
            got = target_body(fan, f, t)
            if got is None:
                continue
            body, where = got
            echo *= shadow_mask(fan, body, where, p)
            bodies.append((tid, body, where))
        for tid, body, where in bodies:
            echo[where] = np.maximum(echo[where], body * peak_echo(body, p.target_contrast) * bed[where].mean())
        polar_clean = p.floor + gain * echo
        clean_img = to_display(fan, polar_clean)
        clean[t] = np.clip(np.round(clean_img), 0, 255).astype(np.uint8)
        for tid, body, where in bodies:
            only = np.zeros((fan.beams, fan.samples), np.float32)
            only[where] = body
            box = _box(to_display(fan, only))
            if box is not None:
                left, top, bw, bh = box
                rows.append([t + 1, tid, left + 1, top + 1, bw, bh, -1, -1, -1, -1])
        if noise > 0:
            level = p.floor + gain * echo * flick[t]
            sig = p.noise_sigma * noise * np.power(np.maximum(level, 1.0) / mean_level, p.noise_mult)
            polar = level + stripes[t] * noise * (level / mean_level) + sig * speckle.next()
            img = to_display(fan, polar)
        else:
            img = clean_img
        noisy[t] = np.clip(np.round(img), 0, 255).astype(np.uint8)
    return noisy, clean, np.asarray(rows, dtype=np.float64).reshape(-1, 10)


def _box(img: np.ndarray, frac: float = 0.3) -> tuple[float, float, float, float] | None:
    """Tight (left, top, w, h) 0-based box of the pixels above `frac` of the peak, or None when too small."""
    peak = float(img.max())
    if peak < 0.1:
        return None
    ys, xs = np.nonzero(img >= frac * peak)
    if len(xs) < 3:
        return None
    return float(xs.min()), float(ys.min()), float(xs.max() - xs.min() + 1), float(ys.max() - ys.min() + 1)


def load_params(path: str) -> SonarParams:
    """SonarParams from a JSON file: either the parameters themselves or a summary.json holding them under `sonar`."""
    import json

    from common.cli import fail

    try:
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
    except (OSError, ValueError) as e:
        fail(f"cannot read sonar parameters from {path}: {e}")
    d = d.get("sonar", d) if isinstance(d, dict) else d
    if not isinstance(d, dict):
        fail(f"{path}: expected a JSON object of sonar parameters")
    unknown = set(d) - {f.name for f in fields(SonarParams)}
    if unknown:
        fail(f"{path}: unknown sonar parameters {sorted(unknown)}")
    return SonarParams.from_dict(d)
