"""Synthetic low-SNR sonar benchmark with known clean frames, boxes, track ids and counts.

Real sonar clips carry no clean ground truth, so every claim of the project (denoising helps detection,
tracking, counting) is measured here. The frames come from `dataset/sonar_model.py`, a physically based
imaging-sonar model whose statistics match real DIDSON clips (noise level and grain, static share, range gain,
stripes, flicker, target size, speed, contrast and shadow: docs/sonar_realism.md). This module writes them in
the project's dataset layouts, with the clean frames, MOT ground truth and crossing counts beside them.

The clean frame is the display without speckle, stripes or flicker; stationary debris is part of the bed and
never annotated. Everything is a function of the seed: the same arguments give the same bytes.
"""
from __future__ import annotations

import json
import os
import shutil
import zlib

import numpy as np

from common.atomic import write_json
from common.cli import fail
from common.quality import psnr
from dataset.sonar_model import SonarParams
from dataset.sonar_model import render_clip as render_sonar_clip

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


def _domain_style(domain: str) -> dict:
    """Per-domain acquisition differences (gain, level, texture scale), so the benchmark has a domain shift."""
    r = np.random.default_rng(zlib.crc32(domain.encode()))
    return {
        "level": float(r.uniform(0.85, 1.15)),
        "gain": float(r.uniform(0.9, 1.1)),
        "texture_scale": float(r.uniform(0.8, 1.25)),
        "upstream": "left" if r.random() < 0.5 else "right",
    }


def render_clip(seed: tuple, frames: int, h: int, w: int, noise: float, n_fish: int, domain: str,
                params: SonarParams | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Render one clip: (noisy uint8 T×H×W, clean uint8 T×H×W, MOT rows N×10 with 1-based frames/pixels)."""
    rng = np.random.default_rng(list(seed))
    return render_sonar_clip(rng, frames, h, w, noise, n_fish, params or SonarParams(), _domain_style(domain))


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
             fish_per_clip: int = 3, fps: float = 10.0, overwrite: bool = False, progress: bool = True,
             params: SonarParams | None = None, target_scale: float = 1.0) -> dict:
    """Write a synthetic dataset in `layout` under `out`; return its summary (also saved as summary.json)."""
    params = (params or SonarParams()).scaled_targets(target_scale)
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

    from common.crossings import count_crossings
    from common.mot import write_mot

    jobs = [(di, d, ci) for di, d in enumerate(domains) for ci in range(n_clips[d])]
    summary = {"layout": layout, "seed": seed, "domains": {}, "noise": noise, "height": height, "width": width,
               "sonar": params.to_dict()}
    psnrs = []
    meta: dict[str, list] = {d: [] for d in domains}
    counts: dict[str, dict] = {d: {} for d in domains}
    for di, domain, ci in tqdm(jobs, desc="synthetic clips", disable=not progress, unit="clip"):
        noisy, clean, rows = render_clip((seed, di, ci), frames, height, width, noise, fish_per_clip, domain, params)
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
    from common.mot import by_frame, read_mot

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
