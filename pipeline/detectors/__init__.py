"""Person detectors behind one small interface; `load_detector` picks one from the config."""

from pipeline.detectors.base import Detector, load_detector

__all__ = ["Detector", "load_detector"]
