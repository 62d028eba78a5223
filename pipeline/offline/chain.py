"""A chain of one camera's files analysed as one recording, each file's results handed on as soon as they are final.

    Recording... -> VideoFile -> CameraPipeline (times run on across files) -> RuleEngine -> FileResult...

This runs wherever the frames are decoded: in the `analyze` process, in a worker process of a
batch, or in a Ray task on another machine. It touches neither the database nor the snapshot
folder: a result carries its evidence as bytes, and `results.ResultWriter` (in the one process
that writes) stores it, so all three give the same results.

Frames get chain-wide indexes and times, so the tracker follows a person from the last seconds
of one file into the next, and a crossing is stored with the file (and frame in it) where it
happened. A file's result is final once the chain has run `keep_s` past its end with nothing
pending in it and its clips complete; that is when it is handed on, so a batch stopped
mid-chain keeps every file handed on before.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import cast

import av

from pipeline.camera import CameraPipeline
from pipeline.clips import Clip, ClipCollector, encode_file
from pipeline.config import Config
from pipeline.detectors import Detector
from pipeline.errors import GatewatchError
from pipeline.lighting import LightingTally
from pipeline.offline.footage import Chain, Recording
from pipeline.packets import cut_file
from pipeline.records import Crossing, Decision, Frame, seconds_between
from pipeline.registrations import RegistrationBook, RegistrationLeft
from pipeline.rules import RuleEngine
from pipeline.snapshots import EvidenceFiles, clip_stamp, render_evidence
from pipeline.sources import SkimmingVideoFile, VideoFile

log = logging.getLogger("gatewatch.analyze")

# Seconds of the file before played through the tracker when a batch resumes mid-chain: more
# than a crossing takes to confirm, so whoever is at the line as that file ends is tracked.
LEAD_IN_S = 10.0


@dataclass(frozen=True)
class FileResult:
    """Everything one file gave, or why it gave nothing (`error`: it could not be read to the end)."""

    recording: Recording
    fps: float = 0.0
    analysed_fps: float = 0.0
    frames_decoded: int = 0
    frames_missing: int = 0  # promised by the file's index but not decodable (a small truncation)
    frames_analysed: int = 0
    frames_detected: int = 0  # analysed frames the detector ran on
    elapsed_s: float = 0.0
    outcomes: tuple[tuple[Decision, EvidenceFiles | None], ...] = ()
    lighting: LightingTally = field(default_factory=LightingTally)
    error: str | None = None

    @property
    def duration_s(self) -> float:
        return self.frames_decoded / self.fps if self.fps else 0.0


@dataclass(frozen=True)
class Progress:
    """Where a chain is: `done_s` of the file's video analysed so far."""

    recording: Recording
    frames: int
    frame_count: int
    done_s: float
    crossings: int


@dataclass
class _File:
    """A file whose results may still change (a crossing in its last seconds is confirmed later)."""

    serial: int
    recording: Recording
    source: VideoFile
    offset: int  # chain index of its first frame
    started: float = field(default_factory=time.perf_counter)
    end: int | None = None  # chain index after its last frame, once decoded
    end_pts: float = 0.0
    analysed: int = 0
    detected: int = 0
    clips_waiting: int = 0
    elapsed_s: float = 0.0
    lighting: LightingTally = field(default_factory=LightingTally)
    outcomes: list[tuple[Decision, EvidenceFiles | None]] = field(default_factory=list)
    error: str | None = None
    lead_in: bool = False

    def result(self) -> FileResult:
        if self.error is not None:
            return FileResult(self.recording, error=self.error)
        source = self.source
        return FileResult(
            self.recording,
            source.fps,
            source.analysed_fps,
            source.decoded,
            source.missing,
            self.analysed,
            self.detected,
            self.elapsed_s,
            tuple(self.outcomes),
            self.lighting,
        )


def analyse_chain(
    config: Config,
    chain: Chain,
    registrations: list[RegistrationLeft],
    detector: Detector,
    night: Detector | None = None,
) -> Iterator[FileResult | Progress]:
    """Each file's result once final, in the chain's order, with progress in between.
    `registrations`: the stored ones that may excuse these files' entries, with the entries each
    still covers (the caller reads them from the database). `night`: the camera's night model."""
    yield from _ChainRun(config, chain.camera, registrations, detector, night).run(chain)


class _ChainRun:
    def __init__(
        self,
        config: Config,
        camera: str,
        registrations: list[RegistrationLeft],
        detector: Detector,
        night: Detector | None,
    ) -> None:
        self.config = config
        self.camera = camera
        self.camera_config = config.cameras[camera]
        self.rules = RuleEngine(config, RegistrationBook(registrations, config.groups))
        self.detector = detector
        self.night = night
        self.pipeline: CameraPipeline | None = None
        self.size: tuple[int, int] | None = None
        self.clips: ClipCollector | None = None
        self.origin: datetime | None = None  # time zero of the continuous stretch
        self.last_pts = -1.0
        self.next_offset = 0
        self.open: list[_File] = []
        self.serials = 0

    def run(self, chain: Chain) -> Iterator[FileResult | Progress]:
        if chain.lead_in is not None:
            yield from self._file(chain.lead_in, lead_in=True)
        for recording in chain.recordings:
            yield from self._file(recording)
        yield from self._flush()

    def _file(self, recording: Recording, lead_in: bool = False) -> Iterator[FileResult | Progress]:
        """`lead_in`: a file analysed before, whose last seconds only warm the tracker up; what
        it gives is stored already and is dropped."""
        reader = SkimmingVideoFile if self.config.sampling.skim_idle and not lead_in else VideoFile
        try:
            source = reader(recording.path, self.config.sampling.fps, recording.start)
            outside = self.camera_config.outside((source.width, source.height))
            if outside:
                raise GatewatchError(
                    f"cameras.{self.camera}.{outside[0]}.points: {outside[1]} of {recording.path.name}"
                )
        except GatewatchError as exc:
            if lead_in:
                return  # gone or changed since: the chain starts without it
            yield from self._flush()
            yield FileResult(recording, error=str(exc))
            return
        if self.pipeline is None or self.size != (source.width, source.height):
            yield from self._flush()  # a new picture size is a new camera setup: start afresh
            self._start(source, recording)
        pipeline = self.pipeline
        assert pipeline is not None
        self.serials += 1
        file = _File(self.serials, recording, source, self.next_offset, lead_in=lead_in)
        pipeline.lighting = file.lighting
        self.open.append(file)
        first = max(0, source.frame_count - round(LEAD_IN_S * source.fps)) if lead_in else 0
        try:
            for frame in source.frames(first) if first else source.frames():
                if frame.skimmed:
                    assert isinstance(source, SkimmingVideoFile)
                    if pipeline.gate.changed(frame.image):
                        source.rewind()
                    continue
                # Chain-wide index and time; a file that starts a moment before the last one ended
                # (clocks of NVRs overlap files by a frame or two) does not turn time back.
                pts = max(seconds_between(frame.ts, self.origin or frame.ts), self.last_pts + 1e-3)
                chained = replace(frame, index=file.offset + frame.index, pts=pts)
                self.last_pts = pts
                if self.clips is not None:
                    self._attach(self.clips.offer(chained))
                step = pipeline.step(chained)
                file.detected += step.detected
                if isinstance(source, SkimmingVideoFile):
                    source.idle = not step.detected and not step.pending
                self._handle(step.crossings)
                file.analysed += 1
                if not lead_in:
                    yield Progress(
                        recording,
                        frame.index + 1,
                        source.frame_count,
                        (frame.index + 1) / source.fps,
                        len(file.outcomes),
                    )
                yield from self._settled(pts)
        except GatewatchError as exc:
            file.error = str(exc)  # what it gave is dropped; the files before it stand
            yield from self._flush()
            return
        file.end = file.offset + source.decoded
        file.end_pts = self.last_pts
        file.elapsed_s = time.perf_counter() - file.started
        self.next_offset = file.end

    def _start(self, source: VideoFile, recording: Recording) -> None:
        self.pipeline = CameraPipeline(
            self.config,
            self.camera,
            (source.width, source.height),
            source.analysed_fps,
            self.detector.detect,
            self.night.detect if self.night else None,
        )
        self.size = (source.width, source.height)
        self.clips = None
        if self.config.clips.enabled:  # a file's clips come from the file: no frames kept for them
            self.clips = ClipCollector(self.config.clips, self.pipeline.keep_s, frames=False)
        self.origin = recording.start
        self.last_pts = -1.0
        self.next_offset = 0

    def _handle(self, crossings: list[tuple[Crossing, Frame]]) -> None:
        for crossing, frame in crossings:
            file = self._file_of(crossing.frame)
            if file is None or file.error is not None or file.lead_in:
                continue
            local = replace(crossing, frame=crossing.frame - file.offset)  # stored by the frame in its own file
            decision = self.rules.decide(local)
            evidence = None
            if decision.flagged:
                shape = self.camera_config.shape(crossing.line)
                shown = self.config.places.camera(crossing.camera)
                stem = file.recording.path.stem
                evidence = render_evidence(frame, decision, shape, stem, self.config.language, shown)
                if self.clips is not None:
                    self.clips.want((file.serial, len(file.outcomes)), crossing.ts)
                    file.clips_waiting += 1
            file.outcomes.append((decision, evidence))

    def _attach(self, clips: list[Clip]) -> None:
        for clip in clips:
            serial, position = cast(tuple[int, int], clip.key)
            file = next((f for f in self.open if f.serial == serial), None)
            if file is None:
                continue
            decision, evidence = file.outcomes[position]
            if evidence is not None:
                data = self._clip_of(file.recording, decision.crossing)
                if data is None:
                    log.warning("%s: no clip for %s (nothing to cut there)", file.recording.path, evidence.name)
                file.outcomes[position] = (decision, replace(evidence, clip=data))
            file.clips_waiting -= 1

    def _clip_of(self, recording: Recording, crossing: Crossing) -> bytes | None:
        """The clip from the recording itself, within this file: its own packets (as the camera
        recorded it: its full rate, nothing encoded), else its frames decoded again and encoded."""
        at = seconds_between(crossing.ts, recording.start)
        start, end = at - self.config.clips.before_s, at + self.config.clips.after_s
        try:
            data = cut_file(recording.path, start, end)
        except (av.error.FFmpegError, OSError, ValueError) as exc:
            log.warning("%s: its packets could not be copied into the clip (%s); encoding it", recording.path, exc)
            data = None
        if data is not None:
            return data
        stamp = clip_stamp(self.config.places.camera(crossing.camera))
        try:
            return encode_file(recording.path, start, end, recording.start, self.config.clips.width, stamp)
        except (av.error.FFmpegError, OSError, ValueError) as exc:
            raise GatewatchError(f"{recording.path}: could not encode the clip around {crossing.ts} ({exc})") from None

    def _file_of(self, index: int) -> _File | None:
        return next((f for f in self.open if f.offset <= index and (f.end is None or index < f.end)), None)

    def _settled(self, now_pts: float) -> Iterator[FileResult]:
        """Hand on the files nothing can change any more, oldest first."""
        assert self.pipeline is not None
        while self.open and self.open[0].end is not None:
            first = self.open[0]
            assert first.end is not None
            pending = self.pipeline.counter.pending_frames()
            if (
                now_pts - first.end_pts <= self.pipeline.keep_s
                or any(i < first.end for i in pending)
                or first.clips_waiting > 0
            ):
                return
            settled = self.open.pop(0)
            if not settled.lead_in:
                yield settled.result()

    def _flush(self) -> Iterator[FileResult]:
        """The stretch ends (last file, a gap, a bad file): what is pending counts, every open file is final."""
        if self.pipeline is not None:
            self._handle(self.pipeline.finish())
            if self.clips is not None:
                self._attach(self.clips.finish())
        for file in self.open:
            if file.lead_in:
                continue
            if file.end is not None and not file.elapsed_s:
                file.elapsed_s = time.perf_counter() - file.started
            yield file.result()
        self.open = []
        self.pipeline = None
        self.clips = None
