"""Person detectors behind one small interface; `load_detector` picks one from the config.

Importing the package registers every backend (ultralytics only imports its library when a
`.pt` model is actually loaded, so the edge-box install needs no torch).

    base.py       the interface        registry.py  which backend reads which model file
    onnx.py       onnxruntime sessions, the bundled model's path
    ssdlite.py    the bundled SSDLite person model        yolo_onnx.py  YOLO exported to ONNX
    ultralytics.py  YOLO .pt (optional extra)             boxes.py      box helpers
    shared.py     one detector for all cameras of `serve`, batching across them
"""

from pipeline.detectors import ssdlite, ultralytics, yolo_onnx
from pipeline.detectors.base import Detector
from pipeline.detectors.registry import CameraDetectors, kinds, load_detector

__all__ = ["CameraDetectors", "Detector", "kinds", "load_detector", "ssdlite", "ultralytics", "yolo_onnx"]
