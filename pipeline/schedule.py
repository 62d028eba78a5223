"""Closed hours: is the gate closed at a given instant, and by which window or exception.

Windows are local wall-clock times in the site's zone, so a 22:30 closing stays 22:30 across a
DST change. A window belongs to the day it starts on: "Friday 22:30-06:00" covers Saturday
02:00 even if Saturday has no windows of its own, and a dated exception replaces the windows
that *start* on its days (so special hours on an exam day do not cut short the night before).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from pipeline.config import ALL_DAY, WEEKDAYS, ClosedWindow, ScheduleConfig


@dataclass(frozen=True)
class DayPlan:
    """The windows that start on one date, and the exception that set them, if any."""

    day: date
    windows: list[ClosedWindow]
    exception: str | None

    def describe(self) -> str:
        windows = ", ".join(str(w) for w in self.windows) or "none (open all day)"
        source = f"exception {self.exception!r}" if self.exception else "regular hours"
        return f"{WEEKDAYS[self.day.weekday()]} {self.day}: {windows} ({source})"


@dataclass(frozen=True)
class ClosedReason:
    plan: DayPlan
    window: ClosedWindow

    def __str__(self) -> str:
        text = f"{WEEKDAYS[self.plan.day.weekday()]} {self.plan.day} {self.window}"
        return text + (f" ({self.plan.exception})" if self.plan.exception else "")


class Schedule:
    def __init__(self, name: str, config: ScheduleConfig, tz: ZoneInfo) -> None:
        self.name = name
        self.config = config
        self.weekly = config.weekly()
        self.tz = tz

    def plan(self, day: date) -> DayPlan:
        regular = self.weekly[day.weekday()]
        exception = self.config.exception_on(day)
        if exception is None:
            return DayPlan(day, regular, None)
        if exception.closed == ALL_DAY:
            # The day's own overnight window still runs into the next morning: the last day of a
            # break must not leave the gate open from midnight to 06:00.
            return DayPlan(day, exception.windows + [w for w in regular if w.overnight], exception.name)
        return DayPlan(day, exception.windows, exception.name)

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
