"""Directional line crossing: turns tracks into `Crossing`s, once per real passage.

Per track and line a small state machine remembers the side the person was last *clearly* on
(outside a dead band around the line). A crossing needs:

1. a move from one clear side to the other (jitter inside the dead band changes nothing),
2. that passes through the segment itself, not its extension (walking round the end of a
   line is not a crossing),
3. and that holds: the person is seen on the new side `confirm_s` later, or the track ends
   there (someone who steps through a door and out of view still entered).

A person who stops on the line, walks along it or turns back therefore produces nothing, and
one who crosses once produces one crossing. Thresholds are in seconds and relative to the
person's size, so they mean the same at any sampling rate and resolution.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pipeline.config import CrossingConfig, LineConfig
from pipeline.geometry import Segment, anchor_point
from pipeline.records import Box, Crossing, Direction, Point, Track, seconds_between


@dataclass
class _Pending:
    to_side: int
    frame: int
    ts: datetime
    box: Box
    confidence: float


@dataclass
class _LineState:
    side: int = 0  # +1 inside, -1 outside, 0 not yet clearly on either
    last_clear: Point | None = None  # last point clearly on `side`
    pending: _Pending | None = None


class LineCrossingCounter:
    """Crossings of one camera's lines by its tracks; feed it frames in time order."""

    def __init__(
        self,
        camera: str,
        lines: dict[str, LineConfig],
        config: CrossingConfig,
        track_timeout_s: float,
    ) -> None:
        self.camera = camera
        self.segments = {name: Segment(line.points[0], line.points[1], line.inside) for name, line in lines.items()}
        self.config = config
        self.track_timeout_s = track_timeout_s
        self._states: dict[tuple[int, str], _LineState] = {}
        self._last_seen: dict[int, tuple[datetime, Point, float]] = {}  # time, anchor, box height

    def update(self, frame: int, ts: datetime, tracks: Iterable[Track]) -> list[Crossing]:
        crossings: list[Crossing] = []
        tracks = list(tracks)
        present = {track.track_id for track in tracks}
        for track in tracks:
            point = anchor_point(track.box, self.config.anchor)
            height = track.box[3] - track.box[1]
            if track.track_id not in self._last_seen:
                self._stitch(track.track_id, point, height, present)
            self._last_seen[track.track_id] = (ts, point, height)
            band = max(self.config.min_hysteresis_px, self.config.hysteresis * height)
            for name, segment in self.segments.items():
                state = self._states.setdefault((track.track_id, name), _LineState())
                crossing = self._step(state, name, segment, point, band, track, frame, ts)
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
        for name in self.segments:
            state = self._states.pop((old, name), None)
            if state is not None:
                self._states[(track_id, name)] = state

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
        segment: Segment,
        point: Point,
        band: float,
        track: Track,
        frame: int,
        ts: datetime,
    ) -> Crossing | None:
        distance = segment.signed_distance(point)
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
        along = segment.position_along(state.last_clear, point)
        if along is None or not 0.0 <= along <= 1.0:
            # Went round the end of the segment: new side, no crossing.
            state.side = side
            state.last_clear = point
            return None
        state.pending = _Pending(side, frame, ts, track.box, track.confidence)
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
        direction: Direction = "in" if pending.to_side > 0 else "out"
        return Crossing(
            camera=self.camera,
            line=line,
            direction=direction,
            track_id=track_id,
            frame=pending.frame,
            ts=pending.ts,
            box=pending.box,
            confidence=pending.confidence,
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
            for name in self.segments:
                state = self._states.pop((track_id, name), None)
                if state is not None and state.pending is not None:
                    crossings.append(self._confirm(state, name, track_id, None))
        return crossings
