"""Synthetic low-SNR sonar benchmark with known clean frames, boxes, track ids and counts.

Real sonar clips carry no clean ground truth, so every claim of the project (denoising helps detection,
tracking, counting) is measured here. Frames imitate ARIS/DIDSON imaging sonar: a fan-shaped field of view
(apex at the bottom, black outside), a textured river bed that drifts and flickers, range-dependent gain,
multiplicative speckle, additive noise and vertical beam stripes. Fish are elongated bright bodies with an
undulating tail that swim left or right at varied speeds; some turn back, some enter or leave at the edges,
they overlap; stationary debris is bright but never annotated (and must not be counted).

The clean frame is the scene before the sensor (texture, fish, debris, gain, fan); the noisy frame adds
speckle, stripes and additive noise. At the default noise a fish is hard to see in one frame but visible in
motion. Everything is a function of the seed: the same arguments give the same bytes.
"""
from __future__ import annotations

import json
import os
import shutil
import zlib
from dataclasses import dataclass

import numpy as np

from common.atomic import write_json
from common.cli import fail

LAYOUTS = ("cfc22", "cva", "pocus", "fluo", "custom")
DEFAULT_DOMAINS = {
    "cfc22": ("kenai-train", "kenai-val", "elwha"),
    "cva": ("benign", "malignant"),
    "pocus": ("convex", "linear"),
    "fluo": ("train", "test"),
    "custom": ("domain_1", "domain_2"),
}
# Written by `generate` under the root, per layout; `--overwrite` removes only these.
OWNED = {
    "cfc22": ("frames", "annotations_mot", "annotations_mot_all", "annotations", "clean", "counts", "summary.json"),
    "cva": ("rawframes", "clean", "annotations_mot", "counts", "summary.json"),
    "pocus": ("pocus_videos", "pocus_videos_frames", "clean", "annotations_mot", "counts", "summary.json"),
    "fluo": ("train", "test", "clean", "annotations_mot", "counts", "summary.json"),
    "custom": ("clean", "annotations_mot", "counts", "summary.json"),
}


@dataclass
class Fish:
    x0: float          # centre x at its first frame (pixels)
    y0: float          # centre y (range axis)
    vx: float          # pixels per frame (sign = direction)
    vy: float
    length: float
    brightness: float
    start: int         # first frame it exists
    turn_at: int       # frame where it turns back (or -1)
    phase: float


def _domain_style(domain: str) -> dict:
    """Per-domain acquisition differences (gain, texture, noise), so the benchmark has a domain shift."""
    r = np.random.default_rng(zlib.crc32(domain.encode()))
    return {
        "bed_level": float(r.uniform(0.10, 0.16)),
        "texture_scale": float(r.uniform(1.5, 3.0)),
        "gain_near": float(r.uniform(0.4, 0.7)),
        "noise_mult": float(r.uniform(0.9, 1.15)),
        "drift": float(r.uniform(0.1, 0.35)),
        "upstream": "left" if r.random() < 0.5 else "right",
    }


def _smooth_field(rng: np.random.Generator, h: int, w: int, scale: float) -> np.ndarray:
    from scipy.ndimage import gaussian_filter

    f = gaussian_filter(rng.standard_normal((h, w)), scale, mode="wrap")
    f -= f.mean()
    return f / (f.std() + 1e-8)


def _fan_geometry(h: int, w: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fan mask, normalised range (0 at apex, 1 at the far edge) and beam angle per pixel."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ax, ay = (w - 1) / 2.0, h + 0.02 * h  # apex just below the image
    dx, dy = xx - ax, ay - yy
    r = np.hypot(dx, dy)
    theta = np.arctan2(dx, dy)
    half = np.arctan2(w / 2.0, h) * 0.98
    rmax = h * 1.0
    mask = (np.abs(theta) <= half) & (r <= rmax) & (r >= 0.04 * h)
    return mask, r / rmax, theta / half


def _make_fish(rng: np.random.Generator, n: int, frames: int, h: int, w: int) -> list[Fish]:
    fish = []
    for i in range(n):
        speed = rng.uniform(0.6, 1.6) * w / frames * 1.6
        direction = 1 if rng.random() < 0.5 else -1
        length = rng.uniform(0.16, 0.26) * w
        # Most fish cross the whole field; some start inside (already present) or enter late.
        start = int(rng.integers(0, max(1, frames // 2))) if i > 0 else 0
        x_edge = -0.6 * length if direction > 0 else w + 0.6 * length
        x0 = x_edge if rng.random() < 0.8 else rng.uniform(0.2 * w, 0.8 * w)
        turn_at = int(rng.integers(start + frames // 5, frames)) if rng.random() < 0.2 else -1
        fish.append(Fish(
            x0=float(x0), y0=float(rng.uniform(0.25 * h, 0.85 * h)), vx=float(direction * speed),
            vy=float(rng.uniform(-0.15, 0.15)), length=float(length), brightness=float(rng.uniform(0.45, 0.65)),
            start=start, turn_at=turn_at, phase=float(rng.uniform(0, 2 * np.pi))))
    return fish


def _fish_position(f: Fish, t: int) -> tuple[float, float, float]:
    """Centre (x, y) and heading sign of a fish at frame t."""
    dt = t - f.start
    if f.turn_at >= 0 and t > f.turn_at:
        d1 = f.turn_at - f.start
        x = f.x0 + f.vx * d1 - f.vx * (t - f.turn_at)
        return x, f.y0 + f.vy * dt, -np.sign(f.vx)
    return f.x0 + f.vx * dt, f.y0 + f.vy * dt, np.sign(f.vx)


def _render_fish(img: np.ndarray, f: Fish, t: int) -> tuple[float, float, float, float] | None:
    """Add a fish to `img` (in place); return its tight box (left, top, w, h) in 0-based pixels, or None."""
    h, w = img.shape
    cx, cy, heading = _fish_position(f, t)
    L = f.length
    thick = L * 0.13
    n_pts = 9
    s = np.linspace(-0.5, 0.5, n_pts)  # head at +0.5 along heading
    wave = 0.08 * L * (0.5 - s) ** 1.5 * np.sin(2 * np.pi * (1.3 * s - 0.25 * t) + f.phase)
    px = cx + heading * s * L
    py = cy + wave
    sig = thick * (0.55 + 0.6 * np.sqrt(np.clip(0.5 + s, 0, 1)))  # tail thinner than the head
    x_lo, x_hi = int(max(0, np.floor(px.min() - 3 * sig.max()))), int(min(w, np.ceil(px.max() + 3 * sig.max()) + 1))
    y_lo, y_hi = int(max(0, np.floor(py.min() - 3 * sig.max()))), int(min(h, np.ceil(py.max() + 3 * sig.max()) + 1))
    if x_lo >= x_hi or y_lo >= y_hi:
        return None
    yy, xx = np.mgrid[y_lo:y_hi, x_lo:x_hi].astype(np.float32)
    body = np.zeros_like(yy)
    for x_, y_, s_ in zip(px, py, sig):
        body = np.maximum(body, np.exp(-((xx - x_) ** 2 + (yy - y_) ** 2) / (2 * s_ ** 2)))
    img[y_lo:y_hi, x_lo:x_hi] += f.brightness * body
    on = body > 0.3
    if on.sum() < 4:
        return None
    ys, xs = np.nonzero(on)
    left, top = x_lo + xs.min(), y_lo + ys.min()
    return float(left), float(top), float(xs.max() - xs.min() + 1), float(ys.max() - ys.min() + 1)


def render_clip(seed: tuple, frames: int, h: int, w: int, noise: float, n_fish: int, domain: str
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Render one clip: (noisy uint8 T×H×W, clean uint8 T×H×W, MOT rows N×10 with 1-based frames/pixels)."""
    rng = np.random.default_rng(list(seed))
    style = _domain_style(domain)
    mask, rng_norm, beam = _fan_geometry(h, w)
    pad = max(8, int(0.5 * h))
    bed_tex = _smooth_field(rng, h + pad, w + pad, style["texture_scale"])
    veg_tex = _smooth_field(rng, h + pad, w + pad, style["texture_scale"] * 0.6)
    # River bed: a band of texture at far range plus patchy vegetation elsewhere.
    band = np.clip(1.2 - 3.0 * np.abs(rng_norm - rng.uniform(0.6, 0.85)), 0, 1)
    gain = 1.0 + style["gain_near"] * np.exp(-rng_norm / 0.18)  # brighter near the apex
    fish = _make_fish(rng, n_fish, frames, h, w)
    debris = [(rng.uniform(0.2, 0.8) * w, rng.uniform(0.3, 0.9) * h, rng.uniform(0.04, 0.07) * w)
              for _ in range(int(rng.integers(1, 3)))]
    beam_profile = _smooth_field(rng, 1, w + 64, 1.2)[0]
    yy, xx = np.ogrid[0:h, 0:w]
    debris_blobs = [0.5 * np.exp(-((xx - dx) ** 2 / (2 * dr ** 2) + (yy - dy) ** 2 / (2 * (0.5 * dr) ** 2)))
                    for (dx, dy, dr) in debris]
    noisy = np.zeros((frames, h, w), np.uint8)
    clean = np.zeros((frames, h, w), np.uint8)
    rows = []
    for t in range(frames):
        # Drifting, flickering background: a moving crop of the texture fields.
        ox = int(round(pad / 2 + style["drift"] * t)) % pad
        oy = int(round(pad / 2 + 0.4 * style["drift"] * np.sin(t / 9.0) * pad / 4)) % pad
        flicker = 0.85 + 0.15 * np.sin(2 * np.pi * t / 23.0 + seed[-1])
        bg = style["bed_level"] * (1 + 0.35 * bed_tex[oy:oy + h, ox:ox + w]) * (0.4 + band)
        bg += 0.06 * flicker * np.clip(veg_tex[oy:oy + h, ox:ox + w], 0, None)
        scene = np.clip(bg, 0, None).astype(np.float32)
        for blob in debris_blobs:  # stationary: rendered once, added every frame
            scene += blob
        for fid, f in enumerate(fish, 1):
            if t < f.start:
                continue
            box = _render_fish(scene, f, t)
            if box is None:
                continue
            left, top, bw, bh = box
            cx, cy = int(min(w - 1, left + bw / 2)), int(min(h - 1, top + bh / 2))
            if not mask[cy, cx]:
                continue  # outside the sonar's field of view: invisible, not annotated
            rows.append([t + 1, fid, left + 1, top + 1, bw, bh, -1, -1, -1, -1])
        scene = scene * gain * mask
        clean_t = np.clip(scene, 0, 1)
        clean[t] = np.round(clean_t * 255).astype(np.uint8)
        if noise > 0:
            k = 1.0 / (0.55 * noise) ** 2  # Gamma speckle, mean 1, std 0.55*noise
            speckle = rng.gamma(k, 1.0 / k, size=(h, w)).astype(np.float32)
            stripes = 1.0 + 0.25 * noise * np.roll(beam_profile, int(t * 0.3))[:w][None, :] * (0.7 + 0.3 * flicker)
            additive = 0.05 * noise * rng.standard_normal((h, w)).astype(np.float32)
            floor = 0.04 * noise * gain  # the sensor's noise floor shows even where the scene is dark
            noisy_t = (scene * speckle * stripes + floor * speckle + additive) * mask
        else:
            noisy_t = clean_t
        noisy[t] = np.clip(np.round(noisy_t * 255), 0, 255).astype(np.uint8)
    return noisy, clean, np.asarray(rows, dtype=np.float64).reshape(-1, 10)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def _clip_paths(root: str, layout: str, domain: str, ci: int) -> tuple[str, str, callable]:
    """(clip name, frames dir, frame-name function) for a layout."""
    if layout == "cfc22":
        name = f"clip{ci:03d}"
        return name, os.path.join(root, "frames", "raw", domain, name), lambda i: f"{i}.jpg"
    if layout == "cva":
        name = f"video{ci:03d}"
        return name, os.path.join(root, "rawframes", domain, name), lambda i: f"{i:06d}.png"
    if layout == "pocus":
        name = f"video{ci:03d}.mp4"
        return name, os.path.join(root, "pocus_videos_frames", domain, name), lambda i: f"frame_{i:04d}.png"
    if layout == "fluo":
        name = f"Fluo-Synth_{ci + 1:02d}"
        return name, os.path.join(root, domain, name), lambda i: f"t{i:03d}.tif"
    name = f"video{ci}"
    return name, os.path.join(root, domain, name), lambda i: f"frame{i}.png"


def _write_frames(d: str, arr: np.ndarray, namer) -> None:
    import cv2

    os.makedirs(d, exist_ok=True)
    for i, img in enumerate(arr):
        p = os.path.join(d, namer(i))
        params = [cv2.IMWRITE_JPEG_QUALITY, 95] if p.endswith(".jpg") else []
        if not cv2.imwrite(p, img, params):
            fail(f"could not write {p}")


def _write_video(path: str, arr: np.ndarray, fps: float) -> None:
    import cv2

    os.makedirs(os.path.dirname(path), exist_ok=True)
    vw = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"mp4v"), fps, (arr.shape[2], arr.shape[1]), isColor=False)
    for img in arr:
        vw.write(img)
    vw.release()


def _link(target: str, link: str) -> None:
    os.makedirs(os.path.dirname(link), exist_ok=True)
    if os.path.islink(link) or os.path.exists(link):
        os.remove(link)
    os.symlink(os.path.relpath(target, os.path.dirname(link)), link)


def generate(out: str, layout: str = "cfc22", seed: int = 0, domains: tuple[str, ...] | list[str] | None = None,
             clips_per_domain: int | dict[str, int] = 3, frames: int = 80, height: int = 192, width: int = 96, noise: float = 1.0,
             fish_per_clip: int = 3, fps: float = 10.0, overwrite: bool = False, progress: bool = True) -> dict:
    """Write a synthetic dataset in `layout` under `out`; return its summary (also saved as summary.json)."""
    if layout not in LAYOUTS:
        fail(f"unknown layout {layout!r}; choose one of {', '.join(LAYOUTS)}")
    domains = tuple(domains) if domains else DEFAULT_DOMAINS[layout]
    n_clips = {d: int(clips_per_domain.get(d, clips_per_domain.get("*", 3))) if isinstance(clips_per_domain, dict)
               else int(clips_per_domain) for d in domains}
    if frames < 3 or height < 16 or width < 16 or min(n_clips.values()) < 1 or fish_per_clip < 0 or noise < 0:
        fail("need --frames >= 3, --height/--width >= 16, --clips-per-domain >= 1, --fish-per-clip >= 0, --noise >= 0")
    if os.path.isdir(out) and any(os.scandir(out)):
        if not overwrite:
            fail(f"output folder is not empty: {out} (use --overwrite to replace the synthetic data in it)")
        owned = set(OWNED[layout]) | (set(domains) if layout in ("custom", "fluo") else set())
        for name in owned:
            p = os.path.join(out, name)
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p)
            elif os.path.lexists(p):
                os.remove(p)
    os.makedirs(out, exist_ok=True)
    from tqdm import tqdm

    from downstream.counting import count_crossings
    from downstream.mot import write_mot

    jobs = [(di, d, ci) for di, d in enumerate(domains) for ci in range(n_clips[d])]
    summary = {"layout": layout, "seed": seed, "domains": {}, "noise": noise, "height": height, "width": width}
    psnrs = []
    meta: dict[str, list] = {d: [] for d in domains}
    counts: dict[str, dict] = {d: {} for d in domains}
    for di, domain, ci in tqdm(jobs, desc="synthetic clips", disable=not progress, unit="clip"):
        noisy, clean, rows = render_clip((seed, di, ci), frames, height, width, noise, fish_per_clip, domain)
        name, fdir, namer = _clip_paths(out, layout, domain, ci)
        _write_frames(fdir, noisy, namer)
        _write_frames(os.path.join(out, "clean", domain, name), clean, lambda i: f"{i}.png")
        write_mot(os.path.join(out, "annotations_mot", domain, name, "gt.txt"), rows)
        if layout == "pocus":
            _write_video(os.path.join(out, "pocus_videos", domain, name), noisy, fps)
        if layout == "cfc22":
            flat = f"{domain}-{name}"
            _link(fdir, os.path.join(out, "frames", "raw_all", flat))
            _link(os.path.join(out, "annotations_mot", domain, name), os.path.join(out, "annotations_mot_all", flat))
        counts[domain][name] = count_crossings(rows, width)
        meta[domain].append({"clip_name": name, "num_frames": frames, "upstream_direction": _domain_style(domain)["upstream"],
                             "width": width, "height": height, "framerate": fps})
        psnrs.append(psnr(noisy, clean))
        s = summary["domains"].setdefault(domain, {"clips": 0, "frames": 0, "boxes": 0, "tracks": 0, "left": 0, "right": 0})
        s["clips"] += 1
        s["frames"] += frames
        s["boxes"] += len(rows)
        s["tracks"] += len(np.unique(rows[:, 1])) if len(rows) else 0
        s["left"] += counts[domain][name]["left"]
        s["right"] += counts[domain][name]["right"]
    for domain in domains:
        write_json(os.path.join(out, "counts", f"{domain}.json"), counts[domain])
        if layout == "cfc22":
            write_json(os.path.join(out, "annotations", f"{domain}.json"), meta[domain])
    summary["psnr_noisy_vs_clean_db"] = round(float(np.mean(psnrs)), 2) if noise > 0 else float("inf")
    write_json(os.path.join(out, "summary.json"), {**summary, "psnr_noisy_vs_clean_db": str(summary["psnr_noisy_vs_clean_db"])})
    return summary


def format_summary(summary: dict) -> str:
    lines = [f"{'domain':<14}{'clips':>6}{'frames':>8}{'boxes':>8}{'tracks':>8}{'left':>6}{'right':>6}"]
    tot = {k: 0 for k in ("clips", "frames", "boxes", "tracks", "left", "right")}
    for d, s in summary["domains"].items():
        lines.append(f"{d:<14}" + "".join(f"{s[k]:>{6 if k in ('clips', 'left', 'right') else 8}}" for k in tot))
        for k in tot:
            tot[k] += s[k]
    lines.append(f"{'total':<14}" + "".join(f"{tot[k]:>{6 if k in ('clips', 'left', 'right') else 8}}" for k in tot))
    lines.append(f"PSNR noisy vs clean: {summary['psnr_noisy_vs_clean_db']} dB (noise scale {summary['noise']}, "
                 f"{summary['height']}x{summary['width']} HxW)")
    return "\n".join(lines)


def load_counts(root: str, domain: str) -> dict:
    with open(os.path.join(root, "counts", f"{domain}.json"), encoding="utf-8") as f:
        return json.load(f)


def write_preview(root: str, path: str, domain: str | None = None, scale: int = 2) -> str:
    """Noisy | clean | noisy with ground-truth boxes, for the frame of the first clip with the most fish."""
    import cv2

    from dataset.frames import read_frame, write_frame
    from downstream.mot import by_frame, read_mot

    domain = domain or sorted(os.listdir(os.path.join(root, "frames", "raw")))[0]
    clip = sorted(os.listdir(os.path.join(root, "frames", "raw", domain)))[0]
    rows = by_frame(read_mot(os.path.join(root, "annotations_mot", domain, clip, "gt.txt"), allow_missing=True))
    t = max(rows, key=lambda k: (len(rows[k]), -k)) - 1 if rows else 0
    noisy = read_frame(os.path.join(root, "frames", "raw", domain, clip, f"{t}.jpg"))
    clean = read_frame(os.path.join(root, "clean", domain, clip, f"{t}.png"))
    boxed = cv2.cvtColor(noisy, cv2.COLOR_GRAY2BGR)
    for r in rows.get(t + 1, []):
        x, y, w, h = (int(v) for v in r[2:6])
        cv2.rectangle(boxed, (x - 1, y - 1), (x - 1 + w - 1, y - 1 + h - 1), (0, 255, 0), 1)
    grid = np.hstack([cv2.cvtColor(noisy, cv2.COLOR_GRAY2BGR), cv2.cvtColor(clean, cv2.COLOR_GRAY2BGR), boxed])
    grid = cv2.resize(grid, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    write_frame(path, grid)
    return path
