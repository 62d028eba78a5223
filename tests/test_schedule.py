"""Closed hours: overnight windows, weekdays, time zones and DST."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from pipeline.config import ScheduleConfig
from pipeline.schedule import Schedule

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")


def schedule(closed: list[str], days: list[str] | None = None, tz: ZoneInfo = SHANGHAI) -> Schedule:
    config = ScheduleConfig(closed=closed, days=days) if days is not None else ScheduleConfig(closed=closed)
    return Schedule("night", config, tz)


def at(text: str, tz: ZoneInfo = SHANGHAI) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=tz)


@pytest.mark.parametrize(
    ("time", "closed"),
    [
        ("2026-11-27T22:29:59", False),
        ("2026-11-27T22:30:00", True),
        ("2026-11-27T23:59:59", True),
        ("2026-11-28T00:00:00", True),
        ("2026-11-28T05:59:59", True),
        ("2026-11-28T06:00:00", False),
        ("2026-11-28T12:00:00", False),
    ],
)
def test_overnight_window_runs_across_midnight(time: str, closed: bool) -> None:
    assert (schedule(["22:30-06:00"]).closed_by(at(time)) is not None) is closed


def test_overnight_window_belongs_to_the_day_it_starts() -> None:
    weekdays = schedule(["22:30-06:00"], days=["mon", "tue", "wed", "thu", "fri"])
    # 2026-11-27 is a Friday: Friday night covers Saturday 02:00.
    assert weekdays.closed_by(at("2026-11-28T02:00:00")) == "fri 22:30-06:00"
    # Saturday night is not in the schedule, so Sunday 02:00 is open.
    assert weekdays.closed_by(at("2026-11-29T02:00:00")) is None
    assert weekdays.closed_by(at("2026-11-28T23:00:00")) is None
    # Sunday is not listed, but Monday 02:00 belongs to Sunday night: open.
    assert weekdays.closed_by(at("2026-11-30T02:00:00")) is None
    assert weekdays.closed_by(at("2026-11-30T23:00:00")) == "mon 22:30-06:00"


def test_several_windows_and_same_day_window() -> None:
    lunch_and_night = schedule(["12:00-13:30", "22:00-05:00"])
    assert lunch_and_night.closed_by(at("2026-11-28T12:30:00")) == "sat 12:00-13:30"
    assert lunch_and_night.closed_by(at("2026-11-28T13:30:00")) is None


def test_instants_are_judged_in_the_site_zone() -> None:
    # 15:00 UTC is 23:00 in Shanghai.
    assert schedule(["22:30-06:00"]).closed_by(datetime(2026, 11, 28, 15, 0, tzinfo=UTC)) is not None
    assert schedule(["22:30-06:00"]).closed_by(datetime(2026, 11, 28, 13, 0, tzinfo=UTC)) is None


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        schedule(["22:30-06:00"]).closed_by(datetime(2026, 11, 28, 23, 0))


def test_wall_clock_windows_hold_across_dst_changes() -> None:
    night = schedule(["22:30-06:00"], tz=NEW_YORK)
    # 2026-03-08: clocks jump 02:00 -> 03:00 in New York. 05:30 EDT is still before 06:00 local.
    assert night.closed_by(datetime(2026, 3, 8, 9, 30, tzinfo=UTC)) is not None  # 05:30 EDT
    assert night.closed_by(datetime(2026, 3, 8, 10, 30, tzinfo=UTC)) is None  # 06:30 EDT
    # 2026-11-01: clocks fall back 02:00 -> 01:00. 06:00 local is 11:00 UTC (EST).
    assert night.closed_by(datetime(2026, 11, 1, 10, 59, tzinfo=UTC)) is not None  # 05:59 EST
    assert night.closed_by(datetime(2026, 11, 1, 11, 0, tzinfo=UTC)) is None  # 06:00 EST


def test_all_day_window() -> None:
    holiday = schedule(["00:00-24:00"])
    assert holiday.closed_by(at("2026-11-28T12:00:00")) is not None
    assert holiday.closed_by(at("2026-11-28T00:00:00")) is not None
