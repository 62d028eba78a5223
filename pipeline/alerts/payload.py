"""What an alert says about an event or an alarm: the same JSON on MQTT, webhooks and the live web feed."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from pipeline.db import Alarm, Event


def event_payload(event: Event, site: str, public_url: str) -> dict[str, Any]:
    """Snapshot links go through the API (by id, behind login), never as file paths, which mean
    nothing off the box."""
    base = public_url.rstrip("/")
    return {
        "type": "event",
        "id": event.id,
        "site": site,
        "kind": event.kind,
        "camera": event.camera,
        "line": event.line,
        "direction": event.direction,
        "time": event.ts.isoformat(),
        "status": event.status,
        "reason": event.reason,
        "closed": event.closed,
        "snapshot_url": f"{base}/api/events/{event.id}/snapshot",
        "crop_url": f"{base}/api/events/{event.id}/crop",
    }


def alarm_payload(alarm: Alarm, site: str, public_url: str) -> dict[str, Any]:
    """An alarm for the police and the district centre: who, when, why, and the alert behind it."""
    base = public_url.rstrip("/")
    return {
        "type": "alarm",
        "id": alarm.id,
        "site": site,
        "kind": alarm.kind,
        "camera": alarm.camera,
        "event_id": alarm.event_id,
        "reason": alarm.reason,
        "reason_message": asdict(alarm.reason_message) if alarm.reason_message else None,
        "raised_by": alarm.raised_by,
        "time": alarm.raised_at.isoformat(),
        "status": alarm.status,
        "snapshot_url": f"{base}/api/events/{alarm.event_id}/snapshot" if alarm.event_id else None,
    }
