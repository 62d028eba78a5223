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
from pipeline.vocabulary import EventKind, MessageCode
from pipeline.wording import Message, number


class Registrations(Protocol):
    """Where an entry finds its registration: a book loaded for one video, or the live database."""

    def take(self, camera: str, ts: datetime, window_s: float) -> Registration | None: ...


class RuleEngine:
    def __init__(self, config: Config, book: Registrations) -> None:
        self.rules = config.rules
        self.schedules = {name: Schedule(name, s, config.tz) for name, s in config.schedules.items()}
        self.book = book

    def decide(self, crossing: Crossing) -> Decision:
        reason = Message(MessageCode.NO_RULE)
        for rule in self.rules:
            if (rule.camera, rule.target) != (crossing.camera, crossing.line):
                continue
            if crossing.direction not in rule.directions:
                continue
            if crossing.track_age_s < rule.min_track_age_s:
                reason = Message(
                    MessageCode.TRACK_YOUNG,
                    {"age": f"{crossing.track_age_s:.1f}", "need": number(rule.min_track_age_s)},
                )
                continue
            if crossing.travel_px < rule.min_displacement_px:
                reason = Message(
                    MessageCode.SHORT_MOVE,
                    {"px": f"{crossing.travel_px:.0f}", "need": number(rule.min_displacement_px)},
                )
                continue
            closed = self.schedules[rule.schedule].closed_by(crossing.ts)
            if closed is None:
                reason = Message(MessageCode.SCHEDULE_OPEN, {"schedule": rule.schedule})
                continue
            kind = EventKind.of(crossing.direction, needs_registration=rule.require_registration)
            window = str(closed)
            if not rule.require_registration:
                return Decision(crossing, True, kind, Message(MessageCode.CLOSED, {"closed": window}), closed=window)
            registration = self.book.take(crossing.camera, crossing.ts, rule.window)
            if registration is not None:
                covered = registration.message(MessageCode.COVERED, closed=window)
                return Decision(crossing, False, None, covered, registration.id, closed=window)
            unregistered = Message(MessageCode.UNREGISTERED, {"closed": window, "window": number(rule.window)})
            return Decision(crossing, True, kind, unregistered, closed=window)
        return Decision(crossing, False, None, reason)
