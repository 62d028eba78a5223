"""Registrations (visitor book, card swipes, guard authorisations) and matching entries to them.

A registration says "N people may come through this camera's gate around this time". Each
matched entry uses up one of the N, so one visitor pass cannot excuse a whole group.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from pipeline.errors import GatewatchError
from pipeline.records import seconds_between

REQUIRED_COLUMNS = ("time", "camera", "count")
OPTIONAL_COLUMNS = ("name", "note")


@dataclass(frozen=True)
class Registration:
    id: str
    time: datetime
    camera: str
    count: int
    name: str
    note: str


def load_registrations_csv(path: Path, tz: ZoneInfo, cameras: set[str]) -> list[Registration]:
    """All rows or nothing: a bad row stops the load with its row number (header is row 1)."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [name.strip() for name in reader.fieldnames or []]
            missing = [c for c in REQUIRED_COLUMNS if c not in header]
            if missing:
                raise GatewatchError(
                    f"{path}: missing column(s) {', '.join(missing)}; the header must name "
                    f"{', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)}"
                )
            unknown = [c for c in header if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
            if unknown:
                raise GatewatchError(f"{path}: unknown column(s) {', '.join(unknown)}")
            rows = [
                _parse_row(path, number, {k.strip(): (v or "").strip() for k, v in row.items() if k}, tz, cameras)
                for number, row in enumerate(reader, start=2)
                if any((v or "").strip() for v in row.values() if isinstance(v, str))
            ]
    except FileNotFoundError:
        raise GatewatchError(f"{path}: registrations file not found") from None
    except UnicodeDecodeError:
        raise GatewatchError(f"{path}: not UTF-8 text; save the CSV as UTF-8") from None
    except csv.Error as exc:
        raise GatewatchError(f"{path}: malformed CSV ({exc})") from None
    except OSError as exc:
        raise GatewatchError(f"{path}: cannot read ({exc.strerror})") from None
    return rows


def _parse_row(path: Path, number: int, row: dict[str, str], tz: ZoneInfo, cameras: set[str]) -> Registration:
    where = f"{path}: row {number}"
    try:
        when = datetime.fromisoformat(row["time"])
    except ValueError:
        raise GatewatchError(f"{where}: time {row['time']!r} is not an ISO time like 2026-11-28 23:05") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=tz)
    camera = row["camera"]
    if camera not in cameras:
        raise GatewatchError(f"{where}: unknown camera {camera!r} (have: {', '.join(sorted(cameras))})")
    try:
        count = int(row["count"])
    except ValueError:
        raise GatewatchError(f"{where}: count {row['count']!r} is not a whole number") from None
    if count < 1:
        raise GatewatchError(f"{where}: count must be at least 1, got {count}")
    return Registration(
        id=f"{path.name}:{number}",
        time=when,
        camera=camera,
        count=count,
        name=row.get("name", ""),
        note=row.get("note", ""),
    )


class RegistrationBook:
    """Registrations with the entries each still covers."""

    def __init__(self, registrations: list[Registration]) -> None:
        self.registrations = registrations
        self.remaining = {r.id: r.count for r in registrations}

    def take(self, camera: str, ts: datetime, window_s: float) -> Registration | None:
        """Use up one entry of the registration nearest in time within the window, if any."""
        candidates = [
            r
            for r in self.registrations
            if r.camera == camera and self.remaining[r.id] > 0 and abs(seconds_between(r.time, ts)) <= window_s
        ]
        if not candidates:
            return None
        chosen = min(candidates, key=lambda r: abs(seconds_between(r.time, ts)))
        self.remaining[chosen.id] -= 1
        return chosen
