"""/api/events: alerts, their snapshots, review, and the live feed of changes.

Snapshots are served by event id only: the path comes from the database and must lie inside the
snapshot folder, so no request can name a file.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi import Path as FastApiPath
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field, model_validator
from sse_starlette.sse import EventSourceResponse

from pipeline.db import Event, EventFilter, EventReview
from pipeline.errors import NotFound
from pipeline.registrations import Registration, parse_registration
from pipeline.review import change_status, get_event, history, list_events
from pipeline.vocabulary import Direction, EventKind, EventStatus
from pipeline.web.box import Box, BoxDep
from pipeline.web.common import UserDep

router = APIRouter(prefix="/api", tags=["events"])

# An id SQLite can hold; a larger one is refused with 422 instead of overflowing into a 500.
EventId = Annotated[int, FastApiPath(ge=1, le=2**63 - 1)]


class EventView(BaseModel):
    """An event as MQTT and webhooks send it, with its review so far. Times are ISO 8601 text
    in the site's zone, exactly as stored."""

    id: int
    site: str
    kind: EventKind
    camera: str
    line: str
    direction: Direction | None
    time: str
    status: EventStatus
    reason: str | None
    closed: str | None
    snapshot_url: str
    crop_url: str
    reviewed_by: str | None = None
    first_review_at: str | None = None
    review_note: str | None = None
    registration_id: int | None = None
    pruned_at: str | None = None


class ReviewStep(BaseModel):
    at: str
    by: str
    from_status: EventStatus
    to_status: EventStatus
    note: str
    registration_id: int | None


class EventDetail(EventView):
    history: list[ReviewStep]


class Visitor(BaseModel):
    name: str = Field("", max_length=100)
    ref: str = Field("", max_length=100, description="ID card, visitor pass or badge number")
    reason: str = Field("", max_length=200)


class Review(BaseModel):
    action: Literal[EventStatus.ACKNOWLEDGED, EventStatus.FALSE_ALARM, EventStatus.AUTHORIZED]
    note: str = Field("", max_length=500)
    registration_id: int | None = Field(
        None, ge=1, le=2**63 - 1, description="registration that explains the entry (authorize)"
    )
    visitor: Visitor | None = Field(
        None, description="authorize by registering the person now (a registration for this entry is created)"
    )

    @model_validator(mode="after")
    def _one_way_to_authorize(self) -> Review:
        if self.visitor is not None and (self.action != EventStatus.AUTHORIZED or self.registration_id is not None):
            raise ValueError("visitor goes with action 'authorized' and without registration_id")
        return self


def event_view(box: Box, event: Event) -> EventView:
    row = event.row()
    extra = {k: row[k] for k in ("reviewed_by", "first_review_at", "review_note", "registration_id", "pruned_at")}
    links = {"snapshot_url": f"/api/events/{event.id}/snapshot", "crop_url": f"/api/events/{event.id}/crop"}
    return EventView(**{**box.service.payload(event), **extra, **links})


@router.get("/events")
def events(
    box: BoxDep,
    _: UserDep,
    status: EventStatus | None = None,
    camera: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[EventView]:
    """Newest first."""
    filters = EventFilter(status, camera, box.aware(since), box.aware(until))
    return [event_view(box, e) for e in list_events(box.store, filters, newest_first=True, limit=limit)]


@router.get("/events/{event_id}")
def event(event_id: EventId, box: BoxDep, _: UserDep) -> EventDetail:
    found = list_events(box.store, EventFilter(id=event_id))
    if not found:
        raise HTTPException(404, f"no event {event_id}")
    steps = [_step(review) for review in history(box.store, event_id)]
    return EventDetail(**event_view(box, found[0]).model_dump(), history=steps)


def _step(review: EventReview) -> ReviewStep:
    return ReviewStep(
        at=review.at.isoformat(),
        by=review.by,
        from_status=review.from_status,
        to_status=review.to_status,
        note=review.note,
        registration_id=review.registration_id,
    )


def _snapshot_file(box: Box, event_id: int, path_of: str) -> FileResponse:
    try:
        event = get_event(box.store, event_id)
    except NotFound:
        raise HTTPException(404, f"no event {event_id}") from None
    if event.pruned_at:
        raise HTTPException(410, f"snapshot removed by retention on {event.pruned_at.isoformat()}")
    raw = event.snapshot_path if path_of == "snapshot" else event.crop_path
    path = Path(raw).resolve() if raw else None
    if path is None or not path.is_file():
        raise HTTPException(404, "snapshot file missing")
    if not path.is_relative_to(box.snapshot_root):
        raise HTTPException(404, f"snapshot is outside this server's snapshot folder ({box.snapshot_root})")
    return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})


@router.get("/events/{event_id}/snapshot", response_class=FileResponse)
def snapshot(event_id: EventId, box: BoxDep, _: UserDep) -> FileResponse:
    """The annotated full frame (JPEG)."""
    return _snapshot_file(box, event_id, "snapshot")


@router.get("/events/{event_id}/crop", response_class=FileResponse)
def crop(event_id: EventId, box: BoxDep, _: UserDep) -> FileResponse:
    """The person, cropped (JPEG)."""
    return _snapshot_file(box, event_id, "crop")


@router.post("/events/{event_id}/review")
def review(event_id: EventId, body: Review, box: BoxDep, user: UserDep) -> EventDetail:
    """Acknowledge, mark a false alarm, or authorize: naming the registration that explains the
    entry, or registering the visitor now (the new registration is linked to the event)."""
    store = box.store
    try:
        found = get_event(store, event_id)
    except NotFound:
        raise HTTPException(404, f"no event {event_id}") from None
    now = datetime.now(UTC)
    with store.write():  # a refused change leaves no registration behind
        registration_id = body.registration_id
        if body.visitor is not None:
            fields = {"time": found.ts.isoformat(), "camera": found.camera, **body.visitor.model_dump()}
            added = store.registrations.add([parse_web_registration(box, fields, user.username)], now)
            registration_id = added.first_id if added.count else None
        change_status(
            store, event_id, body.action, by=user.username, at=now, note=body.note, registration_id=registration_id
        )
    box.service.event_changed(store, event_id)
    return event(event_id, box, user)


def parse_web_registration(box: Box, fields: dict[str, str], username: str) -> Registration:
    """A registration from the web, through the same checks as every other way in."""
    try:
        return parse_registration(fields, box.config.tz, box.config.scopes(), origin="web", created_by=username)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None


@router.get("/stream")
async def stream(request: Request, box: BoxDep, _: UserDep) -> EventSourceResponse:
    """Server-sent events: `event` (id of a new or changed event), `camera` (state change)."""

    async def messages() -> AsyncIterator[dict[str, str]]:
        async for message in box.service.hub.subscribe():
            if await request.is_disconnected():
                return
            yield {"event": message["type"], "data": json.dumps(message, ensure_ascii=False)}

    return EventSourceResponse(messages(), ping=15)
