"""When a recording started, in wall-clock time: the flag, the NVR's file name, or the container.

A crossing's time decides whether the gate was closed, so a guessed time is worse than none:
if nothing says when the video started, the user is told to pass --start.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from pipeline.errors import GatewatchError, InvalidInput

# Tried in order on the file name. Times in file names are the recorder's local time.
FILENAME_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    # Dahua: 2026-11-28.23.00.00-2026-11-28.23.30.00[M][0@0][0].dav
    ("Dahua", re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})\.(\d{2})\.(\d{2})\.(\d{2})(?!\d)")),
    # ISO-like: 2026-11-28T23-00-00, 2026-11-28_23:00:00, 2026-11-28 230000
    ("ISO-like", re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})[T _](\d{2})[-:.]?(\d{2})[-:.]?(\d{2})(?!\d)")),
    # Hikvision and most exports: ch01_20261128230000, 20261128_230000, 20261128T230000
    ("compact", re.compile(r"(?<!\d)(20\d{2})(\d{2})(\d{2})[T_-]?(\d{2})(\d{2})(\d{2})(?!\d)")),
]


def parse_start_flag(text: str, tz: ZoneInfo) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput("start", "not an ISO 8601 time; write it like 2026-11-28T23:00:00+08:00", text) from None
    return value if value.tzinfo else value.replace(tzinfo=tz)


def start_from_filename(path: Path, tz: ZoneInfo) -> datetime | None:
    for _, pattern in FILENAME_PATTERNS:
        match = pattern.search(path.name)
        if match:
            try:
                return datetime(*(int(g) for g in match.groups()), tzinfo=tz)  # type: ignore[misc]
            except ValueError:
                continue  # digits that look like a time but are not one (month 13, ...)
    return None


def start_from_metadata(path: Path) -> datetime | None:
    """`creation_time` from the container (UTC by the MP4/MOV convention), read with PyAV."""
    import av

    try:
        with av.open(str(path)) as container:
            tags = dict(container.metadata)
            for stream in container.streams:
                tags.setdefault("creation_time", stream.metadata.get("creation_time", ""))
    except (av.FFmpegError, OSError):
        return None
    text = tags.get("creation_time", "").strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        return None
    # Cameras with no clock set write the epoch or 1904 (the MP4 zero); those are not times.
    return value if value.year >= 2000 else None


def recording_start(path: Path, start: str | None, tz: ZoneInfo) -> tuple[datetime, str]:
    """The start time in the site's zone, and where it came from (shown in the summary)."""
    if start is not None:
        return parse_start_flag(start, tz).astimezone(tz), "--start"
    found = start_from_filename(path, tz)
    if found is not None:
        return found, "file name"
    found = start_from_metadata(path)
    if found is not None:
        return found.astimezone(tz), "container metadata"
    raise GatewatchError(
        f"{path}: cannot tell when this recording started (no time in the file name or metadata); "
        "pass --start, e.g. --start 2026-11-28T23:00:00+08:00"
    )
