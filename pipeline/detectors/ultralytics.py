"""YOLO `.pt` models through the optional `gatewatch[ultralytics]` extra (brings torch).

Ultralytics likes to reach the network (update checks, auto-installing packages, downloading
weights by name). On a campus edge box that must never happen, so it is switched off through
its environment variables before the first import, and only an existing file is accepted.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from pipeline.config import DetectorConfig
from pipeline.detectors.base import Detector
from pipeline.detectors.registry import Backend, register
from pipeline.errors import GatewatchError
from pipeline.records import Detections

PERSON = 0


class UltralyticsDetector(Detector):
    name = "ultralytics"

    def __init__(self, path: Path, config: DetectorConfig) -> None:
        os.environ["YOLO_OFFLINE"] = "True"  # ultralytics compares with the string "true"
        os.environ["YOLO_AUTOINSTALL"] = "False"
        try:
            from ultralytics import YOLO
        except ImportError:
            raise GatewatchError(
                f"detector.model: {path.name} needs the ultralytics extra: pip install 'gatewatch[ultralytics]'"
            ) from None
        try:
            self.model = YOLO(str(path), task="detect")
        except Exception as exc:
            raise GatewatchError(f"{path}: ultralytics cannot load this model ({exc})") from None
        self.confidence = config.floor
        self.nms_iou = config.nms_iou

    def detect(self, image: np.ndarray) -> Detections:
        result = self.model.predict(image, conf=self.confidence, iou=self.nms_iou, classes=[PERSON], verbose=False)[0]
        boxes = result.boxes
        return Detections(boxes.xyxy.cpu().numpy().astype(np.float32), boxes.conf.cpu().numpy().astype(np.float32))


register(Backend("ultralytics", (".pt",), UltralyticsDetector))
