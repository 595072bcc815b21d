"""The flag sets the detector and converter scripts share (one definition each, several scripts)."""
from __future__ import annotations

from downstream.yolo.predict import DEFAULT_BATCH, DEFAULT_CONF, DEFAULT_NMS_IOU, DetectSettings


def add_detect_flags(parser, for_eval: bool = False) -> None:
    """Flags shared by detect.py and eval_detector_tm.py (one definition, two scripts). For the evaluator the
    weights are optional (needed only for clips without preds.txt) and the ground truth is required."""
    parser.add_argument("--dataset", required=not for_eval, default="kenai-train" if for_eval else None,
                        help="domain, e.g. kenai-val (a folder under --input_dir and --gt_dir)")
    parser.add_argument("--det_model", dest="det_model", required=not for_eval, default=None,
                        help="detector weights (train_detector.py's best.pt)"
                             + ("; used only for clips that have no preds.txt yet" if for_eval else ""))
    parser.add_argument("--input_dir", dest="input_dir", required=True,
                        help="frames root: <dataset>/<clip>/<i>.<ext> (merged 3-channel or 1-channel frames)")
    parser.add_argument("--output_dir", dest="output_dir", required=True,
                        help="results root: <dataset>/<clip>/preds.txt (metrics are written beside them)")
    parser.add_argument("--gt_dir", dest="gt_dir", required=for_eval, default=None,
                        help="MOT ground truth root: <dataset>/<clip>/gt.txt"
                             + ("" if for_eval else " (optional, for a summary line only)"))
    parser.add_argument("--conf", "--conf-thres", type=float, default=DEFAULT_CONF,
                        help="confidence threshold (CFC fisheye-advanced setting; see docs/paper_code_behaviour.md)")
    parser.add_argument("--iou", "--nms_thresh", type=float, default=DEFAULT_NMS_IOU,
                        help="NMS IoU threshold (CFC fisheye-advanced setting)")
    parser.add_argument("--img-size", dest="img_size", type=int, default=None,
                        help="inference image size (default: the training image size stored in the weights)")
    parser.add_argument("--batch-size", dest="batch_size", type=int, default=DEFAULT_BATCH,
                        help="frames per forward pass")
    parser.add_argument("--device", default=None, help="cpu, 0, 0,1 ... (default: GPU 0 if present, else cpu)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for torch (default: all cores)")
    parser.add_argument("--overwrite", action="store_true", help="redo clips whose preds.txt already exists")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def add_conversion_flags(parser) -> None:
    """Input/output and split flags shared by the YOLO and COCO converters."""
    parser.add_argument("--mot-dir", required=True, help="MOT annotations root: <domain>/<clip>/gt.txt")
    parser.add_argument("--frames-dir", required=True,
                        help="frames root: <domain>/<clip>/<i>.jpg|png (raw or merged)")
    parser.add_argument("--output-dir", required=True, help="folder to write (must not be inside the inputs)")
    parser.add_argument("--train-domains", nargs="+", default=None,
                        help="domains of the train split (default: kenai-train)")
    parser.add_argument("--val-domains", nargs="+", default=None, help="domains of the val split (default: kenai-val)")
    parser.add_argument("--test-domains", nargs="*", default=None,
                        help="domains of the test split (default: every other domain present; the flag alone = none)")


def detect_settings(args) -> DetectSettings:
    return DetectSettings(args.det_model, args.conf, args.iou, args.img_size, args.batch_size, args.device,
                          args.overwrite, args.threads)
