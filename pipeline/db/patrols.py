"""Patrol rounds as guards record them: when, who, which checkpoints, a note, a photo."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pipeline.db.base import Repository


@dataclass(frozen=True)
class PatrolRound:
    id: int
    at: datetime  # when the round was walked, site time
    by: str
    checkpoints: list[str]
    note: str
    photo_path: str | None
    created_at: datetime  # when it was recorded (a round may be entered after it was walked)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> PatrolRound:
        return cls(
            row["id"],
            datetime.fromisoformat(row["at"]),
            row["by"],
            json.loads(row["checkpoints"] or "[]"),
            row["note"] or "",
            row["photo_path"],
            datetime.fromisoformat(row["created_at"]),
        )


class Patrols(Repository):
    def record(self, at: datetime, by: str, checkpoints: list[str], note: str, now: datetime) -> PatrolRound:
        with self.store.write():
            cursor = self.db.execute(
                "INSERT INTO patrol_rounds (at, by, checkpoints, note, created_at) VALUES (?, ?, ?, ?, ?)",
                [at.isoformat(), by, json.dumps(checkpoints, ensure_ascii=False), note, now.isoformat()],
            )
        found = self.get(int(cursor.lastrowid or 0))
        assert found is not None
        return found

    def set_photo(self, round_id: int, path: str) -> None:
        with self.store.write():
            self.db.execute("UPDATE patrol_rounds SET photo_path = ? WHERE id = ?", [path, round_id])

    def get(self, round_id: int) -> PatrolRound | None:
        rows = list(self.db.query("SELECT * FROM patrol_rounds WHERE id = ?", [round_id]))
        return PatrolRound.from_row(rows[0]) if rows else None

    def between(self, start: datetime, end: datetime) -> list[PatrolRound]:
        rows = self.db.query(
            """SELECT * FROM patrol_rounds WHERE julianday(at) >= julianday(?) AND julianday(at) < julianday(?)
               ORDER BY julianday(at), id""",
            [start.isoformat(), end.isoformat()],
        )
        return [PatrolRound.from_row(row) for row in rows]
