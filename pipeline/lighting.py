"""Is a camera's picture day, infrared night or low-light colour?

A camera that switches to night mode drops its IR-cut filter and streams a grey picture: its
colour channels agree to within the encoder's rounding (mean chroma about 1 on 0..255, against 6
or more for a colour scene, even a grey street). A colour camera left in colour at night gives a
dark picture instead. Users are told which (the bundled model is trained for both, and the README
says what to set), so that a camera that never leaves IR or is too dark to be useful is noticed.
Measured on a 64x48 thumbnail, so it costs nothing next to detection.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum

import cv2
import numpy as np

GREY_CHROMA = 2.5  # mean |channel - mean of channels| below which the picture has no colour
DARK_LUMA = 60.0  # mean grey level (0..255) below which a colour picture counts as low light
THUMBNAIL = (64, 48)


class Lighting(StrEnum):
    DAY = "day"
    INFRARED = "infrared"
    LOW_LIGHT = "low_light"


def lighting_of(image: np.ndarray) -> Lighting:
    """The lighting of one frame (BGR, or single-channel as some IR cameras deliver it)."""
    if image.ndim == 2 or image.shape[2] == 1:
        return Lighting.INFRARED
    small = cv2.resize(image, THUMBNAIL, interpolation=cv2.INTER_AREA).astype(np.float32)
    chroma = float(np.abs(small - small.mean(axis=2, keepdims=True)).mean())
    if chroma < GREY_CHROMA:
        return Lighting.INFRARED
    if float(small.mean()) < DARK_LUMA:
        return Lighting.LOW_LIGHT
    return Lighting.DAY


@dataclass
class LightingTally:
    """Lighting of every `every`-th frame offered, counted, and the latest."""

    every: int = 25
    counts: Counter[Lighting] = field(default_factory=Counter)
    last: Lighting | None = None  # a live camera's current mode
    _seen: int = 0

    def offer(self, image: np.ndarray) -> None:
        if self._seen % self.every == 0:
            self.last = lighting_of(image)
            self.counts[self.last] += 1
        self._seen += 1

    def share(self, lighting: Lighting) -> float:
        total = sum(self.counts.values())
        return self.counts[lighting] / total if total else 0.0
