"""The data that flows between stages.

Stages pass each other these dataclasses (and the words of `vocabulary.py`), never each other's
objects, so each stage can be tested (and replaced) on its own and only the wiring (`camera.py`,
`offline/chain.py`, `live/`) knows them all; each stage reads only its own section of the config. Time
arrives as data (`Frame.ts`), never from the clock inside a stage, so offline analysis and tests
behave exactly like a live run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from pipeline.vocabulary import Direction, EventKind
from pipeline.wording import Message

Point = tuple[float, float]
Box = tuple[float, float, float, float]


def seconds_between(later: datetime, earlier: datetime) -> float:
    """Real elapsed seconds. Python subtracts two times of the same zone on the wall clock, which
    is off by an hour across a DST change; going through UTC is always right."""
    return (later.astimezone(UTC) - earlier.astimezone(UTC)).total_seconds()


@dataclass(frozen=True)
class Frame:
    """A decoded video frame chosen by the sampler."""

    index: int  # 0-based index of the decoded frame in the video
    pts: float  # seconds from the start of the video
    ts: datetime  # wall-clock time, timezone-aware
    image: np.ndarray = field(repr=False)  # BGR, HxWx3 uint8
    skimmed: bool = False  # a keyframe decoded while skimming idle footage: for a motion check only


@dataclass(frozen=True)
class Detections:
    """People found in one frame, in that frame's pixels."""

    xyxy: np.ndarray  # float32 [N, 4]
    confidence: np.ndarray  # float32 [N]

    @classmethod
    def empty(cls) -> Detections:
        return cls(np.zeros((0, 4), np.float32), np.zeros((0,), np.float32))

    def __len__(self) -> int:
        return len(self.confidence)

    def where(self, keep: np.ndarray) -> Detections:
        return Detections(self.xyxy[keep], self.confidence[keep])


@dataclass(frozen=True)
class Track:
    """One confirmed track's box in one frame."""

    track_id: int
    box: Box
    confidence: float


@dataclass(frozen=True)
class Crossing:
    """A person passing a line or entering/leaving a zone, dated at the first frame seen on the new side."""

    camera: str
    line: str  # the line or zone name (unique within a camera)
    direction: Direction  # "in": toward the inside of the line, or into the zone
    track_id: int
    frame: int
    ts: datetime
    box: Box
    confidence: float
    track_age_s: float = 0.0  # how long the track had been seen at the crossing
    travel_px: float = 0.0  # how far its anchor had moved since first seen
    # Where the track's anchor went, oldest first, up to the confirmation: drawn on the event page.
    path: tuple[Point, ...] = ()


@dataclass(frozen=True)
class Decision:
    """What the rules made of a crossing, and why (shown to the guard and stored)."""

    crossing: Crossing
    flagged: bool
    kind: EventKind | None  # set when flagged
    reason: Message
    registration_id: int | None = None
    closed: str | None = None  # the closed window the crossing fell in, for a rule that applies


@dataclass(frozen=True)
class Evidence:
    """Where a flagged crossing's snapshots were written (absolute paths, so any command finds them)."""

    full: Path  # the annotated frame
    crop: Path  # the person
    clip: Path | None = None  # seconds of video around the crossing (H.264 MP4), once written


@dataclass(frozen=True)
class Outcome:
    """A decision and, when it was flagged, its evidence: what the store writes for one crossing."""

    decision: Decision
    evidence: Evidence | None = None
