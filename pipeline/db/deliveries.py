"""Alerts waiting to go out (MQTT, webhooks): queued with their event, in its transaction, so an
alert is never sent for an event that is not stored, and none is lost while a broker is down.

Delivery is at least once: a send the receiver got but whose answer was lost (a kill, a cut
connection) is sent again. So each delivery has a key of its own, sent with it (webhooks:
`Idempotency-Key`), the same on every retry; and it carries the event or alarm as it was when the
change was queued (`snapshot`), so two changes are two different messages even when the broker
was down through both, and a retry repeats exactly what the first try said."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pipeline.db.alarms import Alarm
from pipeline.db.base import Repository
from pipeline.db.events import Event
from pipeline.db.outages import Trouble
from pipeline.vocabulary import DeliveryStatus


@dataclass(frozen=True)
class Due:
    """One delivery whose time has come, with the event or the alarm it carries (as queued)."""

    delivery_id: int
    key: str  # what the receiver sees, to recognise a repeat
    attempts: int  # made so far
    event: Event | None = None
    alarm: Alarm | None = None
    trouble: Trouble | None = None


@dataclass(frozen=True)
class Delivery:
    """One send of an alarm to one target, as far as it got: its history for the people who
    raised it (was the alarm receiving centre told, when, and if not, why not)."""

    target: str
    status: DeliveryStatus
    attempts: int
    created_at: str
    sent_at: str | None
    last_error: str | None


class Deliveries(Repository):
    def queue(self, event_id: int, targets: Iterable[str], at: datetime) -> None:
        """Send an event (again, after a review changed it) to each target."""
        self._queue(event_id, None, targets, at)

    def queue_alarm(self, alarm_id: int, targets: Iterable[str], at: datetime) -> None:
        self._queue(None, alarm_id, targets, at)

    def queue_trouble(self, trouble: Trouble, targets: Iterable[str], at: datetime) -> None:
        """A camera trouble (or its end) for alarm receiving centres; in the caller's transaction."""
        with self.store.write():
            for target in targets:
                self.db.execute(
                    """INSERT INTO deliveries (outage_id, target, status, attempts, next_at, created_at, key, snapshot)
                       VALUES (?, ?, ?, 0, ?, ?, ?, ?)""",
                    [
                        trouble.outage_id,
                        target,
                        DeliveryStatus.PENDING,
                        at.isoformat(),
                        at.isoformat(),
                        uuid.uuid4().hex,
                        json.dumps(trouble.row(), ensure_ascii=False),
                    ],
                )

    def _queue(self, event_id: int | None, alarm_id: int | None, targets: Iterable[str], at: datetime) -> None:
        with self.store.write():
            if event_id is not None:
                row = self.store.events.with_review(event_id)
            else:
                row = next(iter(self.db.query("SELECT * FROM alarms WHERE id = ?", [alarm_id])), None)
            snapshot = json.dumps(row, ensure_ascii=False) if row else None
            for target in targets:
                self.db.execute(
                    """INSERT INTO deliveries
                       (event_id, alarm_id, target, status, attempts, next_at, created_at, key, snapshot)
                       VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?)""",
                    [
                        event_id,
                        alarm_id,
                        target,
                        DeliveryStatus.PENDING,
                        at.isoformat(),
                        at.isoformat(),
                        uuid.uuid4().hex,
                        snapshot,
                    ],
                )

    def due(self, target: str, now: datetime, limit: int) -> list[Due]:
        rows = self.db.execute(
            """SELECT id, key, attempts, event_id, alarm_id, outage_id, snapshot FROM deliveries
               WHERE target = ? AND status = ? AND julianday(next_at) <= julianday(?) ORDER BY id LIMIT ?""",
            [target, DeliveryStatus.PENDING, now.isoformat(), limit],
        ).fetchall()
        due = []
        for delivery_id, key, attempts, event_id, alarm_id, outage_id, snapshot in rows:
            queued = json.loads(snapshot) if snapshot else None  # queued by a gatewatch before schema 9: none
            key = key or f"delivery-{delivery_id}"
            if event_id:
                event = Event.from_row(queued) if queued else self.store.events.get(event_id)
                if event is not None:  # an event deleted since (never, today) sends nothing
                    due.append(Due(delivery_id, key, attempts, event=event))
            elif alarm_id:
                alarm = Alarm.from_row(queued) if queued else self.store.alarms.get(alarm_id)
                if alarm is not None:
                    due.append(Due(delivery_id, key, attempts, alarm=alarm))
            elif outage_id and queued:
                due.append(Due(delivery_id, key, attempts, trouble=Trouble.from_row(queued)))
        return due

    def of_alarm(self, alarm_id: int) -> list[Delivery]:
        rows = self.db.query(
            """SELECT target, status, attempts, created_at, sent_at, last_error FROM deliveries
               WHERE alarm_id = ? ORDER BY id""",
            [alarm_id],
        )
        return [Delivery(**{**row, "status": DeliveryStatus(row["status"])}) for row in rows]

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
