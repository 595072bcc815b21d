#!/usr/bin/env python
"""Measure how sonar-like clips are: noise level and grain, static share, range profile, filter response,
targets, shadows and beam stripes, side by side (definitions: docs/sonar_realism.md).

    python setup/sonar_stats.py ../shared/data/didson_sonar/lamprey1.avi ../shared/data/didson_sonar/lamprey3.avi
    python setup/sonar_stats.py data/synthetic                        # a CFC22 root: every clip, with its gt.txt
    python setup/sonar_stats.py my_clip/ --gt my_clip_gt.txt --json stats.json --max-frames 100

Each input is a video file, a folder of frames (one clip), or a folder of clips / a CFC22-layout root (every clip
under it is measured; a clip under <root>/frames/<kind>/<domain>/<clip> uses
<root>/annotations_mot/<domain>/<clip>/gt.txt when it exists). Without gt boxes, moving targets are detected.
"""
from __future__ import annotations

import argparse
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common.cli import ArgumentParser, fail, run_cli  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    p = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", metavar="CLIP_OR_FOLDER",
                   help="video files, frame folders, folders of clips or CFC22 dataset roots")
    p.add_argument("--gt", nargs="+", default=None, metavar="GT_TXT",
                   help="MOT gt.txt per input (one per input, each input a single clip); overrides the automatic lookup")
    p.add_argument("--json", default=None, metavar="OUT",
                   help="also write {clip: {statistic: value}} to this JSON file (NaN as null)")
    p.add_argument("--max-frames", type=int, default=None, metavar="N",
                   help="measure only the first N frames of each clip (faster; statistics get noisier)")
    p.add_argument("--markdown", action="store_true", help="print the table as Markdown instead of plain text")
    p.add_argument("--reference", type=int, default=0, metavar="N",
                   help="the first N clips are the reference (e.g. your real sonar): also print, per statistic, their "
                        "range, the other clips' range, and whether the others lie inside it widened by --margin")
    p.add_argument("--margin", type=float, default=0.15,
                   help="with --reference: widen the reference range by this share of its largest magnitude")
    p.add_argument("--figure", default=None, metavar="PNG",
                   help="also write a picture: per clip, its middle frame above its residual (frame minus the "
                        "per-pixel temporal median, grey = 0, ±4 sigma_r to black/white), all at one height")
    return p.parse_args(argv)


def auto_gt(clip_dir: str) -> str | None:
    """<root>/annotations_mot[_all]/<rel>/gt.txt for a clip at <root>/frames/<kind>/<rel>, if that file exists."""
    parts = os.path.abspath(clip_dir).split(os.sep)
    for i in range(len(parts) - 2, 0, -1):
        if parts[i] == "frames":
            root, rel = os.sep.join(parts[:i]) or os.sep, parts[i + 2:]
            for ann in ("annotations_mot", "annotations_mot_all"):
                cand = os.path.join(root, ann, *rel, "gt.txt")
                if rel and os.path.isfile(cand):
                    return cand
    return None


def expand(path: str) -> list[tuple[str, str, str | None]]:
    """(name, clip path, gt.txt or None) for every clip an input stands for (dataset.clips.find_clips: folders of
    frames, videos, multi-page TIFFs); a folder that itself holds frames is that one clip."""
    from dataset.clips import find_clips

    if not os.path.exists(path):
        fail(f"input not found: {path}")
    base = path
    if os.path.isdir(os.path.join(path, "frames", "raw")):
        base = os.path.join(path, "frames", "raw")
    clips = find_clips(base, hint="give a video file, a folder of frames or a tree of them")
    if clips[0].name == "":  # the folder itself holds frames: that clip only, as before
        clips = clips[:1]
    return [(c.label() if c.name == "" else c.name, c.source, auto_gt(c.source) if c.is_folder else None)
            for c in clips]


def unique_names(clips: list[tuple[str, str, str | None]]) -> list[tuple[str, str, str | None]]:
    """Clips that share a name (e.g. two `clip000` folders) are told apart by their parent folder, then by a number."""
    from collections import Counter

    counts = Counter(name for name, _, _ in clips)
    out = [(f"{os.path.basename(os.path.dirname(os.path.normpath(p)))}/{n}" if counts[n] > 1 and "/" not in n else n,
            p, g) for n, p, g in clips]
    seen: Counter = Counter()
    final = []
    for n, p, g in out:
        seen[n] += 1
        final.append((n if seen[n] == 1 else f"{n}#{seen[n]}", p, g))
    return final


def frame_and_residual(frames: np.ndarray, sigma_r: float, height: int = 384) -> np.ndarray:
    """The middle frame above its residual to the per-pixel temporal median (grey 128 = 0, ±4 sigma_r = 0/255),
    resized to `height` rows each, with a 4-pixel white gap on the right."""
    import cv2

    from common.imaging import to_uint8
    from dataset.sonar_stats import temporal_median

    t = len(frames) // 2
    res = frames[t].astype(np.float32) - temporal_median(frames).astype(np.float32)
    scale = 127.0 / (4.0 * sigma_r) if np.isfinite(sigma_r) and sigma_r > 0 else 1.0
    res8 = to_uint8(res, -128.0 / scale, 127.0 / scale)  # grey = 128 + res * scale, rounded and clipped
    w = int(round(frames.shape[2] * height / frames.shape[1]))
    top = cv2.resize(frames[t], (w, height), interpolation=cv2.INTER_AREA)
    bottom = cv2.resize(res8, (w, height), interpolation=cv2.INTER_AREA)
    col = np.vstack([top, np.full((4, w), 255, np.uint8), bottom])
    return np.hstack([col, np.full((col.shape[0], 4), 255, np.uint8)])


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.max_frames is not None and args.max_frames < 1:
        fail(f"--max-frames must be at least 1, got {args.max_frames}")
    clips = [c for path in args.inputs for c in expand(path)]
    if args.gt is not None:
        if len(args.gt) != len(args.inputs) or len(clips) != len(args.inputs):
            fail(f"--gt needs one gt.txt per input clip: {len(args.gt)} gt file(s) for {len(clips)} clip(s)")
        clips = [(name, path, gt) for (name, path, _), gt in zip(clips, args.gt)]
    clips = unique_names(clips)

    from common.atomic import write_json
    from dataset.sonar_stats import format_table, load_clip, measure, to_markdown
    from common.mot import read_mot

    results, panels = [], []
    for name, path, gt in clips:
        frames = load_clip(path, max_frames=args.max_frames)
        rows = read_mot(gt) if gt else None
        print(f"measuring {name}: {len(frames)} frames {frames.shape[2]}x{frames.shape[1]}"
              f"{', gt ' + gt if gt else ', targets detected'}", file=sys.stderr, flush=True)
        results.append((name, measure(frames, gt_rows=rows, name=name)))
        if args.figure:
            panels.append(frame_and_residual(frames, results[-1][1]["sigma_r"]))
    print(to_markdown(results) if args.markdown else format_table(results))
    if args.reference:
        from dataset.sonar_stats import compare_to_reference, comparison_markdown

        if not 0 < args.reference < len(results):
            fail(f"--reference {args.reference} needs more clips than that ({len(results)} measured)")
        rows = compare_to_reference([s for _, s in results[:args.reference]], [s for _, s in results[args.reference:]],
                                    args.margin)
        print()
        print(comparison_markdown(rows, args.margin))
    if args.figure:
        from dataset.frames import write_frame

        write_frame(args.figure, np.hstack(panels))
        print(f"figure: {args.figure} (left to right: {', '.join(n for n, _, _ in clips)})", file=sys.stderr)
    if args.json:
        write_json(args.json, {name: {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in st.items()}
                               for name, st in results})
    return 0


if __name__ == "__main__":
    run_cli(main)
