"""Rules: crossing + schedule + registrations -> flagged or not, and why.

Only crossings of a rule's line or zone, in one of its directions, by a track old enough and
moved far enough, while its schedule is closed are candidates. A rule that requires
registration then looks for a registration of that camera (or its group) within its window;
finding one clears the crossing and uses up one of the registration's people. Everything else
is kept (stored) but not flagged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pipeline.config import Config
from pipeline.records import Crossing, Decision
from pipeline.registrations import Registration
from pipeline.schedule import Schedule
from pipeline.vocabulary import EventKind


class Registrations(Protocol):
    """Where an entry finds its registration: a book loaded for one video, or the live database."""

    def take(self, camera: str, ts: datetime, window_s: float) -> Registration | None: ...


class RuleEngine:
    def __init__(self, config: Config, book: Registrations) -> None:
        self.rules = config.rules
        self.schedules = {name: Schedule(name, s, config.tz) for name, s in config.schedules.items()}
        self.book = book

    def decide(self, crossing: Crossing) -> Decision:
        reason = "no rule for this line and direction"
        for rule in self.rules:
            if (rule.camera, rule.target) != (crossing.camera, crossing.line):
                continue
            if crossing.direction not in rule.directions:
                continue
            if crossing.track_age_s < rule.min_track_age_s:
                reason = f"track seen for {crossing.track_age_s:.1f} s, rule needs {rule.min_track_age_s:g} s"
                continue
            if crossing.travel_px < rule.min_displacement_px:
                reason = f"moved {crossing.travel_px:.0f} px, rule needs {rule.min_displacement_px:g} px"
                continue
            closed = self.schedules[rule.schedule].closed_by(crossing.ts)
            if closed is None:
                reason = f"schedule {rule.schedule!r} open"
                continue
            kind = EventKind.of(crossing.direction, needs_registration=rule.require_registration)
            if not rule.require_registration:
                return Decision(crossing, True, kind, f"closed ({closed})", closed=str(closed))
            registration = self.book.take(crossing.camera, crossing.ts, rule.window)
            if registration is not None:
                return Decision(
                    crossing,
                    False,
                    None,
                    f"closed ({closed}), covered by {registration.describe()}",
                    registration.id,
                    closed=str(closed),
                )
            return Decision(
                crossing,
                True,
                kind,
                f"closed ({closed}), no registration within {rule.window:g} s",
                closed=str(closed),
            )
        return Decision(crossing, False, None, reason)
