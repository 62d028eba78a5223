"""The SQLite store (via sqlite-utils): schema and every write.

One analysis of one video commits in one transaction, so a failed run leaves no partial rows,
and re-running it replaces its crossings instead of adding to them. Events are keyed by what
happened (camera, video, line, frame, track), so a re-run finds the same event again and keeps
its id and its review status instead of creating a second alert.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlite_utils

from pipeline.errors import GatewatchError
from pipeline.records import Decision

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class VideoRun:
    camera: str
    video: str  # absolute path of the analysed file: the idempotency key with camera
    start: datetime
    fps: float
    frames: int
    analysed_at: datetime


@dataclass(frozen=True)
class Snapshots:
    """Where a flagged crossing's evidence was written."""

    full: str
    crop: str


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite_utils.Database(path)
            self.db.enable_wal()
            self._create_schema()
        except (sqlite3.Error, OSError) as exc:
            raise GatewatchError(f"{path}: cannot open the database for writing ({_reason(exc)})") from None

    def _create_schema(self) -> None:
        with self.db.atomic():
            self.db["videos"].create(
                {
                    "camera": str,
                    "video": str,
                    "start": str,
                    "fps": float,
                    "frames": int,
                    "analysed_at": str,
                },
                pk=("camera", "video"),
                if_not_exists=True,
            )
            self.db["events"].create(
                {
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
                    "registration_id": str,
                    "reason": str,
                    "created_at": str,
                },
                pk="id",
                not_null={"kind", "camera", "line", "ts", "status"},
                defaults={"status": "new"},
                if_not_exists=True,
            )
            self.db["events"].create_index(
                ["camera", "video", "line", "frame", "track_id"], unique=True, if_not_exists=True
            )
            self.db["events"].create_index(["ts"], if_not_exists=True)
            self.db["crossings"].create(
                {
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
                    "registration_id": str,
                    "reason": str,
                    "bbox": str,
                },
                pk="id",
                foreign_keys=[("event_id", "events", "id")],
                if_not_exists=True,
            )
            self.db["crossings"].create_index(
                ["camera", "video", "line", "frame", "track_id", "direction"], unique=True, if_not_exists=True
            )
            self.db["crossings"].create_index(["ts"], if_not_exists=True)
            self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def save_run(self, run: VideoRun, decisions: list[Decision], snapshots: dict[int, Snapshots]) -> dict[int, int]:
        """Write one video's results atomically. `snapshots` and the returned event ids are keyed by
        position in `decisions`; every flagged decision must have its snapshots already on disk."""
        event_ids: dict[int, int] = {}
        try:
            with self.db.atomic():
                self.db.execute(
                    """INSERT INTO videos (camera, video, start, fps, frames, analysed_at) VALUES (?, ?, ?, ?, ?, ?)
                       ON CONFLICT (camera, video) DO UPDATE SET start = excluded.start, fps = excluded.fps,
                           frames = excluded.frames, analysed_at = excluded.analysed_at""",
                    [
                        run.camera,
                        run.video,
                        run.start.isoformat(),
                        run.fps,
                        run.frames,
                        run.analysed_at.isoformat(),
                    ],
                )
                self.db.execute("DELETE FROM crossings WHERE camera = ? AND video = ?", [run.camera, run.video])
                for position, decision in enumerate(decisions):
                    event_id = None
                    if decision.flagged:
                        event_id = event_ids[position] = self._upsert_event(run, decision, snapshots[position])
                    c = decision.crossing
                    self.db.execute(
                        """INSERT INTO crossings (camera, video, line, direction, track_id, frame, ts, flagged,
                                                  event_id, registration_id, reason, bbox)
                           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                        [
                            c.camera,
                            run.video,
                            c.line,
                            c.direction,
                            c.track_id,
                            c.frame,
                            c.ts.isoformat(),
                            int(decision.flagged),
                            event_id,
                            decision.registration_id,
                            decision.reason,
                            _bbox(c.box),
                        ],
                    )
        except sqlite3.Error as exc:
            raise GatewatchError(f"{self.path}: could not save results ({_reason(exc)}); nothing was written") from None
        return event_ids

    def _upsert_event(self, run: VideoRun, decision: Decision, snapshots: Snapshots) -> int:
        c = decision.crossing
        key = (c.camera, run.video, c.line, c.frame, c.track_id)
        self.db.execute(
            """INSERT INTO events (kind, camera, line, direction, ts, video, frame, track_id, confidence, bbox,
                                   snapshot_path, crop_path, status, registration_id, reason, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'new', ?, ?, ?)
               ON CONFLICT (camera, video, line, frame, track_id) DO UPDATE SET
                   snapshot_path = excluded.snapshot_path, crop_path = excluded.crop_path""",
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
                decision.registration_id,
                decision.reason,
                run.analysed_at.isoformat(),
            ],
        )
        row = self.db.execute(
            "SELECT id FROM events WHERE camera = ? AND video = ? AND line = ? AND frame = ? AND track_id = ?",
            key,
        ).fetchone()
        return int(row[0])

    def close(self) -> None:
        self.db.close()


def _bbox(box: tuple[float, float, float, float]) -> str:
    return json.dumps([round(v, 1) for v in box])


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc)
