"""Person detectors behind one small interface; `load_detector` picks one from the config.

Importing the package registers every backend (ultralytics only imports its library when a
`.pt` model is actually loaded, so the edge-box install needs no torch).
"""

from pipeline.detectors import ssdlite, ultralytics, yolo_onnx
from pipeline.detectors.base import Detector
from pipeline.detectors.registry import kinds, load_detector

__all__ = ["Detector", "kinds", "load_detector", "ssdlite", "ultralytics", "yolo_onnx"]
