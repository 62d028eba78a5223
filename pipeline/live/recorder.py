"""Live crossings -> rules -> evidence -> database, one at a time, in one thread.

One thread owns the database writes of the live pipeline, so SQLite sees a single writer and
every flagged event is committed (row, snapshot files, pending alerts) before `on_event` tells
anyone: the guard's screen, MQTT and webhooks only ever point at stored evidence.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from pipeline.clips import Clip
from pipeline.config import Config
from pipeline.db import Store, VideoRun
from pipeline.records import Crossing, Evidence, Frame, Outcome
from pipeline.registrations import LiveBook
from pipeline.rules import RuleEngine
from pipeline.snapshots import SnapshotWriter

log = logging.getLogger("gatewatch.recorder")

SAVE_ATTEMPTS = 5  # a locked or briefly full disk gets a few tries before the event is given up (loudly)
FOOTAGE_EVERY_S = 30.0  # how often the footage analysed per camera is written down


@dataclass(frozen=True)
class Recorded:
    crossing: Crossing
    event_id: int | None  # set when flagged
    evidence: Evidence | None = None  # its snapshots, beside which its clip will go


class Recorder:
    def __init__(
        self,
        config: Config,
        db_path: Path,
        snapshot_dir: Path,
        session: str,
        started: datetime,
        targets: Iterable[str],
        frames_analysed: Callable[[], dict[str, int]],
        on_recorded: Callable[[Recorded], None],
        on_clip: Callable[[int], None],
    ) -> None:
        self.config = config
        self.db_path = db_path
        self.session = session
        self.started = started
        self.targets = list(targets)
        self.frames_analysed = frames_analysed
        self.on_recorded = on_recorded
        self.on_clip = on_clip
        self.snapshots = SnapshotWriter(snapshot_dir, config.language)
        self._inbox: queue.Queue[tuple[Crossing, Frame] | Clip | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="recorder", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def submit(self, crossing: Crossing, frame: Frame) -> None:
        self._inbox.put((crossing, frame))

    def submit_clip(self, clip: Clip) -> None:
        """A flagged crossing's clip, complete: written here, so that only this thread writes."""
        self._inbox.put(clip)

    def close(self, timeout: float) -> None:
        """Record everything already submitted, then stop."""
        self._inbox.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        store = Store(self.db_path, durable=True)
        rules = RuleEngine(
            self.config, LiveBook(lambda span: store.registrations.valid(overlapping=span), self.config.groups)
        )
        last_footage = time.monotonic()
        try:
            while True:
                try:
                    item = self._inbox.get(timeout=1.0)
                except queue.Empty:
                    item = ()
                if item is None:
                    break
                if isinstance(item, Clip):
                    self._save_clip(store, item)
                elif item:
                    crossing, frame = item
                    self._record(store, rules, crossing, frame)
                if time.monotonic() - last_footage >= FOOTAGE_EVERY_S:
                    self._save_footage(store)
                    last_footage = time.monotonic()
            self._save_footage(store)
        finally:
            store.close()

    def _run_of(self, camera: str) -> VideoRun:
        frames = self.frames_analysed().get(camera, 0)
        fps = self.config.sampling.fps
        return VideoRun(camera, self.session, self.started, fps, frames, datetime.now(UTC))

    def _save_footage(self, store: Store) -> None:
        for camera in self.config.cameras:
            try:
                store.events.update_video(self._run_of(camera))
            except Exception as exc:  # bookkeeping only; the next round tries again
                log.warning("could not record footage analysed for %s: %s", camera, exc)

    def _save_clip(self, store: Store, clip: Clip) -> None:
        event_id, evidence, camera = cast(tuple[int, Evidence, str], clip.key)  # as the service asked for it
        try:
            path = self.snapshots.write_clip(evidence, clip, self.config.places.camera(camera))
            store.events.set_clip(event_id, str(path))
        except Exception as exc:  # the event and its snapshots stand without it; say so
            log.error("event #%s: could not save its clip: %s", event_id, exc)
            return
        self.on_clip(event_id)

    def _record(self, store: Store, rules: RuleEngine, crossing: Crossing, frame: Frame) -> None:
        camera = self.config.cameras[crossing.camera]
        for attempt in range(1, SAVE_ATTEMPTS + 1):
            try:
                decision = rules.decide(crossing)
                evidence = None
                if decision.flagged:
                    shape, shown = camera.shape(crossing.line), self.config.places.camera(crossing.camera)
                    evidence = self.snapshots.write(frame, decision, shape, "live", shown)
                outcome = Outcome(decision, evidence)
                event_id = store.events.save_live(self._run_of(crossing.camera), outcome, self.targets)
                break
            except Exception as exc:  # a locked database, a full disk: retried, and never silent
                log.error(
                    "could not store the %s crossing of %s/%s at %s (attempt %d of %d): %s",
                    crossing.direction,
                    crossing.camera,
                    crossing.line,
                    crossing.ts.isoformat(),
                    attempt,
                    SAVE_ATTEMPTS,
                    exc,
                )
                time.sleep(min(2**attempt * 0.1, 2))
        else:
            log.critical("gave up storing a crossing of %s/%s at %s", crossing.camera, crossing.line, crossing.ts)
            return
        if decision.flagged:
            log.warning(
                "event #%s: %s at %s/%s, %s",
                event_id,
                decision.kind,
                crossing.camera,
                crossing.line,
                decision.reason.text(),
            )
        self.on_recorded(Recorded(crossing, event_id, evidence))
