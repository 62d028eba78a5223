"""Where a file's results land: its evidence files first, then its rows in one transaction.

One process writes, whichever processes or machines analysed: the database stays the one
source of results, written in the order results arrive, and a file's evidence is on disk before
a row points at it. A file analysed twice (a re-run, a Ray task retried after its node died)
replaces its earlier rows rather than adding to them.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pipeline.config import Config
from pipeline.db import Store, VideoRun
from pipeline.offline.chain import FileResult
from pipeline.offline.footage import analysis_digest
from pipeline.records import Outcome
from pipeline.snapshots import SnapshotWriter


class ResultWriter:
    def __init__(self, store: Store, snapshot_dir: Path, config: Config, analysed_at: datetime) -> None:
        SnapshotWriter(snapshot_dir, config.language).close()  # fails now, not after hours, if it cannot write there
        self.store = store
        self.snapshot_dir = snapshot_dir
        self.config = config
        self.analysed_at = analysed_at
        self.digests = {camera: analysis_digest(config, camera) for camera in config.cameras}

    def write(self, result: FileResult) -> tuple[list[Outcome], list[int | None]]:
        """The outcomes as stored (evidence paths filled in) and each one's event id."""
        recording = result.recording
        snapshots = SnapshotWriter(self.snapshot_dir, self.config.language)
        try:
            # What a killed run of this file left (files no stored event points at) goes first.
            snapshots.sweep(recording.camera, recording.path.stem, self.store.events.evidence_of(recording.camera))
            outcomes = [
                Outcome(decision, snapshots.save(files) if files is not None else None)
                for decision, files in result.outcomes
            ]
            run = VideoRun(
                recording.camera,
                str(recording.path),
                recording.start,
                result.fps,
                result.frames_decoded,
                self.analysed_at,
                recording.size,
                recording.mtime_ns,
                self.digests[recording.camera],
            )
            event_ids = self.store.events.save_run(run, outcomes)
        except BaseException:
            snapshots.remove_created()
            raise
        finally:
            snapshots.close()
        return outcomes, event_ids
