"""/api/patrols: the rounds of 24-hour gate duty. A guard records a round (time, checkpoints, a
note, optionally a photo from the phone's camera); the live page shows the night's due rounds and
reminds when one is overdue; the monthly report counts rounds due against rounds done."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import cv2
import numpy as np
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from pipeline.config import PatrolConfig
from pipeline.db import PatrolRound
from pipeline.errors import Forbidden, InvalidInput, NotFound
from pipeline.files import atomic_write
from pipeline.patrols import PatrolPlan
from pipeline.pieces import no_wider_than
from pipeline.vocabulary import MessageCode, Role
from pipeline.web.box import Box, BoxDep
from pipeline.web.common import PathId, Plain, UserDep
from pipeline.wording import Message

router = APIRouter(prefix="/api", tags=["patrols"])

PHOTO_PREFIX = "/api/patrols/"  # the photo upload's own body limit (`new_app(uploads=...)`)
MAX_PHOTO_BYTES = 20_000_000  # a phone camera's JPEG
PHOTO_WIDTH = 1600  # kept at most this wide: enough to read a lock or a sign, small on the box
LATE_ENTRY = timedelta(hours=24)  # a round may be entered after it was walked, within a day


class NewRound(BaseModel):
    checkpoints: Annotated[list[Plain], Field(min_length=1, max_length=50, description="those passed")]
    note: Plain = Field("", max_length=500)
    at: datetime | None = Field(None, description="when it was walked, if not now (site time unless it has a zone)")


class RoundView(BaseModel):
    id: int
    at: str
    by: str
    checkpoints: list[str]
    note: str
    photo_url: str | None
    created_at: str

    @classmethod
    def of(cls, found: PatrolRound, box: Box) -> RoundView:
        return cls(
            id=found.id,
            at=found.at.astimezone(box.config.tz).isoformat(),
            by=found.by,
            checkpoints=found.checkpoints,
            note=found.note,
            photo_url=f"/api/patrols/{found.id}/photo" if found.photo_path else None,
            created_at=found.created_at.astimezone(box.config.tz).isoformat(),
        )


class DueView(BaseModel):
    at: str
    done_by: int | None
    overdue: bool


class NightView(BaseModel):
    night: date = Field(description="the date the night starts on")
    checkpoints: list[str]
    due: list[DueView]
    rounds: list[RoundView]


def _plan(box: Box) -> tuple[PatrolConfig, PatrolPlan]:
    if box.config.patrols is None:
        raise NotFound(Message(MessageCode.NO_PATROL_PLAN, {}))
    return box.config.patrols, PatrolPlan(box.config.patrols, box.config.tz)


@router.get("/patrols")
def night(box: BoxDep, _: UserDep, night: Annotated[date | None, Query()] = None) -> NightView:
    """The rounds due on a night (default: the current one) and those recorded, with which due
    round each did and which are overdue now."""
    config, plan = _plan(box)
    now = datetime.now(UTC)
    chosen = night or plan.night_of(now)
    rounds = box.store.patrols.between(*plan.span(chosen))
    due = plan.rounds_due(chosen, [(r.id, r.at) for r in rounds], now)
    return NightView(
        night=chosen,
        checkpoints=config.checkpoints,
        due=[DueView(at=d.at.isoformat(), done_by=d.done_by, overdue=d.overdue) for d in due],
        rounds=[RoundView.of(r, box) for r in rounds],
    )


@router.post("/patrols", status_code=201)
def record(body: NewRound, box: BoxDep, user: UserDep) -> RoundView:
    """Record a round walked now (or `at`, up to a day ago): its checkpoints must be the plan's."""
    config, _ = _plan(box)
    for index, checkpoint in enumerate(body.checkpoints):
        if checkpoint not in config.checkpoints:
            values = {"value": repr(checkpoint), "allowed": ", ".join(config.checkpoints)}
            raise InvalidInput(f"checkpoints.{index}", "", message=Message(MessageCode.NO_CHECKPOINT, values))
    now = datetime.now(UTC)
    at = box.aware(body.at) or now
    if not now - LATE_ENTRY <= at <= now + timedelta(minutes=5):
        raise InvalidInput("at", "a round is entered when walked, or within a day after", body.at)
    found = box.store.patrols.record(at.astimezone(box.config.tz), user.username, body.checkpoints, body.note, now)
    box.live.hub.publish({"type": "patrol", "id": found.id})
    return RoundView.of(found, box)


@router.put("/patrols/{round_id}/photo")
async def add_photo(round_id: PathId, request: Request, box: BoxDep, user: UserDep) -> RoundView:
    """The round's photo (the body is the picture, `application/octet-stream`), by whoever
    recorded it: kept at most 1600 px wide as JPEG beside the snapshots."""
    data = await request.body()
    return await run_in_threadpool(_save_photo, round_id, data, box, user.username, user.role == Role.ADMIN)


def _save_photo(round_id: int, data: bytes, box: Box, by: str, admin: bool) -> RoundView:
    found = box.store.patrols.get(round_id)
    which = {"id": str(round_id)}
    if found is None:
        raise NotFound(Message(MessageCode.NO_ROUND, which))
    if found.by != by and not admin:
        raise Forbidden(Message(MessageCode.NOT_YOUR_ROUND, which))
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) if data else None
    if image is None:
        raise InvalidInput("photo", "", message=Message(MessageCode.NOT_A_PICTURE, {}))
    ok, jpeg = cv2.imencode(".jpg", no_wider_than(image, PHOTO_WIDTH), [cv2.IMWRITE_JPEG_QUALITY, 85])
    assert ok
    path = box.snapshot_root / "patrols" / f"{found.at:%Y-%m-%d}" / f"round-{found.id}.jpg"
    atomic_write(path, jpeg.tobytes())
    box.store.patrols.set_photo(found.id, str(path))
    box.live.hub.publish({"type": "patrol", "id": found.id})
    updated = box.store.patrols.get(found.id)
    assert updated is not None
    return RoundView.of(updated, box)


@router.get("/patrols/{round_id}/photo", response_class=FileResponse)
def photo(round_id: PathId, box: BoxDep, _: UserDep) -> FileResponse:
    found = box.store.patrols.get(round_id)
    if found is None or found.photo_path is None or not Path(found.photo_path).is_file():
        raise NotFound(Message(MessageCode.NO_ROUND, {"id": str(round_id)}))
    return FileResponse(found.photo_path, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})
