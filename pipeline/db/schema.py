"""The database's tables, their indexes, and the upgrades from every older schema.

A database from an older gatewatch is upgraded in place when first opened for writing: missing
columns are added, and each schema step that changed the meaning of stored values migrates them.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import sqlite_utils

from pipeline.vocabulary import EventStatus

# 5: users.disabled_at; 6: alarms, deliveries.alarm_id; 7: messages worded at display time
# (events.reason_message, event_reviews.note_message, alarms.reason_message), events.track_path, events.clip_path,
# users.display_name, camera_outages; 8: videos.size, videos.mtime_ns, videos.config_digest (a batch skips
# files analysed before with the same config); 9: deliveries.key (the delivery id receivers see),
# deliveries.snapshot (the event or alarm as it was when the change was queued); 10: patrol_rounds,
# deliveries.outage_id, camera_outages.reported_at and .restore_queued_at (camera troubles over DC-09)
SCHEMA_VERSION = 10

# Every table's columns. A database from an older gatewatch gets the missing ones added.
TABLES: dict[str, dict[str, type]] = {
    "meta": {"key": str, "value": str},
    "videos": {
        "camera": str,
        "video": str,
        "start": str,
        "fps": float,
        "frames": int,
        "analysed_at": str,
        "size": int,  # of the file when analysed (with mtime_ns and config_digest: analysed before, skip it)
        "mtime_ns": int,
        "config_digest": str,  # footage.analysis_digest of the config it was analysed with
    },
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
        "reason": str,  # in English; reason_message is the same, to be worded in the reader's language
        "reason_message": str,  # wording.Message as JSON
        "closed": str,
        "created_at": str,
        "pruned_at": str,
        "track_path": str,  # JSON [[x, y], ...]: where the person went, drawn on the event page
        "clip_path": str,  # the MP4 around the crossing, once written
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
        "note_message": str,  # set when gatewatch itself took the step (worded at display time)
        "registration_id": int,
    },
    # Alerts waiting to go out (MQTT, webhooks): written with the event, in its transaction, so an
    # alert is never sent for an event that is not stored, and none is lost when a broker is down.
    # Alarms to the police and the district centre: raised by a person or by escalation, sent
    # through the same outbox as events, confirmed by the centre.
    "alarms": {
        "id": int,
        "kind": str,  # AlarmKind
        "event_id": int,  # the alert it escalates, if any
        "camera": str,
        "reason": str,
        "reason_message": str,  # set for an automatic escalation
        "raised_by": str,
        "raised_at": str,
        "status": str,  # AlarmStatus
        "acknowledged_by": str,
        "acknowledged_at": str,
    },
    "deliveries": {
        "id": int,
        "event_id": int,
        "alarm_id": int,  # set instead of event_id for an alarm
        "target": str,
        "status": str,  # DeliveryStatus
        "attempts": int,
        "next_at": str,
        "last_error": str,
        "created_at": str,
        "sent_at": str,
        "key": str,
        "snapshot": str,
        "outage_id": int,  # set instead of event_id for a camera trouble (or its end) to alarm receivers
    },
    "users": {
        "id": int,
        "username": str,
        "password_hash": str,
        "role": str,
        "created_at": str,
        "disabled_at": str,
        "display_name": str,  # how reports and the audit trail name the person ("Wang Wei, gate 1")
    },
    # When a live camera was down or misconfigured: the report's availability per camera.
    "camera_outages": {
        "id": int,
        "camera": str,
        "started_at": str,
        "ended_at": str,
        "detail": str,
        "reported_at": str,  # told to alarm receiving centres as a trouble (once it lasted long enough)
        "restore_queued_at": str,  # and its end
    },
    "sessions": {"token_hash": str, "username": str, "created_at": str, "expires_at": str},
    # Patrol rounds a guard recorded (the city asks for regular patrols, reported monthly).
    "patrol_rounds": {
        "id": int,
        "at": str,  # walked at, site time
        "by": str,
        "checkpoints": str,  # JSON list of the plan's checkpoint names
        "note": str,
        "photo_path": str,
        "created_at": str,
    },
}


def migrate(db: sqlite_utils.Database, path: Path, write: Callable[[], AbstractContextManager[None]]) -> None:
    """Create what is missing and upgrade an older database in place, in one transaction."""
    pks: dict[str, Any] = {"meta": "key", "videos": ("camera", "video"), "sessions": "token_hash"}
    with write():
        for name, columns in TABLES.items():
            table = db[name]
            if table.exists():
                for column, kind in columns.items():
                    if column not in table.columns_dict:
                        table.add_column(column, kind)
            else:
                table.create(columns, pk=pks.get(name, "id"))
        db.execute("UPDATE events SET status = ? WHERE status IS NULL", [EventStatus.NEW])
        unique = {
            "events": ["camera", "video", "line", "frame", "track_id"],
            "crossings": ["camera", "video", "line", "frame", "track_id", "direction"],
            "registrations": ["key"],
            "users": ["username"],
        }
        for name, columns in unique.items():
            db[name].create_index(columns, unique=True, if_not_exists=True)
        for name, columns in {
            "events": ["ts"],
            "crossings": ["ts"],
            "event_reviews": ["event_id"],
            "alarms": ["event_id"],
            "deliveries": ["status", "next_at"],
        }.items():
            db[name].create_index(columns, if_not_exists=True)
        db.execute("CREATE INDEX IF NOT EXISTS crossings_registration ON crossings (registration_id)")
        db.execute("CREATE INDEX IF NOT EXISTS events_registration ON events (registration_id)")
        # Matching asks "valid around this time?"; these answer it without reading every row.
        for column in ("valid_from", "valid_until"):
            db.execute(f"CREATE INDEX IF NOT EXISTS registrations_{column} ON registrations (julianday({column}))")
        if db.execute("PRAGMA user_version").fetchone()[0] == 1:
            # Schema 1 linked crossings to CSV rows by text ("registrations.csv:2"); those rows
            # are now registrations with ids, which the next analysis of each video links again.
            db.execute("UPDATE crossings SET registration_id = NULL")
            db.execute("UPDATE events SET registration_id = NULL")
            for name in ("crossings", "events"):
                db[name].transform(types={"registration_id": int})
        if db.execute("PRAGMA user_version").fetchone()[0] < 4:
            _absolute_evidence(db, path)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _absolute_evidence(db: sqlite_utils.Database, path: Path) -> None:
    """Schema 3 and older stored snapshot paths as given (`out/snapshots/...`), relative to
    wherever `analyze` ran, so `events show`, `prune` and `serve` run elsewhere missed them.
    They are made absolute against whichever of the database's folder and its parents holds
    most of them (the default layout, `out/gatewatch.db` beside `out/snapshots` run from the
    project folder, finds the project folder); with none found, against the first of those
    folders that has the paths' first component, else the database's own folder."""
    rows = db.execute("SELECT id, snapshot_path, crop_path FROM events WHERE snapshot_path NOT LIKE '/%'").fetchall()
    if not rows:
        return
    bases = list(path.absolute().parents)
    relative = [Path(p) for _, *paths in rows for p in paths if p]
    found = {base: sum((base / p).is_file() for p in relative[:200]) for base in bases}
    base = max(bases, key=lambda b: (found[b], -bases.index(b)))
    if not found[base]:
        first = relative[0].parts[0] if relative else ""
        base = next((b for b in bases if (b / first).is_dir()), bases[0])
    for event_id, *paths in rows:
        full, crop = (str(base / p) if p else p for p in paths)
        db.execute("UPDATE events SET snapshot_path = ?, crop_path = ? WHERE id = ?", [full, crop, event_id])


def create_center_tables(db: sqlite_utils.Database, write: Callable[[], AbstractContextManager[None]]) -> None:
    """The district centre's database: every school's events and availability, from MQTT."""
    with write():
        db["center_events"].create(
            {
                "site": str,
                "event_id": int,
                "kind": str,
                "camera": str,
                "line": str,
                "direction": str,
                "time": str,
                "status": str,
                "reason": str,
                "snapshot_url": str,
                "payload": str,
                "received_at": str,
                "updated_at": str,
            },
            pk=("site", "event_id"),
            if_not_exists=True,
        )
        db["center_events"].create_index(["time"], if_not_exists=True)
        db["center_sites"].create(
            {
                "site": str,  # the site topic level
                "availability": str,
                "updated_at": str,  # since when it has been so
                "name": str,  # as its messages name it (No1 Middle School)
                "offline_noted_by": str,  # the officer who took note it went offline (the tone stops)
                "offline_noted_at": str,
            },
            pk="site",
            if_not_exists=True,
        )
        db["center_cameras"].create(
            {"site": str, "camera": str, "availability": str, "state": str, "updated_at": str},
            pk=("site", "camera"),
            if_not_exists=True,
        )
        db["center_alarms"].create(
            {
                "site_topic": str,  # the site's topic level, where the confirmation goes back
                "alarm_id": int,
                "site": str,
                "kind": str,
                "camera": str,
                "event_id": int,
                "reason": str,
                "raised_by": str,
                "time": str,
                "snapshot_url": str,
                "status": str,
                "acknowledged_by": str,
                "acknowledged_at": str,
                "received_at": str,
                "ack_sent_at": str,  # when the broker took the confirmation; until then it is sent again
                "reason_message": str,  # an automatic escalation's reason, worded in the officer's language
                "thumbnail": str,  # base64 JPEG of its event's snapshot, as the alarm message carried it
                "evidence": str,  # JSON [{piece, sha256, size}]: its event's files, as the school signed them
                "camera_name": str,  # as the school names the camera (北门)
            },
            pk=("site_topic", "alarm_id"),
            if_not_exists=True,
        )
        # Files a school pushed (an event's snapshot, crop, clip): what arrived, by the digest its
        # signature vouched for; `altered_at` when a later read found the file changed on disk.
        db["center_evidence"].create(
            {
                "site_topic": str,
                "event_id": int,
                "piece": str,  # EvidencePiece
                "sha256": str,
                "size": int,
                "path": str,
                "received_at": str,
                "altered_at": str,
            },
            pk=("site_topic", "event_id", "piece"),
            if_not_exists=True,
        )
        for table, column in (  # a centre database from before these
            ("center_alarms", "ack_sent_at"),
            ("center_alarms", "reason_message"),
            ("center_sites", "name"),
            ("center_sites", "offline_noted_by"),
            ("center_sites", "offline_noted_at"),
            ("center_alarms", "thumbnail"),
            ("center_alarms", "evidence"),
            ("center_alarms", "camera_name"),
        ):
            if column not in db[table].columns_dict:
                db[table].add_column(column, str)
