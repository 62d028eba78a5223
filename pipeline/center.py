"""The district monitoring centre: many schools' alerts in one database.

Each school's `serve` publishes to `<prefix>/<site>/events` (again on every status change) and
keeps retained availability and camera state topics; `gatewatch center` subscribes to all sites
and keeps the newest of everything: one row per (site, event), per site, and per (site, camera).
A message that is not what gatewatch publishes is logged and skipped, never fatal.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from pipeline.alerts.mqtt import connect
from pipeline.config import MqttConfig
from pipeline.store import Store, ThreadStores

log = logging.getLogger("gatewatch.center")

EVENT_FIELDS = ("id", "kind", "camera", "line", "direction", "time", "status", "reason", "snapshot_url")


def create_tables(store: Store) -> None:
    db = store.db
    with store.write():
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
        db["center_sites"].create({"site": str, "availability": str, "updated_at": str}, pk="site", if_not_exists=True)
        db["center_cameras"].create(
            {"site": str, "camera": str, "availability": str, "state": str, "updated_at": str},
            pk=("site", "camera"),
            if_not_exists=True,
        )


class CenterSubscriber:
    def __init__(self, config: MqttConfig, db_path: Path) -> None:
        self.config = config
        self.stores = ThreadStores(db_path)
        self.prefix_levels = config.topic_prefix.count("/") + 1
        self.received = 0
        self.client: mqtt.Client | None = None

    def start(self) -> None:
        self.client = connect(self.config, "gatewatch-center", on_connect=self._on_connect, on_message=self._on_message)

    def stop(self) -> None:
        if self.client is not None:
            self.client.disconnect()
            self.client.loop_stop()

    def _on_connect(self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if reason.is_failure:
            log.warning("broker %s:%s refused the connection: %s", self.config.host, self.config.port, reason)
            return
        prefix = self.config.topic_prefix
        for pattern in ("+/events", "+/availability", "+/cameras/+/availability", "+/cameras/+/state"):
            client.subscribe(f"{prefix}/{pattern}", qos=1)
        log.info("subscribed to %s/# on %s:%s", prefix, self.config.host, self.config.port)

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        levels = message.topic.split("/")[self.prefix_levels :]
        try:
            self.handle(levels, message.payload)
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("skipped a message on %s: %s", message.topic, exc)

    def handle(self, levels: list[str], payload: bytes) -> None:
        store = self.stores.get()
        now = datetime.now(UTC).isoformat()
        text = payload.decode("utf-8")
        if len(levels) == 2 and levels[1] == "events":
            event = json.loads(text)
            if not isinstance(event, dict) or not all(k in event for k in EVENT_FIELDS):
                raise ValueError(f"not a gatewatch event (needs {', '.join(EVENT_FIELDS)})")
            site = str(event.get("site") or levels[0])
            with store.write():
                store.db.execute(
                    """INSERT INTO center_events (site, event_id, kind, camera, line, direction, time, status, reason,
                                                  snapshot_url, payload, received_at, updated_at)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                       ON CONFLICT (site, event_id) DO UPDATE SET status = excluded.status,
                           payload = excluded.payload, updated_at = excluded.updated_at""",
                    [site, int(event["id"]), *(str(event[k] or "") for k in EVENT_FIELDS[1:]), text, now, now],
                )
            self.received += 1
        elif len(levels) == 2 and levels[1] == "availability":
            with store.write():
                store.db["center_sites"].upsert({"site": levels[0], "availability": text, "updated_at": now}, pk="site")
        elif len(levels) == 4 and levels[1] == "cameras" and levels[3] in ("availability", "state"):
            column = levels[3]
            with store.write():
                store.db["center_cameras"].upsert(
                    {"site": levels[0], "camera": levels[2], column: text, "updated_at": now}, pk=("site", "camera")
                )
        else:
            raise ValueError("not a gatewatch topic")


def center_events(store: Store, site: str | None, status: str | None, limit: int) -> list[dict[str, Any]]:
    clauses, params = ["1 = 1"], []
    for column, value in (("site", site), ("status", status)):
        if value:
            clauses.append(f"{column} = ?")
            params.append(value)
    rows = store.db.query(
        f"""SELECT site, event_id AS id, kind, camera, line, direction, time, status, reason, snapshot_url,
                   received_at, updated_at
            FROM center_events WHERE {" AND ".join(clauses)} ORDER BY julianday(time) DESC LIMIT ?""",
        [*params, limit],
    )
    return list(rows)


def center_sites(store: Store) -> list[dict[str, Any]]:
    sites = {row["site"]: {**row, "cameras": []} for row in store.db.query("SELECT * FROM center_sites ORDER BY site")}
    for row in store.db.query("SELECT * FROM center_cameras ORDER BY site, camera"):
        site = sites.setdefault(row["site"], {"site": row["site"], "availability": None, "cameras": []})
        state = json.loads(row["state"]) if row.get("state") else {}
        site["cameras"].append(
            {
                "camera": row["camera"],
                "availability": row["availability"],
                "state": state.get("state"),
                "detail": state.get("detail"),
                "updated_at": row["updated_at"],
            }
        )
    return list(sites.values())
