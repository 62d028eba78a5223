"""The box's web app in this process: the real app, routers and templates over a real database and
snapshot folder, with a live side that needs no threads (`web.box.LiveSide`). API tests drive it
with Starlette's TestClient; browser tests through uvicorn on a free port, in a thread here.

`gatewatch serve` itself (cameras, recorder, MQTT) is tested end to end in test_serve.py,
test_alarms.py and test_web.py's live alert; here the web side alone, without its cost.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import uvicorn
from starlette.testclient import TestClient

from pipeline.config import Config, load_config
from pipeline.db import Store
from pipeline.live.alarms import Alarms
from pipeline.live.hub import Hub
from pipeline.messages import CameraStatus, MessageView
from pipeline.records import Frame
from pipeline.sources import VideoFile
from pipeline.users import add_user
from pipeline.vocabulary import CameraState, MessageCode, Role
from pipeline.web.app import create_app
from pipeline.web.connections import server_config
from pipeline.wording import Message

from .live import PASSWORD, free_port, wait_for

REPLAY_FPS = 5.0  # as the live view shows a camera
REFUSED = Message(MessageCode.REFUSED)  # why a camera the test says is down is down


@dataclass
class ReplayedLive:
    """Cameras played from frames decoded beforehand, by the clock (a new frame every 1/5 s), in the
    state the test gives each; what a person's action starts is done as `Service` does it, less
    the sending: alarms through the product's `Alarms` (stored, with no target to deliver to),
    events changed told to the pages."""

    config: Config
    db: Path
    frames: dict[str, list[Frame]] = field(default_factory=dict)
    states: dict[str, CameraState] = field(default_factory=dict)
    hub: Hub = field(default_factory=Hub)
    changed: list[int] = field(default_factory=list)  # events the web said a person changed
    watched: set[str] = field(default_factory=set)  # cameras someone watched alone (kept decoded in full)

    def __post_init__(self) -> None:
        # The product's alarms, with no target to deliver to and its escalation thread not started.
        self.raise_alarm = Alarms(self.config, self.db, self.hub.publish).raise_

    def cameras(self) -> list[CameraStatus]:
        return [self._status(name) for name in self.config.cameras]

    def _status(self, name: str) -> CameraStatus:
        state = self.states.get(name, CameraState.LIVE if self.frames.get(name) else CameraState.CONNECTING)
        frame = self.latest_frame(name)
        height, width = frame.image.shape[:2] if frame is not None else (0, 0)
        live = state == CameraState.LIVE
        return CameraStatus(
            name=name,
            source=self.config.cameras[name].source,
            state=state,
            since=datetime.now(UTC).isoformat(),
            detail="" if live else REFUSED.text(),
            messages=[] if live else [MessageView(code=REFUSED.code, values={})],
            last_frame_at=datetime.now(UTC).isoformat() if live else None,
            frames_in=0,
            frames_sampled=0,
            frames_dropped=0,
            reconnects=0 if live else 1,
            fps_in=REPLAY_FPS if live else 0.0,
            width=width,
            height=height,
            fps_analysed=REPLAY_FPS if live else 0.0,
            frames_analysed=0,
            frames_detected=0,
            detector_ms=0.0,
            lighting=None,
        )

    def latest_frame(self, camera: str, watched: bool = False) -> Frame | None:
        if watched:
            self.watched.add(camera)
        frames = self.frames.get(camera)
        if not frames or self.states.get(camera, CameraState.LIVE) != CameraState.LIVE:
            return None
        return frames[int(time.monotonic() * REPLAY_FPS) % len(frames)]

    def event_changed(self, store: Store, event_id: int) -> None:
        self.changed.append(event_id)
        self.hub.publish({"type": "event", "id": event_id})

    def alarm_changed(self, store: Store, alarm_id: int) -> None:
        self.hub.publish({"type": "alarm", "id": alarm_id})


def replay(video: Path, seconds: float) -> list[Frame]:
    """The first `seconds` of a video, decoded at the live view's rate."""
    frames = []
    for frame in VideoFile(video, REPLAY_FPS, datetime.now(UTC)).frames():
        if frame.pts >= seconds:
            break
        frames.append(frame)
    return frames


@dataclass
class WebBox:
    """One box's web app over `db` and `snapshots`, with an admin and a guard (PASSWORD)."""

    config: Config
    db: Path
    snapshots: Path
    live: ReplayedLive

    def __post_init__(self) -> None:
        with Store(self.db) as store:
            store.set_meta({"timezone": self.config.timezone, "site": self.config.site.name})
            for user, role in (("admin", Role.ADMIN), ("guard", Role.GUARD)):
                if not store.users.exists(user):
                    add_user(store, user, PASSWORD, role, datetime.now(UTC))
        self.snapshots.mkdir(parents=True, exist_ok=True)
        self.app = create_app(self.config, self.db, self.snapshots, self.live)

    def client(self, user: str | None = "guard") -> TestClient:
        """A client of the app, logged in as `user` (None: not logged in)."""
        client = TestClient(self.app, base_url="http://box")
        if user is not None:
            response = client.post("/api/login", json={"username": user, "password": PASSWORD})
            assert response.status_code == 200, response.text
        return client

    @contextmanager
    def served(self) -> Iterator[str]:
        """The app on a free port of 127.0.0.1 (uvicorn, in a thread of this process), for a browser."""
        port = free_port()
        server = uvicorn.Server(server_config(self.app, "127.0.0.1", port, "warning"))
        thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
        thread.start()
        try:
            wait_for(lambda: server.started, 30, "the web app to listen")
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            thread.join(30)


def web_box(config: Path, db: Path, snapshots: Path, **live: object) -> WebBox:
    loaded = load_config(config)
    return WebBox(loaded, db, snapshots, ReplayedLive(loaded, db, **live))  # type: ignore[arg-type]
