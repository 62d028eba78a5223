"""A check the live service makes every few seconds in a thread of its own (escalations, camera
troubles): a failure (a locked database) is logged and the next round tries again, so the
thread never dies of one."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable


class Periodic:
    def __init__(self, name: str, every_s: float, work: Callable[[], object], log: logging.Logger) -> None:
        self.every_s = every_s
        self.work = work
        self.log = log
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self.work()
            except Exception:
                self.log.exception("%s failed; trying again", self._thread.name)
