"""Plane geometry of a counting line, in image pixels (y grows downwards)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from pipeline.records import Box, Point


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


def anchor_point(box: Box, anchor: str) -> Point:
    """The point of a person's box that must cross: the feet by default, since only they touch the ground
    plane the line is drawn on; the centre for cameras that see people from above."""
    x1, y1, x2, y2 = box
    if anchor == "center":
        return ((x1 + x2) / 2, (y1 + y2) / 2)
    return ((x1 + x2) / 2, y2)
