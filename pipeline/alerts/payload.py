"""What an alert says about an event: the same JSON on MQTT, webhooks and the live web feed."""

from __future__ import annotations

from typing import Any

from pipeline.db import Event


def event_payload(event: Event, site: str, public_url: str) -> dict[str, Any]:
    """Snapshot links go through the API (by id, behind login), never as file paths, which mean
    nothing off the box."""
    base = public_url.rstrip("/")
    return {
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
