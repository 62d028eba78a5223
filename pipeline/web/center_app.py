"""The district centre's web UI and API: every school's alarms and events in one list with their
evidence (pushed by the schools, checked against what they signed), and which schools and
cameras are online."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Header, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sse_starlette.sse import EventSourceResponse

from pipeline.alerts.evidence import SHA256_HEADER, SIGNATURE_HEADER
from pipeline.center import CenterSubscriber, center_alarms, center_events, center_sites
from pipeline.db import User
from pipeline.signing import BadSignature, verify_upload
from pipeline.vocabulary import AlarmStatus, EventStatus, EvidencePiece, EvidenceState
from pipeline.web.common import Auth, PathId, UserDep, live_feed, new_app, page_or_login, templates
from pipeline.web.i18n import LABELS, language
from pipeline.wording import templates as templates_in

SESSION_HOURS = 12
MAX_BATCH = 1000
EVIDENCE_PREFIX = "/api/evidence/"
MAX_EVIDENCE_BYTES = 64_000_000  # a clip of 10 s at the camera's own rate and quality is a few megabytes
HEX64 = "^[0-9a-f]{64}$"
PRIVATE_CACHE = {"Cache-Control": "private, max-age=300"}  # a file changes only if it is pushed again
_TOTAL: dict[int | str, dict[str, Any]] = {
    200: {"headers": {"X-Total-Count": {"description": "how many match, all pages"}}}
}


class AlarmRef(BaseModel):
    site_topic: Annotated[str, Field(min_length=1, max_length=200)]
    alarm_id: Annotated[int, Field(ge=1, le=2**62)]


class AlarmBatch(BaseModel):
    alarms: Annotated[list[AlarmRef], Field(min_length=1, max_length=MAX_BATCH)]


def create_center_app(db_path: Path, subscriber: CenterSubscriber) -> FastAPI:
    app = new_app(
        "gatewatch centre",
        "Alerts of many schools, received over MQTT.",
        db_path,
        timedelta(hours=SESSION_HOURS),
        "center_title",
        "gatewatch_centre_session",
        uploads={EVIDENCE_PREFIX: MAX_EVIDENCE_BYTES},
    )
    auth: Auth = app.state.auth
    stores = auth.stores

    @app.get("/api/health", tags=["service"])
    def health() -> dict[str, Any]:
        connected = subscriber.client is not None and subscriber.client.is_connected()
        return {"status": "ok", "broker_connected": connected, "events_received": subscriber.received}

    @app.get("/", include_in_schema=False)
    def home(request: Request) -> Response:
        lang = language(request)

        def render(user: User) -> Response:
            context = {
                "t": LABELS[lang],
                "lang": lang,
                "user": user,
                "labels_json": json.dumps(LABELS[lang], ensure_ascii=False),
                "words_json": json.dumps(templates_in(lang), ensure_ascii=False),
            }
            return templates.TemplateResponse(request, "center.html", context)

        return page_or_login(auth, request, render)

    @app.get("/api/stream", tags=["service"])
    async def stream(request: Request, _: UserDep) -> EventSourceResponse:
        """Server-sent events, as the centre hears them: `alarm` (new or changed), `event`, `site`
        (a school or camera went on- or offline). Each carries `site` (the topic level) and `id`."""
        return live_feed(request, subscriber.hub)

    @app.get("/api/events", tags=["events"], responses=_TOTAL)
    def events(
        _: UserDep,
        response: Response,
        site: str | None = None,
        status: EventStatus | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
        offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
    ) -> list[dict[str, Any]]:
        """All schools' events, newest first, with their latest status, a page at a time."""
        store = stores.get()
        response.headers["X-Total-Count"] = str(store.center.count_events(site, status))
        return center_events(store, site, status, limit, offset)

    @app.get("/api/alarms", tags=["alarms"], responses=_TOTAL)
    def alarms(
        _: UserDep,
        response: Response,
        status: AlarmStatus | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
        offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
    ) -> list[dict[str, Any]]:
        """Every school's alarms to the police and the centre, in the order to work them: open ones
        first (one-click, then escalated by a person, then by gatewatch; oldest first), then the
        confirmed ones, newest first. Each says whether the school has handled the alert behind it."""
        store = stores.get()
        response.headers["X-Total-Count"] = str(store.center.count_alarms(status))
        return center_alarms(store, status, limit, offset)

    @app.post("/api/alarms/{site_topic}/{alarm_id}/ack", tags=["alarms"])
    def acknowledge(site_topic: str, alarm_id: PathId, user: UserDep) -> dict[str, Any]:
        """Confirm an alarm; the school sees who confirmed it and when."""
        if not subscriber.acknowledge(site_topic, alarm_id, user.username):
            raise HTTPException(409, f"alarm {alarm_id} of {site_topic}: not an open alarm here")
        return {"site_topic": site_topic, "alarm_id": alarm_id, "acknowledged_by": user.username}

    @app.post("/api/alarms/ack", tags=["alarms"])
    def acknowledge_many(body: AlarmBatch, user: UserDep) -> dict[str, list[AlarmRef]]:
        """Confirm several alarms at once (the page asks the officer first). Each is confirmed and
        told to its school as if one by one; those no longer open (another officer was quicker)
        come back in `not_open`."""
        done: dict[str, list[AlarmRef]] = {"confirmed": [], "not_open": []}
        for ref in body.alarms:
            confirmed = subscriber.acknowledge(ref.site_topic, ref.alarm_id, user.username)
            done["confirmed" if confirmed else "not_open"].append(ref)
        return done

    @app.put("/api/evidence/{site_topic}/{event_id}/{piece}", tags=["evidence"], status_code=201)
    async def receive_evidence(
        site_topic: str,
        event_id: PathId,
        piece: EvidencePiece,
        request: Request,
        sha256: Annotated[str, Header(alias=SHA256_HEADER, pattern=HEX64)],
        signature: Annotated[str, Header(alias=SIGNATURE_HEADER, pattern=HEX64)],
    ) -> dict[str, Any]:
        """A school pushes one file of an event's evidence (`application/octet-stream`). No login:
        the file's SHA-256 comes signed with the school's enrolment key (`X-Gatewatch-Signature`,
        HMAC-SHA256 of `<site>/<event>/<piece>/<sha256>`). A repeat replaces the file."""
        key = subscriber.sites.key(site_topic)
        if key is None:
            raise HTTPException(403, f"{site_topic[:40]!r} is not a school enrolled here")
        data = await request.body()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise HTTPException(400, f"the body's SHA-256 is not the one in {SHA256_HEADER} (cut short on the way?)")
        try:
            verify_upload(signature, key, site_topic, event_id, piece, sha256)
        except BadSignature as exc:
            raise HTTPException(403, f"{SIGNATURE_HEADER}: {exc}") from None
        await run_in_threadpool(subscriber.store_evidence, site_topic, event_id, piece, data, sha256)
        return {"site_topic": site_topic, "event_id": event_id, "piece": piece, "sha256": sha256, "size": len(data)}

    @app.get("/api/evidence/{site_topic}/{event_id}/{piece}", tags=["evidence"])
    def evidence(
        site_topic: str, event_id: PathId, piece: EvidencePiece | Literal["thumbnail"], _: UserDep
    ) -> Response:
        """An event's snapshot, crop or clip as the school pushed it, checked again against the
        SHA-256 the school signed (409 if the file is not that any more, 404 until it arrives);
        or the thumbnail its signed message carried."""
        if piece == "thumbnail":
            thumbnail = stores.get().center.thumbnail(site_topic, event_id)
            if thumbnail is None:
                raise HTTPException(404, f"event {event_id} of {site_topic}: no thumbnail came with it")
            return Response(base64.b64decode(thumbnail), media_type="image/jpeg", headers=PRIVATE_CACHE)
        data, state = subscriber.evidence(site_topic, event_id, piece)
        if state == EvidenceState.MISSING:
            raise HTTPException(404, f"event {event_id} of {site_topic}: its {piece} has not arrived")
        if data is None:
            raise HTTPException(409, f"event {event_id} of {site_topic}: its {piece} is not what the school signed")
        kind = "video/mp4" if piece == EvidencePiece.CLIP else "image/jpeg"
        return Response(data, media_type=kind, headers=PRIVATE_CACHE)

    @app.get("/api/sites", tags=["sites"])
    def sites(_: UserDep) -> list[dict[str, Any]]:
        """Each school's availability and its cameras' (from the retained MQTT topics)."""
        return center_sites(stores.get(), subscriber.sites)

    @app.post("/api/sites/{site_topic}/offline/ack", tags=["sites"])
    def note_offline(site_topic: str, user: UserDep) -> dict[str, Any]:
        """The officer has seen that the school is offline: its tone stops; it stays shown offline."""
        if not subscriber.note_offline(site_topic, user.username):
            raise HTTPException(409, f"{site_topic}: not a school offline and unnoted here")
        return {"site": site_topic, "offline_noted_by": user.username}

    return app
