"""Slow and greedy clients against the real server (uvicorn with `server_config`, over sockets):
they must not block logins and the API for everyone (issue 24.1)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pipeline.web import common, connections

from .box import web_box
from .conftest import REPORT
from .live import PASSWORD, wait_for

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setattr(common, "BODY_TIMEOUT_S", 2.0)
    monkeypatch.setattr(connections, "HEADER_TIMEOUT_S", 2.0)
    box = web_box(REPO / "configs" / "demo.yaml", tmp_path / "gatewatch.db", tmp_path / "snapshots")
    with box.served() as served:
        yield served


def connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    return sock


def closed_by_server(sock: socket.socket) -> bool:
    """True once the server has answered or hung up (the read does not wait for more than a moment)."""
    sock.settimeout(0.05)
    try:
        return sock.recv(4096) is not None
    except TimeoutError:
        return False
    except ConnectionError:
        return True


def login(url: str) -> int:
    """The guard's login's status (0: the connection was refused or cut)."""
    try:
        return httpx.post(f"{url}/api/login", json={"username": "guard", "password": PASSWORD}, timeout=10).status_code
    except httpx.TransportError:
        return 0


def test_slow_bodies_do_not_block_logins_and_are_timed_out(url: str) -> None:
    slow = []
    for _ in range(12):  # more than the load shedder's limit (8): they used to fill it
        sock = connect(url)
        sock.sendall(
            b"POST /api/login HTTP/1.1\r\nHost: box\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"
        )
        slow.append(sock)
    try:
        started = time.monotonic()
        assert login(url) == 200
        REPORT.append(
            f"slow-client drill: 12 bodies trickling, a login answered 200 in {time.monotonic() - started:.2f} s"
        )
        assert httpx.get(f"{url}/api/health", timeout=10).status_code == 200
        wait_for(lambda: all(closed_by_server(s) for s in slow), 30, "the slow bodies to be answered")
    finally:
        for sock in slow:
            sock.close()


def test_slow_headers_are_closed(url: str) -> None:
    with connect(url) as idle, connect(url) as dribbling:
        dribbling.sendall(b"GET /api/health HTTP/1.1\r\n")
        started = time.monotonic()
        wait_for(lambda: closed_by_server(idle) and closed_by_server(dribbling), 30, "slow headers to be cut")
        assert time.monotonic() - started >= 1.5  # the deadline, not at once
        assert login(url) == 200


def test_one_address_holds_a_bounded_number_of_connections(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(connections, "HEADER_TIMEOUT_S", 120.0)  # the held ones stay while this runs
    held = [connect(url) for _ in range(connections.MAX_CONNECTIONS_PER_ADDRESS)]
    try:
        with connect(url) as extra:
            wait_for(lambda: closed_by_server(extra), 10, "the extra connection to be closed")
        assert not any(closed_by_server(s) for s in held)
    finally:
        for sock in held:
            sock.close()
    wait_for(lambda: login(url) == 200, 30, "a login once they are gone")
