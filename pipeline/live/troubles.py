"""Camera troubles for alarm receiving centres (SIA DC-09): a camera down for longer than
`alerts.camera_trouble_after_s` is told to them as a zone trouble, and its return as the trouble's
restore, each once, through the outbox like alarms.

The wait keeps a camera that drops for a few seconds (an NVR's reconnection, a switch port) from
ringing at a receiving centre's desk. Outages are the same rows the monthly report reads
(`store.outages`); one still open when the service stops is closed then, and its restore goes on
the next start (a camera still down then is a new outage and, after the wait, a new trouble).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipeline.db import Store, ThreadStores, Trouble
from pipeline.live.periodic import Periodic

log = logging.getLogger("gatewatch.troubles")

POLL_S = 2.0


class Troubles:
    def __init__(self, db_path: Path, targets: list[str], after_s: float, wake: Callable[[], None]) -> None:
        """`targets`: the alarm receivers that take camera troubles; `wake`: the outbox, when one is queued."""
        self.stores = ThreadStores(db_path)
        self.targets = targets
        self.after = timedelta(seconds=after_s)
        self.wake = wake
        self._checks = Periodic(
            "camera-troubles", POLL_S, lambda: self.check(self.stores.get(), datetime.now(UTC)), log
        )

    def start(self) -> None:
        self._checks.start()

    def stop(self, timeout: float) -> None:
        self._checks.stop(timeout)

    def check(self, store: Store, now: datetime) -> list[Trouble]:
        queued = store.outages.to_report(self.targets, now - self.after, now)
        for trouble in queued:
            what = "back" if trouble.restored else f"down since {trouble.started_at.isoformat()}"
            log.warning("camera %s %s: told to the alarm receiving centres", trouble.camera, what)
        if queued:
            self.wake()
        return queued
