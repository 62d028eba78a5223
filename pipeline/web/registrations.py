"""/api/registrations: the visitor book at the gate, and imports of access-control exports."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from pipeline.errors import GatewatchError, InvalidInput
from pipeline.registrations import Registration, read_registrations_csv
from pipeline.review import explainable, record_registrations, register_and_authorize, still_to_come
from pipeline.vocabulary import MessageCode, RegistrationSource
from pipeline.web.box import Box, BoxDep
from pipeline.web.common import AdminDep, Plain, UserDep
from pipeline.web.events import EventView, parse_web_registration
from pipeline.web.views import RegistrationView
from pipeline.wording import Message

router = APIRouter(prefix="/api", tags=["registrations"])


class NewRegistration(BaseModel):
    scope: Plain = Field(min_length=1, description="camera or group the visitor comes through")
    count: int = Field(1, ge=1, le=500)
    name: Plain = Field("", max_length=100)
    ref: Plain = Field("", max_length=100, description="ID card, visitor pass or badge number")
    reason: Plain = Field("", max_length=200)
    at: datetime | None = Field(None, description="time of the visit (default: now)")
    window_minutes: float = Field(15, ge=0, le=24 * 60, description="valid this long either side of `at`")
    authorize: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] | None = Field(
        None,
        max_length=500,
        description="the open alerts this visitor explains, as the guard chose them from "
        "`/api/registrations/candidates` ([] for none); left out, the nearest open alerts it fits are authorized",
    )


class Candidate(BaseModel):
    event: EventView
    gap_s: float = Field(description="seconds between the alert and the registration's validity (0: inside it)")
    from_visit_s: float = Field(description="seconds from the visit's time to the alert (negative: before it)")


class Registered(BaseModel):
    registration: RegistrationView
    already_stored: bool
    authorized_events: list[int] = Field(description="open alerts this registration explained")
    waiting: bool = Field(description="a visit still to come: it authorized nothing past and waits for the visitor")


class BadRow(BaseModel):
    row: int = Field(description="as a spreadsheet numbers it: the header is row 1")
    message: str


class Imported(BaseModel):
    added: int
    skipped: int = Field(description="rows already stored (same content)")
    bad_rows: list[BadRow]
    authorized_events: list[int]


@router.get("/registrations")
def registrations(box: BoxDep, _: UserDep, since: datetime | None = None) -> list[RegistrationView]:
    """Registrations still valid after `since` (default: the last day)."""
    start = box.aware(since) or datetime.now(UTC) - timedelta(days=1)
    return [RegistrationView.of(r, left) for r, left in box.store.registrations.valid(ending_after=start)]


def _visitor(body: NewRegistration, box: Box, username: str) -> Registration:
    if body.scope in box.config.scopes() and body.scope not in box.config.registration_scopes():
        problem = "no rule of it uses registrations, so a visitor there would explain nothing"
        unused = Message(MessageCode.SCOPE_UNREGISTERED, {"scope": body.scope})
        raise InvalidInput("scope", problem, body.scope, unused)
    at = box.aware(body.at) or datetime.now(box.config.tz)
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
    return parse_web_registration(box, values, username)


@router.post("/registrations/candidates")
def candidates(body: NewRegistration, box: BoxDep, user: UserDep) -> list[Candidate]:
    """The open alerts this registration would explain, nearest first: shown to the guard, who
    confirms which ones the visitor really was before anything is authorized. Stores nothing."""
    registration = _visitor(body, box, user.username)
    if still_to_come(box.aware(body.at), datetime.now(UTC)):
        return []
    return [
        Candidate(
            event=EventView.of(fit.event, box.site), gap_s=round(fit.gap_s, 1), from_visit_s=round(fit.from_visit_s)
        )
        for fit in explainable(box.store, box.config, registration)
    ]


@router.post("/registrations", status_code=201)
def register(body: NewRegistration, box: BoxDep, user: UserDep) -> Registered:
    """Quick registration of a visitor at the gate; authorizes the open alerts the guard chose
    (`authorize`), or without that list the nearest open alerts it explains."""
    registration = _visitor(body, box, user.username)
    store, now = box.store, datetime.now(UTC)
    waiting = still_to_come(box.aware(body.at), now)
    if waiting:
        added, authorized = register_and_authorize(store, box.config, registration, [], now)
    elif body.authorize is None:
        added, authorized = record_registrations(store, box.config, [registration], now)
    else:
        added, authorized = register_and_authorize(store, box.config, registration, body.authorize, now)
    for event_id, _registration in authorized:
        box.live.event_changed(store, event_id)
    found = store.registrations.get(added.first_id) if added.count else None
    saved = found[0] if found else registration
    return Registered(
        registration=RegistrationView.of(saved, saved.count),
        already_stored=not added.count,
        authorized_events=[event_id for event_id, _ in authorized],
        waiting=waiting,
    )


@router.post("/registrations/import")
async def import_registrations(
    request: Request,
    box: BoxDep,
    admin: AdminDep,
    encoding: Literal["auto", "utf-8", "utf-16", "gbk", "big5", "latin-1"] = "auto",
) -> Imported:
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
                box.config.tz,
                box.config.scopes(),
                encoding=encoding,
                origin="web upload",
                created_by=admin.username,
            )
        except GatewatchError as exc:
            raise HTTPException(422, str(exc).replace(str(path), "upload")) from None
    store = box.store
    added, authorized = record_registrations(store, box.config, loaded.good, datetime.now(UTC))
    for event_id, _registration in authorized:
        box.live.event_changed(store, event_id)
    return Imported(
        added=added.count,
        skipped=added.skipped,
        bad_rows=[BadRow(row=e.row, message=e.message) for e in loaded.bad],
        authorized_events=[event_id for event_id, _ in authorized],
    )
