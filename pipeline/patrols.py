"""Patrol rounds against the plan: which rounds were due on a night, which a guard recorded, and
which are overdue now (the console reminds), counted per night in the monthly report.

A night is named by the date it starts on (the 22:00 round of 5 December and the 04:00 round of
6 December are both the night of 5 December). A due round counts as done when a round was
recorded from its time until the next one is due; one recorded round does one due round.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from pipeline.config.patrols import PatrolConfig


@dataclass(frozen=True)
class DueRound:
    at: datetime
    done_by: int | None  # the recorded round's id
    overdue: bool  # not done, and past its grace time


class PatrolPlan:
    def __init__(self, config: PatrolConfig, tz: ZoneInfo) -> None:
        self.config = config
        self.tz = tz
        self.every = timedelta(hours=config.every_h)
        self.grace = timedelta(minutes=config.grace_min)

    def due(self, night: date) -> list[datetime]:
        """The times rounds are due on the night that starts on `night`, in the site's clock."""
        start = datetime.combine(night, self.config.start, self.tz)
        end_day = night if self.config.until > self.config.start else night + timedelta(days=1)
        end = datetime.combine(end_day, self.config.until, self.tz)
        times, at = [], start
        while at < end:
            times.append(at)
            # wall-clock steps: a DST change moves the clock, not the plan
            at = (at.replace(tzinfo=None) + self.every).replace(tzinfo=self.tz)
        return times

    def night_of(self, moment: datetime) -> date:
        """The night a moment belongs to: before the day's first round, the previous one's."""
        local = moment.astimezone(self.tz)
        return local.date() if local.time() >= self.config.start else local.date() - timedelta(days=1)

    def span(self, night: date) -> tuple[datetime, datetime]:
        """From the night's first due round to the next night's: where its rounds are looked for."""
        start = datetime.combine(night, self.config.start, self.tz)
        return start, datetime.combine(night + timedelta(days=1), self.config.start, self.tz)

    def rounds_due(self, night: date, recorded: list[tuple[int, datetime]], now: datetime) -> list[DueRound]:
        """Each due round of the night, done by which recorded (id, time) round, or overdue at `now`."""
        left = sorted(recorded, key=lambda r: r[1])
        rounds = []
        for at in self.due(night):
            done = next((r for r in left if at <= r[1] < at + self.every), None)
            if done is not None:
                left.remove(done)
            rounds.append(DueRound(at, done[0] if done else None, done is None and now >= at + self.grace))
        return rounds
