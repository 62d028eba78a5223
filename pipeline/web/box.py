"""What the routes of one box share (its config, live service, snapshot folder and database), as a
FastAPI dependency, so each router is a module of plain functions instead of one closure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request

from pipeline.config import Config
from pipeline.db import Store, ThreadStores
from pipeline.live.service import Service


@dataclass(frozen=True)
class Box:
    config: Config
    service: Service
    snapshot_root: Path  # snapshots are served from inside this folder only
    stores: ThreadStores

    @property
    def store(self) -> Store:
        """This thread's connection (web requests run in a thread pool)."""
        return self.stores.get()

    def aware(self, moment: datetime | None) -> datetime | None:
        """Times without a zone in a query are the site's wall clock."""
        if moment is None:
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=self.config.tz)


def _box(request: Request) -> Box:
    return request.app.state.box


BoxDep = Annotated[Box, Depends(_box)]
