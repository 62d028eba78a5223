"""/api/events: alerts, their snapshots, review, and the live feed of changes.

Snapshots are served by event id only: the path comes from the database and must lie inside the
snapshot folder, so no request can name a file.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, Response
from PIL import Image
from pydantic import BaseModel, Field, model_validator
from pydantic.json_schema import SkipJsonSchema
from sse_starlette.sse import EventSourceResponse

from pipeline.db import Event, EventFilter, EventReview, Store, User
from pipeline.errors import BadValue, Conflict, InvalidInput, NotFound
from pipeline.messages import EventMessage, MessageView
from pipeline.registrations import Registration, parse_registration
from pipeline.review import change_status, get_event, history, list_events, undo_acknowledgement
from pipeline.vocabulary import EventStatus
from pipeline.web.box import Box, BoxDep
from pipeline.web.common import PathId, Plain, UserDep, live_feed, page_or_login, templates
from pipeline.web.i18n import language, page_context
from pipeline.web.views import AlarmView, RegistrationView
from pipeline.wording import Language, say, zone_word

router = APIRouter(prefix="/api", tags=["events"])
pages = APIRouter(include_in_schema=False)

# An id SQLite can hold; a larger one is refused with 422 instead of overflowing into a 500.
EventId = PathId


class EventView(EventMessage):
    """An event as MQTT and webhooks send it (links relative to this box), with its review so far."""

    signature: SkipJsonSchema[None] = Field(None, exclude=True)  # the wire's proof, not the API's
    first_review_at: str | None = None
    registration_id: int | None = None
    pruned_at: str | None = None
    reason_message: MessageView | None = Field(None, description="the reason, for the page to word in its language")
    clip_url: str | None = Field(None, description="MP4 from seconds before to seconds after, once written")
    track_path: list[tuple[float, float]] = Field(
        default_factory=list, description="where the person went (snapshot pixels, oldest first)"
    )

    @classmethod
    def of(cls, event: Event, site: str) -> EventView:  # type: ignore[override]
        return cls(
            **EventMessage.fields_of(event, site, ""),
            first_review_at=event.first_review_at.isoformat() if event.first_review_at else None,
            registration_id=event.registration_id,
            pruned_at=event.pruned_at.isoformat() if event.pruned_at else None,
            reason_message=MessageView.of(event.reason_message),
            clip_url=f"/api/events/{event.id}/clip" if event.clip_path and not event.pruned_at else None,
            track_path=list(event.track_path),
        )


class ReviewStep(BaseModel):
    at: str
    by: str
    from_status: EventStatus
    to_status: EventStatus
    note: str
    registration_id: int | None
    note_message: MessageView | None = Field(None, description="set when gatewatch took the step itself")


class EventDetail(EventView):
    history: list[ReviewStep]
    registration: RegistrationView | None = Field(None, description="the registration that explains the entry")
    alarms: list[AlarmView] = Field(description="alarms that escalated this alert, oldest first")
    escalates_at: str | None = Field(None, description="when it escalates by itself if nobody handles it")


class Visitor(BaseModel):
    name: Plain = Field("", max_length=100)
    ref: Plain = Field("", max_length=100, description="ID card, visitor pass or badge number")
    reason: Plain = Field("", max_length=200)


class Review(BaseModel):
    action: Literal[EventStatus.ACKNOWLEDGED, EventStatus.FALSE_ALARM, EventStatus.AUTHORIZED]
    note: Plain = Field("", max_length=500)
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


class EventCounts(BaseModel):
    """How many events stand where: `open` (new or acknowledged) is what the guard still owes."""

    open: int
    new: int
    acknowledged: int
    false_alarm: int
    authorized: int


class BatchReview(BaseModel):
    ids: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] = Field(min_length=1, max_length=500)
    action: Literal[EventStatus.ACKNOWLEDGED, EventStatus.FALSE_ALARM]
    note: Plain = Field("", max_length=500)


class Refused(BaseModel):
    id: int
    detail: str


class BatchResult(BaseModel):
    changed: list[int]
    refused: list[Refused] = Field(description="events that could not take the action (gone, or already final)")


@router.get("/events", responses={200: {"headers": {"X-Total-Count": {"description": "events matching, all pages"}}}})
def events(
    box: BoxDep,
    _: UserDep,
    response: Response,
    status: EventStatus | None = None,
    only_open: Annotated[bool, Query(alias="open", description="only new and acknowledged events")] = False,
    camera: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    from_time: Annotated[time | None, Query(description="time of day (site clock); may run past midnight")] = None,
    to_time: time | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> list[EventView]:
    """Newest first, a page at a time; `X-Total-Count` says how many match in all."""
    if (from_time is None) != (to_time is None) or (from_time is not None and from_time == to_time):
        raise InvalidInput("from_time", "give from_time and to_time together, and not the same time")
    hours = (from_time, to_time) if from_time is not None and to_time is not None else None
    filters = EventFilter(status, camera, box.aware(since), box.aware(until), open=only_open, hours=hours)
    store = box.store
    response.headers["X-Total-Count"] = str(store.events.count(filters))
    found = list_events(store, filters, newest_first=True, limit=limit, offset=offset)
    return [EventView.of(e, box.site) for e in found]


@router.get("/events/counts")
def counts(box: BoxDep, _: UserDep) -> EventCounts:
    """The numbers the guard's page and tab title show, straight from the database."""
    by_status = box.store.events.counts_by_status()
    return EventCounts(open=sum(n for s, n in by_status.items() if s.open), **by_status)


@router.post("/events/review")
def review_many(body: BatchReview, box: BoxDep, user: UserDep) -> BatchResult:
    """Acknowledge (or mark as false alarms) many events at once, each with its own audit row.
    Events that cannot take the action are listed, not fatal: the others still change."""
    now = datetime.now(UTC)

    def review(store: Store, event_id: int) -> object:
        return change_status(store, event_id, body.action, by=user.username, at=now, note=body.note)

    return _each(body.ids, box, review)


class Undo(BaseModel):
    ids: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] = Field(min_length=1, max_length=500)


@router.post("/events/undo")
def undo(body: Undo, box: BoxDep, user: UserDep) -> BatchResult:
    """Take back acknowledgements this user gave in the last 30 s (a batch pressed by mistake):
    the alerts are new again. Those that cannot be taken back are listed with why."""
    now = datetime.now(UTC)
    return _each(body.ids, box, lambda store, event_id: undo_acknowledgement(store, event_id, by=user.username, at=now))


def _each(ids: list[int], box: Box, change: Callable[[Store, int], object]) -> BatchResult:
    """`change` each event once; those it refuses are listed with why, the others told to the pages."""
    store = box.store
    changed: list[int] = []
    refused: list[Refused] = []
    for event_id in dict.fromkeys(ids):
        try:
            change(store, event_id)
        except (NotFound, Conflict) as exc:
            refused.append(Refused(id=event_id, detail=str(exc)))
            continue
        changed.append(event_id)
        box.live.event_changed(store, event_id)
    return BatchResult(changed=changed, refused=refused)


@router.get("/events/{event_id}")
def event(event_id: EventId, box: BoxDep, _: UserDep) -> EventDetail:
    """One event with everything the detail page shows: review history, the registration that
    explains it, its alarms and when it would escalate by itself."""
    store = box.store
    found = list_events(store, EventFilter(id=event_id))
    if not found:
        raise HTTPException(404, f"no event {event_id}")
    stored = found[0]
    registration = store.registrations.get(stored.registration_id) if stored.registration_id else None
    after = box.config.escalations().get((stored.camera, stored.line))
    escalates = stored.created_at + timedelta(seconds=after) if after and stored.created_at else None
    return EventDetail(
        **EventView.of(stored, box.site).model_dump(),
        history=[_step(review) for review in history(store, event_id)],
        registration=RegistrationView.of(*registration) if registration else None,
        alarms=[
            AlarmView.of(alarm, box.site, store.deliveries.of_alarm(alarm.id))
            for alarm in store.alarms.for_event(event_id)
        ],
        escalates_at=escalates.isoformat() if escalates and stored.status == EventStatus.NEW else None,
    )


def _step(review: EventReview) -> ReviewStep:
    return ReviewStep(
        at=review.at.isoformat(),
        by=review.by,
        from_status=review.from_status,
        to_status=review.to_status,
        note=review.note,
        registration_id=review.registration_id,
        note_message=MessageView.of(review.note_message),
    )


EVIDENCE_TYPES = {"snapshot": "image/jpeg", "crop": "image/jpeg", "clip": "video/mp4"}


def _evidence_file(box: Box, event_id: int, which: str) -> FileResponse:
    try:
        event = get_event(box.store, event_id)
    except NotFound:
        raise HTTPException(404, f"no event {event_id}") from None
    if event.pruned_at:
        raise HTTPException(410, f"{which} removed by retention on {event.pruned_at.isoformat()}")
    raw = {"snapshot": event.snapshot_path, "crop": event.crop_path, "clip": event.clip_path}[which]
    path = Path(raw).resolve() if raw else None
    if path is None or not path.is_file():
        raise HTTPException(404, f"{which} file missing" if raw else f"no {which} for this event")
    if not path.is_relative_to(box.snapshot_root):
        raise HTTPException(404, f"{which} is outside this server's snapshot folder ({box.snapshot_root})")
    # Evidence never changes once written; a browser may keep it for the shift.
    return FileResponse(path, media_type=EVIDENCE_TYPES[which], headers={"Cache-Control": "private, max-age=3600"})


@router.get("/events/{event_id}/snapshot", response_class=FileResponse)
def snapshot(event_id: EventId, box: BoxDep, _: UserDep) -> FileResponse:
    """The annotated full frame (JPEG)."""
    return _evidence_file(box, event_id, "snapshot")


@router.get("/events/{event_id}/crop", response_class=FileResponse)
def crop(event_id: EventId, box: BoxDep, _: UserDep) -> FileResponse:
    """The person, cropped (JPEG)."""
    return _evidence_file(box, event_id, "crop")


@router.get("/events/{event_id}/clip", response_class=FileResponse)
def clip(event_id: EventId, box: BoxDep, _: UserDep) -> FileResponse:
    """The seconds around the crossing (H.264 MP4; byte ranges for seeking). A live event's clip
    arrives once the seconds after the crossing have passed (404 until then)."""
    return _evidence_file(box, event_id, "clip")


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
    box.live.event_changed(store, event_id)
    return event(event_id, box, user)


def parse_web_registration(box: Box, fields: dict[str, str], username: str) -> Registration:
    """A registration from the web, through the same checks as every other way in."""
    try:
        return parse_registration(fields, box.config.tz, box.config.scopes(), origin="web", created_by=username)
    except BadValue as exc:
        raise InvalidInput("registration", str(exc), message=exc.message) from None
    except ValueError as exc:
        raise InvalidInput("registration", str(exc)) from None


@router.get("/stream")
async def stream(request: Request, box: BoxDep, _: UserDep) -> EventSourceResponse:
    """Server-sent events: `event` (id of a new or changed event), `camera` (state change)."""
    return live_feed(request, box.live.hub)


@pages.get("/events/{event_id}")
def event_page(event_id: EventId, request: Request, box: BoxDep) -> Response:
    """Everything about one alert on one page: the picture with the person's path, the clip, the
    facts, how it was handled, and the buttons to handle it."""
    auth = request.app.state.auth
    lang = language(request, auth.site_language)

    def render(user: User) -> Response:
        detail = event(event_id, box, user)
        store, tz = box.store, box.config.tz
        stored = get_event(store, event_id)
        context = {
            **page_context(lang, box.config),
            "user": user,
            "e": detail,
            "reason": say(stored.reason_message, stored.reason, lang),
            "frame_size": None if stored.pruned_at else _frame_size(stored.snapshot_path),
            "path_points": " ".join(f"{x:.0f},{y:.0f}" for x, y in stored.track_path),
            "local": lambda iso: _site_time(datetime.fromisoformat(iso), tz, lang) if iso else "—",
            "notes": [say(step.note_message, step.note, lang) for step in history(store, event_id)],
            "alarm_reasons": {a.id: say(a.reason_message, a.reason, lang) for a in store.alarms.for_event(event_id)},
            "people": store.users.names(),
        }
        return templates.TemplateResponse(request, "event.html", context)

    return page_or_login(auth, request, render)


def _frame_size(path: str | None) -> tuple[int, int] | None:
    """The snapshot's pixel size (from its header), so the path is drawn in the same pixels."""
    try:
        with Image.open(path or "") as image:
            return image.size
    except OSError:
        return None


def _site_time(moment: datetime, tz: ZoneInfo, lang: Language) -> str:
    local = moment.astimezone(tz)
    word = zone_word(tz.key, lang)
    if word is not None:
        return f"{local:%Y-%m-%d %H:%M:%S} {word}"
    offset = local.utcoffset() or timedelta(0)
    hours, minutes = divmod(int(offset.total_seconds()) // 60, 60)
    zone = f"GMT{'+' if offset >= timedelta(0) else '-'}{abs(hours)}" + (f":{minutes:02d}" if minutes else "")
    return f"{local:%Y-%m-%d %H:%M:%S} {zone}"
