"""The configuration file: one pydantic model per section, loaded from YAML.

Unknown keys are errors (a misspelt key silently ignored is a gate nobody watches), and every
error names the file, the key path and, where the YAML has it, the line.
"""

from __future__ import annotations

import math
import re
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from pipeline.errors import GatewatchError
from pipeline.records import Direction, Point

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DetectorConfig(_Section):
    model: str = Field(
        "default",
        description="`default` (the bundled SSDLite person model), or a path to a .onnx or .pt file",
    )
    type: Literal["auto", "ssdlite", "yolo", "ultralytics"] = Field(
        "auto", description="model family; `auto` tells it from the file (suffix and ONNX outputs)"
    )
    confidence: float = Field(0.4, gt=0, lt=1, description="minimum person score that starts a track")
    low_confidence: float = Field(
        0.2,
        gt=0,
        lt=1,
        description="weaker detections down to this score only continue existing tracks (ByteTrack's second "
        "stage), which keeps people tracked through partial occlusion",
    )
    nms_iou: float = Field(0.5, gt=0, le=1, description="overlap above which the weaker of two boxes is dropped")
    threads: int | None = Field(None, ge=1, description="onnxruntime intra-op threads; default: all cores")

    @model_validator(mode="after")
    def _low_below_high(self) -> DetectorConfig:
        if self.low_confidence > self.confidence:
            raise ValueError(f"low_confidence: {self.low_confidence:g} is above confidence {self.confidence:g}")
        return self


class SamplingConfig(_Section):
    fps: float = Field(5.0, gt=0, le=60, description="frames analysed per second of video")


class TrackerConfig(_Section):
    type: Literal["bytetrack", "ocsort"] = Field("bytetrack", description="tracker from Roboflow `trackers`")
    lost_track_s: float = Field(3.0, ge=0, le=30, description="how long a track survives without detections")


class CrossingConfig(_Section):
    anchor: Literal["foot", "center"] = Field(
        "foot", description="point of the box that must cross: bottom-centre (foot) or centre"
    )
    hysteresis: float = Field(
        0.04,
        ge=0,
        le=1,
        description="dead band either side of a line, as a fraction of the person's box height",
    )
    min_hysteresis_px: float = Field(3.0, ge=0, description="dead band floor in pixels")
    confirm_s: float = Field(
        0.3, ge=0, le=10, description="time a person must stay on the new side before a crossing counts"
    )
    stitch_distance: float = Field(
        1.0,
        ge=0,
        le=5,
        description="a new track that starts this close (in box heights) to where a track was just lost "
        "continues its line state, so an id switch at the line does not hide the crossing; 0 turns it off",
    )


class LineConfig(_Section):
    points: tuple[Point, Point] = Field(description="segment end points in pixels [[x1, y1], [x2, y2]]")
    inside: Point = Field(description="any pixel on the campus/dormitory side of the line")

    @model_validator(mode="after")
    def _geometry(self) -> LineConfig:
        (x1, y1), (x2, y2) = self.points
        length = math.hypot(x2 - x1, y2 - y1)
        if length < 2:
            raise ValueError("the two points are (almost) the same: a line needs two distinct end points")
        px, py = self.inside
        distance = abs((x2 - x1) * (py - y1) - (y2 - y1) * (px - x1)) / length
        if distance < 1:
            raise ValueError(
                f"`inside` {list(self.inside)} lies on the line itself; pick a pixel clearly on the inside side"
            )
        return self


class CameraConfig(_Section):
    source: str = Field(description="video file path (relative to the config file) or rtsp:// URL")
    resolution: tuple[Annotated[int, Field(gt=0)], Annotated[int, Field(gt=0)]] | None = Field(
        None, description="frame size [width, height]; when given, lines are checked against it here"
    )
    lines: dict[str, LineConfig] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _lines_inside_frame(self) -> CameraConfig:
        if self.resolution is not None:
            for name, line in self.lines.items():
                problem = line_outside_frame(line, self.resolution)
                if problem:
                    raise ValueError(f"lines.{name}: {problem}")
        return self


class ClosedWindow(_Section):
    """A daily closed period in local wall-clock time; `end <= start` means it runs past midnight."""

    start: time
    end: time

    @property
    def overnight(self) -> bool:
        return self.end <= self.start

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def parse_window(text: str) -> ClosedWindow:
    match = _WINDOW.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a time range like '22:30-06:00'")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    for hour, minute in ((h1, m1), (h2, m2)):
        if hour > 24 or minute > 59 or (hour == 24 and minute != 0):
            raise ValueError(f"{text!r}: {hour:02d}:{minute:02d} is not a time of day")
    start = time(h1 % 24, m1)
    end = time(h2 % 24, m2)
    if start == end and not (h1 == 0 and h2 == 24):
        raise ValueError(f"{text!r} starts and ends at the same time; use '00:00-24:00' for all day")
    return ClosedWindow(start=start, end=end)


def _valid_window(text: str) -> str:
    parse_window(text)
    return text


class ScheduleConfig(_Section):
    closed: list[Annotated[str, AfterValidator(_valid_window)]] = Field(
        min_length=1, description="closed periods, e.g. ['22:30-06:00']"
    )
    days: list[Weekday] = Field(
        default_factory=lambda: list(WEEKDAYS),
        description="weekdays on which the periods start (an overnight period belongs to its start day)",
    )

    @property
    def windows(self) -> list[ClosedWindow]:
        return [parse_window(text) for text in self.closed]


class RuleConfig(_Section):
    camera: str
    line: str
    schedule: str
    require_registration: bool = Field(
        True, description="flag only entries no registration covers; false flags every closed-hours entry"
    )
    window: float = Field(120, ge=0, description="seconds either side of a crossing a registration may be")
    directions: list[Direction] = Field(default_factory=lambda: ["in"], min_length=1)


class RegistrationsConfig(_Section):
    csv: Path | None = Field(None, description="CSV with columns time, camera, count, name, note")


class Config(_Section):
    timezone: str = Field(description="IANA time zone of the site, e.g. Asia/Shanghai")
    detector: DetectorConfig = Field(default_factory=DetectorConfig)
    sampling: SamplingConfig = Field(default_factory=SamplingConfig)
    tracker: TrackerConfig = Field(default_factory=TrackerConfig)
    crossing: CrossingConfig = Field(default_factory=CrossingConfig)
    cameras: dict[str, CameraConfig] = Field(min_length=1)
    schedules: dict[str, ScheduleConfig] = Field(default_factory=dict)
    rules: list[RuleConfig] = Field(default_factory=list)
    registrations: RegistrationsConfig = Field(default_factory=RegistrationsConfig)

    _base_dir: Path = PrivateAttr(default=Path("."))

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as 'Asia/Shanghai'") from None
        return value

    @model_validator(mode="after")
    def _rules_refer_to_known_names(self) -> Config:
        for index, rule in enumerate(self.rules):
            where = f"rules.{index}"
            if rule.camera not in self.cameras:
                raise ValueError(f"{where}.camera: unknown camera {rule.camera!r} (have: {_names(self.cameras)})")
            lines = self.cameras[rule.camera].lines
            if rule.line not in lines:
                raise ValueError(
                    f"{where}.line: camera {rule.camera!r} has no line {rule.line!r} (have: {_names(lines)})"
                )
            if rule.schedule not in self.schedules:
                raise ValueError(
                    f"{where}.schedule: unknown schedule {rule.schedule!r} (have: {_names(self.schedules)})"
                )
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def base_dir(self) -> Path:
        return self._base_dir

    def resolve(self, path: str | Path) -> Path:
        """Paths in the config are relative to the config file, not to wherever gatewatch runs."""
        candidate = Path(path).expanduser()
        return candidate if candidate.is_absolute() else self._base_dir / candidate

    def camera_for(self, camera_id: str | None) -> str:
        if camera_id is None:
            if len(self.cameras) == 1:
                return next(iter(self.cameras))
            raise GatewatchError(
                f"the config has several cameras ({_names(self.cameras)}): pass --camera to say which one "
                "the video belongs to"
            )
        if camera_id not in self.cameras:
            raise GatewatchError(f"--camera {camera_id!r}: no such camera in the config (have: {_names(self.cameras)})")
        return camera_id


def line_outside_frame(line: LineConfig, size: tuple[int, int]) -> str | None:
    width, height = size
    for x, y in line.points:
        if not (0 <= x <= width - 1 and 0 <= y <= height - 1):
            return f"end point [{x:g}, {y:g}] is outside the {width}x{height} frame"
    return None


def _names(mapping: dict[str, Any]) -> str:
    return ", ".join(mapping) or "none"


def load_config(path: str | Path) -> Config:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GatewatchError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GatewatchError(f"{path}: cannot read config ({exc})") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise GatewatchError(f"{path}:{where}: not valid YAML ({problem})") from None
    if not isinstance(raw, dict):
        raise GatewatchError(f"{path}: expected a mapping of sections (timezone, cameras, ...) at the top level")
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        raise GatewatchError(_describe(path, text, exc)) from None
    config._base_dir = path.resolve().parent
    return config


def _describe(path: Path, text: str, exc: ValidationError) -> str:
    """One error, as `file:line: key.path: message`; the rest would scroll the useful one away.

    An unknown key goes first: a misspelt key also makes the real one "missing", and the
    spelling is what the user has to fix."""
    errors = exc.errors()
    error = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    keys = [str(part) for part in error["loc"]]
    message = error["msg"].removeprefix("Value error, ")
    # A model validator reports at its model; its message may start with the deeper key path.
    nested = re.match(r"^([\w.-]+): (.*)$", message, re.DOTALL)
    if nested and error["type"] == "value_error":
        keys += nested.group(1).split(".")
        message = nested.group(2)
    if error["type"] == "extra_forbidden":
        message = "unknown key (check the spelling; see README for the keys each section takes)"
    elif error["type"] == "missing":
        message = "required key is missing"
    line = _line_of(text, keys)
    where = f"{path}:{line}" if line else str(path)
    return f"{where}: {'.'.join(keys) or '(top level)'}: {message}"


def _line_of(text: str, keys: list[str]) -> int | None:
    """Line number of the deepest YAML node on the key path, so editors can jump to it."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for key in keys:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == key), None)
            if match is None:
                break
            line = match[0].start_mark.line + 1
            node = match[1]
        elif isinstance(node, yaml.SequenceNode) and key.isdigit() and int(key) < len(node.value):
            node = node.value[int(key)]
            line = node.start_mark.line + 1
        else:
            break
    return line
