"""When each live camera was down or misconfigured, so the monthly report can say how much of
the month every gate was really watched (the city asks for full coverage), and alarm receiving
centres hear of a camera that stays down (a trouble) and of its return."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from pipeline.db.base import Repository


@dataclass(frozen=True)
class Outage:
    camera: str
    started_at: datetime
    ended_at: datetime | None  # None: still down
    detail: str


@dataclass(frozen=True)
class Trouble:
    """A camera's outage as alarm receiving centres hear of it: it began, or (`restored`) it ended."""

    outage_id: int
    camera: str
    started_at: datetime
    restored: bool = False

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Trouble:
        return cls(row["outage_id"], row["camera"], datetime.fromisoformat(row["started_at"]), bool(row["restored"]))

    def row(self) -> dict[str, Any]:
        return {**asdict(self), "started_at": self.started_at.isoformat()}


class Outages(Repository):
    def begin(self, camera: str, at: datetime, detail: str) -> None:
        """A camera went down; nothing changes while it stays down (retries report it again)."""
        with self.store.write():
            if not self.db.execute(
                "SELECT 1 FROM camera_outages WHERE camera = ? AND ended_at IS NULL", [camera]
            ).fetchone():
                self.db.execute(
                    "INSERT INTO camera_outages (camera, started_at, detail) VALUES (?, ?, ?)",
                    [camera, at.isoformat(), detail],
                )

    def end(self, at: datetime, camera: str | None = None) -> None:
        """The camera is back (or, with no camera, the service stops: it saw nothing after)."""
        with self.store.write():
            self.db.execute(
                "UPDATE camera_outages SET ended_at = ? WHERE ended_at IS NULL AND (? IS NULL OR camera = ?)",
                [at.isoformat(), camera, camera],
            )

    def to_report(self, targets: list[str], started_before: datetime, now: datetime) -> list[Trouble]:
        """Queue a trouble for each outage that has lasted past the debounce and a restore for each
        reported one that has ended, each once, in one transaction with its deliveries."""
        queued: list[Trouble] = []
        if not any(self._waiting(started_before)):  # the usual case, checked every few seconds: no write lock
            return queued
        with self.store.write():
            begun, ended = self._waiting(started_before)  # again, under the lock
            for rows, restored, column in ((begun, False, "reported_at"), (ended, True, "restore_queued_at")):
                for outage_id, camera, started_at in rows:
                    trouble = Trouble(outage_id, camera, datetime.fromisoformat(started_at), restored)
                    self.store.deliveries.queue_trouble(trouble, targets, now)
                    self.db.execute(
                        f"UPDATE camera_outages SET {column} = ? WHERE id = ?", [now.isoformat(), outage_id]
                    )
                    queued.append(trouble)
        return queued

    def _waiting(self, started_before: datetime) -> tuple[list[Any], list[Any]]:
        """(id, camera, started_at) of the outages to report as begun, and of those to report as ended."""
        begun = self.db.execute(
            """SELECT id, camera, started_at FROM camera_outages WHERE ended_at IS NULL AND reported_at IS NULL
               AND julianday(started_at) <= julianday(?)""",
            [started_before.isoformat()],
        ).fetchall()
        ended = self.db.execute(
            """SELECT id, camera, started_at FROM camera_outages WHERE ended_at IS NOT NULL
               AND reported_at IS NOT NULL AND restore_queued_at IS NULL"""
        ).fetchall()
        return begun, ended

    def between(self, start: datetime, end: datetime) -> list[Outage]:
        """Outages overlapping [start, end), each cut to it."""
        rows = self.db.query(
            """SELECT camera, started_at, ended_at, detail FROM camera_outages
               WHERE julianday(started_at) < julianday(?) AND (ended_at IS NULL OR julianday(ended_at) > julianday(?))
               ORDER BY julianday(started_at)""",
            [end.isoformat(), start.isoformat()],
        )
        return [
            Outage(
                row["camera"],
                max(datetime.fromisoformat(row["started_at"]), start),
                min(datetime.fromisoformat(row["ended_at"]), end) if row["ended_at"] else None,
                row["detail"] or "",
            )
            for row in rows
        ]
