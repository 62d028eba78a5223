"""Directional crossing of lines and zones: turns tracks into `Crossing`s, once per real passage.

Per track and boundary (a line, or a zone's edge) a small state machine remembers the side the
person was last *clearly* on (outside a dead band around the boundary). A crossing needs:

1. a move from one clear side to the other (jitter inside the dead band changes nothing),
2. that passes through the boundary itself: for a line, the segment and not its extension
   (walking round the end of a line is not a crossing),
3. and that holds: the person is seen on the new side `confirm_s` later, or the track ends
   there (someone who steps through a door and out of view still entered).

Entering a zone is a crossing `in`, leaving it one `out`; someone first seen inside a zone has
not entered it.

A person who stops on the line, walks along it or turns back therefore produces nothing, and
one who crosses once produces one crossing. Thresholds are in seconds and relative to the
person's size, so they mean the same at any sampling rate and resolution.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from pipeline.config import CameraConfig, Config, CrossingConfig
from pipeline.geometry import Boundary, Segment, Zone, anchor_point
from pipeline.records import Box, Crossing, Point, Track, seconds_between
from pipeline.vocabulary import Anchor, Direction

# A track counts as moving (and keeps the detector on, see motion.py) this long after it last moved.
MOVING_S = 1.0
# The last this many anchor points of a track are kept for its path (60 s at 5 analysed frames/s).
PATH_POINTS = 300


@dataclass(frozen=True)
class Watched:
    """A boundary and the point of a person's box that has to cross it."""

    boundary: Boundary
    anchor: Anchor


def watched_for(camera_id: str, config: Config) -> dict[str, Watched]:
    camera: CameraConfig = config.cameras[camera_id]
    watched = {
        name: Watched(Segment(line.points[0], line.points[1], line.inside), config.anchor_of(camera_id, name))
        for name, line in camera.lines.items()
    }
    for name, zone in camera.zones.items():
        watched[name] = Watched(Zone(tuple(zone.points)), config.anchor_of(camera_id, name))
    return watched


@dataclass
class _Pending:
    to_side: int
    frame: int
    ts: datetime
    box: Box
    confidence: float
    track_age_s: float
    travel_px: float


@dataclass
class _LineState:
    side: int = 0  # +1 inside, -1 outside, 0 not yet clearly on either
    last_clear: Point | None = None  # last point clearly on `side`
    pending: _Pending | None = None


@dataclass
class _TrackState:
    """All the counter knows of one track, in one record: an id switch hands it on whole."""

    first_ts: datetime
    first_box: Box
    last_ts: datetime
    last_point: Point  # anchor where last seen
    height: float  # box height where last seen
    moved_at: datetime | None = None  # when the anchor last moved more than the dead band
    path: deque[Point] = field(default_factory=lambda: deque(maxlen=PATH_POINTS))  # recent anchors
    lines: dict[str, _LineState] = field(default_factory=dict)  # by line or zone name


class CrossingCounter:
    """Crossings of one camera's lines and zones by its tracks; feed it frames in time order."""

    def __init__(
        self,
        camera: str,
        watched: dict[str, Watched],
        config: CrossingConfig,
        track_timeout_s: float,
    ) -> None:
        self.camera = camera
        self.watched = watched
        self.config = config
        self.track_timeout_s = track_timeout_s
        self._tracks: dict[int, _TrackState] = {}

    def update(self, frame: int, ts: datetime, tracks: Iterable[Track]) -> list[Crossing]:
        crossings: list[Crossing] = []
        tracks = list(tracks)
        present = {track.track_id for track in tracks}
        for track in tracks:
            point = anchor_point(track.box, self.config.anchor)
            height = track.box[3] - track.box[1]
            band = max(self.config.min_hysteresis_px, self.config.hysteresis * height)
            state = self._tracks.get(track.track_id)
            if state is None:
                state = self._stitch(point, height, present) or _TrackState(ts, track.box, ts, point, height)
                self._tracks[track.track_id] = state
            elif math.dist(state.last_point, point) > band:
                state.moved_at = ts
            state.last_ts, state.last_point, state.height = ts, point, height
            state.path.append((round(point[0], 1), round(point[1], 1)))
            for name, watched in self.watched.items():
                line = state.lines.setdefault(name, _LineState())
                crossing = self._step(line, name, watched, band, track, state, frame, ts)
                if crossing:
                    crossings.append(crossing)
        crossings.extend(self._expire(ts))
        return crossings

    def _stitch(self, point: Point, height: float, present: set[int]) -> _TrackState | None:
        """Let a new track continue the nearest track that vanished recently (an id switch, typically
        during an occlusion), so the side it was on is not forgotten: its whole state moves over."""
        limit = self.config.stitch_distance * height
        best: tuple[float, int] | None = None
        for other, state in self._tracks.items():
            if other in present:
                continue
            distance = math.dist(point, state.last_point)
            if distance <= limit and (best is None or distance < best[0]):
                best = (distance, other)
        return self._tracks.pop(best[1]) if best is not None else None

    def moving_points(self, now: datetime) -> list[Point]:
        """Where tracks that moved in the last `MOVING_S` were last seen: people who may be about to
        cross. Someone (or something) standing still is left out; if they set off, that is motion."""
        return [
            state.last_point
            for state in self._tracks.values()
            if state.moved_at is not None and seconds_between(now, state.moved_at) <= MOVING_S
        ]

    def pending_frames(self) -> set[int]:
        """Frames a crossing still waiting for confirmation will be dated at (their images are evidence)."""
        return {line.pending.frame for state in self._tracks.values() for line in state.lines.values() if line.pending}

    def finish(self) -> list[Crossing]:
        """End of the video: every track ends where it is."""
        return self._expire(None)

    def _step(
        self,
        state: _LineState,
        line: str,
        watched: Watched,
        band: float,
        track: Track,
        seen: _TrackState,
        frame: int,
        ts: datetime,
    ) -> Crossing | None:
        point = anchor_point(track.box, watched.anchor)
        distance = watched.boundary.signed_distance(point)
        side = 1 if distance > band else -1 if distance < -band else 0
        if side == 0:
            return None  # in the dead band: neither confirms nor cancels anything
        if state.side == 0 or side == state.side:
            if state.pending is not None:
                state.pending = None  # came back before the crossing held
            state.side = side
            state.last_clear = point
            return None
        # Clearly on the other side from the last clear position.
        if state.pending is not None:
            if seconds_between(ts, state.pending.ts) >= self.config.confirm_s:
                return self._confirm(state, line, track.track_id, point, seen.path)
            return None
        assert state.last_clear is not None
        if not watched.boundary.passes_through(state.last_clear, point):
            # Went round the end of the segment: new side, no crossing.
            state.side = side
            state.last_clear = point
            return None
        state.pending = _Pending(
            side,
            frame,
            ts,
            track.box,
            track.confidence,
            track_age_s=seconds_between(ts, seen.first_ts),
            travel_px=math.dist(anchor_point(seen.first_box, watched.anchor), point),
        )
        if self.config.confirm_s == 0:
            return self._confirm(state, line, track.track_id, point, seen.path)
        return None

    def _confirm(
        self, state: _LineState, line: str, track_id: int, point: Point | None, path: Iterable[Point]
    ) -> Crossing:
        pending = state.pending
        assert pending is not None
        state.side = pending.to_side
        state.pending = None
        if point is not None:
            state.last_clear = point
        direction = Direction.IN if pending.to_side > 0 else Direction.OUT
        return Crossing(
            camera=self.camera,
            line=line,
            direction=direction,
            track_id=track_id,
            frame=pending.frame,
            ts=pending.ts,
            box=pending.box,
            confidence=pending.confidence,
            track_age_s=pending.track_age_s,
            travel_px=pending.travel_px,
            path=tuple(path),
        )

    def _expire(self, now: datetime | None) -> list[Crossing]:
        """Forget tracks the tracker has given up on; a crossing still pending when its track
        ends counts, because the person was last seen on the new side."""
        ended = [
            track_id
            for track_id, state in self._tracks.items()
            if now is None or seconds_between(now, state.last_ts) > self.track_timeout_s
        ]
        crossings: list[Crossing] = []
        for track_id in ended:
            state = self._tracks.pop(track_id)
            for name, line in state.lines.items():
                if line.pending is not None:
                    crossings.append(self._confirm(line, name, track_id, None, state.path))
        return crossings
