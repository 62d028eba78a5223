"""A registration: "N people may come in through this camera (or group of cameras) between these
times". Each matched entry uses up one of the N, so one visitor pass cannot excuse a whole group."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from pipeline.records import seconds_between
from pipeline.vocabulary import MessageCode, RegistrationSource
from pipeline.wording import Message


@dataclass(frozen=True)
class Registration:
    scope: str  # a camera, or a group of cameras
    valid_from: datetime
    valid_until: datetime
    count: int
    name: str = ""
    ref: str = ""  # ID card, visitor pass or badge number
    reason: str = ""
    source: RegistrationSource = RegistrationSource.GUARD
    origin: str = ""  # where it came from: "cli", "import visits.csv row 5", ...
    created_by: str = ""
    id: int | None = None  # set once stored

    def gap_s(self, ts: datetime) -> float:
        """Seconds from `ts` to the valid period; 0 inside it."""
        if seconds_between(ts, self.valid_from) < 0:
            return seconds_between(self.valid_from, ts)
        return max(0.0, seconds_between(ts, self.valid_until))

    @property
    def key(self) -> str:
        """Same content, same key: importing one export twice does not register anyone twice."""
        parts = (self.scope, self.valid_from.isoformat(), self.valid_until.isoformat(), str(self.count))
        text = "\x1f".join((*parts, self.name, self.ref, self.reason, self.source))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]

    def covers(self, camera: str, groups: Mapping[str, Iterable[str]]) -> bool:
        """Whether this registration is for `camera`, itself or through a group it belongs to."""
        return self.scope == camera or camera in groups.get(self.scope, ())

    def describe(self) -> str:
        who = self.name or self.ref or "unnamed"
        label = f"#{self.id} " if self.id is not None else ""
        return f"registration {label}({who}, {self.count} at {self.scope})"

    def message(self, code: MessageCode, **values: str) -> Message:
        """A message about this registration (see `wording.TEMPLATES`), worded when shown."""
        facts = {"id": str(self.id or "?"), "who": self.name or self.ref or "—", "count": str(self.count)}
        return Message(code, {**facts, "scope": self.scope, **values})


class RegistrationLeft(NamedTuple):
    """A registration and how many entries it still covers (its count less those it excused)."""

    registration: Registration
    left: int
