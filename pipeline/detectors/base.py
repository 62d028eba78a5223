"""The detector interface: all a pipeline stage may assume of a backend."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from pipeline.records import Detections


class Detector(ABC):
    """Finds people in a BGR image; boxes come back in that image's pixels."""

    name: str
    # Whether detect_batch may run in several threads at once: one onnxruntime session serves
    # concurrent calls, so a box's cores can each take a call (see detectors/shared.py).
    concurrent: bool = False

    @abstractmethod
    def detect(self, image: np.ndarray) -> Detections: ...

    def detect_batch(self, images: list[np.ndarray]) -> list[Detections]:
        """Several frames (of different cameras) at once; backends that can batch override this."""
        return [self.detect(image) for image in images]
