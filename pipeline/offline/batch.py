"""A night of an NVR export (or a month of several): many files of many cameras, analysed in
parallel, stored by one writer, resumable.

    find_videos -> plan (cameras, chains, files done before) -> chains on workers -> ResultWriter -> Store

Workers are processes on this machine (`--workers`), or Ray tasks on a cluster (`cluster.py`);
either way they send each file's result back here as soon as it is final, and this process
alone writes the database and the snapshot folder, in the order results arrive. A file whose
result is stored is done: a batch stopped by Ctrl-C, a crash or a power cut loses only the files
in progress, and running it again skips the files stored with the same config
(`footage.analysis_digest`) and the same size and modification time.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any

from pipeline.config import Config
from pipeline.db import Store
from pipeline.detectors import CameraDetectors
from pipeline.offline.chain import FileResult, Progress, analyse_chain
from pipeline.offline.footage import Chain, Plan
from pipeline.offline.prepare import ConfigRegistrations, Job, prepare
from pipeline.offline.results import ResultWriter
from pipeline.vocabulary import Direction

PROGRESS_EVERY_S = 0.5  # how often a worker reports how far it is
PARENT_CHECK_S = 1.0  # how soon a worker notices that the batch's main process is gone
WORKER_MEMORY_BYTES = 700 * 2**20  # one worker: decoder, model, frames kept for clips and snapshots


@dataclass
class CameraTally:
    files: int = 0
    seconds: float = 0.0
    crossings_in: int = 0
    crossings_out: int = 0
    flagged: int = 0
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)


@dataclass
class BatchReport:
    plan: Plan
    cameras: dict[str, CameraTally]
    workers: int
    elapsed_s: float = 0.0
    seconds: float = 0.0  # of video analysed in this run

    @property
    def failed(self) -> list[tuple[Path, str]]:
        return [f for tally in self.cameras.values() for f in tally.failed] + self.plan.unreadable

    @property
    def speed(self) -> float:
        """Multiple of real time."""
        return self.seconds / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass
class BatchProgress:
    """What the progress display shows; `update` is called as results and progress arrive."""

    files_total: int
    seconds_total: float
    files_done: int = 0
    seconds_done: float = 0.0
    _in_progress: dict[Path, float] = field(default_factory=dict)

    def file_progress(self, item: Progress) -> None:
        self._in_progress[item.recording.path] = item.done_s

    def file_done(self, result: FileResult) -> None:
        self._in_progress.pop(result.recording.path, None)
        self.files_done += 1
        self.seconds_done += result.recording.duration_s

    @property
    def seconds_seen(self) -> float:
        return self.seconds_done + sum(self._in_progress.values())


def default_workers(chains: int) -> int:
    """As many as there are cores, chains to share out and memory for each."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES") if hasattr(os, "sysconf") else 0
    by_memory = max(1, memory // WORKER_MEMORY_BYTES) if memory else cores
    return max(1, min(cores, chains, by_memory))


def run_batch(
    config: Config,
    plan: Plan,
    *,
    db_path: Path,
    snapshot_dir: Path,
    analysed_at: datetime,
    workers: int,
    ray_address: str | None = None,
    on_progress: Callable[[BatchProgress], None] | None = None,
) -> BatchReport:
    cameras = {name: CameraTally() for name in config.cameras}
    for recording in plan.done:
        cameras[recording.camera].skipped.append((recording.path, "analysed before with this config"))
    report = BatchReport(plan, cameras, workers)
    progress = BatchProgress(len(plan.recordings), sum(c.duration_s for c in plan.chains))
    config_csv = ConfigRegistrations.read(config, db_path)
    started = time.perf_counter()
    with Store(db_path) as store:
        writer = ResultWriter(store, snapshot_dir, config, analysed_at)
        jobs = [prepare(store, config, config_csv, chain, analysed_at) for chain in plan.chains]
        if ray_address is not None:
            from pipeline.offline.cluster import ray_results

            results = ray_results(config, jobs, ray_address)
        else:
            results = local_results(config, jobs, workers)
        stored: set[Path] = set()
        for item in results:
            if isinstance(item, Progress):
                progress.file_progress(item)
            else:
                if item.recording.path in stored:
                    continue  # a retried task's second copy: written once
                stored.add(item.recording.path)
                _store(writer, item, cameras[item.recording.camera])
                progress.file_done(item)
                report.seconds += item.duration_s
            if on_progress is not None:
                on_progress(progress)
    report.elapsed_s = time.perf_counter() - started
    return report


def _store(writer: ResultWriter, result: FileResult, tally: CameraTally) -> None:
    if result.error is not None:
        tally.failed.append((result.recording.path, result.error.removeprefix(f"{result.recording.path}: ")))
        return
    outcomes, event_ids = writer.write(result)
    tally.files += 1
    tally.seconds += result.duration_s
    for outcome, event_id in zip(outcomes, event_ids, strict=True):
        if outcome.decision.crossing.direction == Direction.IN:
            tally.crossings_in += 1
        else:
            tally.crossings_out += 1
        tally.flagged += event_id is not None and outcome.evidence is not None


def local_results(config: Config, jobs: list[Job], workers: int) -> Iterator[FileResult | Progress]:
    """Chains on this machine: in this process with one worker, else in worker processes, each
    with its share of the cores for onnxruntime."""
    if not jobs:
        return
    workers = max(1, min(workers, len(jobs)))
    if workers == 1:
        detectors = CameraDetectors(config)
        for chain, registrations in jobs:
            yield from analyse_chain(
                config, chain, registrations, detectors.get(chain.camera), detectors.night(chain.camera)
            )
        return
    CameraDetectors(config).check()  # a bad model is one clear error here, not one per worker
    yield from _Processes(config, jobs, workers).results()


class Note(Enum):
    """What a worker tells the batch, with the chain's index: it took the chain (and its pid), a
    result or progress of it (the item), or it finished it."""

    STARTED = "started"
    RESULT = "result"
    FINISHED = "finished"


class _Processes:
    """Worker processes that take chains from one queue and put results on another (bounded, so
    memory stays bounded however long the batch and however slow the writer). A worker that
    dies takes only its chain's unfinished files with it; they are reported failed."""

    def __init__(self, config: Config, jobs: list[Job], workers: int) -> None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        threads = max(1, cores // workers)
        self.config = config.model_copy(update={"detector": config.detector.model_copy(update={"threads": threads})})
        self.config._base_dir = config.base_dir
        self.jobs = jobs
        self.context = multiprocessing.get_context("spawn")  # no fork of a process holding a database and threads
        self.tasks: Any = self.context.Queue()
        self.out: Any = self.context.Queue(maxsize=4 * workers)
        self.processes = [
            self.context.Process(
                target=_worker, args=(self.tasks, self.out, self.config, threads, os.getpid()), daemon=True
            )
            for _ in range(workers)
        ]

    def results(self) -> Iterator[FileResult | Progress]:
        for index, job in enumerate(self.jobs):
            self.tasks.put((index, job))
        for _ in self.processes:
            self.tasks.put(None)
        for process in self.processes:
            process.start()
        holder: dict[int, int] = {}  # pid -> job it is on
        returned: dict[int, set[Path]] = {i: set() for i in range(len(self.jobs))}
        unfinished = set(range(len(self.jobs)))
        try:
            while unfinished:
                try:
                    kind, index, payload = self.out.get(timeout=0.5)
                except queue.Empty:
                    yield from self._lost(holder, returned, unfinished)
                    continue
                if kind is Note.STARTED:
                    holder[payload] = index
                elif kind is Note.FINISHED:
                    unfinished.discard(index)
                else:
                    if isinstance(payload, FileResult):
                        returned[index].add(payload.recording.path)
                    yield payload
        finally:
            for process in self.processes:
                if process.is_alive():
                    process.terminate()
            for process in self.processes:
                process.join(5)

    def _lost(
        self, holder: dict[int, int], returned: dict[int, set[Path]], unfinished: set[int]
    ) -> Iterator[FileResult]:
        """Chains whose worker died (killed, out of memory): their files not yet returned failed."""
        alive = [p for p in self.processes if p.is_alive()]
        for process in self.processes:
            if process.is_alive() or process.exitcode == 0 or process.pid not in holder:
                continue
            index = holder.pop(process.pid)
            if index in unfinished:
                unfinished.discard(index)
                why = f"the worker process analysing it stopped (exit code {process.exitcode})"
                yield from _failed(self.jobs[index].chain, returned[index], why)
        if not alive:
            for index in sorted(unfinished):
                yield from _failed(self.jobs[index].chain, returned[index], "no worker process was left to analyse it")
            unfinished.clear()


def _end_with(parent: int) -> None:
    """Ends this worker once the batch's main process is gone. `daemon=True` only helps when the
    parent exits in an orderly way; after its kill -9 (or an out-of-memory kill) each worker,
    with its ~320 MB, would wait on the task queue for good. The parent's death reparents us,
    which `getppid` shows."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os._exit(1)


def _failed(chain: Chain, returned: set[Path], why: str) -> Iterator[FileResult]:
    for recording in chain.recordings:
        if recording.path not in returned:
            yield FileResult(recording, error=why)


def _worker(tasks: Any, out: Any, config: Config, threads: int, parent: int) -> None:
    """A worker process: chains until told to stop. Ctrl-C is the parent's to handle."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_end_with, args=(parent,), name="parent-watch", daemon=True).start()
    import cv2

    cv2.setNumThreads(threads)
    detectors = CameraDetectors(config)
    while (task := tasks.get()) is not None:
        index, (chain, registrations) = task
        out.put((Note.STARTED, index, os.getpid()))
        last = 0.0
        camera = chain.camera
        for item in analyse_chain(config, chain, registrations, detectors.get(camera), detectors.night(camera)):
            if isinstance(item, Progress):
                now = time.monotonic()
                if now - last < PROGRESS_EVERY_S:
                    continue
                last = now
            out.put((Note.RESULT, index, item))
        out.put((Note.FINISHED, index, None))
    with contextlib.suppress(Exception):
        out.close()
        out.join_thread()
