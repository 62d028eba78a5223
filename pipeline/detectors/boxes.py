"""Box helpers the backends and the camera pipeline share."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from pipeline.records import Detections


def non_max_suppression(xyxy: np.ndarray, scores: np.ndarray, iou: float) -> Detections:
    """Keep the strongest of overlapping boxes (OpenCV's NMS, so no hand-written loop)."""
    if len(scores) == 0:
        return Detections.empty()
    wh = xyxy[:, 2:] - xyxy[:, :2]
    keep = cv2.dnn.NMSBoxes(np.concatenate([xyxy[:, :2], wh], axis=1).tolist(), scores.tolist(), 0.0, iou)
    keep = np.asarray(keep, dtype=np.int64).reshape(-1)
    return Detections(xyxy[keep].astype(np.float32), scores[keep].astype(np.float32))


def crop_detector(
    detect_full: Callable[[np.ndarray], Detections], area: tuple[int, int, int, int]
) -> Callable[[np.ndarray], Detections]:
    """Detection on the watched area only, with boxes put back in frame coordinates."""
    x1, y1, x2, y2 = area

    def detect(image: np.ndarray) -> Detections:
        found = detect_full(image[y1:y2, x1:x2])
        return Detections(found.xyxy + np.array([x1, y1, x1, y1], np.float32), found.confidence)

    return detect
