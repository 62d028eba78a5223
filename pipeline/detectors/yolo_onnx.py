"""YOLO models exported to ONNX by ultralytics, run with onnxruntime (no torch needed).

Two output layouts exist: the classic raw head `[1, 4 + classes, anchors]` (cx, cy, w, h in
input pixels, one score per class, NMS left to us) and the end-to-end one `[1, detections, 6]`
(x1, y1, x2, y2, score, class) of NMS-free models. Class 0 is person in both (COCO order).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from pipeline.config import DetectorConfig
from pipeline.detectors.base import Detector
from pipeline.detectors.boxes import non_max_suppression
from pipeline.detectors.onnx import onnx_session
from pipeline.detectors.registry import Backend, register
from pipeline.errors import GatewatchError
from pipeline.records import Detections

PERSON = 0
DEFAULT_INPUT = 640
PAD_VALUE = 114


def is_yolo_onnx(path: Path) -> bool:
    """Telling models apart by their single 3-D output, which SSDLite (two outputs) lacks."""
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception:
        return False
    outputs = model.graph.output
    return len(outputs) == 1 and len(outputs[0].type.tensor_type.shape.dim) == 3


class YoloOnnxDetector(Detector):
    name = "yolo-onnx"
    concurrent = True

    def __init__(self, path: Path, config: DetectorConfig) -> None:
        self.session = onnx_session(path, config.threads)
        inputs = self.session.get_inputs()
        if len(inputs) != 1 or len(inputs[0].shape) != 4:
            raise GatewatchError(f"{path}: expected one image input [1, 3, H, W] in a YOLO ONNX model")
        self.input_name = inputs[0].name
        _, _, h, w = inputs[0].shape
        self.input_hw = (
            h if isinstance(h, int) else DEFAULT_INPUT,
            w if isinstance(w, int) else DEFAULT_INPUT,
        )
        self.confidence = config.floor
        self.nms_iou = config.nms_iou
        self.path = path

    def _letterbox(self, image: np.ndarray) -> tuple[np.ndarray, float, tuple[int, int]]:
        """Scale to fit and pad, as ultralytics does at training time, so boxes keep their aspect."""
        in_h, in_w = self.input_hw
        height, width = image.shape[:2]
        scale = min(in_w / width, in_h / height)
        new_w, new_h = round(width * scale), round(height * scale)
        pad_x, pad_y = (in_w - new_w) // 2, (in_h - new_h) // 2
        canvas = np.full((in_h, in_w, 3), PAD_VALUE, np.uint8)
        canvas[pad_y : pad_y + new_h, pad_x : pad_x + new_w] = cv2.resize(image, (new_w, new_h))
        return canvas, scale, (pad_x, pad_y)

    def detect(self, image: np.ndarray) -> Detections:
        canvas, scale, (pad_x, pad_y) = self._letterbox(image)
        blob = cv2.dnn.blobFromImage(canvas, 1 / 255.0, swapRB=True)
        (output,) = self.session.run(None, {self.input_name: blob})
        xyxy, scores = self._decode(output[0])
        keep = scores >= self.confidence
        xyxy, scores = xyxy[keep], scores[keep]
        xyxy = (xyxy - [pad_x, pad_y, pad_x, pad_y]) / scale
        height, width = image.shape[:2]
        xyxy = np.clip(xyxy, 0, [width - 1, height - 1, width - 1, height - 1]).astype(np.float32)
        return non_max_suppression(xyxy, scores.astype(np.float32), self.nms_iou)

    def _decode(self, output: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows, cols = output.shape
        if cols == 6 and rows > 6:  # end-to-end: x1, y1, x2, y2, score, class
            person = output[:, 5].astype(int) == PERSON
            return output[person, :4], output[person, 4]
        if rows < 5 or rows >= cols:
            raise GatewatchError(
                f"{self.path}: unexpected YOLO output shape {[1, rows, cols]}; expected [1, 4 + classes, anchors]"
            )
        cx, cy, w, h = output[0], output[1], output[2], output[3]
        xyxy = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
        return xyxy, output[4 + PERSON]


register(Backend("yolo", (".onnx",), YoloOnnxDetector, recognizes=is_yolo_onnx))
