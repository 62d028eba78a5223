"""Protection of the box's web server from its clients: password guessing and floods.

A login costs an argon2 hash (64 MiB, tens of milliseconds of CPU): unthrottled, 40 concurrent
guesses took `serve` from 441 MB to 2.6 GB and made the cameras drop frames. So:

- failed logins are counted per user name from one client address, and per address; past a few,
  each further try from there must wait, doubling up to `MAX_LOCK_S` (answered 429 with
  Retry-After at once, no hash spent). Someone guessing a guard's password from elsewhere locks
  out only themselves: the right password from the guard's own device still works;
- guesses at one name from many addresses are counted too, but past `USER_FREE_FAILURES_ANYWHERE`
  they lock only the addresses that have never logged in as that name (since the last restart);
- one hash runs at a time (`HASH_SLOTS`); a login that cannot get a slot quickly is told to retry;
- an unknown user name costs the time of a real check, spent asleep rather than hashing.

And API reads that queue behind each other are shed: past `MAX_IN_FLIGHT` requests in progress,
the next is answered 503 at once instead of waiting a minute in the thread pool.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

USER_FREE_FAILURES = 5  # wrong passwords for one user name from one address before it must wait
ADDRESS_FREE_FAILURES = 20  # for one client address (several names tried from one place)
USER_FREE_FAILURES_ANYWHERE = 50  # for one name from all addresses (a guesser with many addresses)
FIRST_LOCK_S = 1.0
MAX_LOCK_S = 300.0
FORGET_AFTER_S = 3600.0  # a quiet hour clears a name's or address's record
MAX_TRACKED = 10_000  # names and addresses remembered; the oldest are forgotten first
HASH_SLOTS = 1
HASH_WAIT_S = 5.0
MAX_IN_FLIGHT = 8  # the web answers from threads that share the GIL with the cameras: few at a time


class Busy(Exception):
    """No capacity now; `retry_after_s` says when to come back."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass
class _Record:
    failures: int = 0
    locked_until: float = 0.0
    last: float = 0.0


class LoginThrottle:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._records: OrderedDict[str, _Record] = OrderedDict()
        self._known: OrderedDict[str, set[str]] = OrderedDict()  # name -> addresses it logged in from
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(HASH_SLOTS)
        self.check_s = 0.05  # time of a real check, measured; unknown users sleep this long

    def _keys(self, username: str, address: str) -> list[tuple[str, int]]:
        name = username.lower()
        keys = [(f"user:{name}@{address}", USER_FREE_FAILURES), (f"addr:{address}", ADDRESS_FREE_FAILURES)]
        if address not in self._known.get(name, ()):
            keys.append((f"user:{name}", USER_FREE_FAILURES_ANYWHERE))
        return keys

    def check_allowed(self, username: str, address: str) -> None:
        """Raises `Busy` while this name from this address, or this address, must wait."""
        now = self._clock()
        with self._lock:
            wait = 0.0
            for key, _ in self._keys(username, address):
                record = self._records.get(key)
                if record is not None:
                    wait = max(wait, record.locked_until - now)
        if wait > 0:
            raise Busy(f"too many wrong passwords; try again in {wait:.0f} s", wait)

    def failed(self, username: str, address: str) -> None:
        now = self._clock()
        with self._lock:
            for key, free in self._keys(username, address):
                record = self._records.pop(key, None) or _Record()
                if now - record.last > FORGET_AFTER_S:
                    record = _Record()
                record.failures += 1
                record.last = now
                if record.failures >= free:
                    record.locked_until = now + min(MAX_LOCK_S, FIRST_LOCK_S * 2 ** (record.failures - free))
                self._records[key] = record
            while len(self._records) > MAX_TRACKED:
                self._records.popitem(last=False)

    def succeeded(self, username: str, address: str) -> None:
        """A right password clears this name's record from this address, and makes the address
        one the name is known to log in from (not the address's record: one person's login must
        not reset the count of another's guesses from the same place)."""
        name = username.lower()
        with self._lock:
            self._records.pop(f"user:{name}@{address}", None)
            known = self._known.pop(name, set())
            known.add(address)
            self._known[name] = known
            while len(self._known) > MAX_TRACKED:
                self._known.popitem(last=False)

    @contextmanager
    def hashing(self) -> Iterator[None]:
        """One password hash at a time, whoever asks."""
        if not self._slots.acquire(timeout=HASH_WAIT_S):
            raise Busy("the server is busy checking other logins; try again", 1.0)
        started = time.monotonic()
        try:
            yield
        finally:
            self._slots.release()
            self.check_s = 0.8 * self.check_s + 0.2 * (time.monotonic() - started)

    def pretend_check(self) -> None:
        """An unknown user name takes as long as a known one, without the hash's memory."""
        time.sleep(self.check_s)


def busy_response(exc: Busy, status: int) -> JSONResponse:
    return JSONResponse(
        {"detail": str(exc)}, status_code=status, headers={"Retry-After": str(max(1, round(exc.retry_after_s)))}
    )


class LoadShedder:
    """At most `limit` API requests in progress; more are answered 503 at once. Long-lived ones
    (the event stream, live camera views), the health check and evidence files read (a page of
    thumbnails loads many at once, and sending a file is the operating system's work) are not
    counted; a file pushed (a school's clip to its centre) is."""

    EXEMPT = ("/api/stream", "/api/health")
    EXEMPT_ENDINGS = ("/snapshot", "/crop", "/clip", "/thumbnail", "/live.mjpg")

    def __init__(self, app: ASGIApp, limit: int = MAX_IN_FLIGHT) -> None:
        self.app = app
        self.limit = limit
        self.in_flight = 0
        self.shed = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        counted = (
            scope["type"] == "http"
            and path.startswith(("/api/", "/reports/"))
            and path not in self.EXEMPT
            and not (scope.get("method") == "GET" and path.endswith(self.EXEMPT_ENDINGS))
        )
        if not counted:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            self.shed += 1
            await busy_response(Busy("the server is busy; try again in a moment", 1.0), 503)(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
