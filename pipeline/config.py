"""The configuration file: one pydantic model per section, loaded from YAML.

Unknown keys are errors (a misspelt key silently ignored is a gate nobody watches), and every
error names the file, the key path and, where the YAML has it, the line.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable
from datetime import date, time
from itertools import pairwise
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

from pipeline.errors import GatewatchError, InvalidInput
from pipeline.records import Point
from pipeline.vocabulary import Anchor, Direction

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


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
    tiles: Literal["auto", "off"] = Field(
        "auto",
        description="`auto`: the bundled model (SSDLite, square input) detects on overlapping 4:3 tiles of a "
        "frame wider than 4:3 (two for 16:9), where squashing the whole frame makes people too narrow to find "
        "(BENCHMARKS.md: 720p recall 0.56 -> 0.79); `off`: the whole frame, at half the detector cost",
    )
    region: Literal["frame", "watched"] = Field(
        "frame",
        description="`watched`: detect on the lines' and zones' surroundings (motion.margin) only, which shows "
        "small, distant people larger to the network; it cuts people who are large next to that area, so it "
        "is opt-in (see BENCHMARKS.md); `frame`: the whole frame",
    )

    @model_validator(mode="after")
    def _low_below_high(self) -> DetectorConfig:
        if self.low_confidence > self.confidence:
            raise ValueError(f"low_confidence: {self.low_confidence:g} is above confidence {self.confidence:g}")
        return self


class SamplingConfig(_Section):
    fps: float = Field(5.0, gt=0, le=60, description="frames analysed per second of video")
    skim_idle: bool = Field(
        False,
        description="decode only keyframes while nothing moves (needs motion gating): many times faster on "
        "idle footage, but someone who enters and leaves the view between two keyframes is not seen",
    )


class MotionConfig(_Section):
    enabled: bool = Field(True, description="skip the detector while nothing moves near the lines and zones")
    threshold: int = Field(
        12, ge=1, le=255, description="grey-level change (on the downscaled image) that counts as motion"
    )
    min_area: float = Field(0.002, gt=0, lt=1, description="fraction of the watched area that must change")
    max_skip_s: float = Field(2.0, ge=0, le=60, description="run the detector at least this often anyway")
    margin: float = Field(
        0.2, ge=0, le=1, description="watched area: the lines and zones grown by this fraction of the frame"
    )
    width: int = Field(160, ge=16, le=1920, description="width the watched area is shrunk to for the comparison")


class TrackerConfig(_Section):
    type: Literal["bytetrack", "ocsort"] = Field("bytetrack", description="tracker from Roboflow `trackers`")
    lost_track_s: float = Field(3.0, ge=0, le=30, description="how long a track survives without detections")


class CrossingConfig(_Section):
    anchor: Anchor = Field(Anchor.FOOT, description="point of the box that must cross: bottom-centre (foot) or centre")
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


class ZoneConfig(_Section):
    points: list[Point] = Field(min_length=3, description="polygon corners in pixels [[x, y], ...], in order")

    @model_validator(mode="after")
    def _simple_polygon(self) -> ZoneConfig:
        points = self.points
        edges = list(zip(points, points[1:] + points[:1], strict=True))
        for i, a in enumerate(edges):
            for j in range(i + 2, len(edges)):
                if i == 0 and j == len(edges) - 1:
                    continue  # first and last edge share a corner
                if _segments_cross(*a, *edges[j]):
                    raise ValueError(
                        f"edges {i + 1} and {j + 1} cross each other: list the corners in order around the zone"
                    )
        area = 0.5 * abs(sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in edges))
        if area < 4:
            raise ValueError("the polygon has (almost) no area: give at least three corners that are not in a row")
        return self


def _segments_cross(a: Point, b: Point, c: Point, d: Point) -> bool:
    def turn(p: Point, q: Point, r: Point) -> float:
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    return turn(a, b, c) * turn(a, b, d) < 0 and turn(c, d, a) * turn(c, d, b) < 0


class CameraConfig(_Section):
    source: str = Field(
        description="what `serve` reads: rtsp:// or http(s):// URL, `webcam:N` or /dev/videoN, or a video file "
        "(relative to the config file); `${VAR}` takes a password from the environment"
    )
    loop: bool = Field(False, description="play a video file source over and over at its own speed (testing)")
    resolution: tuple[Annotated[int, Field(gt=0)], Annotated[int, Field(gt=0)]] | None = Field(
        None, description="frame size [width, height]; when given, lines and zones are checked against it here"
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


class ClosedWindow(_Section):
    """A daily closed period in local wall-clock time; `end <= start` means it runs past midnight."""

    start: time
    end: time

    @property
    def overnight(self) -> bool:
        return self.end <= self.start

    def __str__(self) -> str:
        end = "24:00" if self.end == time(0) else f"{self.end:%H:%M}"
        return f"{self.start:%H:%M}-{end}"


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


WindowText = Annotated[str, AfterValidator(_valid_window)]
ALL_DAY = "all day"


def _check_no_overlap(windows: list[ClosedWindow]) -> None:
    """Two windows of one day that overlap are almost always a typo (e.g. 22:30-06:00 and 05:00-07:00
    meant as 07:00); refusing them keeps "closed by which window" unambiguous. An overnight window
    is checked against the same list's windows of the next morning too."""
    spans = []
    for window in windows:
        start, end = _minutes(window.start), _minutes(window.end)
        if window.overnight:
            spans += [(start, 1440, window), (0, end, window)]
        else:
            spans.append((start, end, window))
    spans.sort(key=lambda span: span[:2])
    for (_, end, first), (start, _, second) in pairwise(spans):
        if start < end and first is not second:
            raise ValueError(f"windows {first} and {second} overlap; merge them into one")


def _minutes(moment: time) -> int:
    return moment.hour * 60 + moment.minute


class PeriodConfig(_Section):
    days: list[Weekday] = Field(min_length=1, description="weekdays on which these windows start")
    closed: list[WindowText] = Field(description="closed windows on those days, e.g. ['12:00-13:30', '22:30-06:00']")

    @model_validator(mode="after")
    def _no_overlap(self) -> PeriodConfig:
        _check_no_overlap([parse_window(text) for text in self.closed])
        return self


class ExceptionConfig(_Section):
    """A dated exception: holidays and term breaks (`closed: all day`) or days with special hours."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str = Field(description="shown as the reason, e.g. 'National Day' or 'exam week'")
    day: date | None = Field(None, alias="date", description="one day, YYYY-MM-DD")
    from_: date | None = Field(None, alias="from", description="first day of a range, YYYY-MM-DD")
    until: date | None = Field(None, description="last day of a range (inclusive), YYYY-MM-DD")
    closed: Literal["all day"] | list[WindowText] = Field(
        description="'all day', or the windows that replace the usual ones on these days ([] = open all day)"
    )

    @model_validator(mode="after")
    def _one_day_or_range(self) -> ExceptionConfig:
        if self.day is not None and (self.from_ is not None or self.until is not None):
            raise ValueError("give either `date` or `from` and `until`, not both")
        if self.day is None:
            if self.from_ is None or self.until is None:
                raise ValueError("give `date` (one day) or both `from` and `until` (a range)")
            if self.until < self.from_:
                raise ValueError(f"until: {self.until} is before from {self.from_}")
        if self.closed != ALL_DAY:
            _check_no_overlap([parse_window(text) for text in self.closed])
        return self

    @property
    def first(self) -> date:
        return self.day or self.from_  # type: ignore[return-value]

    @property
    def last(self) -> date:
        return self.day or self.until  # type: ignore[return-value]

    @property
    def windows(self) -> list[ClosedWindow]:
        if self.closed == ALL_DAY:
            return [parse_window("00:00-24:00")]
        return [parse_window(text) for text in self.closed]


class ScheduleConfig(_Section):
    """Either the short form (`closed` + `days`) or `periods` for hours that differ by weekday."""

    closed: list[WindowText] | None = Field(None, description="closed periods, e.g. ['22:30-06:00']")
    days: list[Weekday] | None = Field(
        None, description="weekdays on which the `closed` periods start (default: every day)"
    )
    periods: list[PeriodConfig] | None = Field(None, description="per-weekday windows, instead of closed + days")
    exceptions: list[ExceptionConfig] = Field(default_factory=list, description="dated exceptions")

    @model_validator(mode="after")
    def _consistent(self) -> ScheduleConfig:
        if (self.closed is None) == (self.periods is None):
            raise ValueError("give either `closed` (with optional `days`) or `periods`")
        if self.periods is not None and self.days is not None:
            raise ValueError("days: with `periods`, put the days inside each period")
        if self.closed is not None:
            _check_no_overlap([parse_window(text) for text in self.closed])
        seen: dict[Weekday, int] = {}
        for index, period in enumerate(self.periods or []):
            for day in period.days:
                if day in seen:
                    raise ValueError(
                        f"periods.{index}.days: {day} is also in period {seen[day]}; give each weekday one period"
                    )
                seen[day] = index
        spans = sorted((e.first, e.last, i) for i, e in enumerate(self.exceptions))
        for (_, last, first_index), (start, _, index) in pairwise(spans):
            if start <= last:
                raise ValueError(
                    f"exceptions.{index}: overlaps exceptions.{first_index} ({start} is in both); "
                    "a day can have only one exception"
                )
        return self

    def weekly(self) -> dict[int, list[ClosedWindow]]:
        """Windows by weekday (0 = Monday) on ordinary days."""
        if self.periods is not None:
            table = {i: [] for i in range(7)}
            for period in self.periods:
                for day in period.days:
                    table[WEEKDAYS.index(day)] = [parse_window(text) for text in period.closed]
            return table
        windows = [parse_window(text) for text in self.closed or []]
        days = self.days if self.days is not None else WEEKDAYS
        return {i: (windows if WEEKDAYS[i] in days else []) for i in range(7)}

    def exception_on(self, day: date) -> ExceptionConfig | None:
        return next((e for e in self.exceptions if e.first <= day <= e.last), None)


class RuleConfig(_Section):
    camera: str
    line: str | None = Field(None, description="line whose crossings the rule judges (give `line` or `zone`)")
    zone: str | None = Field(None, description="zone whose entries (`in`) or exits (`out`) the rule judges")
    schedule: str
    require_registration: bool = Field(
        True, description="flag only entries no registration covers; false flags every closed-hours entry"
    )
    window: float = Field(120, ge=0, description="seconds either side of a registration's time it still covers")
    directions: list[Direction] = Field(default_factory=lambda: [Direction.IN], min_length=1)
    min_track_age_s: float = Field(
        0, ge=0, description="ignore crossings by tracks seen for less than this (flicker, reflections)"
    )
    min_displacement_px: float = Field(
        0, ge=0, description="ignore crossings by people who moved less than this since first seen"
    )
    anchor: Anchor | None = Field(None, description="point of the box that must cross; default: crossing.anchor")

    @model_validator(mode="after")
    def _line_or_zone(self) -> RuleConfig:
        if (self.line is None) == (self.zone is None):
            raise ValueError("give either `line` or `zone`")
        return self

    @property
    def target(self) -> str:
        """The line or zone name (unique within a camera)."""
        return self.line or self.zone  # type: ignore[return-value]


class SiteConfig(_Section):
    name: str = Field("gatewatch", description="school or campus name, printed on reports")


class RegistrationsConfig(_Section):
    csv: Path | None = Field(
        None, description="CSV with columns time (or from, until), camera, count, name, ref, reason, source"
    )


class LiveConfig(_Section):
    """How `serve` keeps streams flowing; defaults suit an NVR on the campus network."""

    queue_frames: int = Field(
        2, ge=1, le=100, description="sampled frames waiting per camera; when full the oldest is dropped"
    )
    open_timeout_s: float = Field(10, gt=0, description="give up connecting to a camera after this long")
    stall_timeout_s: float = Field(10, gt=0, description="no frame for this long: the stream is reopened")
    reconnect_min_s: float = Field(1, gt=0, description="first wait before reconnecting; doubles each failure")
    reconnect_max_s: float = Field(30, gt=0, description="longest wait between reconnection attempts")
    rtsp_transport: Literal["tcp", "udp"] = Field("tcp", description="TCP survives lossy links and firewalls")
    max_batch: int = Field(4, ge=1, le=32, description="frames of different cameras the detector takes at once")

    @model_validator(mode="after")
    def _backoff_order(self) -> LiveConfig:
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s: must not be below reconnect_min_s")
        return self


class ServerConfig(_Section):
    public_url: str | None = Field(
        None, description="how guards' browsers and the district centre reach this box, for snapshot links in alerts"
    )
    session_hours: float = Field(12, gt=0, description="a login lasts this long (one guard shift)")


class MqttConfig(_Section):
    host: str = Field(description="broker host name or address")
    port: int = Field(1883, ge=1, le=65535)
    username: str | None = None
    password: str | None = Field(None, description="use `${VAR}` to keep it out of the file")
    tls: bool = False
    topic_prefix: str = Field("gatewatch", description="topics are <prefix>/<site>/events and .../cameras/<name>/...")
    qos: Literal[0, 1, 2] = 1

    @field_validator("topic_prefix")
    @classmethod
    def _plain_topic(cls, value: str) -> str:
        if not value or any(c in value for c in "+#") or value.startswith("/") or value.endswith("/"):
            raise ValueError("a topic level without +, # or leading/trailing /")
        return value


class WebhookConfig(_Section):
    url: str = Field(description="http(s) URL that receives each event as a JSON POST")
    headers: dict[str, str] = Field(default_factory=dict, description="e.g. Authorization; `${VAR}` for tokens")
    timeout_s: float = Field(5, gt=0)

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value


class AlertsConfig(_Section):
    retry_min_s: float = Field(2, gt=0, description="first wait before re-sending a failed alert; doubles each time")
    retry_max_s: float = Field(300, gt=0)
    max_attempts: int = Field(50, ge=1, description="then the delivery is marked failed (it stays in the database)")


class Config(_Section):
    timezone: str = Field(description="IANA time zone of the site, e.g. Asia/Shanghai")
    site: SiteConfig = Field(default_factory=SiteConfig)
    detector: DetectorConfig = Field(default_factory=DetectorConfig)
    sampling: SamplingConfig = Field(default_factory=SamplingConfig)
    motion: MotionConfig = Field(default_factory=MotionConfig)
    tracker: TrackerConfig = Field(default_factory=TrackerConfig)
    crossing: CrossingConfig = Field(default_factory=CrossingConfig)
    cameras: dict[str, CameraConfig] = Field(min_length=1)
    groups: dict[str, list[str]] = Field(
        default_factory=dict, description="named sets of cameras (e.g. both cameras of one gate) for registrations"
    )
    schedules: dict[str, ScheduleConfig] = Field(default_factory=dict)
    rules: list[RuleConfig] = Field(default_factory=list)
    registrations: RegistrationsConfig = Field(default_factory=RegistrationsConfig)
    live: LiveConfig = Field(default_factory=LiveConfig)
    server: ServerConfig = Field(default_factory=ServerConfig)
    mqtt: MqttConfig | None = None
    webhooks: list[WebhookConfig] = Field(default_factory=list)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)

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
    def _skim_needs_motion(self) -> Config:
        if self.sampling.skim_idle and not self.motion.enabled:
            raise ValueError("sampling.skim_idle: needs motion.enabled, which tells when the scene is idle")
        return self

    @model_validator(mode="after")
    def _names_resolve(self) -> Config:
        for group, members in self.groups.items():
            if group in self.cameras:
                raise ValueError(f"groups.{group}: a camera has the same name; pick another group name")
            for index, member in enumerate(members):
                if member not in self.cameras:
                    raise ValueError(
                        f"groups.{group}.{index}: unknown camera {member!r} (have: {_names(self.cameras)})"
                    )
        anchors: dict[tuple[str, str], tuple[int, Anchor]] = {}
        for index, rule in enumerate(self.rules):
            where = f"rules.{index}"
            if rule.camera not in self.cameras:
                raise ValueError(f"{where}.camera: unknown camera {rule.camera!r} (have: {_names(self.cameras)})")
            camera = self.cameras[rule.camera]
            kind, shapes = ("line", camera.lines) if rule.line is not None else ("zone", camera.zones)
            if rule.target not in shapes:
                raise ValueError(
                    f"{where}.{kind}: camera {rule.camera!r} has no {kind} {rule.target!r} (have: {_names(shapes)})"
                )
            if rule.schedule not in self.schedules:
                raise ValueError(
                    f"{where}.schedule: unknown schedule {rule.schedule!r} (have: {_names(self.schedules)})"
                )
            anchor = rule.anchor or self.crossing.anchor
            other = anchors.setdefault((rule.camera, rule.target), (index, anchor))
            if other[1] != anchor:
                raise ValueError(
                    f"{where}.anchor: '{anchor}' differs from rules.{other[0]} ('{other[1]}') on the same "
                    f"{kind}; one passage must be counted once, so rules on one {kind} share the anchor"
                )
        return self

    def anchor_of(self, camera: str, target: str) -> Anchor:
        """The anchor point used for a line or zone: the one its rules ask for, else the default."""
        for rule in self.rules:
            if (rule.camera, rule.target) == (camera, target) and rule.anchor:
                return rule.anchor
        return self.crossing.anchor

    def registration_window(self, camera: str, target: str) -> float:
        """How far (s) from a registration an entry on this line or zone may be and still be covered."""
        windows = [r.window for r in self.rules if (r.camera, r.target) == (camera, target) and r.require_registration]
        return max(windows, default=0.0)

    def scopes(self) -> set[str]:
        """What a registration may name: a camera or a group of cameras."""
        return set(self.cameras) | set(self.groups)

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
            raise InvalidInput(
                "camera", f"the config has several cameras ({_names(self.cameras)}); say which one the video is from"
            )
        if camera_id not in self.cameras:
            raise InvalidInput("camera", f"no such camera in the config (have: {_names(self.cameras)})", camera_id)
        return camera_id


def outside_frame(points: Iterable[Point], size: tuple[int, int]) -> str | None:
    width, height = size
    for x, y in points:
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
        raw = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader that refuses duplicate keys
    except _DuplicateKey as exc:
        raise GatewatchError(
            f"{path}:{exc.line}: key {exc.key!r} is given twice (lines {exc.first} and {exc.line}); keep one"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise GatewatchError(f"{path}:{where}: not valid YAML ({problem})") from None
    if not isinstance(raw, dict):
        raise GatewatchError(f"{path}: expected a mapping of sections (timezone, cameras, ...) at the top level")
    raw = _expand_env(raw, path, text, [])
    _reject_non_finite(raw, path, text, [])
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        raise GatewatchError(_describe(path, text, exc)) from None
    config._base_dir = path.resolve().parent
    return config


class _DuplicateKey(yaml.YAMLError):
    def __init__(self, key: str, first: int, line: int) -> None:
        super().__init__(key)
        self.key, self.first, self.line = key, first, line


class _StrictLoader(yaml.SafeLoader):
    """YAML's own rule is that keys are unique, but PyYAML keeps the last one silently: a pasted
    second `inside:` would flip every direction, a second `rules: []` would switch all rules off."""

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)  # type: ignore[no-untyped-call]
                line = key_node.start_mark.line + 1
                if isinstance(key, str | int | float | bool) and key in seen and key != "<<":
                    raise _DuplicateKey(str(key), seen[key], line)
                if isinstance(key, str | int | float | bool):
                    seen[key] = line
        return super().construct_mapping(node, deep=deep)  # type: ignore[arg-type]


def _reject_non_finite(value: Any, path: Path, text: str, keys: list[str]) -> None:
    """`.nan` and `.inf` are valid YAML floats but no position, time or threshold; left in, a NaN
    point passes every comparison and crashes the first snapshot drawn with it."""
    if isinstance(value, dict):
        for k, v in value.items():
            _reject_non_finite(v, path, text, [*keys, str(k)])
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _reject_non_finite(v, path, text, [*keys, str(i)])
    elif isinstance(value, float) and not math.isfinite(value):
        line = _line_of(text, keys)
        where = f"{path}:{line}" if line else str(path)
        raise GatewatchError(f"{where}: {'.'.join(keys)}: {value} is not a number gatewatch can use; give a finite one")


_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _expand_env(value: Any, path: Path, text: str, keys: list[str]) -> Any:
    """`${VAR}` in any string takes the variable's value, so passwords and tokens can stay out of
    the file (and out of version control). A variable that is not set is an error, not ''."""
    if isinstance(value, dict):
        return {k: _expand_env(v, path, text, [*keys, str(k)]) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_env(v, path, text, [*keys, str(i)]) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def lookup(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            line = _line_of(text, keys)
            where = f"{path}:{line}" if line else str(path)
            raise GatewatchError(f"{where}: {'.'.join(keys)}: environment variable {name} is not set")
        return os.environ[name]

    return _ENV.sub(lookup, value)


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
