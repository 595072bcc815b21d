"""The YOLO detector glue, one module per job: `convert` (MOT → YOLO/COCO datasets), `train` (offline ultralytics
training), `predict` (frames → preds.txt) and `flags` (the flag sets the scripts share). Boxes are in
`common.boxes`, annotated clips in `dataset.annotations`.
"""
