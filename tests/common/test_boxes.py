"""Box conventions (common/boxes.py): MOT ↔ corners ↔ YOLO round trips, clipping and IoU on hand-made boxes."""
from __future__ import annotations

import numpy as np

from common.boxes import box_iou, clip_boxes, mot_to_xyxy, xyxy_to_mot, xyxy_to_yolo, yolo_to_xyxy


def test_mot_rows_are_one_based():
    row = np.array([[3, 9, 11, 6, 20, 10, 0.5, -1, -1, -1]])
    np.testing.assert_allclose(mot_to_xyxy(row), [[10, 5, 30, 15]])
    back = xyxy_to_mot(3, mot_to_xyxy(row), conf=np.array([0.5]), ids=np.array([9]))
    np.testing.assert_allclose(back, row)
    assert xyxy_to_mot(1, np.zeros((0, 4))).shape == (0, 10)


def test_round_trip_mot_yolo_mot_on_random_boxes():
    rng = np.random.default_rng(3)
    w, h = 1000, 500
    rows = -np.ones((50, 10))
    rows[:, 0], rows[:, 1] = 7, np.arange(1, 51)
    rows[:, 2], rows[:, 3] = rng.integers(1, 700, 50), rng.integers(1, 300, 50)
    rows[:, 4], rows[:, 5] = rng.integers(1, 300, 50), rng.integers(1, 200, 50)

    norm = xyxy_to_yolo(mot_to_xyxy(rows), w, h)
    back = xyxy_to_mot(7, yolo_to_xyxy(norm, w, h))

    np.testing.assert_allclose(back[:, 2:6], rows[:, 2:6], atol=1e-9)
    assert back[:, 0].tolist() == [7] * 50 and back[:, 1].tolist() == list(range(1, 51))


def test_clip_boxes_counts_clipped_and_dropped():
    boxes = np.array([[-5, 0, 10, 10], [0, 0, 5, 5], [120, 0, 130, 10]], float)

    kept, n_clipped, n_dropped = clip_boxes(boxes, 100, 50)

    assert kept.tolist() == [[0, 0, 10, 10], [0, 0, 5, 5]]
    assert (n_clipped, n_dropped) == (1, 1)


def test_box_iou_hand_computed():
    a = np.array([[0, 0, 10, 10]])
    b = np.array([[5, 0, 15, 10], [2, 0, 12, 10], [20, 20, 30, 30], [0, 0, 10, 10]])
    np.testing.assert_allclose(box_iou(a, b), [[50 / 150, 80 / 120, 0.0, 1.0]])
    assert box_iou(np.zeros((0, 4)), b).shape == (0, 4)
    assert box_iou([[1, 1, 1, 1]], [[1, 1, 1, 1]]).tolist() == [[0.0]]   # empty union → 0, not NaN
