"""The web server's connections, held to account before a request reaches the app.

Uvicorn waits for a request's headers as long as a client cares to send them, and accepts as
many connections from one address as it opens: a handful of slow clients (a byte every few
seconds) would hold the box's sockets for good. So, as a reverse proxy in front would:

- a connection must finish a request's headers within `HEADER_TIMEOUT_S` of its first byte (or
  of connecting), or it is closed;
- one client address holds at most `MAX_CONNECTIONS_PER_ADDRESS` connections; more are closed at
  once (a browser opens six per host; a guard's page with its event stream and two live views
  stays far below).

The body's own deadline, and counting a request as in progress only once its body is in, are
the app's middleware (`common.BodyLimit`, `throttle.LoadShedder`).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import ClassVar

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_TIMEOUT_S = 10.0
MAX_CONNECTIONS_PER_ADDRESS = 32

log = logging.getLogger("gatewatch.web")


class _GuardedH11(H11Protocol):
    open_per_address: ClassVar[Counter[str]]  # one counter per server: `guarded_protocol` makes the class

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._address = self.client[0] if self.client else "unknown"
        self._header_timer: asyncio.TimerHandle | None = None
        self.open_per_address[self._address] += 1
        if self.open_per_address[self._address] > MAX_CONNECTIONS_PER_ADDRESS:
            log.warning("refused a connection from %s: it already holds %d", self._address, MAX_CONNECTIONS_PER_ADDRESS)
            transport.close()
            return
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        self.open_per_address[self._address] -= 1
        if self.open_per_address[self._address] <= 0:
            del self.open_per_address[self._address]
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        cycle = self.cycle
        if cycle is None or cycle.response_complete:  # between requests: a new one's headers are coming
            self._arm_header_timer()
        super().data_received(data)
        if self.cycle is not cycle:  # the headers are in: a request began
            self._cancel_header_timer()

    def _arm_header_timer(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(HEADER_TIMEOUT_S, self._headers_too_slow)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            log.info("closed a connection from %s: no complete request in %.0f s", self._address, HEADER_TIMEOUT_S)
            self.transport.close()


def guarded_protocol() -> type[H11Protocol]:
    """A protocol class with its own count of connections per address (one per server)."""
    return type("GuardedH11", (_GuardedH11,), {"open_per_address": Counter()})


def server_config(app: object, host: str, port: int, level: str) -> uvicorn.Config:
    """How the box and the centre are served (`serve`, `center`, and the tests' browser runs)."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=guarded_protocol(),
        log_level=level.lower(),
        access_log=False,
        timeout_graceful_shutdown=5,
    )
