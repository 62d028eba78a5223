"""Events (flagged crossings), the crossings and videos they come from, and their review trail.

One analysis of one video commits in one transaction, so a failed run leaves no partial rows,
and re-running it replaces its crossings instead of adding to them. Events are keyed by what
happened (camera, video, line, frame, track), so a re-run finds the same event again and keeps
its id and its review status instead of creating a second alert.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime, time
from enum import StrEnum
from typing import Any

from pipeline.db.base import Repository
from pipeline.records import Crossing, Decision, Evidence, Outcome, Point
from pipeline.vocabulary import Direction, EventKind, EventStatus
from pipeline.wording import Message, stored

MAX_ID = 2**63  # SQLite's integers; a larger id names nothing
_LATEST_REVIEW = "(SELECT r.{} FROM event_reviews r WHERE r.event_id = e.id ORDER BY r.id DESC LIMIT 1) AS {}"
_WITH_REVIEW = ", ".join(
    [
        "e.*",
        "(SELECT min(r.at) FROM event_reviews r WHERE r.event_id = e.id) AS first_review_at",
        *(
            _LATEST_REVIEW.format(column, name)
            for column, name in (("by", "reviewed_by"), ("at", "reviewed_at"), ("note", "review_note"))
        ),
        _LATEST_REVIEW.format("note_message", "review_note_message"),
    ]
)


@dataclass(frozen=True)
class VideoRun:
    camera: str
    video: str  # absolute path of the analysed file: the idempotency key with camera
    start: datetime
    fps: float
    frames: int
    analysed_at: datetime
    # A recorded file's size, mtime and the digest of the config it was analysed with (None live).
    size: int | None = None
    mtime_ns: int | None = None
    config_digest: str | None = None


@dataclass(frozen=True)
class Event:
    """A stored event, with the latest word of its review where the query asked for it. Columns a
    first-version database left empty (direction, video, frame, ...) read back as None."""

    id: int
    kind: EventKind
    camera: str
    line: str
    direction: Direction | None
    ts: datetime
    video: str | None
    frame: int | None
    track_id: int | None
    confidence: float | None
    bbox: str | None
    snapshot_path: str | None
    crop_path: str | None
    status: EventStatus
    registration_id: int | None
    reason: str | None
    closed: str | None
    created_at: datetime | None
    pruned_at: datetime | None
    reason_message: Message | None = None
    track_path: tuple[Point, ...] = ()
    clip_path: str | None = None
    first_review_at: datetime | None = None
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None  # the latest review's time (the first one's is `first_review_at`)
    review_note: str | None = None
    review_note_message: Message | None = None  # the latest note, when gatewatch wrote it

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Event:
        values = {f.name: row.get(f.name) for f in fields(cls)}
        for name in ("ts", "created_at", "pruned_at", "first_review_at", "reviewed_at"):
            values[name] = datetime.fromisoformat(values[name]) if values[name] else None
        values["kind"] = EventKind(values["kind"])
        values["direction"] = Direction(values["direction"]) if values["direction"] else None
        values["status"] = EventStatus(values["status"] or EventStatus.NEW)
        values["reason_message"] = Message.from_json(values["reason_message"])
        values["review_note_message"] = Message.from_json(values["review_note_message"])
        values["track_path"] = tuple((x, y) for x, y in json.loads(values["track_path"] or "[]"))
        return cls(**values)

    def row(self) -> dict[str, Any]:
        """The event as text, the way the database, the API, MQTT and exports spell it."""
        return {f.name: _text(getattr(self, f.name)) for f in fields(self)}

    @property
    def evidence(self) -> list[str]:
        return [path for path in (self.snapshot_path, self.crop_path, self.clip_path) if path]


@dataclass(frozen=True)
class EventReview:
    """One step of an event's audit trail."""

    at: datetime
    by: str
    from_status: EventStatus
    to_status: EventStatus
    note: str
    registration_id: int | None
    note_message: Message | None = None  # a step gatewatch took itself


@dataclass(frozen=True)
class EventFilter:
    status: EventStatus | None = None
    camera: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    id: int | None = None
    open: bool = False  # only events still asking for a guard (new or acknowledged)
    # Time of day in the site's wall clock, [from, to); from > to runs past midnight (22:00-06:00).
    hours: tuple[time, time] | None = None

    def where(self) -> tuple[str, list[Any]]:
        clauses, params = ["1 = 1"], []
        for column, value in (("status", self.status), ("camera", self.camera), ("id", self.id)):
            if value is not None:
                clauses.append(f"e.{column} = ?")
                params.append(value)
        if self.open:
            clauses.append("e.status IN (?, ?)")
            params += [EventStatus.NEW, EventStatus.ACKNOWLEDGED]
        if self.since is not None:
            clauses.append("julianday(e.ts) >= julianday(?)")
            params.append(self.since.isoformat())
        if self.until is not None:
            clauses.append("julianday(e.ts) < julianday(?)")
            params.append(self.until.isoformat())
        if self.hours is not None:
            # Stored times carry the site's offset, so characters 12-16 are the site's HH:MM.
            start, end = (f"{moment:%H:%M}" for moment in self.hours)
            joined = "AND" if start < end else "OR"
            clauses.append(f"(substr(e.ts, 12, 5) >= ? {joined} substr(e.ts, 12, 5) < ?)")
            params += [start, end]
        return " AND ".join(clauses), params


@dataclass(frozen=True)
class StoredCrossing:
    camera: str
    line: str
    direction: Direction
    ts: datetime
    event_id: int | None
    registration_id: int | None
    closed: str | None


@dataclass(frozen=True)
class Footage:
    camera: str
    videos: int
    hours: float


class Events(Repository):
    def save_run(self, run: VideoRun, outcomes: list[Outcome]) -> list[int | None]:
        """Write one video's results atomically; returns each outcome's event id (None where it
        raised none). Every flagged outcome's evidence must be on disk already."""
        event_ids: list[int | None] = []
        with self.store.write("save results", "; nothing was written"):
            self._upsert_video(run)
            self.db.execute("DELETE FROM crossings WHERE camera = ? AND video = ?", [run.camera, run.video])
            for outcome in outcomes:
                if outcome.evidence is not None:
                    event_id = self._upsert_event(run, outcome.decision, outcome.evidence)
                    event_ids.append(event_id)
                else:
                    # An event an earlier run raised for this crossing (since authorized by a late
                    # registration, which now covers it) stays linked, so it is not counted twice.
                    event_id = self._event_id(run.video, outcome.decision.crossing)
                    event_ids.append(None)
                self._insert_crossing(run.video, outcome.decision, event_id)
        return event_ids

    def save_live(self, run: VideoRun, outcome: Outcome, targets: Iterable[str]) -> int | None:
        """One crossing of a live stream, committed on its own (with its event and the alerts to
        send for it) before anyone is told: an alert always points at a stored event."""
        with self.store.write():
            self._upsert_video(run)
            event_id = None
            if outcome.evidence is not None:
                event_id = self._upsert_event(run, outcome.decision, outcome.evidence)
                self.store.deliveries.queue(event_id, targets, run.analysed_at)
            self._insert_crossing(run.video, outcome.decision, event_id)
        return event_id

    def update_video(self, run: VideoRun) -> None:
        """A live stream's footage so far (for the report's 'footage analysed')."""
        with self.store.write():
            self._upsert_video(run)

    def _upsert_video(self, run: VideoRun) -> None:
        self.db.execute(
            """INSERT INTO videos (camera, video, start, fps, frames, analysed_at, size, mtime_ns, config_digest)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (camera, video) DO UPDATE SET start = excluded.start, fps = excluded.fps,
                   frames = excluded.frames, analysed_at = excluded.analysed_at, size = excluded.size,
                   mtime_ns = excluded.mtime_ns, config_digest = excluded.config_digest""",
            [
                run.camera,
                run.video,
                run.start.isoformat(),
                run.fps,
                run.frames,
                run.analysed_at.isoformat(),
                run.size,
                run.mtime_ns,
                run.config_digest,
            ],
        )

    def analysed_files(self) -> dict[tuple[str, str], tuple[int, int, str]]:
        """(camera, file) -> (size, mtime_ns, config digest) of every file analysed from a recording."""
        rows = self.db.execute(
            "SELECT camera, video, size, mtime_ns, config_digest FROM videos WHERE config_digest IS NOT NULL"
        ).fetchall()
        return {(camera, video): (size, mtime, digest) for camera, video, size, mtime, digest in rows}

    def _insert_crossing(self, video: str, decision: Decision, event_id: int | None) -> None:
        c = decision.crossing
        self.db.execute(
            """INSERT INTO crossings (camera, video, line, direction, track_id, frame, ts, flagged,
                                      event_id, registration_id, reason, closed, bbox)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                c.camera,
                video,
                c.line,
                c.direction,
                c.track_id,
                c.frame,
                c.ts.isoformat(),
                int(decision.flagged),
                event_id,
                decision.registration_id,
                decision.reason.text(),
                decision.closed,
                _bbox(c.box),
            ],
        )

    def _upsert_event(self, run: VideoRun, decision: Decision, evidence: Evidence) -> int:
        c = decision.crossing
        self.db.execute(
            """INSERT INTO events (kind, camera, line, direction, ts, video, frame, track_id, confidence, bbox,
                                   snapshot_path, crop_path, status, reason, closed, created_at,
                                   reason_message, track_path, clip_path)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (camera, video, line, frame, track_id) DO UPDATE SET
                   snapshot_path = excluded.snapshot_path, crop_path = excluded.crop_path, pruned_at = NULL,
                   reason_message = excluded.reason_message, track_path = excluded.track_path,
                   clip_path = excluded.clip_path""",
            [
                decision.kind,
                c.camera,
                c.line,
                c.direction,
                c.ts.isoformat(),
                run.video,
                c.frame,
                c.track_id,
                c.confidence,
                _bbox(c.box),
                str(evidence.full),
                str(evidence.crop),
                EventStatus.NEW,
                decision.reason.text(),
                decision.closed,
                run.analysed_at.isoformat(),
                decision.reason.to_json(),
                json.dumps([[round(x, 1), round(y, 1)] for x, y in c.path]),
                str(evidence.clip) if evidence.clip else None,
            ],
        )
        event_id = self._event_id(run.video, c)
        assert event_id is not None
        return event_id

    def _event_id(self, video: str, c: Crossing) -> int | None:
        row = self.db.execute(
            "SELECT id FROM events WHERE camera = ? AND video = ? AND line = ? AND frame = ? AND track_id = ?",
            (c.camera, video, c.line, c.frame, c.track_id),
        ).fetchone()
        return int(row[0]) if row else None

    def set_clip(self, event_id: int, path: str) -> None:
        """A live event's clip, written once the seconds after the crossing had passed."""
        with self.store.write():
            self.db.execute("UPDATE events SET clip_path = ? WHERE id = ?", [path, event_id])

    def evidence_of(self, camera: str) -> set[str]:
        """Snapshot and clip files the stored events of one camera point at."""
        rows = self.db.execute(
            "SELECT snapshot_path, crop_path, clip_path FROM events WHERE camera = ?", [camera]
        ).fetchall()
        return {path for row in rows for path in row if path}

    def get(self, event_id: int) -> Event | None:
        found = self.with_review(event_id)
        return Event.from_row(found) if found else None

    def with_review(self, event_id: int) -> dict[str, Any] | None:
        """The event's row with the latest word of its review: what an alert carries when a review
        is sent on (the district centre shows who handled it, how and when)."""
        if not 0 < event_id < MAX_ID:
            return None
        rows = list(self.db.query(f"SELECT {_WITH_REVIEW} FROM events e WHERE e.id = ?", [event_id]))
        return rows[0] if rows else None

    def list(
        self, filters: EventFilter, *, newest_first: bool = False, limit: int = -1, offset: int = 0
    ) -> list[Event]:
        """Events with their first review time (for response times) and last reviewer."""
        where, params = filters.where()
        order = "DESC" if newest_first else "ASC"
        rows = self.db.query(
            f"""SELECT {_WITH_REVIEW}
                FROM events e WHERE {where} ORDER BY julianday(e.ts) {order}, e.id {order} LIMIT ? OFFSET ?""",
            [*params, limit, offset],
        )
        return [Event.from_row(row) for row in rows]

    def count(self, filters: EventFilter) -> int:
        where, params = filters.where()
        return int(self.db.execute(f"SELECT count(*) FROM events e WHERE {where}", params).fetchone()[0])

    def counts_by_status(self) -> dict[EventStatus, int]:
        found = dict(self.db.execute("SELECT status, count(*) FROM events GROUP BY status").fetchall())
        return {status: int(found.get(status, 0)) for status in EventStatus}

    def open_unregistered(self) -> list[Event]:
        """Unregistered entries still open in review and not linked to a registration, oldest first."""
        rows = self.db.query(
            """SELECT * FROM events WHERE kind = ? AND status IN (?, ?)
               AND registration_id IS NULL ORDER BY julianday(ts), id""",
            [EventKind.UNREGISTERED_ENTRY, EventStatus.NEW, EventStatus.ACKNOWLEDGED],
        )
        return [Event.from_row(row) for row in rows]

    def history(self, event_id: int) -> list[EventReview]:
        rows = self.db.query("SELECT * FROM event_reviews WHERE event_id = ? ORDER BY id", [event_id])
        return [
            EventReview(
                datetime.fromisoformat(row["at"]),
                row["by"],
                EventStatus(row["from_status"]),
                EventStatus(row["to_status"]),
                row["note"] or "",
                row["registration_id"],
                Message.from_json(row["note_message"]),
            )
            for row in rows
        ]

    def review(
        self,
        event: Event,
        to: EventStatus,
        *,
        by: str,
        at: datetime,
        note: str | Message,
        registration_id: int | None,
    ) -> None:
        """Record one review step: the new status, the registration it links, and the audit row."""
        if registration_id is not None:
            self.db.execute("UPDATE events SET registration_id = ? WHERE id = ?", [registration_id, event.id])
            self.db.execute("UPDATE crossings SET registration_id = ? WHERE event_id = ?", [registration_id, event.id])
        self.db.execute("UPDATE events SET status = ? WHERE id = ?", [to, event.id])
        text, message = stored(note)
        self.db.execute(
            """INSERT INTO event_reviews (event_id, at, by, from_status, to_status, note, registration_id,
                                          note_message)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            [event.id, at.isoformat(), by, event.status, to, text, registration_id, message],
        )

    def unpruned_before(self, cutoff: datetime) -> list[Event]:
        rows = self.db.query(
            "SELECT * FROM events WHERE pruned_at IS NULL AND julianday(ts) < julianday(?)", [cutoff.isoformat()]
        )
        return [Event.from_row(row) for row in rows]

    def mark_pruned(self, event_ids: Iterable[int], at: datetime) -> None:
        with self.store.write():
            self.db.conn.executemany(
                "UPDATE events SET pruned_at = ? WHERE id = ?", ((at.isoformat(), event_id) for event_id in event_ids)
            )

    def crossings_between(self, start: datetime, end: datetime) -> list[StoredCrossing]:
        rows = self.db.query(
            """SELECT camera, line, direction, ts, event_id, registration_id, closed FROM crossings
               WHERE julianday(ts) >= julianday(?) AND julianday(ts) < julianday(?)""",
            [start.isoformat(), end.isoformat()],
        )
        return [
            StoredCrossing(
                row["camera"],
                row["line"],
                Direction(row["direction"]),
                datetime.fromisoformat(row["ts"]),
                row["event_id"],
                row["registration_id"],
                row["closed"],
            )
            for row in rows
        ]

    def footage_between(self, start: datetime, end: datetime) -> list[Footage]:
        """Video analysed per camera, by the recordings' start times."""
        rows = self.db.query(
            """SELECT camera, count(*) AS videos, sum(frames / fps) / 3600.0 AS hours FROM videos
               WHERE julianday(start) >= julianday(?) AND julianday(start) < julianday(?) AND fps > 0
               GROUP BY camera ORDER BY camera""",
            [start.isoformat(), end.isoformat()],
        )
        return [Footage(row["camera"], int(row["videos"]), float(row["hours"] or 0.0)) for row in rows]


def _bbox(box: tuple[float, float, float, float]) -> str:
    return json.dumps([round(v, 1) for v in box])


def _text(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Message):
        return value.to_json()
    if isinstance(value, tuple):
        return json.dumps(value)
    if isinstance(value, StrEnum):
        return str(value)
    return value
