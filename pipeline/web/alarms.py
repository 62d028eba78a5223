"""/api/alarms: the one-click alarm (一键报警) to the police and the district centre, escalating an
alert, and what the centre has confirmed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, model_validator

from pipeline.errors import Conflict, Forbidden, NotFound
from pipeline.review import get_event
from pipeline.vocabulary import AlarmKind, MessageCode, Role
from pipeline.web.box import BoxDep
from pipeline.web.common import PathId, Plain, UserDep
from pipeline.web.views import AlarmView
from pipeline.wording import Message

router = APIRouter(prefix="/api", tags=["alarms"])


class NewAlarm(BaseModel):
    reason: Plain = Field(
        "", max_length=500, description="what is happening, in the guard's words; may be added after (one tap)"
    )
    event_id: int | None = Field(None, ge=1, le=2**63 - 1, description="the alert this escalates, if any")
    drill: bool = Field(False, description="a test of the alarm chain (演练): sent everywhere marked as a test")

    @model_validator(mode="after")
    def _drill_alone(self) -> NewAlarm:
        if self.drill and self.event_id is not None:
            raise ValueError("a drill escalates no alert: leave event_id out")
        return self


class Reason(BaseModel):
    reason: Plain = Field(min_length=1, max_length=500, description="what is happening, in the guard's words")


@router.get("/alarms")
def alarms(box: BoxDep, _: UserDep, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[AlarmView]:
    """The latest alarms, newest first, with the centre's confirmation and how far each send got
    (MQTT, webhooks, alarm receiving centres)."""
    return [
        AlarmView.of(alarm, box.site, box.store.deliveries.of_alarm(alarm.id))
        for alarm in box.store.alarms.recent(limit)
    ]


@router.post("/alarms", status_code=201)
def raise_alarm(body: NewAlarm, box: BoxDep, user: UserDep) -> AlarmView:
    """Raise an alarm now: stored, then sent over MQTT (`<site>/alarms`) and the webhooks at once.
    With `event_id` it escalates that alert; with `drill` it is a test the city asks for, sent
    through every channel as a test (DC-09's test code), confirmed at the centre like a real one
    and counted apart in the monthly report."""
    camera = get_event(box.store, body.event_id).camera if body.event_id is not None else None
    kind = AlarmKind.ESCALATION if body.event_id is not None else AlarmKind.ONE_CLICK
    if body.drill:
        kind = AlarmKind.DRILL
    alarm = box.live.raise_alarm(
        box.store, kind, reason=body.reason, by=user.username, event_id=body.event_id, camera=camera
    )
    return AlarmView.of(alarm, box.site, box.store.deliveries.of_alarm(alarm.id))


@router.post("/alarms/{alarm_id}/reason")
def add_reason(alarm_id: PathId, body: Reason, box: BoxDep, user: UserDep) -> AlarmView:
    """The reason of an alarm raised in one tap, added after: by whoever raised it (or an admin),
    once; it is sent to the police and the centre as the alarm again."""
    alarm = box.store.alarms.get(alarm_id)
    which = {"id": str(alarm_id)}
    if alarm is None:
        raise NotFound(Message(MessageCode.NO_ALARM, which))
    if alarm.raised_by != user.username and user.role != Role.ADMIN:
        raise Forbidden(Message(MessageCode.NOT_YOUR_ALARM, which))
    if not box.store.alarms.add_reason(alarm_id, body.reason):
        raise Conflict(Message(MessageCode.HAS_REASON, which))
    box.live.alarm_changed(box.store, alarm_id)
    found = box.store.alarms.get(alarm_id)
    assert found is not None
    return AlarmView.of(found, box.site, box.store.deliveries.of_alarm(found.id))
