"""One detector for all cameras of a `serve` process.

Loading the model once per camera would multiply memory and make the cameras fight over the
CPU cores; instead every camera thread hands its frame to one detector thread, which takes
whatever is waiting (up to `max_batch` frames, from different cameras) in one call to the model.

When more frames wait than the model keeps up with, they are served by urgency, not arrival: a
frame that may confirm a crossing (its alert waits on it) before one with someone moving in the
watched area (a crossing may be under way), before one where something moved, before a routine
look at a still scene. Each urgency is a head start in time
(`HEAD_START_S`), so a routine frame waits at most that much longer than an urgent one that came
after it, never forever; a camera held up meanwhile drops its oldest frames, counted.
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

Waiting = tuple[float, int, np.ndarray, Future[Detections]]  # (due, arrival order, image, answer)


class SharedDetector:
    def __init__(self, detector: Detector, max_batch: int) -> None:
        self.detector = detector
        self.max_batch = max_batch
        self.batches = 0
        self.frames = 0
        self._waiting: list[Waiting] = []  # a heap: the most overdue first
        self._order = itertools.count()
        self._closed = False
        self._ready = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="detector", daemon=True)
        self._thread.start()

    def detect(self, image: np.ndarray, urgency: Urgency = Urgency.CHANGED) -> Detections:
        """Blocks the calling camera until its frame has been through the model."""
        future: Future[Detections] = Future()
        with self._ready:
            due = time.monotonic() + HEAD_START_S[urgency]
            heapq.heappush(self._waiting, (due, next(self._order), image, future))
            self._ready.notify()
        return future.result()

    def close(self) -> None:
        with self._ready:
            self._closed = True
            self._ready.notify()
        self._thread.join(5)

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
            self.batches += 1
            self.frames += len(batch)
            for (*_, future), result in zip(batch, results, strict=True):
                future.set_result(result)
