"""Cameras and what is drawn on them: counting lines (with their inside) and zones.

The shapes are checked with `geometry`'s own maths, so what the config accepts is what the
crossing counter can use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated

from pydantic import Field, model_validator

from pipeline.config.base import Section
from pipeline.geometry import outside_frame, polygon_problem, segment_problem

# A pixel position: off the frame is allowed (a line may run past its edge), astronomically far is not.
Pixel = Annotated[float, Field(ge=-100_000, le=100_000)]
PixelPoint = tuple[Pixel, Pixel]
# What people read for a camera, line or zone (北门, 宿舍A门); the key stays its id in the config,
# the API, file names and topics, which must not change when a sign is repainted.
ShownName = Field("", max_length=60, description="the name people read (北门); the key stays the id")


class LineConfig(Section):
    name: str = ShownName
    points: tuple[PixelPoint, PixelPoint] = Field(description="segment end points in pixels [[x1, y1], [x2, y2]]")
    inside: PixelPoint = Field(description="any pixel on the campus/dormitory side of the line")

    @model_validator(mode="after")
    def _geometry(self) -> LineConfig:
        problem = segment_problem(*self.points, self.inside)
        if problem:
            raise ValueError(problem)
        return self


class ZoneConfig(Section):
    name: str = ShownName
    points: list[PixelPoint] = Field(min_length=3, description="polygon corners in pixels [[x, y], ...], in order")

    @model_validator(mode="after")
    def _simple_polygon(self) -> ZoneConfig:
        problem = polygon_problem(self.points)
        if problem:
            raise ValueError(problem)
        return self


class CameraConfig(Section):
    name: str = ShownName
    source: str = Field(
        description="what `serve` reads: rtsp:// or http(s):// URL, `webcam:N` or /dev/videoN, or a video file "
        "(relative to the config file); `${VAR}` takes a password from the environment"
    )
    loop: bool = Field(False, description="play a video file source over and over at its own speed (testing)")
    resolution: tuple[Annotated[int, Field(gt=0, le=16384)], Annotated[int, Field(gt=0, le=16384)]] | None = Field(
        None, description="frame size [width, height]; when given, lines and zones are checked against it here"
    )
    files: list[str] = Field(
        default_factory=list,
        description="for `analyze` of a whole NVR export: glob patterns of this camera's files, matched against "
        "the file name and its path (e.g. ch01_*, */D1/*)",
    )
    channel: int | None = Field(
        None,
        ge=1,
        le=1024,
        description="the NVR channel number this camera records on (ch01, D1, Channel 1 in file names)",
    )
    model: str | None = Field(
        None,
        description="this camera's own detector model (a .onnx file, e.g. one `gatewatch adapt` wrote for it), "
        "relative to the config file; the other detector settings stay `detector:`'s. Default: `detector.model`",
    )
    night_model: str | None = Field(
        None,
        description="the model for this camera's night frames (those lighting.py calls infrared or low light), "
        "e.g. the one `gatewatch adapt` wrote for it; day frames keep `model`, so the night is never paid for by day",
    )
    lines: dict[str, LineConfig] = Field(default_factory=dict)
    zones: dict[str, ZoneConfig] = Field(
        default_factory=dict, description="polygons; entering one (e.g. inside a dormitory door) is a crossing `in`"
    )

    @model_validator(mode="after")
    def _shapes_valid(self) -> CameraConfig:
        for name in self.lines.keys() & self.zones.keys():
            raise ValueError(f"zones.{name}: a line has the same name; names must be unique within a camera")
        if self.resolution is not None:
            outside = self.outside(self.resolution)
            if outside:
                raise ValueError(f"{outside[0]}: {outside[1]}")
        return self

    def outside(self, size: tuple[int, int]) -> tuple[str, str] | None:
        """The first line or zone not inside a frame of `size`, as ("lines.NAME", problem)."""
        for kind, shapes in (("lines", self.lines), ("zones", self.zones)):
            for name, shape in shapes.items():
                problem = outside_frame(shape.points, size)
                if problem:
                    return f"{kind}.{name}", problem
        return None

    def shape(self, name: str) -> LineConfig | ZoneConfig:
        """A line or zone by name (names are unique within a camera)."""
        return self.lines.get(name) or self.zones[name]


@dataclass(frozen=True)
class Places:
    """What people read for each camera, line and zone, by id: its `name` (北门), else the id (also
    for one no longer in the config, as old events may name)."""

    cameras: dict[str, str] = field(default_factory=dict)
    lines: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def of(cls, cameras: Mapping[str, CameraConfig]) -> Places:
        shapes: dict[str, Mapping[str, LineConfig | ZoneConfig]] = {
            camera_id: {**camera.lines, **camera.zones} for camera_id, camera in cameras.items()
        }
        return cls(
            {camera_id: camera.name or camera_id for camera_id, camera in cameras.items()},
            {
                camera_id: {target: shape.name or target for target, shape in own.items()}
                for camera_id, own in shapes.items()
            },
        )

    def camera(self, camera: str) -> str:
        return self.cameras.get(camera, camera)

    def line(self, camera: str, target: str) -> str:
        return self.lines.get(camera, {}).get(target, target)
