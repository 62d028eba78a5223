"""Alerts waiting to go out (MQTT, webhooks): queued with their event, in its transaction, so an
alert is never sent for an event that is not stored, and none is lost while a broker is down."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pipeline.db.base import Repository
from pipeline.db.events import Event
from pipeline.vocabulary import DeliveryStatus


@dataclass(frozen=True)
class Due:
    """One delivery whose time has come, with the event it carries."""

    delivery_id: int
    attempts: int  # made so far
    event: Event


class Deliveries(Repository):
    def queue(self, event_id: int, targets: Iterable[str], at: datetime) -> None:
        """Send an event (again, after a review changed it) to each target."""
        with self.store.write():
            for target in targets:
                self.db.execute(
                    """INSERT INTO deliveries (event_id, target, status, attempts, next_at, created_at)
                       VALUES (?, ?, ?, 0, ?, ?)""",
                    [event_id, target, DeliveryStatus.PENDING, at.isoformat(), at.isoformat()],
                )

    def due(self, target: str, now: datetime, limit: int) -> list[Due]:
        rows = self.db.query(
            """SELECT d.id AS delivery_id, d.attempts, e.* FROM deliveries d JOIN events e ON e.id = d.event_id
               WHERE d.target = ? AND d.status = ? AND julianday(d.next_at) <= julianday(?)
               ORDER BY d.id LIMIT ?""",
            [target, DeliveryStatus.PENDING, now.isoformat(), limit],
        )
        return [Due(row["delivery_id"], row["attempts"], Event.from_row(row)) for row in rows]

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
