"""Closed hours: is the gate closed at a given instant, and by which window.

Windows are local wall-clock times in the site's zone, so a 22:30 closing stays 22:30 across a
DST change. A window that runs past midnight belongs to the day it starts on: "Friday
22:30-06:00" covers Saturday 02:00 even if Saturday is not in `days`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from pipeline.config import WEEKDAYS, ScheduleConfig


class Schedule:
    def __init__(self, name: str, config: ScheduleConfig, tz: ZoneInfo) -> None:
        self.name = name
        self.windows = config.windows
        self.days = {WEEKDAYS.index(day) for day in config.days}
        self.tz = tz

    def closed_by(self, ts: datetime) -> str | None:
        """The window (e.g. 'fri 22:30-06:00') that has the gate closed at `ts`, or None if open."""
        if ts.tzinfo is None:
            raise ValueError("schedule times must be timezone-aware")
        local = ts.astimezone(self.tz)
        today = local.weekday()
        yesterday = (local - timedelta(days=1)).weekday()
        now = local.time()
        for window in self.windows:
            if window.overnight:
                if today in self.days and now >= window.start:
                    return f"{WEEKDAYS[today]} {window}"
                if yesterday in self.days and now < window.end:
                    return f"{WEEKDAYS[yesterday]} {window}"
            elif today in self.days and window.start <= now < window.end:
                return f"{WEEKDAYS[today]} {window}"
        return None
