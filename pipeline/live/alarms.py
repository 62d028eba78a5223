"""Alarms to the police and the district centre (一键报警): raised by a person (the one-click
button, or escalating an alert) or by the clock (an alert nobody handled within its rule's
`escalation.after_s`), sent through the outbox like events, and confirmed by the centre over MQTT.

Every alarm is stored with its deliveries before anyone is told, so a broker that is down gets it
later, and the audit trail says who raised it, when and why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pipeline.config import Config
from pipeline.db import Alarm, Store, ThreadStores
from pipeline.live.periodic import Periodic
from pipeline.vocabulary import AlarmKind, MessageCode
from pipeline.wording import Message, number

log = logging.getLogger("gatewatch.alarms")

ESCALATION_POLL_S = 2.0  # how often unhandled alerts are looked for
SYSTEM = "gatewatch"  # who raises an automatic alarm
ACK_CLOCK_SKEW = timedelta(minutes=5)  # the centre's clock may run this far ahead of the box's


class Alarms:
    def __init__(self, config: Config, db_path: Path, publish: Callable[[dict[str, Any]], None]) -> None:
        """`publish` tells the browsers. Confirmations may arrive (retained, from the broker) before
        `start`; raising needs `start`'s targets."""
        self.config = config
        self.stores = ThreadStores(db_path)
        self.publish = publish
        self.targets: list[str] = []
        self.wake: Callable[[], None] = lambda: None
        self._escalation = Periodic(
            "escalation", ESCALATION_POLL_S, lambda: self.escalate_due(self.stores.get(), datetime.now(UTC)), log
        )

    def start(self, targets: list[str], wake: Callable[[], None]) -> None:
        self.targets, self.wake = targets, wake
        self._escalation.start()

    def stop(self, timeout: float) -> None:
        self._escalation.stop(timeout)

    def raise_(
        self,
        store: Store,
        kind: AlarmKind,
        *,
        reason: str | Message,
        by: str,
        event_id: int | None = None,
        camera: str | None = None,
    ) -> Alarm:
        # Raised in the site's zone, as its events are: the police and the centre read the school's clock.
        alarm = store.alarms.raise_(
            kind,
            reason=reason,
            by=by,
            at=datetime.now(self.config.tz),
            targets=self.targets,
            event_id=event_id,
            camera=camera,
        )
        log.warning("alarm #%s (%s) raised by %s: %s", alarm.id, kind, by, alarm.reason)
        self.wake()
        self.publish({"type": "alarm", "id": alarm.id})
        return alarm

    def acknowledged(self, alarm_id: int, by: str, at: datetime) -> None:
        """The district centre confirmed an alarm (called from the MQTT client's thread, the
        signature already checked). A confirmation of an alarm this box never raised, or dated
        before it was raised or ahead of this box's clock, is refused and logged: it would show a
        guard a confirmation nobody gave, and the monthly report a response time that never was."""
        store = self.stores.get()
        alarm = store.alarms.get(alarm_id)
        if alarm is None:
            log.warning("refused a confirmation of alarm #%s by %s: no such alarm here", alarm_id, by)
        elif at < alarm.raised_at or at > datetime.now(UTC) + ACK_CLOCK_SKEW:
            log.warning(
                "refused a confirmation of alarm #%s by %s: dated %s, the alarm was raised %s",
                alarm_id,
                by,
                at.isoformat(),
                alarm.raised_at.isoformat(),
            )
        elif store.alarms.acknowledge(alarm_id, by, at):
            log.info("alarm #%s confirmed by %s at the district centre", alarm_id, by)
            self.publish({"type": "alarm", "id": alarm_id})

    def escalate_due(self, store: Store, now: datetime) -> list[Alarm]:
        """Raise an alarm for every alert left `new` past its rule's escalation time."""
        after = self.config.escalations()
        cutoffs = {key: now - timedelta(seconds=seconds) for key, seconds in after.items()}
        places = self.config.places  # the reason is read at the centre and by the police: by the names on the signs
        return [
            self.raise_(
                store,
                AlarmKind.AUTOMATIC,
                reason=Message(
                    MessageCode.UNHANDLED,
                    {
                        "event": str(event_id),
                        "camera": places.camera(camera),
                        "line": places.line(camera, line),
                        "after": number(after[(camera, line)]),
                    },
                ),
                by=SYSTEM,
                event_id=event_id,
                camera=camera,
            )
            for event_id, camera, line in (store.alarms.unhandled_since(cutoffs) if cutoffs else [])
        ]
