"""Alarms to the police and the district centre (一键报警): who raised one, when and why, and
whether the centre has confirmed it. Raised with their deliveries in one transaction, so an
alarm is never lost between the button and the broker."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from pipeline.db.base import Repository
from pipeline.vocabulary import AlarmKind, AlarmStatus, EventStatus
from pipeline.wording import Message, stored


@dataclass(frozen=True)
class Alarm:
    id: int
    kind: AlarmKind
    event_id: int | None
    camera: str | None
    reason: str
    raised_by: str
    raised_at: datetime
    status: AlarmStatus
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    reason_message: Message | None = None  # an automatic escalation's reason, worded when shown

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Alarm:
        values = {f.name: row.get(f.name) for f in fields(cls)}
        for name in ("raised_at", "acknowledged_at"):
            values[name] = datetime.fromisoformat(values[name]) if values[name] else None
        values["kind"], values["status"] = AlarmKind(values["kind"]), AlarmStatus(values["status"])
        values["reason_message"] = Message.from_json(values["reason_message"])
        return cls(**values)


class Alarms(Repository):
    def raise_(
        self,
        kind: AlarmKind,
        *,
        reason: str | Message,
        by: str,
        at: datetime,
        targets: Iterable[str],
        event_id: int | None = None,
        camera: str | None = None,
    ) -> Alarm:
        """Store the alarm and queue it for every target, in one transaction."""
        text, message = stored(reason)
        with self.store.write():
            cursor = self.db.execute(
                """INSERT INTO alarms (kind, event_id, camera, reason, raised_by, raised_at, status, reason_message)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                [
                    kind,
                    event_id,
                    camera,
                    text,
                    by,
                    at.isoformat(),
                    AlarmStatus.OPEN,
                    message,
                ],
            )
            alarm_id = int(cursor.lastrowid or 0)
            self.store.deliveries.queue_alarm(alarm_id, targets, at)
        found = self.get(alarm_id)
        assert found is not None
        return found

    def get(self, alarm_id: int) -> Alarm | None:
        rows = list(self.db.query("SELECT * FROM alarms WHERE id = ?", [alarm_id]))
        return Alarm.from_row(rows[0]) if rows else None

    def for_event(self, event_id: int) -> list[Alarm]:
        """The alarms that escalated one alert, oldest first: its escalation state."""
        return [
            Alarm.from_row(row)
            for row in self.db.query("SELECT * FROM alarms WHERE event_id = ? ORDER BY id", [event_id])
        ]

    def between(self, start: datetime, end: datetime) -> list[Alarm]:
        """Alarms raised in [start, end), oldest first (the report)."""
        rows = self.db.query(
            """SELECT * FROM alarms WHERE julianday(raised_at) >= julianday(?) AND julianday(raised_at) < julianday(?)
               ORDER BY julianday(raised_at), id""",
            [start.isoformat(), end.isoformat()],
        )
        return [Alarm.from_row(row) for row in rows]

    def recent(self, limit: int) -> list[Alarm]:
        rows = self.db.query("SELECT * FROM alarms ORDER BY id DESC LIMIT ?", [limit])
        return [Alarm.from_row(row) for row in rows]

    def add_reason(self, alarm_id: int, reason: str) -> bool:
        """The reason a guard gives after raising an alarm in one tap; False if it has one already
        (what the police and the centre were told stays as it was)."""
        with self.store.write():
            cursor = self.db.execute("UPDATE alarms SET reason = ? WHERE id = ? AND reason = ''", [reason, alarm_id])
        return bool(cursor.rowcount)

    def acknowledge(self, alarm_id: int, by: str, at: datetime) -> bool:
        """The centre confirmed the alarm; False if there is no such open alarm."""
        with self.store.write():
            cursor = self.db.execute(
                """UPDATE alarms SET status = ?, acknowledged_by = ?, acknowledged_at = ?
                   WHERE id = ? AND status = ?""",
                [AlarmStatus.ACKNOWLEDGED, by, at.isoformat(), alarm_id, AlarmStatus.OPEN],
            )
        return bool(cursor.rowcount)

    def unhandled_since(self, cutoffs: Mapping[tuple[str, str], datetime]) -> list[tuple[int, str, str]]:
        """(event id, camera, line) of events still `new` whose line's escalation time has passed and
        that no alarm escalates yet. `cutoffs`: (camera, line) -> raised at or before this instant."""
        due: list[tuple[int, str, str]] = []
        for (camera, line), cutoff in cutoffs.items():
            rows = self.db.execute(
                """SELECT e.id FROM events e WHERE e.camera = ? AND e.line = ? AND e.status = ?
                      AND julianday(e.created_at) <= julianday(?)
                      AND NOT EXISTS (SELECT 1 FROM alarms a WHERE a.event_id = e.id) ORDER BY e.id""",
                [camera, line, EventStatus.NEW, cutoff.isoformat()],
            ).fetchall()
            due += [(int(row[0]), camera, line) for row in rows]
        return due
