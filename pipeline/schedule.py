"""Closed hours: is the gate closed at a given instant, and by which window or exception.

Windows are local wall-clock times in the site's zone, so a 22:30 closing stays 22:30 across a
DST change. A window belongs to the day it starts on: "Friday 22:30-06:00" covers Saturday
02:00 even if Saturday has no windows of its own, and a dated exception replaces the windows
that *start* on its days (so special hours on an exam day do not cut short the night before).

The config (`config/schedules.py`) checks the file's shape and parses each window once into a
`ClosedWindow`; the decisions (weekly table, exceptions, which window is closing) are here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from pipeline.term_calendar import default_calendar, national_day

if TYPE_CHECKING:
    from pipeline.config import ScheduleConfig

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALL_DAY = "all day"

_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class ClosedWindow:
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


WHOLE_DAY = parse_window("00:00-24:00")


def check_no_overlap(windows: Sequence[ClosedWindow]) -> None:
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


def weekly_table(periods: Iterable[tuple[Iterable[Weekday], list[ClosedWindow]]]) -> dict[int, list[ClosedWindow]]:
    """Windows by weekday (0 = Monday) from (days, windows) pairs; days no pair names are open."""
    table: dict[int, list[ClosedWindow]] = {i: [] for i in range(7)}
    for days, windows in periods:
        for day in days:
            table[WEEKDAYS.index(day)] = list(windows)
    return table


@dataclass(frozen=True)
class DayPlan:
    """The windows that start on one date, and the exception that set them, if any."""

    day: date
    windows: list[ClosedWindow]
    exception: str | None
    national: bool = False  # the exception is the national calendar's (a holiday, a make-up workday)

    @property
    def source(self) -> str:
        if self.exception is None:
            return "regular hours"
        return f"{'national calendar' if self.national else 'exception'} {self.exception!r}"

    def describe(self) -> str:
        windows = ", ".join(str(w) for w in self.windows) or "none (open all day)"
        return f"{WEEKDAYS[self.day.weekday()]} {self.day}: {windows} ({self.source})"


@dataclass(frozen=True)
class ClosedReason:
    plan: DayPlan
    window: ClosedWindow

    def __str__(self) -> str:
        """Stored in reasons and read in either language: the date says the day, with no weekday
        spelled in English inside a Chinese sentence."""
        text = f"{self.plan.day} {self.window}"
        return text + (f" ({self.plan.exception})" if self.plan.exception else "")


def _all_day(regular: list[ClosedWindow]) -> list[ClosedWindow]:
    """Closed all day; the day's own overnight window still runs into the next morning: the last
    day of a break must not leave the gate open from midnight to 06:00."""
    return [WHOLE_DAY, *(w for w in regular if w.overnight)]


class Schedule:
    """One named schedule of the config, ready to answer "closed at this instant?"."""

    def __init__(self, name: str, config: ScheduleConfig, tz: ZoneInfo) -> None:
        self.name = name
        self.tz = tz
        if config.periods is not None:
            self.weekly = weekly_table((period.days, period.closed) for period in config.periods)
        else:
            self.weekly = weekly_table([(config.days or WEEKDAYS, config.closed or [])])
        self.exceptions = config.exceptions
        self.calendar = config.calendar or default_calendar(tz.key)

    def plan(self, day: date) -> DayPlan:
        """The school's own exception, else the national calendar's holiday or make-up workday
        (which runs on Monday's hours), else the weekday's regular hours."""
        regular = self.weekly[day.weekday()]
        exception = next((e for e in self.exceptions if e.first <= day <= e.last), None)
        if exception is None:
            national = national_day(self.calendar, day)
            if national is None:
                return DayPlan(day, regular, None)
            windows = _all_day(regular) if national.holiday else list(self.weekly[0])
            return DayPlan(day, windows, national.name, national=True)
        if exception.closed == ALL_DAY:
            return DayPlan(day, _all_day(regular), exception.name)
        return DayPlan(day, list(exception.closed), exception.name)

    def closed_by(self, ts: datetime) -> ClosedReason | None:
        """The window that has the gate closed at `ts`, or None if it is open."""
        if ts.tzinfo is None:
            raise ValueError("schedule times must be timezone-aware")
        local = ts.astimezone(self.tz)
        now = local.time()
        today = self.plan(local.date())
        for window in today.windows:
            if (window.overnight and now >= window.start) or (window.start <= now < window.end):
                return ClosedReason(today, window)
        yesterday = self.plan(local.date() - timedelta(days=1))
        for window in yesterday.windows:
            if window.overnight and now < window.end:
                return ClosedReason(yesterday, window)
        return None
