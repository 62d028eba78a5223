"""Registrations (visitor book, card swipes, guard authorisations) and matching entries to them.

A registration says "N people may come in through this camera (or group of cameras) between
these times". Each matched entry uses up one of the N, so one visitor pass cannot excuse a
whole group. Registrations arrive from the guard's command line, from access-control exports
(CSV, often GBK-encoded, with their own column names) and from the config's CSV; all of them
go through `parse_registration`, so every way in checks the same things.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from pipeline.errors import GatewatchError, InvalidInput
from pipeline.records import seconds_between
from pipeline.vocabulary import RegistrationSource, choices, member

FIELDS = ("time", "from", "until", "window", "camera", "count", "name", "ref", "reason", "source")
# GB18030 is the superset Windows exports really use; Latin-1 for European names, asked for by name.
ENCODINGS = {"utf-8": "utf-8-sig", "gbk": "gb18030", "latin-1": "cp1252"}
MAX_COUNT = 1000  # people on one registration: a whole school trip, not a typo of 99999999999
MAX_WINDOW = timedelta(hours=24)  # longer stays are given with from and until
EARLIEST, LATEST = 2000, 2099  # years a registration may name; others are typing mistakes


@dataclass(frozen=True)
class Registration:
    scope: str  # a camera, or a group of cameras
    valid_from: datetime
    valid_until: datetime
    count: int
    name: str = ""
    ref: str = ""  # ID card, visitor pass or badge number
    reason: str = ""
    source: RegistrationSource = RegistrationSource.GUARD
    origin: str = ""  # where it came from: "cli", "import visits.csv row 5", ...
    created_by: str = ""
    id: int | None = None  # set once stored

    def gap_s(self, ts: datetime) -> float:
        """Seconds from `ts` to the valid period; 0 inside it."""
        if seconds_between(ts, self.valid_from) < 0:
            return seconds_between(self.valid_from, ts)
        return max(0.0, seconds_between(ts, self.valid_until))

    @property
    def key(self) -> str:
        """Same content, same key: importing one export twice does not register anyone twice."""
        parts = (self.scope, self.valid_from.isoformat(), self.valid_until.isoformat(), str(self.count))
        text = "\x1f".join((*parts, self.name, self.ref, self.reason, self.source))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]

    def covers(self, camera: str, groups: Mapping[str, Iterable[str]]) -> bool:
        """Whether this registration is for `camera`, itself or through a group it belongs to."""
        return self.scope == camera or camera in groups.get(self.scope, ())

    def describe(self) -> str:
        who = self.name or self.ref or "unnamed"
        label = f"#{self.id} " if self.id is not None else ""
        return f"registration {label}({who}, {self.count} at {self.scope})"


def parse_time(text: str, tz: ZoneInfo) -> datetime:
    """ISO-like local times as access-control systems export them: 2026-11-28 22:30, 2026/11/28 22:30:05,
    with or without an offset; times without one are in the site's zone."""
    cleaned = text.strip().replace("/", "-")
    cleaned = re.sub(r"^(\d{4})-(\d{1,2})-(\d{1,2})", lambda m: f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}", cleaned)
    cleaned = re.sub(r"([ T])(\d):", r"\g<1>0\2:", cleaned)
    try:
        when = datetime.fromisoformat(cleaned)
    except ValueError:
        raise ValueError(f"{text!r} is not a time like 2026-11-28 22:30") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=tz)


def parse_duration(text: str) -> timedelta:
    """'90d', '12h', '30m', '45s', '2w' (or a bare number of seconds)."""
    match = re.fullmatch(r"\s*(\d{1,12}(?:\.\d+)?)\s*([smhdw]?)\s*", text)
    if not match:
        raise ValueError(f"{text!r} is not a duration like 90d, 12h, 30m or 45s")
    unit = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[match[2]]
    seconds = float(match[1]) * unit
    if seconds > 100 * 366 * 86400:
        raise ValueError(f"{text!r} is longer than a hundred years")
    return timedelta(seconds=seconds)


def _plausible(when: datetime, field: str) -> datetime:
    if not EARLIEST <= when.year <= LATEST:
        raise ValueError(f"{field} {when:%Y-%m-%d}: give a time between {EARLIEST} and {LATEST}")
    return when


def parse_registration(
    values: Mapping[str, str],
    tz: ZoneInfo,
    scopes: set[str],
    *,
    origin: str,
    created_by: str = "",
) -> Registration:
    """One registration from text fields (`FIELDS`); raises ValueError saying which field is wrong."""
    get = {k: (v or "").strip() for k, v in values.items()}
    if get.get("time"):
        if get.get("from") or get.get("until"):
            raise ValueError("give either time (with an optional window) or from and until, not both")
        at = _plausible(parse_time(get["time"], tz), "time")
        try:
            window = parse_duration(get["window"]) if get.get("window") else timedelta(0)
        except ValueError as exc:
            raise ValueError(f"window {exc}") from None
        if window > MAX_WINDOW:
            raise ValueError(f"window {get['window']!r} is over 24 hours; give from and until for longer")
        valid_from, valid_until = at - window, at + window
    elif get.get("from") and get.get("until"):
        if get.get("window"):
            raise ValueError("window goes with time, not with from and until")
        valid_from = _plausible(parse_time(get["from"], tz), "from")
        valid_until = _plausible(parse_time(get["until"], tz), "until")
        if seconds_between(valid_until, valid_from) < 0:
            raise ValueError(f"until {get['until']!r} is before from {get['from']!r}")
    else:
        raise ValueError("missing time: give time, or from and until")
    scope = get.get("camera", "")
    if scope not in scopes:
        raise ValueError(f"camera {scope!r} is not a camera or group of the config (have: {', '.join(sorted(scopes))})")
    count_text = get.get("count") or "1"
    if not re.fullmatch(r"[+-]?\d{1,12}", count_text.strip()):
        raise ValueError(f"count {count_text[:20]!r} is not a whole number up to {MAX_COUNT}")
    count = int(count_text)
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    if count > MAX_COUNT:
        raise ValueError(f"count {count} is more than {MAX_COUNT} people; split it, or check for a typo")
    source = member(RegistrationSource, get.get("source") or RegistrationSource.GUARD)
    if source is None:
        raise ValueError(f"source {get['source']!r} is not one of {choices(RegistrationSource)}")
    return Registration(
        scope=scope,
        valid_from=valid_from,
        valid_until=valid_until,
        count=count,
        name=get.get("name", ""),
        ref=get.get("ref", ""),
        reason=get.get("reason", ""),
        source=source,
        origin=origin,
        created_by=created_by,
    )


@dataclass(frozen=True)
class RowError:
    row: int  # as a spreadsheet numbers it: the header is row 1
    message: str


@dataclass(frozen=True)
class CsvRegistrations:
    good: list[Registration]
    bad: list[RowError]
    encoding: str


def read_registrations_csv(
    path: Path,
    tz: ZoneInfo,
    scopes: set[str],
    *,
    mapping: Mapping[str, str] | None = None,
    defaults: Mapping[str, str] | None = None,
    encoding: str = "auto",
    origin: str,
    created_by: str = "",
) -> CsvRegistrations:
    """Parse every row; bad rows are reported with their numbers, not raised, so the caller decides.

    `mapping` maps gatewatch fields to the file's column names (`time=刷卡时间`); unmapped fields
    are looked up under their own name. `defaults` fill fields the file does not have (a card
    reader export names no camera)."""
    mapping = dict(mapping or {})
    for field in mapping:
        if field not in FIELDS:
            raise InvalidInput("map", f"unknown field {field!r}; fields are {', '.join(FIELDS)}", f"{field}=...")
    text, used = _decode(path, encoding)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip() for name in next(reader, [])]
    except csv.Error as exc:
        raise GatewatchError(f"{path}: malformed CSV ({exc})") from None
    column = {field: mapping.get(field, field) for field in FIELDS}
    wanted = [mapping[f] for f in mapping]
    missing = [name for name in wanted if name not in header]
    has_time = column["time"] in header or (column["from"] in header and column["until"] in header)
    if not has_time and not (defaults or {}).get("time"):
        missing.append(column["time"] if "time" in mapping or "from" not in mapping else column["from"])
    if column["camera"] not in header and not (defaults or {}).get("camera"):
        missing.append(column["camera"])
    if missing:
        hint = " (is the encoding right? try --encoding utf-8 or gbk)" if encoding == "auto" else ""
        raise GatewatchError(
            f"{path}: missing column(s) {', '.join(dict.fromkeys(missing))}; the file has {', '.join(header) or 'none'}"
            f"{hint}. Map yours with --map field=column (fields: {', '.join(FIELDS)})"
        )
    if not mapping:
        unknown = [name for name in header if name not in FIELDS]
        if unknown:
            raise GatewatchError(
                f"{path}: unknown column(s) {', '.join(unknown)}; columns are {', '.join(FIELDS)} "
                "(or map others with --map field=column)"
            )
    good: list[Registration] = []
    bad: list[RowError] = []
    # Rows are read one at a time (not listed first): a year of card swipes is a million of them.
    position = {name: index for index, name in enumerate(header)}  # a repeated column: the last, as DictReader
    wanted_at = {field: position.get(column[field]) for field in FIELDS}
    number = 1
    try:
        for number, row in enumerate(reader, start=2):
            if not any(cell.strip() for cell in row):
                continue
            values = {f: row[i] if i is not None and i < len(row) else "" for f, i in wanted_at.items()}
            for field, value in (defaults or {}).items():
                values[field] = values[field] or value
            try:
                registration = parse_registration(
                    values, tz, scopes, origin=f"{origin} row {number}", created_by=created_by
                )
            except ValueError as exc:
                bad.append(RowError(number, str(exc)))
            else:
                good.append(registration)
    except csv.Error as exc:
        raise GatewatchError(f"{path}: malformed CSV after row {number} ({exc})") from None
    return CsvRegistrations(good, bad, used)


def _decode(path: Path, encoding: str) -> tuple[str, str]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise GatewatchError(f"{path}: registrations file not found") from None
    except OSError as exc:
        raise GatewatchError(f"{path}: cannot read ({exc.strerror})") from None
    names = ["utf-8", "gbk"] if encoding == "auto" else [encoding]
    for name in names:
        if name not in ENCODINGS:
            raise InvalidInput("encoding", f"use auto, {', '.join(ENCODINGS)}", name)
        try:
            text = data.decode(ENCODINGS[name])
        except UnicodeDecodeError as exc:
            if encoding != "auto":
                raise GatewatchError(
                    f"{path}: not {name.upper()} text (bad bytes at offset {exc.start}); try --encoding auto"
                ) from None
            continue
        if encoding == "auto" and name == "gbk":
            _refuse_mojibake(path, text)
        return text, name
    raise GatewatchError(f"{path}: neither UTF-8 nor GBK text; save the CSV as UTF-8 (or give --encoding latin-1)")


def _refuse_mojibake(path: Path, text: str) -> None:
    """GB18030 decodes almost any bytes, so a Latin-1 export ("Müller") would be stored as
    "M黮ler". Chinese text from a Windows export is mostly in GB2312's common characters; text
    mostly outside them was most likely another encoding."""
    wide = [c for c in text if ord(c) > 127]
    rare = [c for c in wide if not _in_gb2312(c)]
    if len(rare) >= 2 and len(rare) > len(wide) / 2:
        sample = next(line for line in text.splitlines() if any(c in rare for c in line)).strip()
        raise GatewatchError(
            f"{path}: as GBK this reads like garbled text ({sample[:40]!r}); say which encoding it is "
            f"with --encoding ({', '.join(ENCODINGS)}), or save it as UTF-8"
        )


def _in_gb2312(char: str) -> bool:
    try:
        char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


@dataclass
class _Left:
    registration: Registration
    left: int


class RegistrationBook:
    """Registrations with the entries each still covers."""

    def __init__(self, registrations: Iterable[tuple[Registration, int]], groups: Mapping[str, Iterable[str]]) -> None:
        """`registrations` pairs each registration with how many entries it still covers."""
        self._left = [_Left(registration, left) for registration, left in registrations]
        self.groups = {name: set(members) for name, members in groups.items()}

    def covers_camera(self, registration: Registration, camera: str) -> bool:
        return registration.covers(camera, self.groups)

    def take(self, camera: str, ts: datetime, window_s: float) -> Registration | None:
        """Use up one entry of the registration nearest in time (within the window), if any."""
        candidates = [
            entry
            for entry in self._left
            if entry.left > 0
            and self.covers_camera(entry.registration, camera)
            and entry.registration.gap_s(ts) <= window_s
        ]
        if not candidates:
            return None
        chosen = min(candidates, key=lambda entry: (entry.registration.gap_s(ts), entry.registration.valid_from))
        chosen.left -= 1
        return chosen.registration
