"""Evidence as the camera recorded it: a live camera's own H.264/H.265 packets of the last
seconds, and an event's clip cut from them (or from a recorded file, `cut_file`) without
decoding or encoding a frame.

The clip then has the camera's full frame rate and quality (what the NVR would give), and the box
spends no CPU on an encoder per event. A clip starts at the keyframe at or before `before_s`
ahead of the crossing (a decoder needs it), so it may begin up to one keyframe interval earlier.

Memory is bounded per camera: packets are kept for the seconds a clip can reach back (`keep_s`,
the clip's length plus how late it may be asked for), whole keyframe intervals at a time, and
never more than `max_bytes` (the oldest interval goes first). The codec's parameters are kept
as a tiny Matroska file holding the stream's first keyframe, from which the clip's MP4 takes its
stream (extradata, size, profile). A reconnection starts a new segment (timestamps and codec
parameters start over): a clip is cut from the segment its crossing fell in.
"""

from __future__ import annotations

import io
import tempfile
import threading
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from itertools import pairwise
from pathlib import Path

import av
import av.container
import av.stream

COPYABLE = frozenset({"h264", "hevc"})  # what an MP4 carries as it came; anything else is re-encoded
MAX_BYTES = 32_000_000  # per camera: 20 s of a 4 Mbit/s 1080p stream is about 10 MB


@dataclass(frozen=True)
class Kept:
    data: bytes
    pts: int | None
    dts: int | None
    keyframe: bool
    at: datetime  # when it arrived, the clock the analysed frames carry
    segment: int  # one per connection: timestamps and codec parameters start over with each


@dataclass(frozen=True)
class StreamCut:
    """Packets of one connection from a keyframe on, and the stream they belong to (as a
    one-packet Matroska file)."""

    header: bytes
    time_base: Fraction
    packets: list[Kept]

    @property
    def start(self) -> datetime:
        return self.packets[0].at


class PacketRing:
    """One camera's recent packets. The reader thread adds; the analysis thread cuts: one lock."""

    def __init__(self, keep_s: float, max_bytes: int = MAX_BYTES) -> None:
        self.keep = timedelta(seconds=keep_s)
        self.max_bytes = max_bytes
        self._packets: deque[Kept] = deque()
        self._bytes = 0
        self._segment = 0
        self._headers: dict[int, tuple[bytes, Fraction]] = {}  # per connection still in the ring
        self._stream: av.stream.Stream | None = None
        self._lock = threading.Lock()

    def restart(self, stream: av.stream.Stream) -> None:
        """A (re)opened stream: a new segment; what the last connection sent stays for a clip
        around a crossing just before it dropped."""
        copyable = stream.codec_context.name in COPYABLE and stream.time_base is not None
        with self._lock:
            self._segment += 1
            self._stream = stream if copyable else None

    def add(self, packet: av.Packet, at: datetime) -> None:
        if self._stream is None or packet.size == 0:
            return
        segment = self._segment  # only this (the reader's) thread changes it
        header = None
        if segment not in self._headers:
            if not packet.is_keyframe:
                return  # nothing can be cut before a connection's first keyframe
            header = (_header(self._stream, packet), Fraction(self._stream.time_base))
        kept = Kept(bytes(packet), packet.pts, packet.dts, packet.is_keyframe, at, segment)
        with self._lock:
            if header is not None:
                self._headers[segment] = header
            self._packets.append(kept)
            self._bytes += len(kept.data)
            self._trim(at)

    def _trim(self, now: datetime) -> None:
        """Drop whole keyframe intervals from the front while the next one still reaches back
        far enough, or while over the byte limit; and the codec parameters nothing uses now."""
        while True:
            second = next((i for i, p in enumerate(self._packets) if i > 0 and p.keyframe), None)
            if second is None:
                break
            old_enough = self._packets[second].at <= now - self.keep
            if not old_enough and self._bytes <= self.max_bytes:
                break
            for _ in range(second):
                self._bytes -= len(self._packets.popleft().data)
        oldest = self._packets[0].segment if self._packets else self._segment
        for segment in [s for s in self._headers if s < oldest]:
            del self._headers[segment]

    def cut(self, start: datetime, end: datetime, latest: datetime) -> StreamCut | None:
        """Packets of the connection the crossing (`latest`) fell in, from its last keyframe at or
        before `start` (else its first keyframe, if not after the crossing) to `end` or the
        connection's end. None without such a keyframe, or for another codec."""
        with self._lock:
            packets = list(self._packets)
            headers = dict(self._headers)
        keys = [i for i, p in enumerate(packets) if p.keyframe and p.at <= latest]
        if not keys:
            return None
        segment = packets[keys[-1]].segment
        keys = [i for i in keys if packets[i].segment == segment]
        first = max((i for i in keys if packets[i].at <= start), default=keys[0])
        chosen = [p for p in packets[first:] if p.segment == segment and p.at <= end]
        header, time_base = headers[segment]
        return StreamCut(header, time_base, chosen)


def _header(stream: av.stream.Stream, keyframe: av.Packet) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="matroska") as output:
        copy = output.add_stream_from_template(stream)
        packet = av.Packet(bytes(keyframe))
        packet.pts = packet.dts = 0
        packet.time_base = stream.time_base
        packet.is_keyframe = True
        packet.stream = copy
        output.mux(packet)
    return buffer.getvalue()


def _timestamps(packets: list[Kept]) -> list[tuple[int, int]]:
    """(pts, dts) of each packet, from zero. An RTSP stream gives no dts at all, and no pts for
    some packets (often the first keyframe), and its pts are in display order (B-frames): missing
    pts are filled a frame step (the median step of the known ones) before the earliest known one
    or after the latest so far, and dts are the pts in increasing order, each moved back by the
    stream's reordering delay so none comes after its pts."""
    known = [p.pts for p in packets if p.pts is not None]
    if not known:
        raise ValueError("the camera's packets carry no timestamps")
    steps = sorted(b - a for a, b in pairwise(sorted(known)) if b > a)
    step = steps[len(steps) // 2] if steps else 1
    lead = next(i for i, p in enumerate(packets) if p.pts is not None)
    pts: list[int] = []
    for i, packet in enumerate(packets):
        if packet.pts is not None:
            pts.append(packet.pts)
        elif i < lead:
            pts.append(min(known) - (lead - i) * step)
        else:
            pts.append(max(pts) + step)
    if all(p.dts is not None for p in packets):
        dts = [p.dts for p in packets]
    else:
        order = sorted(pts)
        delay = max(0, *(o - v for o, v in zip(order, pts, strict=True)))
        dts = [o - delay for o in order]
    stamps, last = [], None
    for value, decode in zip(pts, dts, strict=True):
        assert decode is not None
        if last is not None and decode <= last:
            decode = last + 1  # the muxer wants them strictly increasing
        stamps.append((max(value, decode), decode))
        last = decode
    origin = min(decode for _, decode in stamps)
    return [(value - origin, decode - origin) for value, decode in stamps]


def mux_copy(cut: StreamCut) -> bytes:
    """The packets as an MP4 (index first, so a browser starts playing at once), timestamps from
    zero, not a frame decoded or encoded."""
    stamps = _timestamps(cut.packets)
    with tempfile.TemporaryDirectory(prefix="gatewatch-clip-") as folder:
        scratch = Path(folder) / "clip.mp4"
        with (
            av.open(io.BytesIO(cut.header), format="matroska") as template,
            av.open(str(scratch), "w", format="mp4", options={"movflags": "+faststart"}) as output,
        ):
            stream = output.add_stream_from_template(template.streams.video[0])
            stream.time_base = cut.time_base  # the camera's clock, so no two timestamps round to one
            for kept, (pts, dts) in zip(cut.packets, stamps, strict=True):
                packet = av.Packet(kept.data)
                packet.pts, packet.dts, packet.time_base = pts, dts, cut.time_base
                packet.is_keyframe = kept.keyframe
                packet.stream = stream
                output.mux(packet)
        return scratch.read_bytes()


def cut_file(path: Path, start_s: float, end_s: float) -> bytes | None:
    """A recorded file's own packets from the keyframe at or before `start_s` (seconds into the
    file) to `end_s`, as an MP4; None for a codec an MP4 does not carry as it is."""
    with av.open(str(path)) as source:
        stream = source.streams.video[0]
        if stream.codec_context.name not in COPYABLE or stream.time_base is None:
            return None
        time_base = Fraction(stream.time_base)
        origin = stream.start_time or 0
        source.seek(origin + int(max(0.0, start_s) / time_base), stream=stream, backward=True, any_frame=False)
        kept: list[Kept] = []
        header = None
        for packet in source.demux(stream):
            if packet.size == 0:
                continue
            if not kept and not packet.is_keyframe:
                continue  # a decoder starts at a keyframe
            decode = packet.dts if packet.dts is not None else packet.pts
            if kept and decode is not None and (decode - origin) * time_base > end_s:
                break
            if header is None:
                header = _header(stream, packet)
            kept.append(Kept(bytes(packet), packet.pts, packet.dts, packet.is_keyframe, _FILE_TIME, 0))
    if header is None:
        return None
    return mux_copy(StreamCut(header, time_base, kept))


_FILE_TIME = datetime(1970, 1, 1, tzinfo=UTC)  # a file's packets are placed by their own timestamps
