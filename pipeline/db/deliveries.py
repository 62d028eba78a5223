"""Alerts waiting to go out (MQTT, webhooks): queued with their event, in its transaction, so an
alert is never sent for an event that is not stored, and none is lost while a broker is down."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pipeline.db.alarms import Alarm
from pipeline.db.base import Repository
from pipeline.db.events import Event
from pipeline.vocabulary import DeliveryStatus


@dataclass(frozen=True)
class Due:
    """One delivery whose time has come, with the event or the alarm it carries."""

    delivery_id: int
    attempts: int  # made so far
    event: Event | None = None
    alarm: Alarm | None = None


class Deliveries(Repository):
    def queue(self, event_id: int, targets: Iterable[str], at: datetime) -> None:
        """Send an event (again, after a review changed it) to each target."""
        self._queue(event_id, None, targets, at)

    def queue_alarm(self, alarm_id: int, targets: Iterable[str], at: datetime) -> None:
        self._queue(None, alarm_id, targets, at)

    def _queue(self, event_id: int | None, alarm_id: int | None, targets: Iterable[str], at: datetime) -> None:
        with self.store.write():
            for target in targets:
                self.db.execute(
                    """INSERT INTO deliveries (event_id, alarm_id, target, status, attempts, next_at, created_at)
                       VALUES (?, ?, ?, ?, 0, ?, ?)""",
                    [event_id, alarm_id, target, DeliveryStatus.PENDING, at.isoformat(), at.isoformat()],
                )

    def due(self, target: str, now: datetime, limit: int) -> list[Due]:
        rows = self.db.execute(
            """SELECT id, attempts, event_id, alarm_id FROM deliveries
               WHERE target = ? AND status = ? AND julianday(next_at) <= julianday(?) ORDER BY id LIMIT ?""",
            [target, DeliveryStatus.PENDING, now.isoformat(), limit],
        ).fetchall()
        due = []
        for delivery_id, attempts, event_id, alarm_id in rows:
            event = self.store.events.get(event_id) if event_id else None
            alarm = self.store.alarms.get(alarm_id) if alarm_id else None
            if event is not None or alarm is not None:  # an event deleted since (never, today) sends nothing
                due.append(Due(delivery_id, attempts, event, alarm))
        return due

    def sent(self, delivery_id: int, attempts: int, at: datetime) -> None:
        with self.store.write():
            self.db.execute(
                "UPDATE deliveries SET status = ?, attempts = ?, sent_at = ?, last_error = NULL WHERE id = ?",
                [DeliveryStatus.SENT, attempts, at.isoformat(), delivery_id],
            )

    def failed(self, delivery_id: int, attempts: int, status: DeliveryStatus, next_at: datetime, error: str) -> None:
        with self.store.write():
            self.db.execute(
                "UPDATE deliveries SET status = ?, attempts = ?, next_at = ?, last_error = ? WHERE id = ?",
                [status, attempts, next_at.isoformat(), error, delivery_id],
            )
