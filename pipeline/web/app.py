"""The box's web UI and JSON API (FastAPI, served by `gatewatch serve`).

Every route but login and health (the docs too) needs a session (cookie from the login page, or
`Authorization: Bearer <token>` for scripts). Snapshots are served by event id only: the path
comes from the database and must lie inside the snapshot folder, so no request can name a file.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import cv2
from fastapi import FastAPI, HTTPException, Query, Request
from fastapi import Path as FastApiPath
from fastapi.responses import FileResponse, HTMLResponse, Response
from pydantic import BaseModel, Field, model_validator
from sse_starlette.sse import EventSourceResponse

from pipeline.config import Config
from pipeline.errors import GatewatchError, NotFound
from pipeline.live.service import Service
from pipeline.registrations import Registration, parse_registration, read_registrations_csv
from pipeline.report import collect, day_period, month_period, render_html
from pipeline.review import EventFilter, change_status, get_event, history, list_events, record_registrations
from pipeline.snapshots import draw_shapes
from pipeline.users import add_user, list_users
from pipeline.vocabulary import EventStatus, RegistrationSource, Role
from pipeline.web.common import AdminDep, Auth, UserDep, new_app, page_or_login, templates
from pipeline.web.i18n import LABELS, language

JPEG_QUALITY = 80


# An id SQLite can hold; a larger one is refused with 422 instead of overflowing into a 500.
EventId = Annotated[int, FastApiPath(ge=1, le=2**63 - 1)]


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


class NewRegistration(BaseModel):
    scope: str = Field(min_length=1, description="camera or group the visitor comes through")
    count: int = Field(1, ge=1, le=500)
    name: str = Field("", max_length=100)
    ref: str = Field("", max_length=100, description="ID card, visitor pass or badge number")
    reason: str = Field("", max_length=200)
    at: datetime | None = Field(None, description="time of the visit (default: now)")
    window_minutes: float = Field(15, ge=0, le=24 * 60, description="valid this long either side of `at`")


class NewUser(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=8, max_length=256)
    role: Role = Role.GUARD


def create_app(config: Config, db_path: Path, snapshot_dir: Path, service: Service) -> FastAPI:
    app = new_app(
        "gatewatch",
        "Unregistered entries at school gates: live alerts, events, registrations, cameras.",
        db_path,
        timedelta(hours=config.server.session_hours),
        "title",
        config.server.public_url,
    )
    auth: Auth = app.state.auth
    stores = auth.stores
    snapshot_root = snapshot_dir.resolve()

    def event_view(event: dict[str, Any]) -> dict[str, Any]:
        view = service.payload(event)
        for key in ("reviewed_by", "first_review_at", "review_note", "registration_id", "pruned_at"):
            view[key] = event.get(key)
        view["snapshot_url"] = f"/api/events/{event['id']}/snapshot"
        view["crop_url"] = f"/api/events/{event['id']}/crop"
        return view

    @app.get("/api/health", tags=["service"])
    def health() -> dict[str, Any]:
        """For monitoring: no login; says whether each camera is live, nothing more."""
        cameras = {c["name"]: c["state"] for c in service.cameras()}
        return {"status": "ok", "site": config.site.name, "cameras": cameras}

    @app.get("/", include_in_schema=False)
    def home(request: Request) -> Response:
        lang = language(request)

        def render(user: dict[str, Any]) -> Response:
            today = datetime.now(config.tz).date()
            context = {
                "t": LABELS[lang],
                "lang": lang,
                "labels_json": json.dumps(LABELS[lang], ensure_ascii=False),
                "user": user,
                "site": config.site.name,
                "scopes": sorted(config.scopes()),
                "cameras": list(config.cameras),
                "today": today.isoformat(),
                "month": today.strftime("%Y-%m"),
            }
            response = templates.TemplateResponse(request, "ui.html", context)
            response.set_cookie("lang", lang, samesite="strict")
            return response

        return page_or_login(auth, request, render)

    @app.get("/api/events", tags=["events"])
    def events(
        _: UserDep,
        status: EventStatus | None = None,
        camera: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[dict[str, Any]]:
        """Newest first."""
        filters = EventFilter(status, camera, _aware(since, config), _aware(until, config))
        return [event_view(e) for e in list_events(stores.get(), filters, newest_first=True, limit=limit)]

    @app.get("/api/events/{event_id}", tags=["events"])
    def event(event_id: EventId, _: UserDep) -> dict[str, Any]:
        store = stores.get()
        found = list_events(store, EventFilter(id=event_id))
        if not found:
            raise HTTPException(404, f"no event {event_id}")
        return {**event_view(found[0]), "history": history(store, event_id)}

    def snapshot_file(event_id: int, column: str) -> FileResponse:
        event = _event_or_404(stores.get(), event_id)
        if event.get("pruned_at"):
            raise HTTPException(410, f"snapshot removed by retention on {event['pruned_at']}")
        raw = event.get(column)
        path = Path(raw).resolve() if raw else None
        if path is None or not path.is_file():
            raise HTTPException(404, "snapshot file missing")
        if not path.is_relative_to(snapshot_root):
            raise HTTPException(404, f"snapshot is outside this server's snapshot folder ({snapshot_root})")
        return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})

    @app.get("/api/events/{event_id}/snapshot", tags=["events"], response_class=FileResponse)
    def snapshot(event_id: EventId, _: UserDep) -> FileResponse:
        """The annotated full frame (JPEG)."""
        return snapshot_file(event_id, "snapshot_path")

    @app.get("/api/events/{event_id}/crop", tags=["events"], response_class=FileResponse)
    def crop(event_id: EventId, _: UserDep) -> FileResponse:
        """The person, cropped (JPEG)."""
        return snapshot_file(event_id, "crop_path")

    @app.post("/api/events/{event_id}/review", tags=["events"])
    def review(event_id: EventId, body: Review, user: UserDep) -> dict[str, Any]:
        """Acknowledge, mark a false alarm, or authorize: naming the registration that explains the
        entry, or registering the visitor now (the new registration is linked to the event)."""
        store = stores.get()
        found = _event_or_404(store, event_id)
        now = datetime.now(UTC)
        with store.write():  # a refused change leaves no registration behind
            registration_id = body.registration_id
            if body.visitor is not None:
                fields = {"time": found["ts"], "camera": found["camera"], **body.visitor.model_dump()}
                visitor = _parse(fields, config, user["username"])
                added = store.add_registrations([visitor], now)
                registration_id = added.first_id if added.count else None
            change_status(
                store,
                event_id,
                body.action,
                by=user["username"],
                at=now,
                note=body.note,
                registration_id=registration_id,
            )
        service.event_changed(stores.get(), event_id)
        return event(event_id, user)

    @app.get("/api/stream", tags=["events"])
    async def stream(request: Request, _: UserDep) -> EventSourceResponse:
        """Server-sent events: `event` (id of a new or changed event), `camera` (state change)."""

        async def messages() -> AsyncIterator[dict[str, str]]:
            async for message in service.hub.subscribe():
                if await request.is_disconnected():
                    return
                yield {"event": message["type"], "data": json.dumps(message, ensure_ascii=False)}

        return EventSourceResponse(messages(), ping=15)

    @app.get("/api/registrations", tags=["registrations"])
    def registrations(_: UserDep, since: datetime | None = None) -> list[dict[str, Any]]:
        start = _aware(since, config) or datetime.now(UTC) - timedelta(days=1)
        rows = stores.get().registrations(ending_after=start)
        return [_registration_view(r, left) for r, left in rows]

    @app.post("/api/registrations", tags=["registrations"], status_code=201)
    def register(body: NewRegistration, user: UserDep) -> dict[str, Any]:
        """Quick registration of a visitor at the gate; also authorizes open alerts it explains."""
        at = _aware(body.at, config) or datetime.now(config.tz)
        values = {
            "camera": body.scope,
            "count": str(body.count),
            "name": body.name,
            "ref": body.ref,
            "reason": body.reason,
            "source": RegistrationSource.GUARD,
            "time": at.isoformat(),
            "window": f"{body.window_minutes:g}m",
        }
        registration = _parse(values, config, user["username"])
        added, authorized = record_registrations(stores.get(), config, [registration], datetime.now(UTC))
        for event_id, _registration in authorized:
            service.event_changed(stores.get(), event_id)
        found = stores.get().registration(added.first_id) if added.count else None
        saved = found[0] if found else registration
        return {
            "registration": _registration_view(saved, saved.count),
            "already_stored": not added.count,
            "authorized_events": [event_id for event_id, _ in authorized],
        }

    @app.post("/api/registrations/import", tags=["registrations"])
    async def import_registrations(
        request: Request,
        admin: AdminDep,
        encoding: Literal["auto", "utf-8", "gbk", "latin-1"] = "auto",
    ) -> dict[str, Any]:
        """A CSV export (body: the file, text/csv, at most 1 MB); all good rows or, with bad rows,
        the good ones and a list of the bad ones with their row numbers."""
        data = await request.body()
        if not data:
            raise HTTPException(422, "body: empty; send the CSV file as the request body")
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "upload.csv"
            path.write_bytes(data)
            try:
                loaded = read_registrations_csv(
                    path,
                    config.tz,
                    config.scopes(),
                    encoding=encoding,
                    origin="web upload",
                    created_by=admin["username"],
                )
            except GatewatchError as exc:
                raise HTTPException(422, str(exc).replace(str(path), "upload")) from None
        added, authorized = record_registrations(stores.get(), config, loaded.good, datetime.now(UTC))
        for event_id, _registration in authorized:
            service.event_changed(stores.get(), event_id)
        return {
            "added": added.count,
            "skipped": added.skipped,
            "bad_rows": [{"row": e.row, "message": e.message} for e in loaded.bad],
            "authorized_events": [event_id for event_id, _ in authorized],
        }

    @app.get("/api/cameras", tags=["cameras"])
    def cameras(_: UserDep) -> list[dict[str, Any]]:
        """Health of every camera: state and why, fps in, frames analysed and dropped, reconnects,
        detector latency."""
        return service.cameras()

    @app.get("/api/cameras/{name}/frame.jpg", tags=["cameras"], response_class=Response)
    def camera_frame(name: str, _: UserDep) -> Response:
        """The most recent analysed frame with the camera's lines and zones drawn."""
        worker = service.workers.get(name)
        if worker is None:
            raise HTTPException(404, f"no camera {name!r}")
        if worker.latest is None:
            raise HTTPException(404, f"no frame from {name} yet")
        image = draw_shapes(worker.latest.image, config.cameras[name])
        _, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        return Response(data.tobytes(), media_type="image/jpeg", headers={"Cache-Control": "no-store"})

    @app.get("/reports/day", tags=["reports"], response_class=HTMLResponse)
    def day_report(_: UserDep, day: Annotated[str, Query(alias="date", pattern=r"^\d{4}-\d{2}-\d{2}$")]) -> str:
        """The daily report as a self-contained HTML page (as `gatewatch report --day`)."""
        return _report(day_period(day, config.tz))

    @app.get("/reports/month", tags=["reports"], response_class=HTMLResponse)
    def month_report(_: UserDep, month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$")]) -> str:
        """The monthly safety report (as `gatewatch report --month`)."""
        return _report(month_period(month, config.tz))

    def _report(period: Any) -> str:
        return render_html(collect(stores.get(), period, config.site.name, datetime.now(config.tz)))

    @app.get("/api/users", tags=["users"])
    def users(_: AdminDep) -> list[dict[str, Any]]:
        return list_users(stores.get())

    @app.post("/api/users", tags=["users"], status_code=201)
    def new_user(body: NewUser, _: AdminDep) -> dict[str, str]:
        add_user(stores.get(), body.username, body.password, body.role, datetime.now(UTC))
        return {"username": body.username, "role": body.role}

    return app


def _aware(moment: datetime | None, config: Config) -> datetime | None:
    """Times without a zone in a query are the site's wall clock."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=config.tz)


def _event_or_404(store: Any, event_id: int) -> dict[str, Any]:
    try:
        return get_event(store, event_id)
    except NotFound:
        raise HTTPException(404, f"no event {event_id}") from None


def _parse(fields: dict[str, str], config: Config, username: str) -> Registration:
    """A registration from the web, through the same checks as every other way in."""
    try:
        return parse_registration(fields, config.tz, config.scopes(), origin="web", created_by=username)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None


def _registration_view(registration: Any, left: int) -> dict[str, Any]:
    return {
        "id": registration.id,
        "scope": registration.scope,
        "valid_from": registration.valid_from.isoformat(),
        "valid_until": registration.valid_until.isoformat(),
        "count": registration.count,
        "left": left,
        "name": registration.name,
        "ref": registration.ref,
        "reason": registration.reason,
        "source": registration.source,
        "created_by": registration.created_by,
    }
