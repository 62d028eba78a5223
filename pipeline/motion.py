"""Motion gating: skip the detector while nothing moves near the lines and zones.

A gate camera at night shows an empty scene most of the time; running a person detector on it
five times a second finds nobody at full cost. The gate compares a small grey copy of the watched
area (the lines and zones, with a margin for the bodies above the feet) with the copy taken the
last time the detector ran, not with the previous frame, so a person creeping slowly adds up to
motion instead of hiding under the threshold. It never skips while a tracked person who is moving
is inside the watched area (someone standing still, or elsewhere, cannot cross without moving
there first, which is motion), and runs the detector at least every `max_skip_s` anyway, which
also keeps still people's tracks alive.
"""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np

from pipeline.config import MotionConfig
from pipeline.records import Point
from pipeline.vocabulary import Urgency


def watched_area(points: Iterable[Point], size: tuple[int, int], margin: float) -> tuple[int, int, int, int]:
    """Bounding box (x1, y1, x2, y2) of the lines and zones, grown by `margin` of the frame size."""
    width, height = size
    xs, ys = zip(*points, strict=True)
    mx, my = margin * width, margin * height
    x1, y1 = max(0, int(min(xs) - mx)), max(0, int(min(ys) - my))
    x2, y2 = min(width, int(max(xs) + mx) + 1), min(height, int(max(ys) + my) + 1)
    return x1, y1, x2, y2


class MotionGate:
    def __init__(self, config: MotionConfig, area: tuple[int, int, int, int]) -> None:
        self.config = config
        self.area = area
        x1, y1, x2, y2 = area
        scale = min(1.0, config.width / max(1, x2 - x1))
        self.small_size = (max(1, round((x2 - x1) * scale)), max(1, round((y2 - y1) * scale)))
        self.min_pixels = max(1, round(config.min_area * self.small_size[0] * self.small_size[1]))
        self._reference: np.ndarray | None = None  # the frame the detector last ran on, shrunk when first needed
        self._reference_small: np.ndarray | None = None
        self._reference_pts = 0.0

    def should_detect(
        self, image: np.ndarray, pts: float, tracked: Iterable[Point], crossing: bool = False
    ) -> Urgency | None:
        """Why the detector should see this frame, None when it need not. `tracked`: where tracked
        people who are moving were last seen; `crossing`: a crossing waits to hold, so a frame that
        goes to the detector may decide an alert. Whether it goes does not change: detecting frames
        where nothing moved, only because a crossing waited, cost F1 on the idle 720p benchmark
        video (0.842 -> 0.833, one more entry)."""
        x1, y1, x2, y2 = self.area
        urgency = None
        if any(x1 <= x < x2 and y1 <= y < y2 for x, y in tracked):
            urgency = Urgency.TRACKED
        elif not self.config.enabled or self._reference is None:
            urgency = Urgency.CHANGED
        elif pts - self._reference_pts >= self.config.max_skip_s:
            urgency = Urgency.CHANGED if self.changed(image) else Urgency.ROUTINE
        elif self.changed(image):
            urgency = Urgency.CHANGED
        if urgency is not None and crossing:
            urgency = Urgency.CROSSING
        if urgency is not None:
            # Busy scenes detect on every frame: keep the frame, shrink it only if a comparison needs it.
            self._reference, self._reference_small, self._reference_pts = image, None, pts
        return urgency

    def changed(self, image: np.ndarray) -> bool:
        """Whether `image` differs from the last frame the detector ran on (also for skimmed keyframes)."""
        if self._reference is None:
            return True
        if self._reference_small is None:
            self._reference_small = self._small(self._reference)
        changed = int(np.count_nonzero(cv2.absdiff(self._small(image), self._reference_small) > self.config.threshold))
        return changed >= self.min_pixels

    def _small(self, image: np.ndarray) -> np.ndarray:
        x1, y1, x2, y2 = self.area
        return cv2.cvtColor(
            cv2.resize(image[y1:y2, x1:x2], self.small_size, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY
        )
