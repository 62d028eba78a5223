"""The detector interface, shared box helpers, and the registry that picks a detector from config."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from pipeline.config import DetectorConfig
from pipeline.errors import GatewatchError
from pipeline.records import Detections

DEFAULT_MODEL_NAME = "ssdlite_person.onnx"


class Detector(ABC):
    """Finds people in a BGR image; boxes come back in that image's pixels."""

    name: str

    @abstractmethod
    def detect(self, image: np.ndarray) -> Detections: ...

    def detect_batch(self, images: list[np.ndarray]) -> list[Detections]:
        """Several frames (of different cameras) at once; backends that can batch override this."""
        return [self.detect(image) for image in images]


def non_max_suppression(xyxy: np.ndarray, scores: np.ndarray, iou: float) -> Detections:
    """Keep the strongest of overlapping boxes (OpenCV's NMS, so no hand-written loop)."""
    if len(scores) == 0:
        return Detections.empty()
    wh = xyxy[:, 2:] - xyxy[:, :2]
    keep = cv2.dnn.NMSBoxes(np.concatenate([xyxy[:, :2], wh], axis=1).tolist(), scores.tolist(), 0.0, iou)
    keep = np.asarray(keep, dtype=np.int64).reshape(-1)
    return Detections(xyxy[keep].astype(np.float32), scores[keep].astype(np.float32))


def onnx_session(path: Path, threads: int | None):
    """An onnxruntime CPU session with full graph optimisation; an unreadable model is a user error."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads or (os.cpu_count() or 1)
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises bare RuntimeError/Fail subclasses for bad files
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise GatewatchError(f"{path}: not a loadable ONNX model ({first_line})") from None


def bundled_model_path() -> Path:
    """The default model: inside the installed package, or in the source tree's models/ folder."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "models" / DEFAULT_MODEL_NAME, here.parent / "models" / DEFAULT_MODEL_NAME):
        if candidate.is_file():
            return candidate
    raise GatewatchError(
        f"the bundled model {DEFAULT_MODEL_NAME} is missing from this installation; reinstall gatewatch"
    )


def load_detector(config: DetectorConfig, resolve: Callable[[str], Path]) -> Detector:
    """Build the configured detector. `resolve` turns a configured path into a real one."""
    from pipeline.detectors.ssdlite import SSDLiteDetector
    from pipeline.detectors.yolo_onnx import YoloOnnxDetector, is_yolo_onnx

    if config.model == "default":
        if config.type not in ("auto", "ssdlite"):
            raise GatewatchError(f"detector.type: {config.type!r} does not fit model 'default' (an SSDLite model)")
        return SSDLiteDetector(bundled_model_path(), config)
    path = resolve(config.model)
    if not path.is_file():
        raise GatewatchError(f"detector.model: model file {path} not found")
    suffix = path.suffix.lower()
    kind = config.type
    if kind == "auto":
        if suffix == ".pt":
            kind = "ultralytics"
        elif suffix == ".onnx":
            kind = "yolo" if is_yolo_onnx(path) else "ssdlite"
        else:
            raise GatewatchError(f"detector.model: {path.name}: unsupported model file; use .onnx or .pt")
    if kind == "ultralytics":
        from pipeline.detectors.ultralytics import UltralyticsDetector

        return UltralyticsDetector(path, config)
    if suffix != ".onnx":
        raise GatewatchError(f"detector.model: {path.name}: detector type {kind!r} needs an .onnx file")
    if kind == "yolo":
        return YoloOnnxDetector(path, config)
    return SSDLiteDetector(path, config)


def crop_detector(
    detect_full: Callable[[np.ndarray], Detections], area: tuple[int, int, int, int]
) -> Callable[[np.ndarray], Detections]:
    """Detection on the watched area only, with boxes put back in frame coordinates."""
    x1, y1, x2, y2 = area

    def detect(image: np.ndarray) -> Detections:
        found = detect_full(image[y1:y2, x1:x2])
        return Detections(found.xyxy + np.array([x1, y1, x1, y1], np.float32), found.confidence)

    return detect
