"""Real servers for the live tests: GStreamer's RTSP server, Debian's mosquitto, `gatewatch serve`
itself as a subprocess, and an MQTT subscriber. Each starts on a free port of 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import av
import httpx
import numpy as np
import paho.mqtt.client as mqtt

from pipeline.messages import topic_level
from pipeline.night_looks import degrade, draw

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_videos" / "north-gate_20261128222950.mp4"
LINE = {"points": [[320, 250], [320, 470]], "inside": [420, 380]}
PASSWORD = "guard-pass-1"
T = TypeVar("T", bound="Process | Subscriber | Webhook")


def query(db: Path, sql: str, *params: Any) -> list[sqlite3.Row]:
    connection = sqlite3.connect(db)
    connection.row_factory = sqlite3.Row
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition: Callable[[], Any], timeout: float, what: str, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def cut_clip(path: Path, seconds: float) -> Path:
    """The first seconds of the sample (person A walks in through the gate at about 4.4 s),
    copied without re-encoding, so a looped or streamed camera shows an entry every loop."""
    with av.open(str(SAMPLE)) as source, av.open(str(path), "w") as out:
        stream_in = source.streams.video[0]
        stream_out = out.add_stream_from_template(stream_in)
        for packet in source.demux(stream_in):
            if packet.dts is None:
                continue
            if packet.pts * stream_in.time_base >= seconds:
                break
            packet.stream = stream_out
            out.mux(packet)
    return path


def looped(clip: Path, path: Path, seconds: float) -> Path:
    """The clip repeated (packets copied, timestamps moved on) for `seconds`: one RTSP session
    lasts as long as a test needs, as a camera's stream does (a session per 10 s clip makes the
    camera reconnect each 10 s, and the server's burst at each start overflows the queues)."""
    with av.open(str(clip)) as source:
        stream = source.streams.video[0]
        packets = [(bytes(p), p.pts, p.dts, p.is_keyframe) for p in source.demux(stream) if p.size]
        step = packets[1][1] - packets[0][1] if len(packets) > 1 else 1
        span = max(p[1] for p in packets) - min(p[1] for p in packets) + abs(step)
        loops = int(seconds / float(span * stream.time_base)) + 1
        with av.open(str(path), "w") as out:
            copy = out.add_stream_from_template(stream)
            for loop in range(loops):
                for data, pts, dts, key in packets:
                    packet = av.Packet(data)
                    packet.pts, packet.dts = pts + loop * span, dts + loop * span
                    packet.time_base, packet.is_keyframe, packet.stream = stream.time_base, key, copy
                    out.mux(packet)
    return path


def night_clip(source: Path, path: Path, empty: bool) -> Path:
    """The clip in an IR look (one look for the whole clip, as one camera); `empty`: its first
    frame held (before anyone enters) with fresh sensor noise each frame."""
    rng = np.random.default_rng(25)  # fixed: the same footage every run
    look = draw("ir", rng)
    with av.open(str(source)) as clip, av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 640, 480, "yuv420p"
        stream.options = {"g": "20", "bf": "0", "preset": "veryfast"}  # a keyframe each 2 s, as cameras send
        first = None
        for index, frame in enumerate(clip.decode(video=0)):
            image = frame.to_ndarray(format="bgr24")
            first = image if first is None else first
            shown = degrade(first if empty else image, look, rng, index)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(shown), format="bgr24")))
        out.mux(stream.encode(None))
    return path


class Process:
    """A subprocess whose output goes to a file (read by the tests, shown when one fails)."""

    def __init__(self, args: list[str], log: Path, env: dict[str, str] | None = None, cwd: Path = ROOT) -> None:
        self.args, self.log, self.env, self.cwd = args, log, env, cwd
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        handle = self.log.open("ab")
        env = {**os.environ, **(self.env or {})}
        self.proc = subprocess.Popen(self.args, stdout=handle, stderr=subprocess.STDOUT, env=env, cwd=self.cwd)
        handle.close()
        return self

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(5)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


class RtspServer(Process):
    def __init__(self, video: Path, log: Path, credentials: str | None = None, port: int | None = None) -> None:
        self.port = port or free_port()
        args = ["/usr/bin/python3", str(ROOT / "tests" / "rtsp_server.py"), str(self.port), "/gate", str(video)]
        super().__init__([*args, *([credentials] if credentials else [])], log)

    def url(self, credentials: str | None = None) -> str:
        return f"rtsp://{credentials + '@' if credentials else ''}127.0.0.1:{self.port}/gate"

    def start(self) -> RtspServer:
        super().start()
        wait_for(lambda: "ready" in self.output() or self.proc.poll() is not None, 15, "the RTSP server")
        assert self.proc is not None and self.proc.poll() is None, self.output()
        return self


def mosquitto_binary() -> str:
    found = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)
    assert found, "Debian's mosquitto is needed for the MQTT tests (scripts/install.sh test installs it)"
    return found


class Broker(Process):
    def __init__(self, folder: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        conf = folder / f"mosquitto-{self.port}.conf"
        conf.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        super().__init__([mosquitto_binary(), "-c", str(conf)], folder / f"mosquitto-{self.port}.log")

    def start(self) -> Broker:
        super().start()

        def listening() -> bool:
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", self.port)) == 0

        wait_for(listening, 10, "mosquitto")
        return self


class Subscriber:
    """Collects every message under a topic filter, with the time it arrived."""

    def __init__(self, port: int, topic: str = "gatewatch/#") -> None:
        self.messages: list[tuple[float, str, bytes, bool]] = []
        self.lock = threading.Lock()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-{os.getpid()}-{port}-{time.time()}"
        )
        self.client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        wait_for(self.client.is_connected, 10, "the test's MQTT subscriber")

    def _on_message(self, _c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.messages.append((time.time(), message.topic, message.payload, bool(message.retain)))

    def on(self, suffix: str) -> list[tuple[float, str, bytes, bool]]:
        with self.lock:
            return [m for m in self.messages if m[1].endswith(suffix)]

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(m[2]) for m in self.on("/events")]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def write_config(folder: Path, cameras: dict[str, dict[str, Any]], **sections: Any) -> Path:
    """A config whose gates are closed all day, so every entry in the clip is flagged."""
    import yaml

    site = sections.pop("site", "No1 Middle School")
    if "mqtt" in sections:  # enrolled at the centre with `site_key`
        sections["mqtt"] = {"site_key": site_key(site), **sections["mqtt"]}
    config = {
        "timezone": "Asia/Shanghai",
        "site": {"name": site},
        "cameras": {name: {"lines": {"gate": LINE}, **camera} for name, camera in cameras.items()},
        "schedules": {"always": {"closed": ["00:00-24:00"]}},
        "rules": [
            {"camera": name, "line": "gate", "schedule": "always", "require_registration": True, "window": 30}
            for name in cameras
        ],
        "live": {"reconnect_min_s": 0.5, "reconnect_max_s": 2, "stall_timeout_s": 3, "open_timeout_s": 3},
        **sections,
    }
    path = folder / "live.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True))
    return path


class Serve(Process):
    """`gatewatch serve` on a free port, with one admin and one guard user."""

    def __init__(self, folder: Path, config: Path, env: dict[str, str] | None = None, name: str = "serve") -> None:
        self.port = free_port()
        self.folder = folder
        self.db = folder / f"{name}.db"
        self.snapshots = folder / f"{name}-snapshots"
        for user, role in (("admin", "admin"), ("guard", "guard")):
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pipeline",
                    "users",
                    "add",
                    user,
                    "--role",
                    role,
                    "--db",
                    str(self.db),
                    "--password-stdin",
                ],
                input=PASSWORD + "\n",
                text=True,
                check=True,
                capture_output=True,
                cwd=ROOT,
            )
        args = [
            sys.executable,
            "-m",
            "pipeline",
            "serve",
            "--config",
            str(config),
            "--db",
            str(self.db),
            "--snapshots",
            str(self.snapshots),
            "--port",
            str(self.port),
        ]
        super().__init__(args, folder / f"{name}.log", env)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Serve:
        super().start()

        def up() -> bool:
            assert self.proc is not None and self.proc.poll() is None, self.output()
            try:
                return httpx.get(f"{self.url}/api/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(up, 60, "gatewatch serve")
        return self

    def client(self, user: str = "guard") -> httpx.Client:
        client = httpx.Client(base_url=self.url, timeout=10)
        response = client.post("/api/login", json={"username": user, "password": PASSWORD})
        assert response.status_code == 200, response.text
        return client


class Webhook:
    """Receives POSTs; the first one is answered 500, so the retry is exercised."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.refused: list[dict[str, Any]] = []  # the POSTs answered 500
        self.failures_left = 1
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                seen = {
                    "body": json.loads(body),
                    "auth": self.headers.get("Authorization"),
                    "key": self.headers.get("Idempotency-Key"),
                }
                if hook.failures_left:
                    hook.failures_left -= 1
                    hook.refused.append(seen)
                    self.send_response(500)
                else:
                    hook.received.append(seen)
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()


def site_key(site: str) -> str:
    """A test school's enrolment key (fixed: fixtures have no randomness)."""
    return hashlib.sha256(f"test key of {site}".encode()).hexdigest()


def start_center(
    folder: Path, broker_port: int, port: int, prefix: str = "gatewatch", sites: tuple[str, ...] = ()
) -> Process:
    """`gatewatch center` on the broker (schools under `prefix`), with one user ("district"), its log
    in `folder`; `sites` (names) are enrolled with `site_key`, handed over in environment variables."""
    db = folder / "center.db"
    subprocess.run(
        [sys.executable, "-m", "pipeline", "users", "add", "district", "--db", str(db), "--password-stdin"],
        input=PASSWORD + "\n",
        text=True,
        check=True,
        capture_output=True,
    )
    env = {f"GATEWATCH_TEST_KEY_{n}": site_key(site) for n, site in enumerate(sites)}
    enrolled = {topic_level(site): {"key": f"${{GATEWATCH_TEST_KEY_{n}}}"} for n, site in enumerate(sites)}
    sites_file = folder / "sites.yaml"
    sites_file.write_text(json.dumps({"sites": enrolled}))  # JSON is YAML
    args = ["center", "--mqtt", f"mqtt://127.0.0.1:{broker_port}", "--db", str(db), "--port", str(port)]
    args += ["--topic-prefix", prefix, "--sites", str(sites_file)]
    return Process([sys.executable, "-m", "pipeline", *args], folder / "center.log", env=env).start()


def log_in(page: Any, url: str, user: str, lang: str | None = None) -> None:
    """Through the login page of the box (or the centre) at `url`, in a Playwright page; `lang`:
    the language the user picked (else the site's)."""
    if lang is not None:
        page.context.add_cookies([{"name": "lang", "value": lang, "url": url}])
    page.goto(f"{url}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda address: not address.endswith("/login"))  # logged in: the session is set


class Servers:
    """The real servers and clients one test starts (`live` fixture): whatever the test does or
    fails to do, each still running is stopped after it."""

    def __init__(self) -> None:
        self.started: list[Process | Subscriber | Webhook] = []

    def __call__(self, thing: T) -> T:
        self.started.append(thing)
        return thing

    def stop_all(self) -> None:
        for thing in reversed(self.started):
            if isinstance(thing, Process):
                thing.kill()
            else:
                thing.close()
