"""A live camera: one thread that keeps a stream open and hands over the newest sampled frames.

Cameras drop off the network, NVRs reboot, Wi-Fi bridges stall without closing the connection.
The reader reconnects with exponential backoff, treats "no frame for `stall_timeout_s`" as a
dead stream, and keeps only the newest `queue_frames` sampled frames: when analysis falls
behind, the oldest frames are dropped, because an alert about a crossing minutes ago is useless
at the gate. Decoding uses FFmpeg through PyAV, whose errors say what went wrong (refused,
401, 404, timeout) so the camera page can tell a guard more than "down". An H.264/H.265 camera
whose scene is idle is decoded a keyframe at a time (`skimming`).
"""

from __future__ import annotations

import logging
import math
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import av
import av.error
import numpy as np

from pipeline.config import CameraConfig, LiveConfig
from pipeline.live.skimming import Arrival, Decoded, Skimmer
from pipeline.packets import COPYABLE, PacketRing
from pipeline.records import Frame
from pipeline.redact import redact, scrub
from pipeline.vocabulary import CameraState, MessageCode
from pipeline.wording import Message, number

log = logging.getLogger("gatewatch.stream")

RATE_WINDOW_S = 2.0  # frames per second are measured over this long
PROBE_EVERY_S = 1.0  # how often a camera off the network is knocked on while waiting to retry
ANSWERING_RETRY_S = 1.0  # a port that answers but whose stream fails (not its credentials): retried this often
VIEWED_S = 3.0  # a camera whose live view was asked for this recently is decoded in full


@dataclass
class StreamHealth:
    """What the camera page and MQTT show; written by the reader thread, read by anyone."""

    state: CameraState = CameraState.STARTING
    since: datetime = field(default_factory=lambda: datetime.now(UTC))
    detail: str = ""  # why it is down, in words a guard can act on (English)
    messages: tuple[Message, ...] = ()  # the same, to be worded in the reader's language
    last_frame_at: datetime | None = None
    frames_in: int = 0  # received from the camera
    frames_sampled: int = 0  # handed to analysis
    frames_dropped: int = 0  # sampled but overtaken by newer ones before analysis took them
    frames_dropped_moving: int = 0  # ...of them while someone was moving in the watched area
    frames_skimmed: int = 0  # keyframes decoded while the scene was idle, for a motion check only
    skimming: bool = False  # decoding keyframes only (idle): the inter frames are kept, not decoded
    reconnects: int = 0
    fps_in: float = 0.0
    width: int = 0
    height: int = 0


def describe_error(exc: BaseException, source: str, stall_s: float, silent_s: float = 0.0) -> Message:
    """FFmpeg's complaint as a status line, never containing the URL's password. `silent_s`: how
    long the attempt went without a byte of video; FFmpeg's RTSP client reports a camera that
    accepts the connection and then says nothing as "Invalid data", which sends a guard the
    wrong way."""
    if isinstance(exc, av.error.HTTPUnauthorizedError):
        return Message(MessageCode.AUTH_FAILED)
    if isinstance(exc, av.error.HTTPForbiddenError):
        return Message(MessageCode.FORBIDDEN)
    if isinstance(exc, av.error.HTTPNotFoundError):
        return Message(MessageCode.NOT_FOUND)
    if isinstance(exc, av.error.ExitError) or (
        isinstance(exc, av.error.InvalidDataError | TimeoutError) and silent_s >= stall_s * 0.9
    ):
        return Message(MessageCode.NO_DATA, {"seconds": number(stall_s)})
    if isinstance(exc, ConnectionRefusedError):
        return Message(MessageCode.REFUSED)
    if isinstance(exc, StreamError):
        return exc.message
    host = urlsplit(source).hostname
    if host and "://" in source and not _resolves(host):  # FFmpeg says only "Input/output error"
        return Message(MessageCode.UNKNOWN_HOST, {"host": host})
    if host and isinstance(exc, av.error.InvalidDataError):  # it answered at once, in another protocol
        return Message(MessageCode.NOT_RTSP, {"host": host})
    text = getattr(exc, "strerror", None) or type(exc).__name__
    return Message(MessageCode.ERROR, {"text": scrub(str(text), source)})


def _resolves(host: str) -> bool:
    try:
        socket.getaddrinfo(host, None)
    except (OSError, UnicodeError):
        return False
    return True


def _answers(address: tuple[str, int], timeout: float = PROBE_EVERY_S) -> bool:
    try:
        with socket.create_connection(address, timeout=timeout):
            return True
    except OSError:
        return False


class RateMeter:
    """Events per second over the last few seconds (frames in, frames analysed)."""

    def __init__(self) -> None:
        self.per_s = 0.0
        self._start = time.monotonic()
        self._count = 0

    def tick(self, now: float) -> None:
        self._count += 1
        if now - self._start >= RATE_WINDOW_S:
            self.per_s = self._count / (now - self._start)
            self._start, self._count = now, 0


class StreamError(Exception):
    def __init__(self, message: Message) -> None:
        super().__init__(message.text())
        self.message = message

    """A stream that opened but is no use (stalled, no video in it); the message says which."""


class LiveStream:
    def __init__(
        self,
        camera: str,
        config: CameraConfig,
        live: LiveConfig,
        fps: float,
        tz: ZoneInfo,
        resolve: Callable[[str], Path],
        on_state: Callable[[str, StreamHealth], None] | None = None,
    ) -> None:
        self.camera = camera
        self.source = config.source
        self.loop = config.loop
        self.live = live
        self.interval = 1.0 / fps
        self.tz = tz
        self.resolve = resolve
        self.on_state = on_state
        self.health = StreamHealth()
        self._queue: deque[Frame] = deque()
        self._room = 0  # frames decoded again on waking may wait beyond `queue_frames`, this many
        self._ready = threading.Condition()
        self._stop = threading.Event()
        self._clock0 = time.monotonic()
        self._index = 0
        self._last_frame = 0.0  # monotonic time of the newest decoded frame
        # What the analysis says (CameraWorker): the newest frame index it found idle (-1: busy),
        # counted only from the frame after the last wake; and a skimmed keyframe that changed.
        self._idle_at = -1
        self._moving = False
        self._woke_at = 0
        self._wake_key: float | None = None
        self._viewed = -math.inf  # when the live view last asked for this camera's picture
        self._rate = RateMeter()  # frames in, per connection
        self.packets: PacketRing | None = None  # set by whoever cuts clips from the camera's own packets
        self._thread = threading.Thread(target=self._run, name=f"stream-{camera}", daemon=True)

    @property
    def label(self) -> str:
        return redact(self.source)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        with self._ready:
            self._ready.notify_all()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def frames(self) -> Iterator[Frame]:
        """Sampled frames, newest kept; ends after `stop()` once the queue is empty, or when a
        non-looping file has been played. Skimmed keyframes come with `skimmed`: the consumer
        tells `analysed()` after each analysed frame and `changed()` for a skimmed one that moved."""
        while True:
            with self._ready:
                while not self._queue and not self._finished():
                    self._ready.wait(0.5)
                if not self._queue:
                    return
                frame = self._queue.popleft()
                if len(self._queue) <= self.live.queue_frames:
                    self._room = 0  # caught up with what waking decoded again
            yield frame

    def analysed(self, frame: Frame, idle: bool, moving: bool) -> None:
        """What the analysis of `frame` found: nothing going on (`idle`: skimming may begin), or
        someone `moving` in the watched area (frames dropped meanwhile are counted apart)."""
        self._idle_at = frame.index if idle else -1
        self._moving = moving

    def changed(self, frame: Frame) -> None:
        """A skimmed keyframe differs from what the detector last saw: decode everything again."""
        self._wake_key = frame.pts + self._clock0

    def viewed(self) -> None:
        """A guard is watching the live view: decode every frame while they do."""
        self._viewed = time.monotonic()

    def _finished(self) -> bool:
        return self._stop.is_set() or self.health.state == CameraState.ENDED

    # -- reader thread ---------------------------------------------------------------------------

    def _run(self) -> None:
        delay = self.live.reconnect_min_s
        while not self._stop.is_set():
            if self.health.state != CameraState.LIVE or not self._is_file():  # a looped file goes on without a gap
                seconds = number(self.live.open_timeout_s)
                waiting = () if self._is_file() else (Message(MessageCode.WAITING, {"seconds": seconds}),)
                self._set_state(CameraState.CONNECTING, *waiting)
            frames_before = self.health.frames_in
            attempt = time.monotonic()
            try:
                self._play()
                if self._stop.is_set():
                    break
                if self.health.frames_in == frames_before:
                    raise StreamError(Message(MessageCode.NO_FRAME))
                if self._is_file() and not self.loop:
                    self._set_state(CameraState.ENDED, Message(MessageCode.FILE_ENDED))
                    break
                if self._is_file():
                    continue  # looped file: start again at once
                problem = Message(MessageCode.ENDED_STREAM)
            except (av.error.FFmpegError, OSError, StreamError) as exc:
                silent = time.monotonic() - max(attempt, self._last_frame)
                problem = describe_error(exc, self.source, self.live.stall_timeout_s, silent)
            except Exception as exc:  # a camera must never stop being retried because of one odd stream
                problem = Message(
                    MessageCode.ERROR, {"text": f"unexpected ({type(exc).__name__}: {scrub(str(exc), self.source)})"}
                )
            if self._stop.is_set():
                break
            if self.health.frames_in > frames_before:
                delay = self.live.reconnect_min_s  # it worked for a while: start the backoff afresh
            self.health.reconnects += 1
            address = self._address()  # None: a file or a device, waited for with the plain backoff
            answering = address is not None and _answers(address)
            wait = delay
            if answering and problem.code not in (MessageCode.AUTH_FAILED, MessageCode.FORBIDDEN):
                # Not the credentials, so no camera lock-out to fear: an NVR rebooting answers 404 or
                # nonsense for a while, then streams. Try again soon, not after a grown backoff.
                wait = min(delay, ANSWERING_RETRY_S)
            self._set_state(CameraState.DOWN, problem, Message(MessageCode.RETRYING, {"delay": number(wait)}))
            self._wait_for_camera(wait, None if answering else address)
            delay = min(delay * 2, self.live.reconnect_max_s)
        if self.health.state != CameraState.ENDED:
            self._set_state(CameraState.STOPPED)
        with self._ready:
            self._ready.notify_all()

    def _wait_for_camera(self, delay: float, silent: tuple[str, int] | None) -> None:
        """Wait `delay` before the next attempt, but for a camera that is off the network (its
        address, `silent`, refuses or does not answer) knock once a second with a bare TCP
        connect, which costs it nothing, and retry as soon as it answers: frames flow again within
        seconds of a camera coming back, not after the backoff's 30 s."""
        deadline = time.monotonic() + delay
        if silent is None:
            self._stop.wait(delay)
            return
        while not self._stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            started = time.monotonic()
            if _answers(silent, timeout=min(PROBE_EVERY_S, left)):
                return
            self._stop.wait(max(0.0, min(PROBE_EVERY_S - (time.monotonic() - started), deadline - time.monotonic())))

    def _address(self) -> tuple[str, int] | None:
        """Host and port of a network camera, for the probe."""
        url = urlsplit(self.source)
        default = {"rtsp": 554, "rtsps": 322, "http": 80, "https": 443}.get(url.scheme)
        try:
            port = url.port or default
        except ValueError:
            return None
        return (url.hostname, port) if url.hostname and port else None

    def _is_file(self) -> bool:
        return "://" not in self.source and not self._device()

    def _device(self) -> str | None:
        if self.source.startswith("webcam:"):
            return f"/dev/video{self.source.removeprefix('webcam:')}"
        return self.source if self.source.startswith("/dev/video") else None

    def _open(self) -> av.container.InputContainer:
        timeouts = (self.live.open_timeout_s, self.live.stall_timeout_s)
        device = self._device()
        if device is not None:
            return av.open(device, format="v4l2", timeout=timeouts)
        if self._is_file():
            return av.open(str(self.resolve(self.source)))
        options = {"rtsp_transport": self.live.rtsp_transport} if self.source.startswith("rtsp") else {}
        return av.open(self.source, options=options, timeout=timeouts)

    def _play(self) -> None:
        with self._open() as container:
            if not container.streams.video:
                raise StreamError(Message(MessageCode.NO_VIDEO))
            stream = container.streams.video[0]
            # A camera's frames are decoded by slices, not several frames at once: frame threads
            # hand each frame out a few frames late (0.2 s of alert latency at 10 fps, measured), and
            # a box with many cameras has their decoding in parallel anyway.
            stream.thread_type = "AUTO" if self._is_file() else "SLICE"
            packets = self.packets if not self._is_file() else None  # a file's clip is encoded, as offline
            if packets is not None:
                packets.restart(stream)
            # A network camera's packets are read one by one: each frame is timed by its own packet's
            # arrival (a decoder hands it out a few packets later), and an idle H.264/H.265 one skims.
            skimmer = Skimmer(stream.codec_context) if not self._is_file() else None
            skim = self.live.skim_idle and skimmer is not None and stream.codec_context.name in COPYABLE
            pace = self._is_file()  # a file decodes faster than real time; a camera sends at its own pace
            started = time.monotonic()
            first_pts: float | None = None
            last_kept = {"stream": -math.inf, "arrival": -math.inf}
            self._last_frame = time.monotonic()
            self._rate = RateMeter()
            for decoded in self._decoded(container, stream, packets, skimmer, skim):
                if self._stop.is_set():
                    return
                picture = decoded.frame
                if pace and picture.time is not None:
                    first_pts = picture.time if first_pts is None else first_pts
                    ahead = (picture.time - first_pts) - (time.monotonic() - started)
                    if ahead > 0 and self._stop.wait(ahead):
                        return
                    decoded = Decoded(picture, _now(self.tz))
                health = self.health
                if health.state != CameraState.LIVE:
                    health.width, health.height = picture.width, picture.height
                    self._set_state(CameraState.LIVE)
                if skimmer is None:
                    self._arrived()  # (a camera's packets are counted as they come)
                health.skimming = skimmer is not None and skimmer.skimming
                if decoded.skimmed:
                    health.frames_skimmed += 1
                    self._push(picture.to_ndarray(format="bgr24"), decoded)
                    continue
                # Sample on the stream's own clock where frames carry times, so frames that arrive in
                # a burst (a busy CPU, a network hiccup) are still picked evenly through the footage;
                # frames without one (some streams' first frame, some MJPEG) go by arrival.
                now = decoded.arrival.mono
                clock, which = (picture.time, "stream") if picture.time is not None else (now, "arrival")
                if 0 <= clock - last_kept[which] < self.interval * 0.95:  # a clock that went back restarts
                    continue
                last_kept[which] = clock
                self._push(picture.to_ndarray(format="bgr24"), decoded)

    def _decoded(
        self,
        container: av.container.InputContainer,
        stream: av.VideoStream,
        packets: PacketRing | None,
        skimmer: Skimmer | None,
        skim: bool,
    ) -> Iterator[Decoded]:
        """The stream's frames; each packet kept first where clips are cut from them, and fed
        to the skimmer, which decodes what the scene needs (everything unless `skim`)."""
        if skimmer is None:
            for frame in container.decode(stream):
                yield Decoded(frame, _now(self.tz))
            return
        for packet in container.demux(stream):
            arrival = _now(self.tz)
            if packets is not None:
                packets.add(packet, arrival.at)
            if packet.size == 0:
                continue  # the end: what the decoder still holds is seconds old
            self._arrived()
            wake = None
            if self._wake_key is not None:
                wake, self._wake_key = skimmer.interval_before(self._wake_key), None
            elif arrival.mono - self._viewed < VIEWED_S:
                wake = arrival.mono
            idle = skim and self._idle_at >= self._woke_at and arrival.mono - self._viewed >= VIEWED_S
            was_skimming = skimmer.skimming
            for decoded in skimmer.feed(packet, arrival, idle, wake if was_skimming else None):
                if was_skimming and not skimmer.skimming:
                    self._awake()
                    was_skimming = False
                yield decoded
            if was_skimming and not skimmer.skimming:
                self._awake()

    def _arrived(self) -> None:
        """A frame came in (decoded, or kept while skimming): the stream is alive."""
        now = time.monotonic()
        if now - self._last_frame > self.live.stall_timeout_s:
            raise StreamError(Message(MessageCode.STALLED, {"seconds": f"{now - self._last_frame:.0f}"}))
        self._last_frame = now
        self.health.frames_in += 1
        self.health.last_frame_at = datetime.now(UTC)
        self._rate.tick(now)
        self.health.fps_in = self._rate.per_s

    def _awake(self) -> None:
        """Decoding everything again: what the analysis said about frames before now is stale."""
        self._woke_at = self._index
        self._idle_at = -1

    def _push(self, image: np.ndarray, decoded: Decoded) -> None:
        arrival = decoded.arrival
        frame = Frame(self._index, arrival.mono - self._clock0, arrival.at, image, skimmed=decoded.skimmed)
        self._index += 1
        with self._ready:
            if decoded.replayed:
                self._room += 1
            while len(self._queue) >= self.live.queue_frames + self._room:
                dropped = self._queue.popleft()
                if not dropped.skimmed:
                    self.health.frames_dropped += 1
                    self.health.frames_dropped_moving += self._moving
            self._queue.append(frame)
            if not decoded.skimmed:
                self.health.frames_sampled += 1
            self._ready.notify()

    def _set_state(self, state: CameraState, *messages: Message) -> None:
        changed = state != self.health.state
        detail = "; ".join(m.text() for m in messages)
        self.health.state, self.health.detail, self.health.messages = state, detail, messages
        if changed:
            self.health.since = datetime.now(UTC)
            if state == CameraState.DOWN:
                log.warning("camera %s (%s) down: %s", self.camera, self.label, detail)
            else:
                log.info("camera %s (%s): %s%s", self.camera, self.label, state, f" ({detail})" if detail else "")
        if self.on_state is not None and (changed or state == CameraState.DOWN):
            self.on_state(self.camera, self.health)


def _now(tz: ZoneInfo) -> Arrival:
    return Arrival(time.monotonic(), datetime.now(tz))
