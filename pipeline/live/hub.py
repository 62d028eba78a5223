"""Telling the open browser tabs: a thread-safe fan-out from the pipeline threads to the asyncio
subscribers of the live feed (one queue each; a tab that stops reading loses its oldest news,
never blocks the pipeline)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import Any

SUBSCRIBER_BACKLOG = 100


class Hub:
    def __init__(self) -> None:
        self._subscribers: set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[dict[str, Any]]]] = set()
        self._lock = threading.Lock()

    def publish(self, message: dict[str, Any]) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for loop, inbox in subscribers:
            loop.call_soon_threadsafe(_offer, inbox, message)

    async def subscribe(self) -> AsyncIterator[dict[str, Any]]:
        inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue(SUBSCRIBER_BACKLOG)
        entry = (asyncio.get_running_loop(), inbox)
        with self._lock:
            self._subscribers.add(entry)
        try:
            while True:
                yield await inbox.get()
        finally:
            with self._lock:
                self._subscribers.discard(entry)


def _offer(inbox: asyncio.Queue[dict[str, Any]], message: dict[str, Any]) -> None:
    if inbox.full():
        inbox.get_nowait()
    inbox.put_nowait(message)
