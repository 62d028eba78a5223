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


def term(**extra: object) -> Schedule:
    """School term: weekday nights and lunch, weekends closed all day, with dated exceptions."""
    config = ScheduleConfig.model_validate(
        {
            "periods": [
                {"days": ["mon", "tue", "wed", "thu"], "closed": ["12:00-13:30", "22:30-06:00"]},
                {"days": ["fri"], "closed": ["22:30-24:00"]},
                {"days": ["sat", "sun"], "closed": ["00:00-24:00"]},
            ],
            **extra,
        }
    )
    return Schedule("term", config, SHANGHAI)


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
    assert str(weekdays.closed_by(at("2026-11-28T02:00:00"))) == "2026-11-27 22:30-06:00"
    # Saturday night is not in the schedule, so Sunday 02:00 is open.
    assert weekdays.closed_by(at("2026-11-29T02:00:00")) is None
    assert weekdays.closed_by(at("2026-11-28T23:00:00")) is None
    # Sunday is not listed, but Monday 02:00 belongs to Sunday night: open.
    assert weekdays.closed_by(at("2026-11-30T02:00:00")) is None
    assert str(weekdays.closed_by(at("2026-11-30T23:00:00"))) == "2026-11-30 22:30-06:00"


def test_several_windows_and_same_day_window() -> None:
    lunch_and_night = schedule(["12:00-13:30", "22:00-05:00"])
    assert str(lunch_and_night.closed_by(at("2026-11-28T12:30:00"))) == "2026-11-28 12:00-13:30"
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


def test_periods_give_each_weekday_its_own_windows() -> None:
    school = term()
    assert str(school.closed_by(at("2026-11-26T12:30:00"))) == "2026-11-26 12:00-13:30"
    assert school.closed_by(at("2026-11-27T12:30:00")) is None  # no lunch closing on Fridays
    assert str(school.closed_by(at("2026-11-27T23:00:00"))) == "2026-11-27 22:30-24:00"
    assert str(school.closed_by(at("2026-11-28T15:00:00"))) == "2026-11-28 00:00-24:00"
    # Thursday night runs into Friday morning.
    assert str(school.closed_by(at("2026-11-27T05:00:00"))) == "2026-11-26 22:30-06:00"


EXCEPTIONS = [
    {"name": "Christmas", "date": "2026-12-25", "closed": "all day"},
    {"name": "winter break", "from": "2027-01-20", "until": "2027-02-20", "closed": "all day"},
    {"name": "exam day", "date": "2026-12-24", "closed": ["06:00-07:30", "17:00-24:00"]},
    {"name": "open day", "date": "2026-12-28", "closed": []},
]


def test_holiday_closes_all_day() -> None:
    reason = term(exceptions=EXCEPTIONS).closed_by(at("2026-12-25T10:00:00"))
    assert str(reason) == "2026-12-25 00:00-24:00 (Christmas)"


def test_term_break_range_closes_every_day_of_it_inclusive() -> None:
    school = term(exceptions=EXCEPTIONS)
    for day in ("2027-01-20", "2027-02-03", "2027-02-20"):
        assert school.closed_by(at(f"{day}T10:00:00")).plan.exception == "winter break"
    assert school.closed_by(at("2027-02-22T10:00:00")) is None  # a Monday after the break


def test_exam_day_replaces_the_usual_windows_of_its_day() -> None:
    school = term(exceptions=EXCEPTIONS)
    assert school.closed_by(at("2026-12-24T12:30:00")) is None  # usual Thursday lunch closing is off
    assert str(school.closed_by(at("2026-12-24T23:30:00"))) == "2026-12-24 17:00-24:00 (exam day)"
    # The night before (Wednesday 22:30-06:00) still runs until 06:00 of the exam day...
    assert str(school.closed_by(at("2026-12-24T05:00:00"))) == "2026-12-23 22:30-06:00"
    # ...and the exam day's own window starts at 06:00.
    assert school.closed_by(at("2026-12-24T07:00:00")).plan.exception == "exam day"


def test_exception_can_open_a_day_that_is_usually_closed() -> None:
    school = term(exceptions=EXCEPTIONS)
    assert school.closed_by(at("2026-12-28T10:00:00")) is None  # Monday: open day
    assert (
        school.plan(datetime(2026, 12, 28).date()).describe()
        == "mon 2026-12-28: none (open all day) (exception 'open day')"
    )


@pytest.mark.parametrize(
    ("schedule_config", "message"),
    [
        ({"closed": ["22:30-06:00", "05:00-07:00"]}, "windows 22:30-06:00 and 05:00-07:00 overlap"),
        ({"closed": ["12:00-14:00", "13:00-15:00"]}, "overlap"),
        ({"closed": ["25:00-06:00"]}, "not a time of day"),
        ({"closed": ["22:30"]}, "not a time range"),
        ({"closed": ["22:30-06:00"], "periods": [{"days": ["mon"], "closed": []}]}, "either `closed`"),
        ({"periods": [{"days": ["mon"], "closed": []}, {"days": ["mon"], "closed": []}]}, "mon is also in period 0"),
        ({"closed": ["22:30-06:00"], "exceptions": [{"name": "x", "date": "24/12/2026", "closed": []}]}, "date"),
        (
            {
                "closed": ["22:30-06:00"],
                "exceptions": [{"name": "x", "from": "2027-02-01", "until": "2027-01-01", "closed": []}],
            },
            "until: 2027-01-01 is before from 2027-02-01",
        ),
        (
            {
                "closed": ["22:30-06:00"],
                "exceptions": [
                    {"name": "a", "from": "2027-01-01", "until": "2027-01-10", "closed": "all day"},
                    {"name": "b", "date": "2027-01-05", "closed": "all day"},
                ],
            },
            "overlaps exceptions.0",
        ),
        ({"closed": ["22:30-06:00"], "exceptions": [{"name": "x", "closed": []}]}, "give `date`"),
        (
            {"closed": ["22:30-06:00"], "exceptions": [{"name": "x", "date": "2027-01-01", "closed": "closed"}]},
            "closed",
        ),
    ],
)
def test_invalid_schedules_are_refused(schedule_config: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ScheduleConfig.model_validate(schedule_config)


def test_chinas_holidays_and_make_up_workdays_are_the_default_term_calendar() -> None:
    """Issue 23.4: a site in mainland China follows the State Council's calendar (chinese-calendar)
    unless the school says otherwise; its own exceptions win."""
    school = term()
    assert school.calendar == "china"
    # National Day, a Thursday: closed all day, named in both languages
    holiday = school.closed_by(at("2026-10-01T10:00:00"))
    assert holiday is not None and holiday.plan.national and holiday.plan.exception == "国庆节 National Day"
    assert str(holiday) == "2026-10-01 00:00-24:00 (国庆节 National Day)"
    # Saturday 14 February 2026 is worked in lieu of the Spring Festival: Monday's hours, not the weekend's
    assert school.closed_by(at("2026-02-14T10:00:00")) is None
    lunch = school.closed_by(at("2026-02-14T12:30:00"))
    assert lunch is not None and "调休上班" in (lunch.plan.exception or "")
    assert school.closed_by(at("2026-02-15T10:00:00")) is not None  # the Sunday after is a weekend again
    # The school's own exception wins: a boarding school open on National Day
    open_on_the_day = term(exceptions=[{"name": "boarders return", "date": "2026-10-01", "closed": []}])
    assert open_on_the_day.closed_by(at("2026-10-01T10:00:00")) is None
    # `calendar: none`, or a site outside mainland China: the weekday's own hours
    assert term(calendar="none").closed_by(at("2026-10-01T10:00:00")) is None
    overseas = Schedule("term", ScheduleConfig(closed=["22:30-06:00"]), ZoneInfo("Asia/Hong_Kong"))
    assert overseas.calendar == "none" and overseas.closed_by(at("2026-10-01T10:00:00")) is None
    # A year the library has no data for yet: no holiday is made up
    assert school.plan(datetime(2031, 10, 1).date()).exception is None
