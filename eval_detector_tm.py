#!/usr/bin/env python
"""Detection mAP of a domain (COCO's, the numbers torchmetrics' MeanAveragePrecision gives), over EVERY frame of
every annotated clip (docs/paper_code_behaviour.md#detection-map and #defect-9-11-map-skips-frames).

    python eval_detector_tm.py --dataset $domain --det_model yolo_train/$EXP_NAME/weights/best.pt \
        --input_dir $ADDED_FRAMES_DIR --output_dir $RESULTS_DIR --gt_dir $GTDIR | grep mAP

Uses --output_dir/<dataset>/<clip>/preds.txt when present; clips without one are first detected with the same code
as detect.py (so --det_model is only needed then). Ground truth: --gt_dir/<dataset>/<clip>/gt.txt; the frames
evaluated are the images in --input_dir/<dataset>/<clip>/ (a frame with fish and no prediction counts as misses,
predictions on a frame without fish as false positives). Prints `mAP50: …`, `mAP50-95: …` and precision/recall at
the best-F1 confidence; writes --output_dir/<dataset>/metrics_det.csv (per clip + ALL) and metrics_det.json.
--paper-compat adds the paper's figure (only frames with both GT and predictions; inflated), labelled as such.
--create_mp4s / --create_gifs draw GT (green) and predictions (red) on the worst clips into <dataset>/vis/.
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common.cli import ArgumentParser, run_cli  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    from downstream.yolo.flags import add_detect_flags

    p = ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_detect_flags(p, for_eval=True)
    p.add_argument("--raw_dir", dest="raw_dir", default=None,
                   help="optional frames root to draw the visualisations on (default: --input_dir)")
    p.add_argument("--paper-compat", dest="paper_compat", action="store_true",
                   help="also print the paper's mAP50 (frames with both GT and predictions only)")
    p.add_argument("--create_mp4s", dest="create_mp4s", action="store_true",
                   help="write an mp4 of each of the worst clips with GT and predictions drawn")
    p.add_argument("--create_gifs", dest="create_gifs", action="store_true",
                   help="write a GIF of each of the worst clips with GT and predictions drawn")
    p.add_argument("--num-vis", type=int, default=3, help="how many of the worst clips (lowest mAP50) to draw")
    p.add_argument("--vis-conf", type=float, default=None,
                   help="draw predictions at or above this confidence (default: the best-F1 confidence)")
    p.add_argument("--fps", type=float, default=10.0, help="frame rate of the mp4s/GIFs")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from common.cli import fail, require_dir
    from common.mot import preds_path
    from dataset.annotations import annotated_clip_names
    from dataset.frames import list_frames
    from downstream import detection_metrics as dm
    from downstream.yolo.flags import detect_settings
    from downstream.yolo.predict import detect_domain

    require_dir(os.path.join(args.gt_dir, args.dataset), f"ground truth of domain {args.dataset!r}")
    clips = annotated_clip_names(args.gt_dir, args.dataset)
    missing = [c for c in clips if not os.path.exists(preds_path(args.output_dir, args.dataset, c))]
    if missing or args.overwrite:
        if not args.det_model:
            fail(f"{len(missing)} clip(s) of {args.dataset} have no preds.txt under {args.output_dir} "
                 f"(e.g. {missing[0]}); pass --det_model to detect them")
        detect_domain(args.input_dir, args.output_dir, args.dataset, detect_settings(args), clips=clips,
                      progress=not args.quiet)
    result = dm.evaluate_domain(args.gt_dir, args.input_dir, args.output_dir, args.dataset, args.paper_compat)
    print(dm.format_report(args.dataset, result["all"]))
    out_dir = os.path.join(args.output_dir, args.dataset)
    print(f"per-clip metrics: {os.path.join(out_dir, 'metrics_det.csv')}")
    if args.create_mp4s or args.create_gifs:
        draw_root = args.raw_dir or args.input_dir
        min_conf = args.vis_conf if args.vis_conf is not None else (result["all"]["conf"] or 0.0)
        by_name = {c.name: c for c in result["annotated"]}
        for name in dm.worst_clips(result["clips"], args.num_vis):
            clip = by_name[name]
            paths = list_frames(os.path.join(draw_root, args.dataset, name))
            written = dm.write_clip_visuals(paths, result["frames"][name], os.path.join(out_dir, "vis", name),
                                            min_conf, args.create_mp4s, args.create_gifs, args.fps)
            print(f"drew {name} (mAP50 {result['clips'][name]['mAP50']:.3f}, {len(clip.frames)} frames): "
                  f"{', '.join(written)}")
    return 0


if __name__ == "__main__":
    run_cli(main)
