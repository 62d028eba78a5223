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
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pipeline.config import CameraConfig, Config, CrossingConfig
from pipeline.geometry import Boundary, Segment, Zone, anchor_point
from pipeline.records import Box, Crossing, Point, Track, seconds_between
from pipeline.vocabulary import Anchor, Direction

# A track counts as moving (and keeps the detector on, see motion.py) this long after it last moved.
MOVING_S = 1.0


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


@dataclass(frozen=True)
class _FirstSeen:
    ts: datetime
    box: Box


@dataclass
class _LineState:
    side: int = 0  # +1 inside, -1 outside, 0 not yet clearly on either
    last_clear: Point | None = None  # last point clearly on `side`
    pending: _Pending | None = None


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
        self._states: dict[tuple[int, str], _LineState] = {}
        self._last_seen: dict[int, tuple[datetime, Point, float]] = {}  # time, anchor, box height
        self._first_seen: dict[int, _FirstSeen] = {}
        self._moved_at: dict[int, datetime] = {}  # when each track's anchor last moved more than the dead band

    def update(self, frame: int, ts: datetime, tracks: Iterable[Track]) -> list[Crossing]:
        crossings: list[Crossing] = []
        tracks = list(tracks)
        present = {track.track_id for track in tracks}
        for track in tracks:
            point = anchor_point(track.box, self.config.anchor)
            height = track.box[3] - track.box[1]
            if track.track_id not in self._last_seen:
                self._stitch(track.track_id, point, height, present)
            band = max(self.config.min_hysteresis_px, self.config.hysteresis * height)
            previous = self._last_seen.get(track.track_id)
            if previous is not None and math.dist(previous[1], point) > band:
                self._moved_at[track.track_id] = ts
            self._last_seen[track.track_id] = (ts, point, height)
            self._first_seen.setdefault(track.track_id, _FirstSeen(ts, track.box))
            for name, watched in self.watched.items():
                state = self._states.setdefault((track.track_id, name), _LineState())
                crossing = self._step(state, name, watched, band, track, frame, ts)
                if crossing:
                    crossings.append(crossing)
        crossings.extend(self._expire(ts))
        return crossings

    def _stitch(self, track_id: int, point: Point, height: float, present: set[int]) -> None:
        """Let a new track continue the nearest track that vanished recently (an id switch, typically
        during an occlusion), so the side it was on is not forgotten."""
        limit = self.config.stitch_distance * height
        best: tuple[float, int] | None = None
        for other, (_, last_point, _) in self._last_seen.items():
            if other in present:
                continue
            distance = math.dist(point, last_point)
            if distance <= limit and (best is None or distance < best[0]):
                best = (distance, other)
        if best is None:
            return
        old = best[1]
        del self._last_seen[old]
        first = self._first_seen.pop(old, None)
        if first is not None:
            self._first_seen[track_id] = first
        moved = self._moved_at.pop(old, None)
        if moved is not None:
            self._moved_at[track_id] = moved
        for name in self.watched:
            state = self._states.pop((old, name), None)
            if state is not None:
                self._states[(track_id, name)] = state

    def moving_points(self, now: datetime) -> list[Point]:
        """Where tracks that moved in the last `MOVING_S` were last seen: people who may be about to
        cross. Someone (or something) standing still is left out; if they set off, that is motion."""
        return [
            point
            for track_id, (_, point, _) in self._last_seen.items()
            if track_id in self._moved_at and seconds_between(now, self._moved_at[track_id]) <= MOVING_S
        ]

    def pending_frames(self) -> set[int]:
        """Frames a crossing still waiting for confirmation will be dated at (their images are evidence)."""
        return {state.pending.frame for state in self._states.values() if state.pending is not None}

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
                return self._confirm(state, line, track.track_id, point)
            return None
        assert state.last_clear is not None
        if not watched.boundary.passes_through(state.last_clear, point):
            # Went round the end of the segment: new side, no crossing.
            state.side = side
            state.last_clear = point
            return None
        first = self._first_seen[track.track_id]
        state.pending = _Pending(
            side,
            frame,
            ts,
            track.box,
            track.confidence,
            track_age_s=seconds_between(ts, first.ts),
            travel_px=math.dist(anchor_point(first.box, watched.anchor), point),
        )
        if self.config.confirm_s == 0:
            return self._confirm(state, line, track.track_id, point)
        return None

    def _confirm(self, state: _LineState, line: str, track_id: int, point: Point | None) -> Crossing:
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
        )

    def _expire(self, now: datetime | None) -> list[Crossing]:
        """Forget tracks the tracker has given up on; a crossing still pending when its track
        ends counts, because the person was last seen on the new side."""
        ended = [
            track_id
            for track_id, (seen, _, _) in self._last_seen.items()
            if now is None or seconds_between(now, seen) > self.track_timeout_s
        ]
        crossings: list[Crossing] = []
        for track_id in ended:
            del self._last_seen[track_id]
            self._first_seen.pop(track_id, None)
            self._moved_at.pop(track_id, None)
            for name in self.watched:
                state = self._states.pop((track_id, name), None)
                if state is not None and state.pending is not None:
                    crossings.append(self._confirm(state, name, track_id, None))
        return crossings
