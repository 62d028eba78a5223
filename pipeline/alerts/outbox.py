"""Sending what the `deliveries` table says is pending, with retries and backoff.

The recorder writes a pending delivery per target in the event's own transaction; here one
thread per target (so a slow webhook never holds up MQTT) sends them in order, marks them sent,
or schedules the next try (doubling from `retry_min_s` to `retry_max_s`). After `max_attempts` a
delivery is marked failed; it stays in the database, as does its last error. A restart picks up
whatever was still pending, so a broker that was down for the night still gets the night's events.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from pipeline.config import AlertsConfig
from pipeline.db import Alarm, Event, Store, Trouble
from pipeline.messages import Outgoing
from pipeline.vocabulary import DeliveryStatus

log = logging.getLogger("gatewatch.alerts")

BATCH = 20
IDLE_POLL_S = 1.0


class DeliveryError(Exception):
    """Why one send failed, in words safe to log (no passwords, no tokens)."""


class Sender(Protocol):
    def send(self, message: Outgoing, key: str) -> None:
        """`key`: the delivery's own id, the same on every retry, for the receiver to recognise a repeat."""


class Dispatcher:
    def __init__(
        self,
        db_path: Path,
        senders: dict[str, Sender],
        config: AlertsConfig,
        message: Callable[[Event | Alarm | Trouble], Outgoing],
        alarm_delivered: Callable[[int], None] = lambda _alarm_id: None,
    ) -> None:
        """`message`: what is sent for a stored event, alarm or camera trouble (as queued);
        `alarm_delivered`: told an alarm's id each time one of its sends got through (its history)."""
        self.db_path = db_path
        self.senders = senders
        self.config = config
        self.message = message
        self.alarm_delivered = alarm_delivered
        self._wake = {target: threading.Event() for target in senders}
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(target,), name=f"deliver-{target}", daemon=True)
            for target in senders
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def wake(self) -> None:
        for event in self._wake.values():
            event.set()

    def stop(self, timeout: float) -> None:
        """Stop after the sends in progress; what is still pending stays for the next start."""
        self._stop.set()
        self.wake()
        for thread in self._threads:
            thread.join(timeout)

    def _run(self, target: str) -> None:
        store = Store(self.db_path)
        try:
            while not self._stop.is_set():
                try:
                    sent_any = self._send_due(store, target)
                except Exception as exc:  # a locked database, a sender's bug: log it, keep the sender alive
                    log.error("alerts to %s: %s: %s; trying again", target, type(exc).__name__, exc)
                    sent_any = False
                if not sent_any:
                    self._wake[target].wait(IDLE_POLL_S)
                    self._wake[target].clear()
        finally:
            store.close()

    def _send_due(self, store: Store, target: str) -> bool:
        due = store.deliveries.due(target, datetime.now(UTC), BATCH)
        for delivery in due:
            if self._stop.is_set():
                break
            attempts = delivery.attempts + 1
            record = delivery.event or delivery.alarm or delivery.trouble
            assert record is not None
            if isinstance(record, Trouble):
                what = f"camera {record.camera}'s {'return' if record.restored else 'trouble'}"
            else:
                what = f"event #{record.id}" if delivery.event else f"alarm #{record.id}"
            try:
                self.senders[target].send(self.message(record), delivery.key)
            except DeliveryError as exc:
                self._failed(store, target, delivery.delivery_id, attempts, str(exc), what)
                return False  # the target is down: wait for the backoff, do not hammer it with the rest
            store.deliveries.sent(delivery.delivery_id, attempts, datetime.now(UTC))
            if delivery.alarm is not None:
                self.alarm_delivered(delivery.alarm.id)
        return bool(due)

    def _failed(self, store: Store, target: str, delivery_id: int, attempts: int, error: str, what: str) -> None:
        delay = min(self.config.retry_min_s * 2 ** (attempts - 1), self.config.retry_max_s)
        status = DeliveryStatus.FAILED if attempts >= self.config.max_attempts else DeliveryStatus.PENDING
        store.deliveries.failed(delivery_id, attempts, status, datetime.now(UTC) + timedelta(seconds=delay), error)
        if status == DeliveryStatus.FAILED:
            log.error("%s to %s failed %d times, giving up: %s", what, target, attempts, error)
        else:
            log.warning(
                "%s to %s failed (attempt %d): %s; retrying in %g s",
                what,
                target,
                attempts,
                error,
                delay,
            )
