"""Registrations from text: every way in (the guard's command line, the web form, a CSV export,
the config's CSV) goes through `parse_registration`, so every way in checks the same things."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from pipeline.errors import BadValue
from pipeline.records import seconds_between
from pipeline.registrations.model import Registration
from pipeline.vocabulary import MessageCode, RegistrationSource, choices, member
from pipeline.wording import Message

FIELDS = ("time", "from", "until", "window", "camera", "count", "name", "ref", "reason", "source")
MAX_COUNT = 1000  # people on one registration: a whole school trip, not a typo of 99999999999
MAX_WINDOW = timedelta(hours=24)  # longer stays are given with from and until
EARLIEST, LATEST = 2000, 2099  # years a registration may name; others are typing mistakes


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
        values = {"field": field, "day": when.date().isoformat(), "earliest": str(EARLIEST), "latest": str(LATEST)}
        raise BadValue(Message(MessageCode.TIME_RANGE, values))
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
            raise BadValue(Message(MessageCode.LONG_WINDOW, {"value": get["window"]}))
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
        raise BadValue(Message(MessageCode.NO_SCOPE, {"scope": scope, "have": ", ".join(sorted(scopes))}))
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
