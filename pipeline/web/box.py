"""What the routes of one box share (its config, live side, snapshot folder and database), as a
FastAPI dependency, so each router is a module of plain functions instead of one closure.

The web asks the live side (`gatewatch serve`'s cameras, recorder and outbox) for little, through
`LiveSide`: the cameras' health as typed values, a camera's latest frame, and the two things a
person's action starts (an event changed, an alarm raised). `live.service.Service` is it when
serving; a test can give one without threads and drive the whole API in process.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Protocol

from fastapi import Depends, Request

from pipeline.config import Config
from pipeline.db import Alarm, Store, ThreadStores
from pipeline.live.hub import Hub
from pipeline.messages import CameraStatus
from pipeline.records import Frame
from pipeline.vocabulary import AlarmKind


class LiveSide(Protocol):
    @property
    def hub(self) -> Hub:
        """News for the open pages (new and changed events, alarms, camera states)."""
        ...

    def cameras(self) -> list[CameraStatus]:
        """Every configured camera's health, in the config's order."""
        ...

    def latest_frame(self, camera: str, watched: bool = False) -> Frame | None:
        """The camera's most recent analysed frame (None before the first); `camera` is configured.
        `watched`: a person is watching it live, so it is decoded in full meanwhile."""
        ...

    def event_changed(self, store: Store, event_id: int) -> None:
        """A person changed an event (through `store`, the request's connection): send it out again."""
        ...

    def alarm_changed(self, store: Store, alarm_id: int) -> None:
        """A person added to an alarm (its reason): send it out again."""
        ...

    def raise_alarm(
        self,
        store: Store,
        kind: AlarmKind,
        *,
        reason: str,
        by: str,
        event_id: int | None = None,
        camera: str | None = None,
    ) -> Alarm:
        """Store an alarm with its deliveries, then send it."""
        ...


@dataclass(frozen=True)
class Box:
    config: Config
    live: LiveSide
    snapshot_root: Path  # snapshots are served from inside this folder only
    stores: ThreadStores

    @property
    def store(self) -> Store:
        """This thread's connection (web requests run in a thread pool)."""
        return self.stores.get()

    @property
    def site(self) -> str:
        return self.config.site.name

    def aware(self, moment: datetime | None) -> datetime | None:
        """Times without a zone in a query are the site's wall clock."""
        if moment is None:
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=self.config.tz)


def _box(request: Request) -> Box:
    return request.app.state.box


BoxDep = Annotated[Box, Depends(_box)]
