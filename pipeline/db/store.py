"""A connection to the SQLite database (via sqlite-utils): opening it (read-write, read-only,
upgrading an older schema), write transactions, site facts, and one repository per kind of
record. No SQL is written outside `pipeline/db/`; callers pass typed values, never SQL text.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

import sqlite_utils

from pipeline.db.alarms import Alarms
from pipeline.db.center import Center
from pipeline.db.deliveries import Deliveries
from pipeline.db.events import Events
from pipeline.db.outages import Outages
from pipeline.db.patrols import Patrols
from pipeline.db.registrations import Registrations
from pipeline.db.schema import SCHEMA_VERSION, migrate
from pipeline.db.users import Users
from pipeline.errors import GatewatchError
from pipeline.files import ensure_writable_dir

BUSY_TIMEOUT_MS = 30_000  # how long a writer waits for another one before giving up


class Store:
    """One connection to a gatewatch database, and the repositories that read and write it."""

    def __init__(self, path: Path, *, durable: bool = False, readonly: bool = False) -> None:
        """`durable`: every commit reaches the disk before it returns (WAL's default may lose the
        last commits in a power cut) - for `serve`, which tells guards about what it committed.
        `readonly`: for commands that only read, so they work on a read-only disk or a copy."""
        self.path = path
        if readonly:
            self._open_readonly()
            self._repositories()
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
                migrate(self.db, self.path, self.write)
        except (sqlite3.Error, OSError, GatewatchError) as exc:
            self._abandon(created=not existed)
            if isinstance(exc, GatewatchError):
                raise
            raise GatewatchError(f"{path}: cannot open the database for writing ({_reason(exc, self.path)})") from None
        self._repositories()

    def _open_readonly(self) -> None:
        """SQLite's read-only mode, falling back to `immutable` where that fails on a read-only
        folder: a cleanly closed WAL database has no -wal file left, so the main file then holds
        every commit (with a -wal file present, read-only mode itself works). An older schema is
        upgraded first, which needs write access once."""
        uri = self.path.absolute().as_uri()
        for query in ("mode=ro", "immutable=1"):
            connection = None
            try:
                connection = sqlite3.connect(f"{uri}?{query}", uri=True, check_same_thread=False)
                self.db = sqlite_utils.Database(connection)
                version = self._check_version()
                break
            except (sqlite3.Error, GatewatchError) as exc:
                if connection is not None:  # else its files stay open (a full disk then cannot be remounted)
                    connection.close()
                if isinstance(exc, GatewatchError):
                    raise
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

    def _repositories(self) -> None:
        self.events = Events(self)
        self.registrations = Registrations(self)
        self.deliveries = Deliveries(self)
        self.users = Users(self)
        self.center = Center(self)
        self.alarms = Alarms(self)
        self.outages = Outages(self)
        self.patrols = Patrols(self)

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


def _reason(exc: BaseException, path: Path | None = None) -> str:
    """SQLite's words, with the likely cause where they are vague ("disk I/O error" on a full disk)."""
    reason = getattr(exc, "strerror", None) or str(exc)
    if path is not None and "full" not in reason:
        with contextlib.suppress(OSError):
            disk = os.statvfs(path.absolute().parent)
            if disk.f_bavail * disk.f_frsize < 1 << 20:
                reason += "; the disk is full"
    return reason
