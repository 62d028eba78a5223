"""Rules: crossing + schedule + registrations -> flagged or not, and why.

Only crossings on a rule's line, in one of its directions, while its schedule is closed are
candidates. A rule that requires registration then looks for a registration of that camera
within its window; finding one clears the crossing and uses up one of the registration's
people. Everything else is kept (stored) but not flagged.
"""

from __future__ import annotations

from pipeline.config import Config
from pipeline.records import Crossing, Decision
from pipeline.registrations import RegistrationBook
from pipeline.schedule import Schedule


class RuleEngine:
    def __init__(self, config: Config, book: RegistrationBook) -> None:
        self.rules = config.rules
        self.schedules = {name: Schedule(name, s, config.tz) for name, s in config.schedules.items()}
        self.book = book

    def decide(self, crossing: Crossing) -> Decision:
        reason = "no rule for this line and direction"
        for rule in self.rules:
            if (rule.camera, rule.line) != (crossing.camera, crossing.line):
                continue
            if crossing.direction not in rule.directions:
                continue
            window = self.schedules[rule.schedule].closed_by(crossing.ts)
            if window is None:
                reason = f"schedule {rule.schedule!r} open"
                continue
            what = "entry" if crossing.direction == "in" else "exit"
            if not rule.require_registration:
                return Decision(crossing, True, f"closed_hours_{what}", f"closed ({window})")
            registration = self.book.take(crossing.camera, crossing.ts, rule.window)
            if registration is not None:
                return Decision(
                    crossing,
                    False,
                    None,
                    f"closed ({window}), covered by registration {registration.id} ({registration.name})",
                    registration.id,
                )
            return Decision(
                crossing,
                True,
                f"unregistered_{what}",
                f"closed ({window}), no registration within {rule.window:g} s",
            )
        return Decision(crossing, False, None, reason)
