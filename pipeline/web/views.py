"""Response shapes more than one router answers with: registrations and alarms (an event's detail
page shows its registration and its alarms)."""

from __future__ import annotations

from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

from pipeline.db import Alarm
from pipeline.messages import AlarmMessage
from pipeline.registrations import Registration
from pipeline.vocabulary import RegistrationSource


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


class AlarmView(AlarmMessage):
    """An alarm as MQTT and webhooks send it (links relative to this box), with the centre's confirmation."""

    signature: SkipJsonSchema[None] = Field(None, exclude=True)  # the wire's proof, not the API's
    acknowledged_by: str | None = Field(description="who confirmed it at the district centre")
    acknowledged_at: str | None

    @classmethod
    def of(cls, alarm: Alarm, site: str, base_url: str = "") -> AlarmView:
        return cls(
            **AlarmMessage.of(alarm, site, base_url).model_dump(),
            acknowledged_by=alarm.acknowledged_by,
            acknowledged_at=alarm.acknowledged_at.isoformat() if alarm.acknowledged_at else None,
        )
