"""Matching entries to registrations: one rule, for every path that matches.

An entry at `ts` through `camera` fits a registration that covers the camera (itself, or a group
holding it), still has people left, and is valid within the rule's window of `ts`. The nearest in
time wins, ties going to the earlier one. That rule decides an entry as it is analysed (`take`:
offline from a book loaded for the video, live from the database at each entry) and a
registration written down after the alert (`claim`: the open alerts it explains).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pipeline.registrations.model import Registration, RegistrationLeft

Lookup = Callable[[tuple[datetime, datetime]], list[RegistrationLeft]]


@dataclass(frozen=True)
class OpenAlert:
    """An unregistered entry still open in review, with its rule's registration window."""

    event_id: int
    camera: str
    ts: datetime
    window_s: float


@dataclass
class _Left:
    registration: Registration
    left: int


class RegistrationBook:
    """Registrations with the entries each still covers."""

    def __init__(self, registrations: Iterable[RegistrationLeft], groups: Mapping[str, Iterable[str]]) -> None:
        """`registrations` pairs each registration with how many entries it still covers."""
        self._left = [_Left(registration, left) for registration, left in registrations]
        self.groups = {name: set(members) for name, members in groups.items()}

    def gap(self, registration: Registration, camera: str, ts: datetime, window_s: float) -> float | None:
        """Seconds between the entry and the registration's validity if it fits the entry, else None."""
        if not registration.covers(camera, self.groups):
            return None
        gap = registration.gap_s(ts)
        return gap if gap <= window_s else None

    def take(self, camera: str, ts: datetime, window_s: float) -> Registration | None:
        """Use up one entry of the registration nearest in time (within the window), if any."""
        fits = [
            (gap, entry.registration.valid_from, index)
            for index, entry in enumerate(self._left)
            if entry.left > 0 and (gap := self.gap(entry.registration, camera, ts, window_s)) is not None
        ]
        if not fits:
            return None
        chosen = self._left[min(fits)[2]]
        chosen.left -= 1
        return chosen.registration

    def claim(self, alerts: Sequence[OpenAlert]) -> list[tuple[OpenAlert, Registration]]:
        """Each registration, in the order it was stored, explains the open alerts it fits, nearest
        first, up to the entries it has left; an alert is explained once."""
        claimed: list[tuple[OpenAlert, Registration]] = []
        taken: set[int] = set()
        for entry in sorted(self._left, key=lambda e: e.registration.id or 0):
            fits = [
                (gap, alert.ts, alert.event_id, alert)
                for alert in alerts
                if alert.event_id not in taken
                and (gap := self.gap(entry.registration, alert.camera, alert.ts, alert.window_s)) is not None
            ]
            for *_, alert in sorted(fits, key=lambda fit: fit[:3])[: max(0, entry.left)]:
                entry.left -= 1
                taken.add(alert.event_id)
                claimed.append((alert, entry.registration))
        return claimed


class LiveBook:
    """The book as the database holds it at each entry: `serve` runs for months while guards
    register visitors, so a book loaded at start would miss them. What an entry uses is recorded
    by its crossing row, which the next lookup counts."""

    def __init__(self, lookup: Lookup, groups: Mapping[str, Iterable[str]]) -> None:
        self.lookup = lookup
        self.groups = groups

    def take(self, camera: str, ts: datetime, window_s: float) -> Registration | None:
        margin = timedelta(seconds=window_s)
        return RegistrationBook(self.lookup((ts - margin, ts + margin)), self.groups).take(camera, ts, window_s)
