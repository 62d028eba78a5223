"""One detector for all cameras of a `serve` process.

Loading the model once per camera would multiply memory and make the cameras fight over the
CPU cores; instead every camera thread hands its frame to one detector thread, which takes
whatever is waiting (up to `max_batch` frames, from different cameras) in one call to the model.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future

import numpy as np

from pipeline.detectors.base import Detector
from pipeline.records import Detections


class SharedDetector:
    def __init__(self, detector: Detector, max_batch: int) -> None:
        self.detector = detector
        self.max_batch = max_batch
        self.batches = 0
        self.frames = 0
        self._inbox: queue.Queue[tuple[np.ndarray, Future[Detections]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="detector", daemon=True)
        self._thread.start()

    def detect(self, image: np.ndarray) -> Detections:
        """Blocks the calling camera until its frame has been through the model."""
        future: Future[Detections] = Future()
        self._inbox.put((image, future))
        return future.result()

    def close(self) -> None:
        self._inbox.put(None)
        self._thread.join(5)

    def _run(self) -> None:
        while True:
            item = self._inbox.get()
            if item is None:
                return
            batch = [item]
            while len(batch) < self.max_batch:
                try:
                    more = self._inbox.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._inbox.put(None)  # finish this batch, then stop
                    break
                batch.append(more)
            try:
                results = self.detector.detect_batch([image for image, _ in batch])
            except Exception as exc:  # handed to each waiting camera, which reports it
                for _, future in batch:
                    future.set_exception(exc)
                continue
            self.batches += 1
            self.frames += len(batch)
            for (_, future), result in zip(batch, results, strict=True):
                future.set_result(result)
