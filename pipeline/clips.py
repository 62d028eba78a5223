"""Seconds of video around each flagged crossing, as an MP4 any browser plays.

A snapshot shows one frame; whether someone climbed the gate or walked through with the guard
takes the seconds around it. A flagged crossing asks for a clip from `before_s` ahead of it to
`after_s` after; the clip is finished once the camera has run that far past the crossing (or its
footage ends), so a live alert is never held back for it.

A live H.264/H.265 camera's clip is cut from its own packets (`packets.PacketRing`), a recorded
file's from the file's (`packets.cut_file`): full frame rate and quality, nothing encoded. A file
in another codec has its seconds decoded again from the file and encoded (`encode_file`, once per
event). Otherwise (an MJPEG webcam, a looped file served live, a cut that failed) the clip is
encoded from the camera's last few seconds of analysed frames (JPEG in memory, scaled down: a few
MB per camera), at their true times, so it plays at real speed. Encoded clips have the camera and
time burnt in. Either is written whole or not at all (`files.atomic_write`).
"""

from __future__ import annotations

import logging
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from pipeline.config import ClipConfig
from pipeline.errors import GatewatchError
from pipeline.files import atomic_write
from pipeline.packets import PacketRing, StreamCut, mux_copy
from pipeline.pieces import no_wider_than
from pipeline.records import Frame, seconds_between

log = logging.getLogger("gatewatch.clips")

JPEG_QUALITY = 85
CRF = 26  # x264 quality: a 10 s clip at 640x480 is some 100-400 kB
MILLISECONDS = Fraction(1, 1000)  # frames keep their true times (a live stream drops some)


@dataclass(frozen=True)
class Clip:
    key: Hashable  # whatever the asker uses to find its event again (an event id, a position)
    frames: list[tuple[datetime, bytes]]  # (time, JPEG), in time order
    cut: StreamCut | None = None  # the camera's own packets for it, where it sends H.264/H.265


@dataclass
class _Wanted:
    key: Hashable
    start: datetime
    end: datetime
    frames: list[tuple[datetime, bytes]] = field(default_factory=list)


class ClipCollector:
    """One camera's recent frames and the clips still waiting for their last seconds.

    `late_s`: how long after its crossing a clip may be asked for (the crossing is confirmed,
    stored and handed back later than it happened), so frames are kept that much longer.
    The camera's thread offers frames while the recorder's asks for clips: one lock."""

    def __init__(
        self, config: ClipConfig, late_s: float, packets: PacketRing | None = None, frames: bool = True
    ) -> None:
        """`packets`: the live camera's own packets, to cut clips from where its codec allows;
        `frames`: keep the analysed frames to encode from (not needed where every clip is cut
        from a recorded file's own packets: no JPEG per analysed frame then)."""
        self.config = config
        self.packets = packets
        self.frames = frames
        self.keep_s = config.before_s + late_s
        self._recent: deque[tuple[datetime, bytes]] = deque()
        self._wanted: list[_Wanted] = []
        self._lock = threading.Lock()

    def want(self, key: Hashable, ts: datetime) -> None:
        with self._lock:
            start = ts.timestamp() - self.config.before_s
            earlier = [(t, data) for t, data in self._recent if t.timestamp() >= start]
            end = datetime.fromtimestamp(ts.timestamp() + self.config.after_s, ts.tzinfo)
            self._wanted.append(_Wanted(key, ts, end, earlier))

    def offer(self, frame: Frame) -> list[Clip]:
        """Keep this frame; the clips it completes are returned (to be written off this thread)."""
        data = _jpeg(frame.image, self.config.width) if self.frames else None
        with self._lock:
            if data is not None:
                self._recent.append((frame.ts, data))
            while self._recent and seconds_between(frame.ts, self._recent[0][0]) > self.keep_s:
                self._recent.popleft()
            done = []
            for wanted in self._wanted:
                if seconds_between(frame.ts, wanted.end) > 0:
                    done.append(wanted)
                elif data is not None:
                    wanted.frames.append((frame.ts, data))
            self._wanted = [w for w in self._wanted if w not in done]
        return [self._clip(w) for w in done]

    def finish(self) -> list[Clip]:
        """The footage ended (or the stream stops): clips get the frames there were."""
        with self._lock:
            done, self._wanted = self._wanted, []
        return [self._clip(w) for w in done if w.frames or not self.frames]

    def _clip(self, wanted: _Wanted) -> Clip:
        start = wanted.start - timedelta(seconds=self.config.before_s)
        cut = self.packets.cut(start, wanted.end, wanted.start) if self.packets is not None else None
        return Clip(wanted.key, wanted.frames, cut)


def _jpeg(image: np.ndarray, width: int) -> bytes:
    ok, data = cv2.imencode(".jpg", no_wider_than(image, width), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise GatewatchError("could not encode a frame for the event clip")
    return data.tobytes()


def encode_mp4(clip: Clip, stamp: Callable[[np.ndarray, datetime], None] | None = None) -> bytes:
    """H.264 (yuv420p, the profile every browser plays) in MP4 with its index first, so the event
    page starts playing before the whole file has arrived. `stamp(image, time)` draws on each
    frame first (the camera and the time, `snapshots.clip_stamp`)."""
    images = [cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) for _, data in clip.frames]
    return _encoded([ts for ts, _ in clip.frames], images, stamp)


def encode_file(
    path: Path, start_s: float, end_s: float, origin: datetime, width: int,
    stamp: Callable[[np.ndarray, datetime], None] | None = None,
) -> bytes | None:  # fmt: skip
    """A recorded file's seconds from `start_s` to `end_s` decoded from the file itself (every
    frame, not only the analysed ones) and encoded as `encode_mp4` does: for a codec a browser
    does not play as it is (MPEG-4 Part 2, MJPEG), at the cost of one clip's decoding per event
    instead of a JPEG per analysed frame. `origin`: the recording's start, the frames' clock.
    None if the file holds no frame there."""
    times: list[datetime] = []
    images: list[np.ndarray] = []
    with av.open(str(path)) as source:
        stream = source.streams.video[0]
        stream.thread_type = "AUTO"
        base = stream.start_time or 0
        source.seek(base + int(max(0.0, start_s) / stream.time_base), stream=stream, backward=True, any_frame=False)
        for frame in source.decode(stream):
            if frame.pts is None:
                continue
            at = float((frame.pts - base) * stream.time_base)
            if at > end_s:
                break
            if at >= start_s:
                times.append(origin + timedelta(seconds=at))
                images.append(no_wider_than(frame.to_ndarray(format="bgr24"), width))
    return _encoded(times, images, stamp) if images else None


def _encoded(
    times: list[datetime], images: list[np.ndarray], stamp: Callable[[np.ndarray, datetime], None] | None
) -> bytes:
    if stamp is not None:
        for ts, image in zip(times, images, strict=True):
            stamp(image, ts)
    height, width = (v - v % 2 for v in images[0].shape[:2])  # 4:2:0 needs even sides
    # The muxer moves the index to the front in a second pass over a real file, not a buffer.
    with tempfile.TemporaryDirectory(prefix="gatewatch-clip-") as folder:
        scratch = Path(folder) / "clip.mp4"
        _encode(scratch, times, images, (width, height))
        return scratch.read_bytes()


def _encode(path: Path, times: list[datetime], images: list[np.ndarray], size: tuple[int, int]) -> None:
    width, height = size
    first = times[0]
    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as output:
        stream = output.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.time_base = MILLISECONDS
        stream.options = {"crf": str(CRF), "preset": "veryfast"}
        last_pts = -1
        for ts, image in zip(times, images, strict=True):
            video_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image[:height, :width]), format="bgr24")
            pts = max(last_pts + 1, round(seconds_between(ts, first) * 1000))  # strictly increasing
            video_frame.pts, video_frame.time_base, last_pts = pts, MILLISECONDS, pts
            output.mux(stream.encode(video_frame))
        output.mux(stream.encode(None))


def write_clip(path: Path, clip: Clip, stamp: Callable[[np.ndarray, datetime], None] | None = None) -> None:
    """The camera's own packets where there are some, else the analysed frames encoded (`stamp`
    draws the camera and the time on each of those)."""
    data = None
    if clip.cut is not None:
        try:
            data = mux_copy(clip.cut)
        except (av.error.FFmpegError, ValueError) as exc:
            log.warning("%s: the camera's packets could not be copied (%s); encoding the analysed frames", path, exc)
    if data is None:
        try:
            data = encode_mp4(clip, stamp)
        except (av.error.FFmpegError, ValueError, IndexError) as exc:
            raise GatewatchError(f"{path}: could not encode the event clip ({exc})") from None
    atomic_write(path, data)
