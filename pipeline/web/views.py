"""Response shapes more than one router answers with: registrations and alarms (an event's detail
page shows its registration and its alarms)."""

from __future__ import annotations

from dataclasses import asdict

from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

from pipeline.db import Alarm
from pipeline.db.deliveries import Delivery
from pipeline.messages import AlarmMessage
from pipeline.registrations import Registration
from pipeline.vocabulary import DeliveryStatus, RegistrationSource


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


class DeliveryView(BaseModel):
    """How far one send of an alarm got: `sent` once the target took it (an alarm receiving
    centre: once it answered ACK); `pending` with the last error while it is being retried."""

    target: str = Field(description="mqtt, webhook:N, or dc09:NAME")
    status: DeliveryStatus
    attempts: int
    created_at: str
    sent_at: str | None
    last_error: str | None


class AlarmView(AlarmMessage):
    """An alarm as MQTT and webhooks send it (links relative to this box), with the centre's confirmation."""

    signature: SkipJsonSchema[None] = Field(None, exclude=True)  # the wire's proof, not the API's
    acknowledged_by: str | None = Field(description="who confirmed it at the district centre")
    acknowledged_at: str | None
    deliveries: list[DeliveryView] = Field(
        default_factory=list, description="each send to MQTT, a webhook or an alarm receiving centre, oldest first"
    )

    @classmethod
    def of(cls, alarm: Alarm, site: str, deliveries: list[Delivery]) -> AlarmView:
        return cls(
            **AlarmMessage.of(alarm, site, "").model_dump(),
            acknowledged_by=alarm.acknowledged_by,
            acknowledged_at=alarm.acknowledged_at.isoformat() if alarm.acknowledged_at else None,
            deliveries=[DeliveryView(**asdict(delivery)) for delivery in deliveries],
        )
