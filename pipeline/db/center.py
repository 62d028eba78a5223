"""The district centre's copy of every school's events and availability (from MQTT)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pipeline.db.base import Repository
from pipeline.db.schema import create_center_tables
from pipeline.messages import AlarmMessage, EventMessage
from pipeline.vocabulary import AlarmStatus, EventStatus


@dataclass(frozen=True)
class CenterEvent:
    site: str
    id: int
    kind: str
    camera: str
    line: str
    direction: str
    time: str
    status: str
    reason: str
    snapshot_url: str
    received_at: str
    updated_at: str


@dataclass(frozen=True)
class CenterCamera:
    camera: str
    availability: str | None
    state: str | None
    detail: str | None
    updated_at: str
    messages: list[dict[str, Any]] = field(default_factory=list)  # the detail, to be worded by the page


@dataclass(frozen=True)
class CenterAlarm:
    site_topic: str
    alarm_id: int
    site: str
    kind: str
    camera: str | None
    event_id: int | None
    reason: str
    raised_by: str
    time: str
    snapshot_url: str | None
    status: str
    acknowledged_by: str | None
    acknowledged_at: str | None
    received_at: str
    ack_sent_at: str | None = None
    reason_message: dict[str, Any] | None = None  # {code, values}: the page words it

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> CenterAlarm:
        message = row.get("reason_message")
        return cls(**{**row, "reason_message": json.loads(message) if message else None})


@dataclass
class CenterSite:
    site: str
    availability: str | None
    updated_at: str | None = None
    cameras: list[CenterCamera] = field(default_factory=list)


class Center(Repository):
    def create_tables(self) -> None:
        create_center_tables(self.db, self.store.write)

    def save_event(self, event: EventMessage, payload: str, at: datetime) -> None:
        """A school's event, new or changed (its status moves on as guards review it)."""
        with self.store.write():
            self.db.execute(
                """INSERT INTO center_events (site, event_id, kind, camera, line, direction, time, status, reason,
                                              snapshot_url, payload, received_at, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (site, event_id) DO UPDATE SET status = excluded.status,
                       payload = excluded.payload, updated_at = excluded.updated_at""",
                [
                    event.site,
                    event.id,
                    event.kind,
                    event.camera,
                    event.line,
                    event.direction or "",
                    event.time,
                    event.status,
                    event.reason or "",
                    event.snapshot_url,
                    payload,
                    at.isoformat(),
                    at.isoformat(),
                ],
            )

    def save_alarm(self, site_topic: str, alarm: AlarmMessage, at: datetime) -> None:
        """A school's alarm; a repeat (the outbox sends at least once) changes nothing the centre did,
        but brings the reason a guard added after raising it in one tap."""
        with self.store.write():
            self.db.execute(
                """INSERT INTO center_alarms (site_topic, alarm_id, site, kind, camera, event_id, reason, raised_by,
                                              time, snapshot_url, status, received_at, reason_message)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (site_topic, alarm_id)
                   DO UPDATE SET reason = excluded.reason WHERE center_alarms.reason = ''""",
                [
                    site_topic,
                    alarm.id,
                    alarm.site,
                    alarm.kind,
                    alarm.camera,
                    alarm.event_id,
                    alarm.reason,
                    alarm.raised_by,
                    alarm.time,
                    alarm.snapshot_url,
                    AlarmStatus.OPEN,
                    at.isoformat(),
                    alarm.reason_message.model_dump_json() if alarm.reason_message else None,
                ],
            )

    def alarms(self, limit: int) -> list[CenterAlarm]:
        """Open ones first, then the latest."""
        rows = self.db.query(
            "SELECT * FROM center_alarms ORDER BY status = ? DESC, julianday(received_at) DESC LIMIT ?",
            [AlarmStatus.OPEN, limit],
        )
        return [CenterAlarm.from_row(row) for row in rows]

    def acknowledge_alarm(self, site_topic: str, alarm_id: int, by: str, at: datetime) -> bool:
        with self.store.write():
            cursor = self.db.execute(
                """UPDATE center_alarms SET status = ?, acknowledged_by = ?, acknowledged_at = ?
                   WHERE site_topic = ? AND alarm_id = ? AND status = ?""",
                [AlarmStatus.ACKNOWLEDGED, by, at.isoformat(), site_topic, alarm_id, AlarmStatus.OPEN],
            )
        return bool(cursor.rowcount)

    def unsent_acks(self) -> list[CenterAlarm]:
        """Confirmations the broker has not taken yet (the centre was offline, or stopped first)."""
        rows = self.db.query(
            "SELECT * FROM center_alarms WHERE status = ? AND ack_sent_at IS NULL ORDER BY acknowledged_at",
            [AlarmStatus.ACKNOWLEDGED],
        )
        return [CenterAlarm.from_row(row) for row in rows]

    def ack_sent(self, site_topic: str, alarm_id: int, at: datetime) -> None:
        with self.store.write():
            self.db.execute(
                "UPDATE center_alarms SET ack_sent_at = ? WHERE site_topic = ? AND alarm_id = ?",
                [at.isoformat(), site_topic, alarm_id],
            )

    def save_site(self, site: str, availability: str, at: datetime) -> None:
        with self.store.write():
            self.db["center_sites"].upsert(
                {"site": site, "availability": availability, "updated_at": at.isoformat()}, pk="site"
            )

    def save_camera(self, site: str, camera: str, column: str, text: str, at: datetime) -> None:
        """`column`: availability or state (the camera's retained JSON health)."""
        if column not in ("availability", "state"):
            raise ValueError(f"not a camera topic: {column}")
        with self.store.write():
            self.db["center_cameras"].upsert(
                {"site": site, "camera": camera, column: text, "updated_at": at.isoformat()}, pk=("site", "camera")
            )

    def events(self, site: str | None, status: EventStatus | None, limit: int) -> list[CenterEvent]:
        clauses, params = ["1 = 1"], []
        for column, value in (("site", site), ("status", status)):
            if value:
                clauses.append(f"{column} = ?")
                params.append(value)
        rows = self.db.query(
            f"""SELECT site, event_id AS id, kind, camera, line, direction, time, status, reason, snapshot_url,
                       received_at, updated_at
                FROM center_events WHERE {" AND ".join(clauses)} ORDER BY julianday(time) DESC LIMIT ?""",
            [*params, limit],
        )
        return [CenterEvent(**row) for row in rows]

    def sites(self) -> list[CenterSite]:
        sites = {
            row["site"]: CenterSite(row["site"], row["availability"], row["updated_at"])
            for row in self.db.query("SELECT * FROM center_sites ORDER BY site")
        }
        for row in self.db.query("SELECT * FROM center_cameras ORDER BY site, camera"):
            site = sites.setdefault(row["site"], CenterSite(row["site"], None))
            state = json.loads(row["state"]) if row.get("state") else {}
            site.cameras.append(
                CenterCamera(
                    row["camera"],
                    row["availability"],
                    state.get("state"),
                    state.get("detail"),
                    row["updated_at"],
                    list(state.get("messages") or []),
                )
            )
        return list(sites.values())
