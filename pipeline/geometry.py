"""Plane geometry of counting lines and zones, in image pixels (y grows downwards)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

import cv2
import numpy as np

from pipeline.records import Box, Point
from pipeline.vocabulary import Anchor


class Boundary(Protocol):
    """What the crossing state machine needs from a line or a zone."""

    def signed_distance(self, point: Point) -> float:
        """Distance to the boundary; positive on the inside."""
        ...

    def passes_through(self, a: Point, b: Point) -> bool:
        """Whether a move from a to b (on opposite sides) really goes through the boundary."""
        ...


@dataclass(frozen=True)
class Segment:
    """A directed segment whose `inside` side is positive, whatever order the end points came in."""

    p1: Point
    p2: Point
    inside: Point

    @property
    def length(self) -> float:
        return math.dist(self.p1, self.p2)

    def _cross(self, point: Point) -> float:
        (x1, y1), (x2, y2) = self.p1, self.p2
        return ((x2 - x1) * (point[1] - y1) - (y2 - y1) * (point[0] - x1)) / self.length

    @property
    def _orientation(self) -> float:
        return 1.0 if self._cross(self.inside) > 0 else -1.0

    def signed_distance(self, point: Point) -> float:
        """Perpendicular distance to the (infinite) line; positive on the inside side."""
        return self._cross(point) * self._orientation

    def position_along(self, a: Point, b: Point) -> float | None:
        """Where the straight move a -> b meets the line, as a fraction of the way from p1 to p2.

        0..1 means the move passes through the segment itself; None if the move is parallel to it.
        """
        da, db = self._cross(a), self._cross(b)
        if da == db:
            return None
        t = da / (da - db)
        x = a[0] + t * (b[0] - a[0])
        y = a[1] + t * (b[1] - a[1])
        (x1, y1), (x2, y2) = self.p1, self.p2
        return ((x - x1) * (x2 - x1) + (y - y1) * (y2 - y1)) / self.length**2

    def passes_through(self, a: Point, b: Point) -> bool:
        """Walking round the end of a segment changes sides without crossing it."""
        along = self.position_along(a, b)
        return along is not None and 0.0 <= along <= 1.0


@dataclass(frozen=True)
class Zone:
    """A polygon; its inside is the inside."""

    points: tuple[Point, ...]
    _contour: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_contour", np.array(self.points, np.float32).reshape(-1, 1, 2))

    def signed_distance(self, point: Point) -> float:
        return float(cv2.pointPolygonTest(self._contour, (float(point[0]), float(point[1])), True))

    def passes_through(self, a: Point, b: Point) -> bool:
        """Any way from outside a closed polygon to its inside goes through its edge."""
        return True


def anchor_point(box: Box, anchor: Anchor) -> Point:
    """The point of a person's box that must cross: the feet by default, since only they touch the ground
    plane the line is drawn on; the centre for cameras that see people from above."""
    x1, y1, x2, y2 = box
    match anchor:
        case Anchor.FOOT:
            return ((x1 + x2) / 2, y2)
        case Anchor.CENTER:
            return ((x1 + x2) / 2, (y1 + y2) / 2)
    raise ValueError(f"unknown anchor {anchor!r}")
