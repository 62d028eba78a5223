"""Response shapes more than one router answers with: messages to be worded, registrations and
alarms (an event's detail page shows its registration and its alarms)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from pipeline.db import Alarm
from pipeline.registrations import Registration
from pipeline.vocabulary import AlarmKind, AlarmStatus, RegistrationSource
from pipeline.wording import Message


class MessageView(BaseModel):
    """A message to be worded in the reader's language (`wording.TEMPLATES`); the pages word it."""

    code: str
    values: dict[str, str]


def message_view(message: Message | None) -> MessageView | None:
    return MessageView(code=message.code, values=dict(message.values)) if message else None


class RegistrationView(BaseModel):
    id: int | None
    scope: str
    valid_from: str
    valid_until: str
    count: int
    left: int = Field(description="entries it still covers")
    name: str
    ref: str
    reason: str
    source: RegistrationSource
    created_by: str

    @classmethod
    def of(cls, registration: Registration, left: int) -> RegistrationView:
        return cls(
            id=registration.id,
            scope=registration.scope,
            valid_from=registration.valid_from.isoformat(),
            valid_until=registration.valid_until.isoformat(),
            count=registration.count,
            left=left,
            name=registration.name,
            ref=registration.ref,
            reason=registration.reason,
            source=registration.source,
            created_by=registration.created_by,
        )


class AlarmView(BaseModel):
    id: int
    kind: AlarmKind
    event_id: int | None
    camera: str | None
    reason: str
    raised_by: str
    raised_at: str
    status: AlarmStatus
    acknowledged_by: str | None = Field(description="who confirmed it at the district centre")
    acknowledged_at: str | None
    reason_message: MessageView | None = Field(None, description="an automatic escalation's reason, to be worded")

    @classmethod
    def of(cls, alarm: Alarm) -> AlarmView:
        return cls(
            id=alarm.id,
            kind=alarm.kind,
            event_id=alarm.event_id,
            camera=alarm.camera,
            reason=alarm.reason,
            raised_by=alarm.raised_by,
            raised_at=alarm.raised_at.isoformat(),
            status=alarm.status,
            acknowledged_by=alarm.acknowledged_by,
            acknowledged_at=alarm.acknowledged_at.isoformat() if alarm.acknowledged_at else None,
            reason_message=message_view(alarm.reason_message),
        )
