"""The district centre's copy of every school's events and availability (from MQTT)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pipeline.db.base import Repository
from pipeline.db.schema import create_center_tables
from pipeline.messages import AlarmMessage, EventMessage, EvidenceRef, topic_level
from pipeline.vocabulary import AlarmKind, AlarmStatus, Availability, EventStatus, EvidencePiece, EvidenceState


@dataclass(frozen=True)
class StoredPiece:
    """One evidence file a school pushed, as the centre keeps it."""

    sha256: str  # of what arrived, which the school's signature vouched for
    size: int
    path: str
    altered: bool  # a later read found the file no longer so


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
    site_topic: str = ""
    has_thumbnail: bool = False
    evidence: dict[str, str] = field(default_factory=dict)  # piece -> EvidenceState
    camera_name: str | None = None  # as the school names it


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
    priority: int = 0  # 0 first: a person pressed the button, then a person escalated, then gatewatch did
    # The school's handling of the alert behind it (an escalation's event), once a guard reviewed it:
    # the alarm is then stale, and the officer can close it seeing who did what and when.
    event_status: str | None = None
    handled_by: str | None = None
    handled_at: str | None = None
    handled_note: str | None = None
    camera_name: str | None = None
    has_thumbnail: bool = False
    evidence: dict[str, str] = field(default_factory=dict)  # its event's files: piece -> EvidenceState

    @classmethod
    def from_row(cls, row: dict[str, Any], evidence: dict[str, str] | None = None) -> CenterAlarm:
        message = row.get("reason_message")
        raw = ("thumbnail", "evidence", "event_refs", "has_thumbnail", "reason_message")
        fields = {k: v for k, v in row.items() if k not in raw}
        return cls(
            **fields,
            reason_message=json.loads(message) if message else None,
            has_thumbnail=bool(row.get("has_thumbnail", row.get("thumbnail"))),
            evidence=evidence or {},
        )


@dataclass
class CenterSite:
    site: str
    availability: str | None
    updated_at: str | None = None  # since when it has been so
    name: str | None = None
    offline_noted_by: str | None = None
    offline_noted_at: str | None = None
    cameras: list[CenterCamera] = field(default_factory=list)


# Alarms in the order an officer works them: open ones first, by who raised them, oldest first;
# then the handled ones, newest first.
_PRIORITY = f"""CASE a.kind WHEN '{AlarmKind.ONE_CLICK}' THEN 0 WHEN '{AlarmKind.ESCALATION}' THEN 1
    WHEN '{AlarmKind.DRILL}' THEN 3 ELSE 2 END"""  # a drill after every real alarm
_ALARM_ORDER = f"""a.status = '{AlarmStatus.OPEN}' DESC,
    CASE WHEN a.status = '{AlarmStatus.OPEN}' THEN {_PRIORITY} ELSE 0 END,
    CASE WHEN a.status = '{AlarmStatus.OPEN}' THEN julianday(a.time) ELSE -julianday(a.time) END, a.alarm_id"""


class Center(Repository):
    def create_tables(self) -> None:
        create_center_tables(self.db, self.store.write)

    def save_event(self, site_topic: str, event: EventMessage, payload: str, at: datetime) -> None:
        """A school's event, new or changed (its status moves on as guards review it), and the
        school's name as it gave it, in one transaction."""
        with self.store.write():
            self._name_site(site_topic, event.site)
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
            self._name_site(site_topic, alarm.site)
            self.db.execute(
                """INSERT INTO center_alarms (site_topic, alarm_id, site, kind, camera, event_id, reason, raised_by,
                                              time, snapshot_url, status, received_at, reason_message, thumbnail,
                                              evidence, camera_name)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (site_topic, alarm_id)
                   DO UPDATE SET
                       reason = CASE WHEN center_alarms.reason = '' THEN excluded.reason ELSE center_alarms.reason END,
                       thumbnail = coalesce(excluded.thumbnail, center_alarms.thumbnail),
                       evidence = coalesce(excluded.evidence, center_alarms.evidence)""",
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
                    alarm.thumbnail,
                    _refs(alarm.evidence) if alarm.evidence else None,
                    alarm.camera_name,
                ],
            )

    def alarms(self, status: AlarmStatus | None = None, limit: int = -1, offset: int = 0) -> list[CenterAlarm]:
        """In the order an officer works them, with the school's handling of the alert behind each."""
        rows = list(
            self.db.query(
                f"""SELECT a.*, {_PRIORITY} AS priority, e.status AS event_status,
                           json_extract(e.payload, '$.reviewed_by') AS handled_by,
                           json_extract(e.payload, '$.reviewed_at') AS handled_at,
                           json_extract(e.payload, '$.review_note') AS handled_note,
                           json_extract(e.payload, '$.evidence') AS event_refs,
                           coalesce(a.thumbnail, json_extract(e.payload, '$.thumbnail')) IS NOT NULL
                               AS has_thumbnail
                    FROM center_alarms a LEFT JOIN center_events e ON e.site = a.site AND e.event_id = a.event_id
                    WHERE ? IS NULL OR a.status = ? ORDER BY {_ALARM_ORDER} LIMIT ? OFFSET ?""",
                [status, status, limit, offset],
            )
        )
        stored = self._stored([(row["site_topic"], row["event_id"]) for row in rows if row["event_id"]])
        return [
            CenterAlarm.from_row(
                row,
                _states(
                    _expected(row["event_refs"], row["evidence"]), stored.get((row["site_topic"], row["event_id"]), {})
                ),
            )
            for row in rows
        ]

    def count_alarms(self, status: AlarmStatus | None = None) -> int:
        query = "SELECT count(*) FROM center_alarms WHERE ? IS NULL OR status = ?"
        return int(self.db.execute(query, [status, status]).fetchone()[0])

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

    def save_site(self, site: str, availability: str, at: datetime) -> bool:
        """The school's retained availability; `updated_at` stays the time it last changed (a
        repeat of the same, on every reconnection, is no news), and a change clears the note an
        officer took of its going offline. True if it changed."""
        with self.store.write():
            before = self.db.execute("SELECT availability FROM center_sites WHERE site = ?", [site]).fetchone()
            self.db.execute(
                """INSERT INTO center_sites (site, availability, updated_at) VALUES (?, ?, ?)
                   ON CONFLICT (site) DO UPDATE SET availability = excluded.availability,
                       updated_at = excluded.updated_at, offline_noted_by = NULL, offline_noted_at = NULL
                   WHERE center_sites.availability IS NOT excluded.availability""",
                [site, availability, at.isoformat()],
            )
        return before is None or before[0] != availability

    def _name_site(self, site: str, name: str) -> None:
        """The school's name as its messages give it, for the officer to read instead of a topic
        (in the caller's transaction)."""
        self.db.execute(
            """INSERT INTO center_sites (site, name) VALUES (?, ?)
               ON CONFLICT (site) DO UPDATE SET name = excluded.name
               WHERE center_sites.name IS NOT excluded.name""",
            [site, name],
        )

    def note_offline(self, site: str, by: str, at: datetime) -> bool:
        """An officer has seen that the school is offline (and is acting on it): the tone stops, the
        school stays shown as offline until it is back."""
        with self.store.write():
            cursor = self.db.execute(
                """UPDATE center_sites SET offline_noted_by = ?, offline_noted_at = ?
                   WHERE site = ? AND availability = ? AND offline_noted_by IS NULL""",
                [by, at.isoformat(), site, Availability.OFFLINE],
            )
        return bool(cursor.rowcount)

    def save_camera(self, site: str, camera: str, column: str, text: str, at: datetime) -> None:
        """`column`: availability or state (the camera's retained JSON health)."""
        if column not in ("availability", "state"):
            raise ValueError(f"not a camera topic: {column}")
        with self.store.write():
            self.db["center_cameras"].upsert(
                {"site": site, "camera": camera, column: text, "updated_at": at.isoformat()}, pk=("site", "camera")
            )

    def events(
        self, site: str | None, status: EventStatus | None, limit: int = -1, offset: int = 0
    ) -> list[CenterEvent]:
        where, params = _event_filter(site, status)
        rows = self.db.query(
            f"""SELECT site, event_id AS id, kind, camera, line, direction, time, status, reason, snapshot_url,
                       received_at, updated_at, json_extract(payload, '$.evidence') AS refs,
                       json_extract(payload, '$.camera_name') AS camera_name,
                       json_extract(payload, '$.thumbnail') IS NOT NULL AS has_thumbnail
                FROM center_events WHERE {where} ORDER BY julianday(time) DESC, event_id DESC LIMIT ? OFFSET ?""",
            [*params, limit, offset],
        )
        events = [(topic_level(row["site"]), row) for row in rows]
        stored = self._stored([(topic, row["id"]) for topic, row in events])
        return [
            CenterEvent(
                **{k: v for k, v in row.items() if k not in ("refs", "has_thumbnail")},
                site_topic=topic,
                has_thumbnail=bool(row["has_thumbnail"]),
                evidence=_states(_expected(row["refs"]), stored.get((topic, row["id"]), {})),
            )
            for topic, row in events
        ]

    def save_evidence(
        self, site_topic: str, event_id: int, piece: EvidencePiece, sha256: str, size: int, path: str, at: datetime
    ) -> None:
        """A file the school pushed and signed; a newer one for the same piece replaces it."""
        with self.store.write():
            self.db.execute(
                """INSERT INTO center_evidence (site_topic, event_id, piece, sha256, size, path, received_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (site_topic, event_id, piece) DO UPDATE SET
                       sha256 = excluded.sha256, size = excluded.size, path = excluded.path,
                       received_at = excluded.received_at, altered_at = NULL""",
                [site_topic, event_id, piece, sha256, size, path, at.isoformat()],
            )

    def piece(self, site_topic: str, event_id: int, piece: EvidencePiece) -> StoredPiece | None:
        return self._stored([(site_topic, event_id)]).get((site_topic, event_id), {}).get(piece)

    def expected_sha256(self, site_topic: str, event_id: int, piece: EvidencePiece) -> str | None:
        """The digest the school signed in its messages (the event's, or an alarm's about it)."""
        return _expected(*self._signed(site_topic, event_id, "evidence")).get(piece)

    def thumbnail(self, site_topic: str, event_id: int) -> str | None:
        return next(iter(self._signed(site_topic, event_id, "thumbnail")), None)

    def mark_altered(self, site_topic: str, event_id: int, piece: EvidencePiece, at: datetime) -> None:
        with self.store.write():
            self.db.execute(
                """UPDATE center_evidence SET altered_at = coalesce(altered_at, ?)
                   WHERE site_topic = ? AND event_id = ? AND piece = ?""",
                [at.isoformat(), site_topic, event_id, piece],
            )

    def _signed(self, site_topic: str, event_id: int, what: str) -> list[str]:
        """A field the school's signed messages about the event carry: the event's, then its alarms'."""
        rows = self.db.execute(
            f"""SELECT json_extract(payload, '$.{what}') FROM center_events
                    WHERE event_id = ? AND site IN (SELECT name FROM center_sites WHERE site = ?)
                UNION ALL
                SELECT {what} FROM center_alarms WHERE site_topic = ? AND event_id = ?""",
            [event_id, site_topic, site_topic, event_id],
        ).fetchall()
        return [value for (value,) in rows if value]

    def _stored(self, keys: list[tuple[str, int]]) -> dict[tuple[str, int], dict[str, StoredPiece]]:
        if not keys:
            return {}
        values = ", ".join("(?, ?)" for _ in keys)
        rows = self.db.execute(
            f"""SELECT site_topic, event_id, piece, sha256, size, path, altered_at FROM center_evidence
                WHERE (site_topic, event_id) IN (VALUES {values})""",
            [value for key in keys for value in key],
        ).fetchall()
        found: dict[tuple[str, int], dict[str, StoredPiece]] = {}
        for site_topic, event_id, piece, sha256, size, path, altered_at in rows:
            found.setdefault((site_topic, event_id), {})[piece] = StoredPiece(sha256, size, path, bool(altered_at))
        return found

    def count_events(self, site: str | None, status: EventStatus | None) -> int:
        where, params = _event_filter(site, status)
        return int(self.db.execute(f"SELECT count(*) FROM center_events WHERE {where}", params).fetchone()[0])

    def sites(self) -> list[CenterSite]:
        sites = {row["site"]: CenterSite(**row) for row in self.db.query("SELECT * FROM center_sites ORDER BY site")}
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


def _refs(evidence: list[EvidenceRef]) -> str:
    return json.dumps([ref.model_dump(mode="json") for ref in evidence])


def _expected(*signed: str | None) -> dict[str, str]:
    """piece -> SHA-256 from the evidence lists of signed messages (the first that names a piece)."""
    expected: dict[str, str] = {}
    for refs in signed:
        for ref in json.loads(refs or "[]"):
            expected.setdefault(ref["piece"], ref["sha256"])
    return expected


def _states(expected: dict[str, str], stored: dict[str, StoredPiece]) -> dict[str, str]:
    """Each piece the school announced or pushed: here and as signed, here but not so, or not here.
    A piece no message named yet (a clip pushed after the event's last message) is vouched for by
    the signature it came with."""
    states = {}
    for piece in EvidencePiece:
        row = stored.get(piece)
        if row is None:
            if piece in expected:
                states[piece.value] = EvidenceState.MISSING.value
        elif row.altered or expected.get(piece, row.sha256) != row.sha256:
            states[piece.value] = EvidenceState.ALTERED.value
        else:
            states[piece.value] = EvidenceState.VERIFIED.value
    return states


def _event_filter(site: str | None, status: EventStatus | None) -> tuple[str, list[str]]:
    clauses, params = ["1 = 1"], []
    for column, value in (("site", site), ("status", status)):
        if value:
            clauses.append(f"{column} = ?")
            params.append(value)
    return " AND ".join(clauses), params
