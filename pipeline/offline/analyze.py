"""The offline run of one recording: `chain` analyses it, `results` stores it.

    probe -> analyse_chain (VideoFile -> CameraPipeline -> RuleEngine -> evidence) -> ResultWriter -> Store

`serve` wires the same stages to live streams (see `live/`), `batch` to many files at once.
Results commit once, at the end, in one transaction, with their snapshots written just before;
if anything fails first (a corrupt tail, a full disk, Ctrl-C) nothing is stored and no file is
left behind.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pipeline.config import Config
from pipeline.db import Store
from pipeline.detectors import CameraDetectors, Detector
from pipeline.errors import GatewatchError
from pipeline.files import atomic_write, ensure_writable_dir
from pipeline.lighting import LightingTally
from pipeline.offline.chain import FileResult, analyse_chain
from pipeline.offline.footage import Chain, probe
from pipeline.offline.prepare import ConfigRegistrations, prepare
from pipeline.offline.results import ResultWriter
from pipeline.records import Decision, Outcome
from pipeline.vocabulary import Direction, EventKind

ProgressCallback = Callable[[int, int, int], None]  # (frames decoded, frames in file, crossings so far)


@dataclass(frozen=True)
class FlaggedEvent:
    event_id: int
    kind: EventKind
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
    counts: Counter[tuple[str, Direction]] = field(default_factory=Counter)
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
    recording = probe(video.resolve(), camera_id, config, start)
    config_csv = ConfigRegistrations.read(config, db_path)
    detectors = CameraDetectors(config)
    night = None if detector else detectors.night(camera_id)
    detector = detector or detectors.get(camera_id)
    if jsonl_path is not None:
        ensure_writable_dir(jsonl_path.parent)
    clock_start = time.perf_counter()
    with Store(db_path) as store:
        writer = ResultWriter(store, snapshot_dir, config, analysed_at)
        job = prepare(store, config, config_csv, Chain(camera_id, (recording,)), analysed_at)
        result = None
        for item in analyse_chain(config, job.chain, job.registrations, detector, night):
            if isinstance(item, FileResult):
                result = item
            elif progress:
                progress(item.frames, item.frame_count, item.crossings)
        assert result is not None
        if result.error is not None:
            raise GatewatchError(result.error)
        outcomes, event_ids = writer.write(result)
    summary = Summary(
        camera_id,
        video,
        recording.start,
        recording.start_source,
        result.fps,
        result.analysed_fps,
        result.frames_decoded,
        result.frames_missing,
        result.frames_analysed,
        result.frames_detected,
        time.perf_counter() - clock_start,
        lighting=result.lighting,
    )
    for outcome, event_id in zip(outcomes, event_ids, strict=True):
        decision, c = outcome.decision, outcome.decision.crossing
        summary.decisions.append(decision)
        summary.counts[(c.line, c.direction)] += 1
        if event_id is not None and outcome.evidence is not None and decision.kind is not None:
            summary.flagged.append(
                FlaggedEvent(
                    event_id, decision.kind, c.line, c.ts, c.track_id, outcome.evidence.full, outcome.evidence.crop
                )
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
