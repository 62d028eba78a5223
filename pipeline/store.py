"""The SQLite store (via sqlite-utils): schema, migrations and the writes of an analysis run.

One analysis of one video commits in one transaction, so a failed run leaves no partial rows,
and re-running it replaces its crossings instead of adding to them. Events are keyed by what
happened (camera, video, line, frame, track), so a re-run finds the same event again and keeps
its id and its review status instead of creating a second alert.

Registrations live here too: how many entries one still covers is its count minus the
crossings linked to it, so a re-run that replaces a video's crossings frees and re-uses exactly
what that video used.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from pipeline.errors import GatewatchError
from pipeline.files import ensure_writable_dir
from pipeline.records import Crossing, Decision
from pipeline.registrations import LiveBook, Registration, RegistrationBook
from pipeline.vocabulary import DeliveryStatus, EventStatus

SCHEMA_VERSION = 4
BUSY_TIMEOUT_MS = 30_000  # how long a writer waits for another one before giving up

# Every table's columns. A database from an older gatewatch gets the missing ones added.
TABLES: dict[str, dict[str, type]] = {
    "meta": {"key": str, "value": str},
    "videos": {"camera": str, "video": str, "start": str, "fps": float, "frames": int, "analysed_at": str},
    "events": {
        "id": int,
        "kind": str,
        "camera": str,
        "line": str,
        "direction": str,
        "ts": str,
        "video": str,
        "frame": int,
        "track_id": int,
        "confidence": float,
        "bbox": str,
        "snapshot_path": str,
        "crop_path": str,
        "status": str,
        "registration_id": int,
        "reason": str,
        "closed": str,
        "created_at": str,
        "pruned_at": str,
    },
    "crossings": {
        "id": int,
        "camera": str,
        "video": str,
        "line": str,
        "direction": str,
        "track_id": int,
        "frame": int,
        "ts": str,
        "flagged": int,
        "event_id": int,
        "registration_id": int,
        "reason": str,
        "closed": str,
        "bbox": str,
    },
    "registrations": {
        "id": int,
        "scope": str,
        "valid_from": str,
        "valid_until": str,
        "count": int,
        "name": str,
        "ref": str,
        "reason": str,
        "source": str,
        "origin": str,
        "key": str,
        "created_at": str,
        "created_by": str,
    },
    "event_reviews": {
        "id": int,
        "event_id": int,
        "at": str,
        "by": str,
        "from_status": str,
        "to_status": str,
        "note": str,
        "registration_id": int,
    },
    # Alerts waiting to go out (MQTT, webhooks): written with the event, in its transaction, so an
    # alert is never sent for an event that is not stored, and none is lost when a broker is down.
    "deliveries": {
        "id": int,
        "event_id": int,
        "target": str,
        "status": str,  # DeliveryStatus
        "attempts": int,
        "next_at": str,
        "last_error": str,
        "created_at": str,
        "sent_at": str,
    },
    "users": {"id": int, "username": str, "password_hash": str, "role": str, "created_at": str},
    "sessions": {"token_hash": str, "username": str, "created_at": str, "expires_at": str},
}


@dataclass(frozen=True)
class VideoRun:
    camera: str
    video: str  # absolute path of the analysed file: the idempotency key with camera
    start: datetime
    fps: float
    frames: int
    analysed_at: datetime


@dataclass(frozen=True)
class Added:
    """What `add_registrations` stored: ids `first_id` onward, in the order given."""

    first_id: int
    count: int
    skipped: int


@dataclass(frozen=True)
class Snapshots:
    """Where a flagged crossing's evidence was written."""

    full: str
    crop: str


class Store:
    def __init__(self, path: Path, *, durable: bool = False, readonly: bool = False) -> None:
        """`durable`: every commit reaches the disk before it returns (WAL's default may lose the
        last commits in a power cut) - for `serve`, which tells guards about what it committed.
        `readonly`: for commands that only read, so they work on a read-only disk or a copy."""
        self.path = path
        if readonly:
            self._open_readonly()
            return
        existed = path.exists()
        ensure_writable_dir(path.parent)
        try:
            self.db = sqlite_utils.Database(path)
            version = self._check_version()
            self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self.db.enable_wal()
            if durable:
                self.db.execute("PRAGMA synchronous = FULL")
            if version < SCHEMA_VERSION:
                self._create_schema()
        except (sqlite3.Error, OSError, GatewatchError) as exc:
            self._abandon(created=not existed)
            if isinstance(exc, GatewatchError):
                raise
            raise GatewatchError(f"{path}: cannot open the database for writing ({_reason(exc, self.path)})") from None

    def _open_readonly(self) -> None:
        """SQLite's read-only mode, falling back to `immutable` where that fails on a read-only
        folder: a cleanly closed WAL database has no -wal file left, so the main file then holds
        every commit (with a -wal file present, read-only mode itself works). An older schema is
        upgraded first, which needs write access once."""
        uri = self.path.absolute().as_uri()
        for query in ("mode=ro", "immutable=1"):
            try:
                connection = sqlite3.connect(f"{uri}?{query}", uri=True, check_same_thread=False)
                self.db = sqlite_utils.Database(connection)
                version = self._check_version()
                break
            except sqlite3.Error as exc:
                error = exc
        else:
            reason = _reason(error, self.path)
            raise GatewatchError(f"{self.path}: cannot open the database for reading ({reason})") from None
        self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if version < SCHEMA_VERSION:
            self.db.close()
            try:
                Store(self.path).close()
            except GatewatchError as exc:
                raise GatewatchError(
                    f"{self.path}: made by an older gatewatch and must be upgraded once, which needs write access "
                    f"({exc})"
                ) from None
            self._open_readonly()

    def _check_version(self) -> int:
        version = int(self.db.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise GatewatchError(
                f"{self.path}: made by a newer gatewatch (schema {version}, this one knows {SCHEMA_VERSION}); upgrade"
            )
        return version

    def _abandon(self, *, created: bool) -> None:
        """Close after a failed open; a database this open created (empty, say on a full disk) is
        removed, so the next run does not find a file without tables."""
        with contextlib.suppress(sqlite3.Error, AttributeError):
            self.db.close()
        if created:
            for suffix in ("", "-wal", "-shm", "-journal"):
                with contextlib.suppress(OSError):
                    Path(f"{self.path}{suffix}").unlink()

    def _create_schema(self) -> None:
        pks: dict[str, Any] = {"meta": "key", "videos": ("camera", "video"), "sessions": "token_hash"}
        with self.write():
            for name, columns in TABLES.items():
                table = self.db[name]
                if table.exists():
                    for column, kind in columns.items():
                        if column not in table.columns_dict:
                            table.add_column(column, kind)
                else:
                    table.create(columns, pk=pks.get(name, "id"))
            self.db.execute("UPDATE events SET status = ? WHERE status IS NULL", [EventStatus.NEW])
            unique = {
                "events": ["camera", "video", "line", "frame", "track_id"],
                "crossings": ["camera", "video", "line", "frame", "track_id", "direction"],
                "registrations": ["key"],
                "users": ["username"],
            }
            for name, columns in unique.items():
                self.db[name].create_index(columns, unique=True, if_not_exists=True)
            for name, columns in {
                "events": ["ts"],
                "crossings": ["ts"],
                "event_reviews": ["event_id"],
                "deliveries": ["status", "next_at"],
            }.items():
                self.db[name].create_index(columns, if_not_exists=True)
            self.db.execute("CREATE INDEX IF NOT EXISTS crossings_registration ON crossings (registration_id)")
            self.db.execute("CREATE INDEX IF NOT EXISTS events_registration ON events (registration_id)")
            # Matching asks "valid around this time?"; these answer it without reading every row.
            for column in ("valid_from", "valid_until"):
                self.db.execute(
                    f"CREATE INDEX IF NOT EXISTS registrations_{column} ON registrations (julianday({column}))"
                )
            if self.db.execute("PRAGMA user_version").fetchone()[0] == 1:
                # Schema 1 linked crossings to CSV rows by text ("registrations.csv:2"); those rows
                # are now registrations with ids, which the next analysis of each video links again.
                self.db.execute("UPDATE crossings SET registration_id = NULL")
                self.db.execute("UPDATE events SET registration_id = NULL")
                for name in ("crossings", "events"):
                    self.db[name].transform(types={"registration_id": int})
            if self.db.execute("PRAGMA user_version").fetchone()[0] < 4:
                self._absolute_evidence()
            self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _absolute_evidence(self) -> None:
        """Schema 3 and older stored snapshot paths as given (`out/snapshots/...`), relative to
        wherever `analyze` ran, so `events show`, `prune` and `serve` run elsewhere missed them.
        They are made absolute against whichever of the database's folder and its parents holds
        most of them (the default layout, `out/gatewatch.db` beside `out/snapshots` run from the
        project folder, finds the project folder); with none found, against the first of those
        folders that has the paths' first component, else the database's own folder."""
        rows = self.db.execute(
            "SELECT id, snapshot_path, crop_path FROM events WHERE snapshot_path NOT LIKE '/%'"
        ).fetchall()
        if not rows:
            return
        bases = list(self.path.absolute().parents)
        relative = [Path(p) for _, *paths in rows for p in paths if p]
        found = {base: sum((base / p).is_file() for p in relative[:200]) for base in bases}
        base = max(bases, key=lambda b: (found[b], -bases.index(b)))
        if not found[base]:
            first = relative[0].parts[0] if relative else ""
            base = next((b for b in bases if (b / first).is_dir()), bases[0])
        for event_id, *paths in rows:
            full, crop = (str(base / p) if p else p for p in paths)
            self.db.execute("UPDATE events SET snapshot_path = ?, crop_path = ? WHERE id = ?", [full, crop, event_id])

    @contextlib.contextmanager
    def write(self, what: str = "write to the database", outcome: str = "") -> Iterator[None]:
        """A write transaction that holds SQLite's write lock from its start (BEGIN IMMEDIATE).

        `serve` has several writers (recorder, alert senders, web requests); a default transaction
        that reads first and writes later fails at once with "database is locked" when another
        one committed in between, where this one waits its turn (up to the busy timeout).
        SQLite's own failures (lock held too long, full disk, read-only file) become one
        `GatewatchError` naming the database, `what` was being done and its `outcome` (the
        transaction is rolled back)."""
        if self.db.conn.in_transaction:
            with self.db.atomic():
                yield
            return
        try:
            self.db.conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                if self.db.conn.in_transaction:
                    self.db.conn.execute("ROLLBACK")
                raise
            self.db.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                if self.db.conn.in_transaction:
                    self.db.conn.execute("ROLLBACK")
            raise GatewatchError(f"{self.path}: could not {what} ({_reason(exc, self.path)}){outcome}") from None

    def set_meta(self, values: Mapping[str, str]) -> None:
        """Facts about the site (time zone, name) that commands without a config still need."""
        with self.write():
            self.db["meta"].upsert_all([{"key": k, "value": v} for k, v in values.items()], pk="key")

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def save_run(self, run: VideoRun, decisions: list[Decision], snapshots: dict[int, Snapshots]) -> dict[int, int]:
        """Write one video's results atomically. `snapshots` and the returned event ids are keyed by
        position in `decisions`; every flagged decision must have its snapshots already on disk."""
        event_ids: dict[int, int] = {}
        with self.write("save results", "; nothing was written"):
            self._upsert_video(run)
            self.db.execute("DELETE FROM crossings WHERE camera = ? AND video = ?", [run.camera, run.video])
            for position, decision in enumerate(decisions):
                if decision.flagged:
                    event_id = event_ids[position] = self._upsert_event(run, decision, snapshots[position])
                else:
                    # An event an earlier run raised for this crossing (since authorized by a late
                    # registration, which now covers it) stays linked, so it is not counted twice.
                    event_id = self._event_id(run.video, decision.crossing)
                self._insert_crossing(run.video, decision, event_id)
        return event_ids

    def save_live(
        self, run: VideoRun, decision: Decision, snapshots: Snapshots | None, targets: Iterable[str]
    ) -> int | None:
        """One crossing of a live stream, committed on its own (with its event and the alerts to
        send for it) before anyone is told: an alert always points at a stored event."""
        with self.write():
            self._upsert_video(run)
            event_id = None
            if decision.flagged:
                assert snapshots is not None
                event_id = self._upsert_event(run, decision, snapshots)
                self._queue_deliveries(event_id, targets, run.analysed_at)
            self._insert_crossing(run.video, decision, event_id)
        return event_id

    def update_video(self, run: VideoRun) -> None:
        """A live stream's footage so far (for the report's 'footage analysed')."""
        with self.write():
            self._upsert_video(run)

    def queue_deliveries(self, event_id: int, targets: Iterable[str], at: datetime) -> None:
        """Send an event again (after a review changed its status)."""
        with self.write():
            self._queue_deliveries(event_id, targets, at)

    def _queue_deliveries(self, event_id: int, targets: Iterable[str], at: datetime) -> None:
        for target in targets:
            self.db.execute(
                """INSERT INTO deliveries (event_id, target, status, attempts, next_at, created_at)
                   VALUES (?, ?, ?, 0, ?, ?)""",
                [event_id, target, DeliveryStatus.PENDING, at.isoformat(), at.isoformat()],
            )

    def _upsert_video(self, run: VideoRun) -> None:
        self.db.execute(
            """INSERT INTO videos (camera, video, start, fps, frames, analysed_at) VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT (camera, video) DO UPDATE SET start = excluded.start, fps = excluded.fps,
                   frames = excluded.frames, analysed_at = excluded.analysed_at""",
            [run.camera, run.video, run.start.isoformat(), run.fps, run.frames, run.analysed_at.isoformat()],
        )

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
                decision.reason,
                decision.closed,
                _bbox(c.box),
            ],
        )

    def _upsert_event(self, run: VideoRun, decision: Decision, snapshots: Snapshots) -> int:
        c = decision.crossing
        self.db.execute(
            """INSERT INTO events (kind, camera, line, direction, ts, video, frame, track_id, confidence, bbox,
                                   snapshot_path, crop_path, status, reason, closed, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (camera, video, line, frame, track_id) DO UPDATE SET
                   snapshot_path = excluded.snapshot_path, crop_path = excluded.crop_path, pruned_at = NULL""",
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
                snapshots.full,
                snapshots.crop,
                EventStatus.NEW,
                decision.reason,
                decision.closed,
                run.analysed_at.isoformat(),
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

    def evidence_of(self, camera: str) -> set[str]:
        """Snapshot files the stored events of one camera point at."""
        rows = self.db.execute("SELECT snapshot_path, crop_path FROM events WHERE camera = ?", [camera]).fetchall()
        return {path for row in rows for path in row if path}

    def registrations(
        self,
        *,
        overlapping: tuple[datetime, datetime] | None = None,
        ending_after: datetime | None = None,
        registration_id: int | None = None,
        first_id: int | None = None,
        rerun: tuple[str, str] | None = None,
    ) -> list[tuple[Registration, int]]:
        """Registrations valid at some time in `overlapping` (all without it), with how many entries
        each still covers. `rerun` (camera, video) leaves out what that video's earlier analysis
        used, since a new run is about to replace those crossings. The time range is answered by
        the `julianday` indexes, so a book of a million card swipes costs what the range holds."""
        clauses, params = ["1 = 1"], []
        if overlapping is not None:
            clauses.append("julianday(r.valid_until) >= julianday(?) AND julianday(r.valid_from) <= julianday(?)")
            params += [overlapping[0].isoformat(), overlapping[1].isoformat()]
        if ending_after is not None:
            clauses.append("julianday(r.valid_until) >= julianday(?)")
            params.append(ending_after.isoformat())
        if registration_id is not None:
            clauses.append("r.id = ?")
            params.append(registration_id)
        if first_id is not None:
            clauses.append("r.id >= ?")
            params.append(first_id)
        camera, video = rerun or ("", "")
        rows = self.db.query(
            f"""SELECT r.*, r.count - (SELECT count(*) FROM crossings c WHERE c.registration_id = r.id
                                       AND NOT (c.camera = ? AND c.video = ?)) AS left
                FROM registrations r WHERE {" AND ".join(clauses)} ORDER BY julianday(r.valid_from), r.id""",
            [camera, video, *params],
        )
        return [(registration_from_row(row), int(row["left"])) for row in rows]

    def registration_book(
        self,
        groups: Mapping[str, Iterable[str]],
        overlapping: tuple[datetime, datetime] | None = None,
        rerun: tuple[str, str] | None = None,
    ) -> RegistrationBook:
        return RegistrationBook(self.registrations(overlapping=overlapping, rerun=rerun), groups)

    def live_registrations(self, groups: Mapping[str, Iterable[str]]) -> LiveBook:
        return LiveBook(lambda span: self.registrations(overlapping=span), groups)

    def registration(self, registration_id: int) -> tuple[Registration, int] | None:
        """A registration and how many entries it still covers."""
        if not 0 < registration_id < 2**63:  # SQLite's integers; a larger id names nothing
            return None
        found = self.registrations(registration_id=registration_id)
        return found[0] if found else None

    def add_registrations(self, registrations: Iterable[Registration], created_at: datetime) -> Added:
        """Insert in one transaction; ones already stored (same content) are skipped and counted.
        Rows go through a temporary table in one statement, not one INSERT each, and are not read
        back: an access-control export can hold a million swipes."""
        with self.write("save registrations", "; none were saved"):
            total = self._stage_registrations(registrations, created_at)
            first_new = int(self.db.execute("SELECT coalesce(max(id), 0) + 1 FROM registrations").fetchone()[0])
            cursor = self.db.execute(
                f"""INSERT OR IGNORE INTO registrations ({_REGISTRATION_COLUMNS})
                    SELECT {_REGISTRATION_COLUMNS} FROM temp.staged ORDER BY position"""
            )
            self.db.execute("DROP TABLE temp.staged")
        added = max(0, cursor.rowcount)
        return Added(first_new, added, total - added)

    def _stage_registrations(self, registrations: Iterable[Registration], created_at: datetime) -> int:
        self.db.execute("DROP TABLE IF EXISTS temp.staged")
        self.db.execute(f"CREATE TEMP TABLE staged (position INTEGER PRIMARY KEY, {_REGISTRATION_COLUMNS})")
        rows = (
            (
                position,
                r.scope,
                r.valid_from.isoformat(),
                r.valid_until.isoformat(),
                r.count,
                r.name,
                r.ref,
                r.reason,
                r.source,
                r.origin,
                r.key,
                created_at.isoformat(),
                r.created_by,
            )
            for position, r in enumerate(registrations)
        )
        cursor = self.db.conn.executemany(
            f"INSERT INTO temp.staged (position, {_REGISTRATION_COLUMNS}) VALUES ({', '.join('?' * 13)})", rows
        )
        return max(0, cursor.rowcount)

    def sync_registrations(self, origin: str, registrations: list[Registration], created_at: datetime) -> None:
        """Make the stored registrations from one file (the config's CSV) match it: new rows are added,
        rows edited or removed since are dropped unless an entry already used them (then they stay,
        as the record of why that entry was not flagged). Set-based: the file's keys are compared
        in SQL, whatever their number."""
        with self.write("save the config's registrations", "; none were saved"):
            self.add_registrations(registrations, created_at)
            self.db.execute("CREATE TEMP TABLE kept (key TEXT PRIMARY KEY) WITHOUT ROWID")
            self.db.conn.executemany(
                "INSERT OR IGNORE INTO temp.kept (key) VALUES (?)", ((r.key,) for r in registrations)
            )
            self.db.execute(
                """DELETE FROM registrations WHERE (origin = ? OR origin LIKE ? ESCAPE '\\')
                      AND key NOT IN (SELECT key FROM temp.kept)
                      AND id NOT IN (SELECT registration_id FROM crossings WHERE registration_id IS NOT NULL)
                      AND id NOT IN (SELECT registration_id FROM events WHERE registration_id IS NOT NULL)""",
                [origin, _like_prefix(origin + " row ")],
            )
            self.db.execute("DROP TABLE temp.kept")

    def prune_registrations(self, expired_before: datetime) -> int:
        """Retention for registrations: ones that ended before the cut-off and excused no entry
        (those stay, as the record of why an entry was not flagged)."""
        with self.write("prune registrations"):
            cursor = self.db.execute(
                """DELETE FROM registrations WHERE julianday(valid_until) < julianday(?)
                      AND id NOT IN (SELECT registration_id FROM crossings WHERE registration_id IS NOT NULL)
                      AND id NOT IN (SELECT registration_id FROM events WHERE registration_id IS NOT NULL)""",
                [expired_before.isoformat()],
            )
        return cursor.rowcount

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class ThreadStores:
    """One connection per thread, opened on first use: sqlite3 connections must stay in the thread
    that made them, and web servers and MQTT clients call in from threads of their own."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()

    def get(self) -> Store:
        store = getattr(self._local, "store", None)
        if store is None:
            store = self._local.store = Store(self.path)
        return store


_REGISTRATION_COLUMNS = (
    "scope, valid_from, valid_until, count, name, ref, reason, source, origin, key, created_at, created_by"
)


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def registration_from_row(row: Mapping[str, Any]) -> Registration:
    return Registration(
        scope=row["scope"],
        valid_from=datetime.fromisoformat(row["valid_from"]),
        valid_until=datetime.fromisoformat(row["valid_until"]),
        count=int(row["count"]),
        name=row["name"] or "",
        ref=row["ref"] or "",
        reason=row["reason"] or "",
        source=row["source"] or "",
        origin=row["origin"] or "",
        created_by=row["created_by"] or "",
        id=int(row["id"]),
    )


def _bbox(box: tuple[float, float, float, float]) -> str:
    return json.dumps([round(v, 1) for v in box])


def _reason(exc: BaseException, path: Path | None = None) -> str:
    """SQLite's words, with the likely cause where they are vague ("disk I/O error" on a full disk)."""
    reason = getattr(exc, "strerror", None) or str(exc)
    if path is not None and "full" not in reason:
        with contextlib.suppress(OSError):
            disk = os.statvfs(path.absolute().parent)
            if disk.f_bavail * disk.f_frsize < 1 << 20:
                reason += "; the disk is full"
    return reason
