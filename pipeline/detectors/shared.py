"""One detector for all cameras of a `serve` process.

Loading the model once per camera would multiply memory and make the cameras fight over the
CPU cores; instead every camera thread hands its frame to the detector's workers, each of which
takes whatever is waiting (up to `max_batch` frames, from different cameras) in one call to the
model. A model this small spreads one call over several cores poorly (each layer is a short job,
and a core the decoders hold up stalls the others at every layer), so a box runs one call per
core at once, each on one core: 17 % more frames a second on 2 idle cores, 7 % with one busy.

When more frames wait than the model keeps up with, they are served by when their packets
arrived, less a head start for their urgency (`HEAD_START_S`): a frame that may confirm a
crossing (its alert waits on it) before one with someone moving in the watched area (a crossing
may be under way), before one where something moved, before a routine look at a still scene.
A routine frame waits at most its head start longer than an urgent one that came after it, never
forever; a camera held up meanwhile drops its oldest frames, counted. Dating by arrival, not by
the call, is what lets a camera woken from skimming (analysing again from the keyframe before,
seconds of frames that arrived long ago) catch up first instead of queueing each of them behind
the busy cameras' new frames: at 32 cameras that wait made the night gates' alerts the slowest.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from concurrent.futures import Future

import numpy as np

from pipeline.detectors.base import Detector
from pipeline.records import Detections
from pipeline.vocabulary import Urgency

HEAD_START_S = {Urgency.CROSSING: -1.0, Urgency.TRACKED: 0.0, Urgency.CHANGED: 0.2, Urgency.ROUTINE: 1.0}

Waiting = tuple[float, int, np.ndarray, Future[Detections]]  # (due, call order, image, answer)


class SharedDetector:
    def __init__(self, detector: Detector, max_batch: int, workers: int = 1) -> None:
        """`workers`: calls to the model under way at once (one where the backend cannot share it)."""
        self.detector = detector
        self.max_batch = max_batch
        self.batches = 0
        self.frames = 0
        self._waiting: list[Waiting] = []  # a heap: the most overdue first
        self._order = itertools.count()
        self._closed = False
        self._ready = threading.Condition()
        count = workers if detector.concurrent else 1
        self._threads = [
            threading.Thread(target=self._run, name=f"detector-{i + 1}", daemon=True) for i in range(count)
        ]
        for thread in self._threads:
            thread.start()

    def detect(self, image: np.ndarray, urgency: Urgency = Urgency.CHANGED, arrived: float | None = None) -> Detections:
        """Blocks the calling camera until its frame has been through the model. `arrived`: when
        the frame's packet came (`time.time()`'s clock; default: now)."""
        future: Future[Detections] = Future()
        with self._ready:
            due = (time.time() if arrived is None else arrived) + HEAD_START_S[urgency]
            heapq.heappush(self._waiting, (due, next(self._order), image, future))
            self._ready.notify()
        return future.result()

    def close(self) -> None:
        with self._ready:
            self._closed = True
            self._ready.notify_all()
        deadline = time.monotonic() + 5
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._waiting and not self._closed:
                    self._ready.wait()
                if not self._waiting:
                    return
                count = min(self.max_batch, len(self._waiting))
                batch = [heapq.heappop(self._waiting) for _ in range(count)]
            try:
                results = self.detector.detect_batch([image for _, _, image, _ in batch])
            except Exception as exc:  # handed to each waiting camera, which reports it
                for *_, future in batch:
                    future.set_exception(exc)
                continue
            with self._ready:
                self.batches += 1
                self.frames += len(batch)
            for (*_, future), result in zip(batch, results, strict=True):
                future.set_result(result)
