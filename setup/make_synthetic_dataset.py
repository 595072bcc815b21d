#!/usr/bin/env python
"""Generate the synthetic low-SNR sonar benchmark (the project's embedded default), with clean frames,
boxes, track ids and counts known.

    python setup/make_synthetic_dataset.py --out data/synthetic                 # CFC22 layout (default)
    python setup/make_synthetic_dataset.py --out data/syn_cva --layout cva      # BUV/CVA-Net layout
    python setup/make_synthetic_dataset.py --out data/syn --noise 0             # clean frames as the "noisy" input
    python setup/make_synthetic_dataset.py --out data/mysite --like my_sonar/*.avi   # match the statistics of your clips

Frames come from a physically based sonar model (beam × range grid, log-domain speckle, static bed, range
gain, stripes, flicker, slow small targets with shadows); docs/sonar_realism.md compares its statistics with
real DIDSON clips (`setup/sonar_stats.py` measures any clip).

CFC22 layout written under --out: frames/raw/<domain>/<clip>/<i>.jpg, annotations_mot/<domain>/<clip>/gt.txt,
annotations/<domain>.json (metadata), frames/raw_all/<domain>-<clip>/ and annotations_mot_all/<domain>-<clip>/
(flat symlinks that main.py reads), clean/<domain>/<clip>/<i>.png and counts/<domain>.json (synthetic-only truth).
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from common.cli import ArgumentParser, run_cli  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    p = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="data/synthetic", help="output folder (refused if non-empty unless --overwrite)")
    p.add_argument("--layout", default="cfc22", choices=["cfc22", "cva", "pocus", "fluo", "custom"],
                   help="folder layout: CFC22 sonar (default), CVA/BUV, POCUS, Fluo, or the README's custom tree")
    p.add_argument("--seed", type=int, default=0, help="random seed; the same arguments give the same bytes")
    p.add_argument("--domains", nargs="+", default=None,
                   help="domain names (default per layout; cfc22: kenai-train kenai-val elwha)")
    p.add_argument("--clips-per-domain", nargs="+", default=["3"], metavar="N|DOMAIN=N",
                   help="clips in each domain; DOMAIN=N sets one domain (e.g. `3 elwha=8`: 8 test clips, 3 elsewhere)")
    p.add_argument("--frames", type=int, default=80, help="frames per clip")
    p.add_argument("--height", type=int, default=192, help="frame height in pixels (the sonar's range axis)")
    p.add_argument("--width", type=int, default=96, help="frame width in pixels (across beams; fish cross it)")
    p.add_argument("--noise", type=float, default=1.0,
                   help="noise scale: 0 = clean, 1 = the real clips' level (default), 2 = harder")
    p.add_argument("--target-scale", type=float, default=1.0,
                   help="fish length × this (1 = the lampreys of the real clips, ~6%% of the frame width; the CPU demo "
                        "uses 2 so that a small detector at 160 px can see them)")
    p.add_argument("--like", nargs="+", default=None, metavar="CLIP",
                   help="real sonar clips (videos or frame folders) to imitate: their noise level, grain, static share, "
                        "gain profile and fan geometry are measured and the generator is calibrated to match them")
    p.add_argument("--sonar-params", default=None, metavar="JSON",
                   help="sonar model parameters from a file (e.g. the `sonar` block of a previous summary.json)")
    p.add_argument("--fish-per-clip", type=int, default=3, help="fish swimming through each clip")
    p.add_argument("--fps", type=float, default=10.0, help="frame rate written to the metadata (and POCUS videos)")
    p.add_argument("--overwrite", action="store_true", help="replace synthetic data already in --out")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--preview", default=None, metavar="PNG",
                   help="also write a picture: noisy frame | clean frame | noisy with ground-truth boxes (CFC22 layout)")
    return p.parse_args(argv)


def main() -> int:
    a = parse_args()
    from common.cli import fail
    from dataset.synthetic import format_summary, generate

    clips: dict[str, int] = {}
    for item in a.clips_per_domain:
        key, _, value = item.rpartition("=")
        try:
            clips[key or "*"] = int(value)
        except ValueError:
            fail(f"--clips-per-domain takes N or DOMAIN=N, got {item!r}")

    params = None
    if a.sonar_params:
        from dataset.sonar_model import load_params

        params = load_params(a.sonar_params)
    if a.like:
        from dataset.sonar_calibrate import calibrate_like

        params = calibrate_like(a.like, base=params, progress=not a.quiet)
    summary = generate(a.out, layout=a.layout, seed=a.seed, domains=a.domains, clips_per_domain=clips,
                       frames=a.frames, height=a.height, width=a.width, noise=a.noise, fish_per_clip=a.fish_per_clip,
                       fps=a.fps, overwrite=a.overwrite, progress=not a.quiet, params=params,
                       target_scale=a.target_scale)
    print(f"synthetic benchmark ({a.layout} layout) written to {a.out}")
    print(format_summary(summary))
    if a.preview:
        from dataset.synthetic import write_preview

        print(f"preview: {write_preview(a.out, a.preview)}")
    return 0


if __name__ == "__main__":
    run_cli(main)
