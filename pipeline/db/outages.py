"""When each live camera was down or misconfigured, so the monthly report can say how much of
the month every gate was really watched (the city asks for full coverage)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pipeline.db.base import Repository


@dataclass(frozen=True)
class Outage:
    camera: str
    started_at: datetime
    ended_at: datetime | None  # None: still down
    detail: str


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
