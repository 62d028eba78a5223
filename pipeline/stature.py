"""How tall a person is where their feet are, learnt per camera from its confident detections.

A gate camera does not move, so its perspective is fixed: people whose feet are low in the
picture are near and tall, people whose feet are high up are far and small, and the height of a
person is close to a straight line in the height of their feet. Once a camera has shown enough
people the network was sure of (by day, or any clear night frame), a weak night detection far
off that line (a headlight's glow the size of a door, a moth the size of a hand, a window's
reflection) is not a person at that spot, and starts no weak track (camera.py).
"""

from __future__ import annotations

from collections import deque

import numpy as np

SAMPLES = 2000  # the latest confident people kept (a camera's perspective does not change)
ENOUGH = 100  # confident detections seen before the line is trusted
REFIT_EVERY = 50  # new people between two fits
# ...with feet spread over at least this share of the picture's height: a few people at one spot
# (one walker seen 100 times) say nothing of how tall people are elsewhere in the picture.
SPREAD = 0.15


class Stature:
    def __init__(self, tolerance: float, frame_height: int) -> None:
        """`tolerance`: a height within this factor of the expected one is plausible (0: all are)."""
        self.tolerance = tolerance
        self.frame_height = frame_height
        self._seen: deque[tuple[float, float]] = deque(maxlen=SAMPLES)  # (foot y, height)
        self._new = 0
        self._line: tuple[float, float] | None = None  # height = slope * foot y + offset

    def learn(self, boxes: np.ndarray) -> None:
        """Boxes (xyxy) of people the network was sure of."""
        self._seen.extend(zip(boxes[:, 3].tolist(), (boxes[:, 3] - boxes[:, 1]).tolist(), strict=True))
        self._new += len(boxes)
        if len(self._seen) >= ENOUGH and (self._line is None or self._new >= REFIT_EVERY):
            seen = np.array(self._seen, np.float64)
            self._new = 0
            if np.ptp(seen[:, 0]) >= SPREAD * self.frame_height:
                self._line = _fit(seen)

    def expected(self, foot_y: np.ndarray) -> np.ndarray | None:
        """The expected height at each foot height; None until enough people were seen."""
        if self._line is None:
            return None
        slope, offset = self._line
        return np.maximum(slope * foot_y + offset, 1.0)

    def plausible(self, boxes: np.ndarray) -> np.ndarray:
        """Whether each box (xyxy) is about a person's height where its feet are."""
        expected = self.expected(boxes[:, 3]) if self.tolerance else None
        if expected is None:
            return np.ones(len(boxes), bool)
        ratio = (boxes[:, 3] - boxes[:, 1]) / expected
        return (ratio >= 1 / self.tolerance) & (ratio <= self.tolerance)


def _fit(samples: np.ndarray) -> tuple[float, float]:
    """A line through (foot y, height), refitted once without the people far off the first one (a
    child, someone half hidden, a box around two people)."""
    feet, heights = samples[:, 0], samples[:, 1]
    slope, offset = np.polyfit(feet, heights, 1)
    residual = np.abs(heights - (slope * feet + offset))
    close = residual <= 2 * max(float(np.median(residual)), 1.0)
    if close.sum() >= ENOUGH // 2:
        slope, offset = np.polyfit(feet[close], heights[close], 1)
    return float(slope), float(offset)
