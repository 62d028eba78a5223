"""Plane geometry of counting lines and zones, in image pixels (y grows downwards)."""

from __future__ import annotations

import math
from collections.abc import Iterable
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


def segment_problem(p1: Point, p2: Point, inside: Point) -> str | None:
    """Why these points cannot make a counting line, if they cannot: a line with (almost) no
    length has no direction, and an `inside` on the line itself says neither side."""
    if math.dist(p1, p2) < 2:
        return "the two points are (almost) the same: a line needs two distinct end points"
    if abs(Segment(p1, p2, inside).signed_distance(inside)) < 1:
        return f"`inside` {list(inside)} lies on the line itself; pick a pixel clearly on the inside side"
    return None


def polygon_problem(points: list[Point]) -> str | None:
    """Why these corners cannot make a zone, if they cannot: crossing edges make inside and
    outside ambiguous, and a polygon without area has no inside at all."""
    edges = list(zip(points, points[1:] + points[:1], strict=True))
    for i, a in enumerate(edges):
        for j in range(i + 2, len(edges)):
            if i == 0 and j == len(edges) - 1:
                continue  # first and last edge share a corner
            if _segments_cross(*a, *edges[j]):
                return f"edges {i + 1} and {j + 1} cross each other: list the corners in order around the zone"
    area = 0.5 * abs(sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in edges))
    if area < 4:
        return "the polygon has (almost) no area: give at least three corners that are not in a row"
    return None


def _segments_cross(a: Point, b: Point, c: Point, d: Point) -> bool:
    def turn(p: Point, q: Point, r: Point) -> float:
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    return turn(a, b, c) * turn(a, b, d) < 0 and turn(c, d, a) * turn(c, d, b) < 0


def outside_frame(points: Iterable[Point], size: tuple[int, int]) -> str | None:
    """The first point that is not a pixel of a `size` frame, said plainly."""
    width, height = size
    for x, y in points:
        if not (0 <= x <= width - 1 and 0 <= y <= height - 1):
            return f"end point [{x:g}, {y:g}] is outside the {width}x{height} frame"
    return None
