"""The offline run: one video of one camera through every stage, into the store.

    VideoFile -> CameraPipeline (motion gate, detector, tracker, crossings) -> RuleEngine -> SnapshotWriter + Store

`serve` wires the same stages to live streams (see `live/`). Results commit once, at the end, in one
transaction; if anything fails (a corrupt tail, a full disk, Ctrl-C) the snapshots this run
wrote are removed and the database is left as it was.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import cast

from pipeline.camera import CameraPipeline
from pipeline.clips import Clip, ClipCollector
from pipeline.clock import recording_start
from pipeline.config import Config
from pipeline.db import Store, VideoRun
from pipeline.detectors import Detector, load_detector
from pipeline.errors import GatewatchError
from pipeline.files import atomic_write, ensure_writable_dir
from pipeline.lighting import LightingTally
from pipeline.records import Crossing, Decision, Frame, Outcome
from pipeline.registrations import Registration, RegistrationBook, read_registrations_csv
from pipeline.rules import RuleEngine
from pipeline.snapshots import SnapshotWriter
from pipeline.sources import SkimmingVideoFile, VideoFile

ProgressCallback = Callable[[int, int, int], None]  # (frames decoded, frames in file, crossings so far)


@dataclass(frozen=True)
class FlaggedEvent:
    event_id: int
    kind: str
    line: str
    ts: datetime
    track_id: int
    snapshot: Path
    crop: Path


@dataclass
class Summary:
    camera: str
    video: Path
    start: datetime
    start_source: str
    fps: float
    analysed_fps: float
    frames_decoded: int = 0
    frames_missing: int = 0  # promised by the file's index but not decodable (a small truncation)
    frames_analysed: int = 0
    frames_detected: int = 0  # analysed frames the detector ran on (the rest: no motion, nobody tracked)
    elapsed_s: float = 0.0
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    decisions: list[Decision] = field(default_factory=list)
    flagged: list[FlaggedEvent] = field(default_factory=list)
    lighting: LightingTally = field(default_factory=LightingTally)

    @property
    def duration_s(self) -> float:
        return self.frames_decoded / self.fps if self.fps else 0.0

    @property
    def speed(self) -> float:
        """Multiple of real time (video seconds per wall-clock second)."""
        return self.duration_s / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def covered(self) -> int:
        return sum(1 for d in self.decisions if d.registration_id)


def analyze(
    config: Config,
    video: Path,
    *,
    camera: str | None = None,
    start: str | None = None,
    db_path: Path,
    snapshot_dir: Path,
    jsonl_path: Path | None = None,
    analysed_at: datetime,
    progress: ProgressCallback | None = None,
    detector: Detector | None = None,
) -> Summary:
    """Analyse one recording. `detector` replaces the configured one (a benchmark's candidate model,
    a test's scripted detector); it is loaded from `config.detector` otherwise."""
    camera_id = config.camera_for(camera)
    camera_config = config.cameras[camera_id]
    started, start_source = recording_start(video, start, config.tz)
    config_csv = ConfigRegistrations.read(config, db_path)
    reader = SkimmingVideoFile if config.sampling.skim_idle else VideoFile
    source = reader(video, config.sampling.fps, started)
    outside = camera_config.outside((source.width, source.height))
    if outside:
        raise GatewatchError(f"cameras.{camera_id}.{outside[0]}.points: {outside[1]} of {video.name}")
    detector = detector or load_detector(config.detector, config.resolve)
    if jsonl_path is not None:
        ensure_writable_dir(jsonl_path.parent)
    store = Store(db_path)
    snapshots: SnapshotWriter | None = None
    try:
        store.set_meta({"timezone": config.timezone, "site": config.site.name})
        if config_csv is not None:
            config_csv.sync(store, analysed_at)
        snapshots = SnapshotWriter(snapshot_dir, config.language)
        video_key = str(video.resolve())
        snapshots.sweep(camera_id, video.stem, store.events.evidence_of(camera_id))
        stored = store.registrations.valid(overlapping=_registration_span(config, source), rerun=(camera_id, video_key))
        book = RegistrationBook(stored, config.groups)
    except BaseException:
        if snapshots is not None:
            snapshots.close()
        store.close()
        raise

    pipeline = CameraPipeline(config, camera_id, (source.width, source.height), source.analysed_fps, detector.detect)
    rules = RuleEngine(config, book)
    summary = Summary(camera_id, video, started, start_source, source.fps, source.analysed_fps)
    outcomes: list[Outcome] = []  # one per decision, in order
    clips = ClipCollector(config.clips, pipeline.keep_s) if config.clips.enabled else None

    def handle(crossings_now: list[tuple[Crossing, Frame]]) -> None:
        for crossing, frame in crossings_now:
            decision = rules.decide(crossing)
            summary.decisions.append(decision)
            summary.counts[(crossing.line, crossing.direction)] += 1
            evidence = None
            if decision.flagged:
                evidence = snapshots.write(frame, decision, camera_config.shape(crossing.line), video.stem)
                if clips is not None:
                    clips.want(len(outcomes), crossing.ts)
            outcomes.append(Outcome(decision, evidence))

    def save_clips(ready: list[Clip]) -> None:
        """Each clip is on disk before the run commits, like the snapshots (and undone with them)."""
        for clip in ready:
            position = cast(int, clip.key)
            outcome = outcomes[position]
            assert outcome.evidence is not None
            path = snapshots.write_clip(outcome.evidence, clip)
            outcomes[position] = replace(outcome, evidence=replace(outcome.evidence, clip=path))

    clock_start = time.perf_counter()
    try:
        for frame in source.frames():
            if frame.skimmed:
                assert isinstance(source, SkimmingVideoFile)
                if pipeline.gate.changed(frame.image):
                    source.rewind()
                continue
            if clips is not None:
                save_clips(clips.offer(frame))
            step = pipeline.step(frame)
            summary.frames_detected += step.detected
            if isinstance(source, SkimmingVideoFile):
                source.idle = not step.detected and not step.pending
            handle(step.crossings)
            summary.frames_analysed += 1
            if progress:
                progress(frame.index + 1, source.frame_count, len(summary.decisions))
        handle(pipeline.finish())
        if clips is not None:
            save_clips(clips.finish())
        summary.lighting = pipeline.lighting
        summary.frames_decoded = source.decoded
        summary.frames_missing = source.missing
        run = VideoRun(camera_id, video_key, started, source.fps, source.decoded, analysed_at)
        event_ids = store.events.save_run(run, outcomes)
    except BaseException:
        snapshots.remove_created()
        raise
    finally:
        snapshots.close()
        store.close()
    summary.elapsed_s = time.perf_counter() - clock_start

    for outcome, event_id in zip(outcomes, event_ids, strict=True):
        if event_id is None or outcome.evidence is None:
            continue
        c = outcome.decision.crossing
        kind = outcome.decision.kind or ""
        summary.flagged.append(
            FlaggedEvent(event_id, kind, c.line, c.ts, c.track_id, outcome.evidence.full, outcome.evidence.crop)
        )
    if jsonl_path is not None:
        try:
            _write_jsonl(jsonl_path, outcomes, event_ids)
        except GatewatchError as exc:
            # The results are committed by now; say so, rather than let "cannot write" suggest a loss.
            raise GatewatchError(
                f"{exc}. The analysis itself IS stored: {len(summary.decisions)} crossing(s) and "
                f"{len(summary.flagged)} flagged event(s) in {db_path}, snapshots in {snapshot_dir}; "
                "`gatewatch events export` writes them out, or re-run with --jsonl on a disk with space"
            ) from None
    return summary


def load_config_registrations(config: Config) -> list[Registration]:
    """The config's CSV, all rows or none: an analysis with half a visitor book would flag visitors
    who did register. Every bad row is listed, not just the first."""
    if config.registrations.csv is None:
        return []
    path = config.resolve(config.registrations.csv)
    loaded = read_registrations_csv(path, config.tz, config.scopes(), origin=f"config {path}", created_by="config")
    if loaded.bad:
        rows = "; ".join(f"row {e.row}: {e.message}" for e in loaded.bad)
        raise GatewatchError(f"{path}: {rows}")
    return loaded.good


@dataclass(frozen=True)
class ConfigRegistrations:
    """The config's CSV as this run must store it. A file whose content the database already holds
    (same digest) is neither parsed nor synced again: with a million rows that took longer than
    the analysis. A changed file is parsed in full before anything is written."""

    config: Config
    origin: str
    digest: str
    rows: list[Registration] | None  # None: the database already held this content when checked

    @classmethod
    def read(cls, config: Config, db_path: Path) -> ConfigRegistrations | None:
        if config.registrations.csv is None:
            return None
        path = config.resolve(config.registrations.csv)
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except FileNotFoundError:
            raise GatewatchError(f"{path}: registrations file not found") from None
        except OSError as exc:
            raise GatewatchError(f"{path}: cannot read ({exc.strerror})") from None
        origin = f"config {path}"
        if db_path.is_file():
            with Store(db_path, readonly=True) as store:
                if store.meta(_digest_key(origin)) == digest:
                    return cls(config, origin, digest, None)
        return cls(config, origin, digest, load_config_registrations(config))

    def sync(self, store: Store, at: datetime) -> None:
        if store.meta(_digest_key(self.origin)) == self.digest:
            return
        rows = self.rows if self.rows is not None else load_config_registrations(self.config)
        with store.write("save the config's registrations", "; none were saved"):
            store.registrations.sync(self.origin, rows, at)
            store.set_meta({_digest_key(self.origin): self.digest})


def _digest_key(origin: str) -> str:
    return f"digest of {origin}"


def _registration_span(config: Config, source: VideoFile) -> tuple[datetime, datetime] | None:
    """The times a registration must touch to matter for this video: its length (with slack for
    containers that misstate it) widened by the longest registration window of any rule."""
    if not source.duration_s:
        return None
    margin = timedelta(seconds=max((rule.window for rule in config.rules), default=0.0) + 60)
    length = timedelta(seconds=source.duration_s * 1.1)
    return source.start - margin, source.start + length + margin


def _write_jsonl(path: Path, outcomes: list[Outcome], event_ids: list[int | None]) -> None:
    """One JSON object per crossing, replaced atomically so readers never see half a file."""
    lines = []
    for outcome, event_id in zip(outcomes, event_ids, strict=True):
        c = outcome.decision.crossing
        record = {
            "camera": c.camera,
            "line": c.line,
            "direction": c.direction,
            "track_id": c.track_id,
            "frame": c.frame,
            "ts": c.ts.isoformat(),
            "flagged": outcome.decision.flagged,
            "event_id": event_id,
            "snapshot": str(outcome.evidence.full) if outcome.evidence else None,
            "clip": str(outcome.evidence.clip) if outcome.evidence and outcome.evidence.clip else None,
        }
        lines.append(json.dumps(record, ensure_ascii=False))
    atomic_write(path, "".join(line + "\n" for line in lines).encode("utf-8"))
