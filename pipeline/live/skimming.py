"""Idle live cameras at almost no cost: decode only keyframes while nothing moves, and every frame
again, from the keyframe before, as soon as something does.

Once the detector is gated by motion, decoding is most of what an idle camera costs: an empty
corridor in infrared at 10 frames a second is decoded in full to look at 5 of them. While the
camera's analysis says the scene is idle (nothing detected, no crossing waiting), decoding drops to
keyframes at the next keyframe (one every 1 to 2 s on most cameras), and the packets since the last
keyframes are kept. Three things wake it:

- its packets: an inter frame much larger than the idle scene's lately (the encoder spent bits on
  something that moved), the cheapest signal and the quickest;
- its keyframes: each is decoded and compared by the motion gate with the last frame the detector
  saw, for what sizes do not show (an infrared camera's sensor noise costs the encoder more than
  a person walking in);
- a guard opening the camera's live view, who expects the full frame rate.

On waking, decoding starts again at the keyframe at or before the moment to look back to, from the
kept packets, and every frame from that moment on is analysed: a person who walks in between two
keyframes is seen from their first frames, not from the next keyframe.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import av

KEPT_INTERVALS = 3  # keyframe intervals of packets kept while skimming: the current one and two before
KEPT_BYTES = 8_000_000  # ...but no more than this (a "smart codec" camera's keyframes come 10 s apart)
LOOK_BACK_S = 1.0  # a jump in packet sizes is analysed from this long before it
SIZES_KNOWN = 10  # idle inter frames seen before sizes are trusted
SIZES_WINDOW = 50  # the idle inter frames sizes are compared with
SIZE_QUANTILE = 0.9  # ...their 90th percentile,
SIZE_RATIO = 1.5  # ...times this,
SIZE_SLACK = 256  # ...plus this many bytes (a near-empty stream's frames differ by tens of bytes)


@dataclass(frozen=True)
class Arrival:
    mono: float  # time.monotonic() when its packet came in
    at: datetime  # the same moment on the site's clock


@dataclass(frozen=True)
class Decoded:
    frame: av.VideoFrame
    arrival: Arrival
    skimmed: bool = False  # a keyframe decoded while skimming: for the motion check only
    replayed: bool = False  # decoded again from kept packets on waking: the analysis catches up on it


class SizeWatch:
    """Whether an inter frame is much larger than the idle scene's have been lately."""

    def __init__(self) -> None:
        self._sizes: deque[int] = deque(maxlen=SIZES_WINDOW)

    def jumped(self, size: int) -> bool:
        if len(self._sizes) >= SIZES_KNOWN:
            ordered = sorted(self._sizes)
            if size > ordered[int(SIZE_QUANTILE * (len(ordered) - 1))] * SIZE_RATIO + SIZE_SLACK:
                return True  # not learnt: the scene is not idle any more
        self._sizes.append(size)
        return False


class Skimmer:
    """One connection's decoding, skimming while idle. The reader thread feeds every packet."""

    def __init__(self, context: av.CodecContext) -> None:
        self.context = context
        self.skimming = False
        self.sizes = SizeWatch()
        self._intervals: deque[list[tuple[av.Packet, Arrival]]] = deque()
        self._bytes = 0  # in the kept intervals
        self._began = 0.0  # when skimming began: every frame before it was decoded and analysed
        self._last_out = 0.0  # arrival of the newest frame handed out for analysis

    def feed(self, packet: av.Packet, arrival: Arrival, idle: bool, wake: float | None) -> Iterator[Decoded]:
        """`idle`: the analysis says nothing is going on; `wake`: a reason from outside to decode
        every frame again, analysed from that monotonic time on (clamped to what was skimmed)."""
        if packet.is_keyframe:
            self._intervals.append([])
            if len(self._intervals) > KEPT_INTERVALS:
                self._drop_oldest()
        if self._intervals:  # before the connection's first keyframe nothing could be decoded again
            self._intervals[-1].append((packet, arrival))
            self._bytes += packet.size
            while len(self._intervals) > 1 and self._bytes > KEPT_BYTES:
                self._drop_oldest()
        overflowing = self._bytes > KEPT_BYTES  # one keyframe interval holds more than may be kept
        if overflowing and not self.skimming:
            self._intervals.clear()  # kept again from the next keyframe, where skimming may begin
            self._bytes = 0
        if self.skimming:
            if wake is None and not packet.is_keyframe and self.sizes.jumped(packet.size):
                wake = arrival.mono - LOOK_BACK_S
            if wake is None and overflowing:
                wake = arrival.mono  # nothing more can be kept: decode everything from here on
            if wake is not None:
                yield from self._wake(wake)
                return
        elif idle and packet.is_keyframe:
            self.skimming, self._began = True, arrival.mono
            self.context.skip_frame = "NONKEY"
        elif not idle:
            while len(self._intervals) > 2:  # decoding everything: kept only to time frames handed out late
                self._drop_oldest()
        for frame in packet.decode():
            skimmed = self.skimming and frame.key_frame
            when = self._arrival_of(frame, arrival)
            if not skimmed:
                self._last_out = when.mono
            yield Decoded(frame, when, skimmed=skimmed)

    def _arrival_of(self, frame: av.VideoFrame, default: Arrival) -> Arrival:
        """When the frame's own packet came in: a decoder hands frames out a few packets late."""
        if frame.pts is not None:
            for interval in reversed(self._intervals):
                for packet, arrival in reversed(interval):  # its packet is one of the newest
                    if packet.pts == frame.pts:
                        return arrival
        return default

    def _drop_oldest(self) -> None:
        self._bytes -= sum(packet.size for packet, _ in self._intervals.popleft())

    def interval_before(self, mono: float) -> float:
        """When the keyframe interval before the one holding `mono` began: a change a skimmed
        keyframe shows may have walked in at any moment since the keyframe before it."""
        starts = [kept[0][1].mono for kept in self._intervals if kept[0][1].mono < mono]
        return starts[-1] if starts else mono

    def _wake(self, since: float) -> Iterator[Decoded]:
        self.skimming = False
        self.context.skip_frame = "DEFAULT"
        self.context.flush_buffers()  # what was in flight while skimming is decoded again below
        since = max(since, self._began, self._last_out + 1e-6)
        starts = [i for i, kept in enumerate(self._intervals) if kept[0][1].mono <= since]
        kept = [p for interval in list(self._intervals)[starts[-1] if starts else 0 :] for p in interval]
        for packet, arrival in kept:
            for frame in packet.decode():
                when = self._arrival_of(frame, arrival)
                if when.mono >= since:
                    self._last_out = when.mono
                    yield Decoded(frame, when, replayed=True)
