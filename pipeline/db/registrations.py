"""Registrations as stored: how many entries one still covers is its count minus the crossings
linked to it, so a re-run that replaces a video's crossings frees and re-uses exactly what that
video used."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pipeline.db.base import Repository
from pipeline.registrations import Registration, RegistrationLeft
from pipeline.vocabulary import RegistrationSource


@dataclass(frozen=True)
class Added:
    """What `add_registrations` stored: ids `first_id` onward, in the order given."""

    first_id: int
    count: int
    skipped: int


class Registrations(Repository):
    def valid(
        self,
        *,
        overlapping: tuple[datetime, datetime] | None = None,
        ending_after: datetime | None = None,
        registration_id: int | None = None,
        first_id: int | None = None,
        rerun: tuple[str, Collection[str]] | None = None,
    ) -> list[RegistrationLeft]:
        """Registrations valid at some time in `overlapping` (all without it), with how many entries
        each still covers. `rerun` (camera, videos) leaves out what those videos' earlier analysis
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
        camera, videos = rerun or ("", ())
        rows = self.db.query(
            f"""SELECT r.*, r.count - (SELECT count(*) FROM crossings c WHERE c.registration_id = r.id
                                       AND NOT (c.camera = ? AND c.video IN (SELECT value FROM json_each(?))))
                           AS left
                FROM registrations r WHERE {" AND ".join(clauses)} ORDER BY julianday(r.valid_from), r.id""",
            [camera, json.dumps(list(videos)), *params],
        )
        return [RegistrationLeft(registration_from_row(row), int(row["left"])) for row in rows]

    def id_of(self, registration: Registration) -> int | None:
        """The id a registration of the same content was stored under, if it was."""
        row = self.db.execute("SELECT id FROM registrations WHERE key = ?", [registration.key]).fetchone()
        return int(row[0]) if row else None

    def get(self, registration_id: int) -> RegistrationLeft | None:
        """A registration and how many entries it still covers."""
        if not 0 < registration_id < 2**63:  # SQLite's integers; a larger id names nothing
            return None
        found = self.valid(registration_id=registration_id)
        return found[0] if found else None

    def add(self, registrations: Iterable[Registration], created_at: datetime) -> Added:
        """Insert in one transaction; ones already stored (same content) are skipped and counted.
        Rows go through a temporary table in one statement, not one INSERT each, and are not read
        back: an access-control export can hold a million swipes."""
        with self.store.write("save registrations", "; none were saved"):
            total = self._stage(registrations, created_at)
            first_new = int(self.db.execute("SELECT coalesce(max(id), 0) + 1 FROM registrations").fetchone()[0])
            cursor = self.db.execute(
                f"""INSERT OR IGNORE INTO registrations ({_REGISTRATION_COLUMNS})
                    SELECT {_REGISTRATION_COLUMNS} FROM temp.staged ORDER BY position"""
            )
            self.db.execute("DROP TABLE temp.staged")
        added = max(0, cursor.rowcount)
        return Added(first_new, added, total - added)

    def _stage(self, registrations: Iterable[Registration], created_at: datetime) -> int:
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

    def sync(self, origin: str, registrations: list[Registration], created_at: datetime) -> None:
        """Make the stored registrations from one file (the config's CSV) match it: new rows are added,
        rows edited or removed since are dropped unless an entry already used them (then they stay,
        as the record of why that entry was not flagged). Set-based: the file's keys are compared
        in SQL, whatever their number."""
        with self.store.write("save the config's registrations", "; none were saved"):
            self.add(registrations, created_at)
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

    def prune(self, expired_before: datetime) -> int:
        """Retention for registrations: ones that ended before the cut-off and excused no entry
        (those stay, as the record of why an entry was not flagged)."""
        with self.store.write("prune registrations"):
            cursor = self.db.execute(
                """DELETE FROM registrations WHERE julianday(valid_until) < julianday(?)
                      AND id NOT IN (SELECT registration_id FROM crossings WHERE registration_id IS NOT NULL)
                      AND id NOT IN (SELECT registration_id FROM events WHERE registration_id IS NOT NULL)""",
                [expired_before.isoformat()],
            )
        return cursor.rowcount


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
        source=RegistrationSource(row["source"] or RegistrationSource.GUARD),
        origin=row["origin"] or "",
        created_by=row["created_by"] or "",
        id=int(row["id"]),
    )
