"""The web server's self-protection, in process with a hand-driven clock and a slow app: login
back-off per user name and per address, one password hash at a time, load shedding."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from pipeline.web import throttle
from pipeline.web.throttle import Busy, LoadShedder, LoginThrottle

T = TypeVar("T")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def locked_for(guard: LoginThrottle, username: str, address: str) -> float:
    try:
        guard.check_allowed(username, address)
    except Busy as exc:
        return exc.retry_after_s
    return 0.0


def test_wrong_passwords_for_one_name_back_off_doubling() -> None:
    clock = Clock()
    guard = LoginThrottle(clock)
    for _ in range(throttle.USER_FREE_FAILURES - 1):
        guard.failed("guard", "10.0.0.7")
    assert locked_for(guard, "guard", "10.0.0.7") == 0
    waits = []
    for _ in range(4):
        guard.failed("guard", "10.0.0.7")
        waits.append(locked_for(guard, "guard", "10.0.0.7"))
    assert waits == [1, 2, 4, 8]
    assert locked_for(guard, "guard", "10.0.0.99") == 0  # the guard's own device is not locked out
    assert locked_for(guard, "other", "10.0.0.7") == 0  # nor, yet, the address
    clock.now += 8
    assert locked_for(guard, "guard", "10.0.0.7") == 0
    for _ in range(9):  # 17 in all: still under the address's allowance
        guard.failed("guard", "10.0.0.7")
    assert locked_for(guard, "guard", "10.0.0.7") == throttle.MAX_LOCK_S
    guard.succeeded("guard", "10.0.0.7")
    assert locked_for(guard, "guard", "10.0.0.7") == 0


def test_a_guesser_cannot_lock_the_guard_out_of_their_own_device() -> None:
    """Issue 24.5: five wrong passwords from anywhere used to make the right one answer 429."""
    clock = Clock()
    guard = LoginThrottle(clock)
    guard.succeeded("guard", "10.0.0.5")  # the guard's phone, logged in before
    for n in range(throttle.USER_FREE_FAILURES_ANYWHERE * 2):  # guesses from many addresses, a few each
        guard.failed("guard", f"10.1.{n // 4}.{n % 4}")
        assert locked_for(guard, "guard", "10.0.0.5") == 0
    assert locked_for(guard, "guard", "10.1.0.0") > 0  # the guesser is
    # Past the name's allowance from everywhere, addresses it never logged in from wait too...
    assert locked_for(guard, "guard", "10.0.0.200") > 0
    # ...but not the guard's own device, nor another name.
    assert locked_for(guard, "guard", "10.0.0.5") == 0
    assert locked_for(guard, "head", "10.0.0.200") == 0


def test_many_names_from_one_address_lock_the_address() -> None:
    clock = Clock()
    guard = LoginThrottle(clock)
    for n in range(throttle.ADDRESS_FREE_FAILURES):
        guard.failed(f"name{n}", "10.0.0.7")
    assert locked_for(guard, "admin", "10.0.0.7") == 1
    assert locked_for(guard, "admin", "10.0.0.8") == 0
    guard.succeeded("name1", "10.0.0.7")  # one right password does not clear the address's record
    assert locked_for(guard, "admin", "10.0.0.7") == 1
    clock.now += throttle.FORGET_AFTER_S + 1
    guard.failed("name0", "10.0.0.7")  # a quiet hour later the count starts again
    assert locked_for(guard, "admin", "10.0.0.7") == 0


def test_one_hash_at_a_time_and_the_rest_are_told_to_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(throttle, "HASH_WAIT_S", 0.05)
    guard = LoginThrottle()
    inside, release = threading.Event(), threading.Event()

    def hold() -> None:
        with guard.hashing():
            inside.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    assert inside.wait(10)
    with pytest.raises(Busy), guard.hashing():
        pass
    release.set()
    holder.join(10)
    with guard.hashing():
        pass


def test_load_shedding_answers_503_at_once_past_the_limit() -> None:
    release = asyncio.Event()
    started = 0

    async def slow(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal started
        started += 1
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    shedder = LoadShedder(slow, limit=2)

    async def reached(count: int) -> None:
        async with asyncio.timeout(10):  # a deadline, not a guess
            while started < count:
                await asyncio.sleep(0.01)

    async def drive() -> list[int]:
        transport = httpx.ASGITransport(app=shedder)
        async with httpx.AsyncClient(transport=transport, base_url="http://box") as client:
            held = [asyncio.create_task(client.get("/api/events")) for _ in range(2)]
            await reached(2)
            refused = await client.get("/api/events")
            pushed = await client.put("/api/evidence/No1/7/clip", content=b"x")  # an upload counts: shed too
            exempt = [asyncio.create_task(client.get(path)) for path in ("/api/health", "/api/events/7/crop")]
            await reached(4)  # never shed: both reached the app
            release.set()
            answers = [r.status_code for r in await asyncio.gather(*held, *exempt)]
            assert refused.headers["retry-after"] == "1" and "busy" in refused.json()["detail"]
            return [*answers, refused.status_code, pushed.status_code]

    assert run_in_own_loop(drive()) == [200, 200, 200, 200, 503, 503]
    assert shedder.shed == 2 and shedder.in_flight == 0


def run_in_own_loop(work: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run` in a thread of its own: this thread's loop belongs to the session's Chromium
    (Playwright's sync API keeps one running while the browser is open)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, work).result(timeout=60)
