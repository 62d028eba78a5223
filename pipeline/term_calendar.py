"""The national calendar a school's term follows where the site is in mainland China: statutory
holidays (the campus is closed all day) and the weekend days made working days to make up for
them (调休上班: the school runs as on a weekday), from PyPI's `chinese-calendar`, which follows
the State Council's yearly notice.

A schedule uses it unless it says `calendar: none`; the school's own `exceptions` win over it
(a boarding school open on a holiday says so). A year the library has no data for yet (the
notice comes out each November) is no holiday at all: `gatewatch schedule` says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

import chinese_calendar

CalendarName = Literal["china", "none"]
# Mainland zones: Hong Kong, Macau and Taiwan keep other holidays.
MAINLAND_ZONES = frozenset(
    {"Asia/Shanghai", "Asia/Chongqing", "Asia/Chungking", "Asia/Harbin", "Asia/Urumqi", "Asia/Kashgar", "PRC"}
)
_HOLIDAYS = chinese_calendar.constants.holidays
_WORKDAYS = chinese_calendar.constants.workdays
FIRST_YEAR, LAST_YEAR = min(_HOLIDAYS).year, max(_HOLIDAYS).year


@dataclass(frozen=True)
class NationalDay:
    """One date the national calendar changes: a holiday, or a weekend day worked in lieu."""

    holiday: bool  # False: a make-up working day
    name: str  # both languages (a reason is read in either): "国庆节 National Day"


def default_calendar(timezone: str) -> CalendarName:
    return "china" if timezone in MAINLAND_ZONES else "none"


def covers(year: int) -> bool:
    return FIRST_YEAR <= year <= LAST_YEAR


def national_day(calendar: CalendarName, day: date) -> NationalDay | None:
    """What the calendar says of `day`: None for an ordinary day (or a year it has no data for)."""
    if calendar == "none" or not covers(day.year):
        return None
    if day in _HOLIDAYS:
        return NationalDay(True, _name(_HOLIDAYS[day]))
    if day in _WORKDAYS and day.weekday() >= 5:
        return NationalDay(False, f"调休上班 make-up workday ({_name(_WORKDAYS[day])})")
    return None


def _name(english: str) -> str:
    chinese = chinese_calendar.Holiday(english).chinese
    return f"{chinese} {english}"
