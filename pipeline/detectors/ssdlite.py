"""The bundled detector: SSDLite-MobileNetV2 fine-tuned on people, converted to ONNX.

See models/README.md for its provenance and models/convert_ssdlite.py for the conversion. The
graph takes uint8 RGB 300x300 and returns decoded boxes and person scores; resizing and NMS
happen here because they are cheap in OpenCV and awkward (TF `while` loops) inside the graph.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from pipeline.config import DetectorConfig
from pipeline.detectors.base import Detector, non_max_suppression, onnx_session
from pipeline.errors import GatewatchError
from pipeline.records import Detections

INPUT_SIZE = 300


class SSDLiteDetector(Detector):
    name = "ssdlite"

    def __init__(self, path: Path, config: DetectorConfig) -> None:
        self.session = onnx_session(path, config.threads)
        inputs = self.session.get_inputs()
        outputs = {o.name for o in self.session.get_outputs()}
        if len(inputs) != 1 or not {"boxes", "scores"} <= outputs:
            raise GatewatchError(
                f"{path}: not an SSDLite model as gatewatch converts them (input `image`, outputs `boxes`, `scores`)"
            )
        self.input_name = inputs[0].name
        self.confidence = config.low_confidence
        self.nms_iou = config.nms_iou

    def detect(self, image: np.ndarray) -> Detections:
        return self.detect_batch([image])[0]

    def detect_batch(self, images: list[np.ndarray]) -> list[Detections]:
        """The graph takes a batch of any size; every image is resized to the same input anyway."""
        blob = np.stack([cv2.cvtColor(cv2.resize(i, (INPUT_SIZE, INPUT_SIZE)), cv2.COLOR_BGR2RGB) for i in images])
        boxes, scores = self.session.run(["boxes", "scores"], {self.input_name: blob})
        return [self._decode(b, s, i.shape[:2]) for b, s, i in zip(boxes, scores, images, strict=True)]

    def _decode(self, boxes: np.ndarray, scores: np.ndarray, shape: tuple[int, ...]) -> Detections:
        height, width = shape[:2]
        keep = scores >= self.confidence
        ymin, xmin, ymax, xmax = (boxes[keep, i] for i in range(4))
        xyxy = np.stack([xmin * width, ymin * height, xmax * width, ymax * height], axis=1)
        xyxy = np.clip(xyxy, 0, [width - 1, height - 1, width - 1, height - 1])
        return non_max_suppression(xyxy, scores[keep], self.nms_iou)
