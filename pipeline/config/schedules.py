"""Closed-hours schedules as the file gives them: the short form, per-weekday periods, dated exceptions.

Each window text is parsed here, once, into a `ClosedWindow`; what the windows mean (which one
closes the gate at an instant) is `pipeline.schedule`'s business.
"""

from __future__ import annotations

from datetime import date
from itertools import pairwise
from typing import Annotated, Literal

from pydantic import BeforeValidator, ConfigDict, Field, model_validator

from pipeline.config.base import Section
from pipeline.schedule import ALL_DAY, ClosedWindow, Weekday, check_no_overlap, parse_window
from pipeline.term_calendar import CalendarName


def _window(value: object) -> ClosedWindow:
    if isinstance(value, ClosedWindow):
        return value
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a time range like '22:30-06:00'")
    return parse_window(value)


Window = Annotated[ClosedWindow, BeforeValidator(_window)]


class PeriodConfig(Section):
    days: list[Weekday] = Field(min_length=1, description="weekdays on which these windows start")
    closed: list[Window] = Field(description="closed windows on those days, e.g. ['12:00-13:30', '22:30-06:00']")

    @model_validator(mode="after")
    def _no_overlap(self) -> PeriodConfig:
        check_no_overlap(self.closed)
        return self


class ExceptionConfig(Section):
    """A dated exception: holidays and term breaks (`closed: all day`) or days with special hours."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str = Field(description="shown as the reason, e.g. 'National Day' or 'exam week'")
    day: date | None = Field(None, alias="date", description="one day, YYYY-MM-DD")
    from_: date | None = Field(None, alias="from", description="first day of a range, YYYY-MM-DD")
    until: date | None = Field(None, description="last day of a range (inclusive), YYYY-MM-DD")
    closed: Literal["all day"] | list[Window] = Field(
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
            check_no_overlap(self.closed)
        return self

    @property
    def first(self) -> date:
        return self.day or self.from_  # type: ignore[return-value]

    @property
    def last(self) -> date:
        return self.day or self.until  # type: ignore[return-value]


class ScheduleConfig(Section):
    """Either the short form (`closed` + `days`) or `periods` for hours that differ by weekday."""

    closed: list[Window] | None = Field(None, description="closed periods, e.g. ['22:30-06:00']")
    days: list[Weekday] | None = Field(
        None, description="weekdays on which the `closed` periods start (default: every day)"
    )
    periods: list[PeriodConfig] | None = Field(None, description="per-weekday windows, instead of closed + days")
    exceptions: list[ExceptionConfig] = Field(
        default_factory=list, description="dated exceptions; they win over the national calendar"
    )
    calendar: CalendarName | None = Field(
        None,
        description="china: statutory holidays closed all day, make-up workdays with Monday's hours "
        "(chinese-calendar); none: neither; unset: china for a site in mainland China's time zones",
    )

    @model_validator(mode="after")
    def _consistent(self) -> ScheduleConfig:
        if (self.closed is None) == (self.periods is None):
            raise ValueError("give either `closed` (with optional `days`) or `periods`")
        if self.periods is not None and self.days is not None:
            raise ValueError("days: with `periods`, put the days inside each period")
        if self.closed is not None:
            check_no_overlap(self.closed)
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
