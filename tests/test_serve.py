"""`gatewatch serve` end to end with real servers: a camera over RTSP (GStreamer) that goes away
and comes back, Debian's mosquitto, a webhook receiver; then broker down, camera unreachable,
and the district centre collecting two schools."""

from __future__ import annotations

import base64
import hashlib
import json
import signal
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import av
import httpx
import pytest

from pipeline.live.skimming import KEPT_INTERVALS
from pipeline.messages import EventMessage
from pipeline.pieces import THUMBNAIL_BYTES
from pipeline.signing import verify

from .live import (
    PASSWORD,
    Broker,
    RtspServer,
    Serve,
    Servers,
    Subscriber,
    Webhook,
    cut_clip,
    free_port,
    looped,
    night_clip,
    query,
    site_key,
    start_center,
    wait_for,
    write_config,
)

CAMERA_PASSWORD = "Cam-Secret-42"
REPLAYED_AT_MOST = KEPT_INTERVALS * 2 * 5  # keyframe intervals of 2 s, sampled at 5 fps


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return cut_clip(tmp_path / "clip.mp4", 10)


def test_live_rtsp_camera_with_mqtt_and_webhook(
    tmp_path: Path, clip: Path, live: Servers, broker: Broker, topic_prefix: str
) -> None:
    subscriber = live(Subscriber(broker.port, f"{topic_prefix}/#"))
    hook = live(Webhook())
    rtsp = live(RtspServer(clip, tmp_path / "rtsp.log", credentials=f"admin:{CAMERA_PASSWORD}").start())
    config = write_config(
        tmp_path,
        {"north-gate": {"source": f"rtsp://admin:${{CAM_PASS}}@127.0.0.1:{rtsp.port}/gate"}},
        mqtt={"host": "127.0.0.1", "port": broker.port, "topic_prefix": topic_prefix},
        webhooks=[{"url": hook.url, "headers": {"Authorization": "Bearer ${HOOK_TOKEN}"}}],
        alerts={"retry_min_s": 0.5},
    )
    serve = live(Serve(tmp_path, config, env={"CAM_PASS": CAMERA_PASSWORD, "HOOK_TOKEN": "tok-1"}))
    try:
        serve.start()
        api = serve.client()
        first = wait_for(lambda: api.get("/api/events").json(), 40, "a live event")[0]
        assert first["kind"] == "unregistered_entry" and first["camera"] == "north-gate" and first["status"] == "new"

        # Stored before sent: the MQTT message names an event that is in the database, with its snapshot
        message = wait_for(lambda: [e for e in subscriber.events() if e["id"] == first["id"]], 20, "MQTT event")[0]
        assert message == {
            "type": "event",
            "id": first["id"],
            "site": "No1 Middle School",
            "kind": "unregistered_entry",
            "camera": "north-gate",
            "camera_name": "north-gate",  # the config gives it no other name
            "line": "gate",
            "direction": "in",
            "time": first["time"],
            "status": "new",
            "reason": first["reason"],
            "closed": first["closed"],
            "snapshot_url": f"{serve.url}/api/events/{first['id']}/snapshot",
            "crop_url": f"{serve.url}/api/events/{first['id']}/crop",
            "reviewed_by": None,  # nobody has handled it yet
            "reviewed_at": None,
            "review_note": None,
            "thumbnail": message["thumbnail"],
            "evidence": message["evidence"],
            "signature": message["signature"],
        }
        verify(EventMessage.model_validate(message), site_key("No1 Middle School"))  # signed with the site's key
        row = query(serve.db, "SELECT * FROM events WHERE id = ?", first["id"])[0]
        assert Path(row["snapshot_path"]).is_file() and Path(row["crop_path"]).is_file()
        # The snapshot rides along small, and each file the box holds is named by its digest (issue 23.2)
        assert len(base64.b64decode(message["thumbnail"])) <= THUMBNAIL_BYTES
        snapshot_digest = hashlib.sha256(Path(row["snapshot_path"]).read_bytes()).hexdigest()
        assert {"piece": "snapshot", "sha256": snapshot_digest, "size": Path(row["snapshot_path"]).stat().st_size} in (
            message["evidence"]
        )
        # The clip follows once the seconds after the crossing have passed: H.264, beside the snapshots
        clip_url = wait_for(lambda: api.get(f"/api/events/{first['id']}").json()["clip_url"], 30, "the live clip")
        clip_path = Path(query(serve.db, "SELECT clip_path FROM events WHERE id = ?", first["id"])[0]["clip_path"])
        assert clip_path.parent == Path(row["snapshot_path"]).parent and clip_path.suffix == ".mp4"
        with av.open(str(clip_path)) as mp4:
            assert mp4.streams.video[0].codec_context.name == "h264" and mp4.duration / 1e6 >= 5
            seconds, shown = mp4.duration / 1e6, sum(1 for _ in mp4.decode(video=0))
        # Cut from the camera's own packets (issue 25): its full rate (the clip streams 10 frames a
        # second), not the 5 analysed ones an encode would have
        assert shown >= 9 * seconds, (shown, seconds)
        assert "encoding the analysed frames" not in serve.output()
        assert api.get(clip_url).headers["content-type"] == "video/mp4"
        image = api.get(message["snapshot_url"].removeprefix(serve.url))
        assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
        assert image.content[:2] == b"\xff\xd8"

        # Presence: retained, per camera
        wait_for(lambda: subscriber.on("/cameras/north-gate/availability"), 10, "camera availability")
        assert subscriber.on("/cameras/north-gate/availability")[-1][2] == b"online"
        state = json.loads(subscriber.on("/cameras/north-gate/state")[-1][2])
        assert state["state"] == "live" and CAMERA_PASSWORD not in json.dumps(state)

        # Webhook: first try answered 500, the retry delivered it, with the configured header
        delivered = wait_for(lambda: hook.received, 20, "the webhook retry")
        assert delivered[0]["body"]["id"] == first["id"] and delivered[0]["auth"] == "Bearer tok-1"
        # ...as the same delivery, by its key, with the same body (at least once: a receiver drops repeats)
        assert hook.refused[0]["key"] == delivered[0]["key"] and len(delivered[0]["key"]) == 32
        assert hook.refused[0]["body"] == delivered[0]["body"]

        # The camera goes away mid-stream and comes back
        rtsp.kill()
        wait_for(lambda: api.get("/api/cameras").json()[0]["state"] == "down", 20, "camera shown down")
        last_before = max(e["id"] for e in api.get("/api/events").json())
        rtsp = live(RtspServer(clip, tmp_path / "rtsp.log", credentials=f"admin:{CAMERA_PASSWORD}", port=rtsp.port))
        rtsp.start()
        wait_for(lambda: max(e["id"] for e in api.get("/api/events").json()) > last_before, 60, "events after")
        camera = api.get("/api/cameras").json()[0]
        assert camera["state"] == "live" and camera["reconnects"] >= 1 and camera["frames_analysed"] > 20
        assert camera["source"] == f"rtsp://***@127.0.0.1:{rtsp.port}/gate"
        assert camera["detector_ms"] > 0
        assert camera["lighting"] == "day"  # the colour clip; an IR camera says "infrared"
        frame = api.get("/api/cameras/north-gate/frame.jpg")
        assert frame.status_code == 200 and frame.content[:2] == b"\xff\xd8"
    finally:
        code = serve.stop(signal.SIGTERM)
        rtsp.kill()
        hook.close()
    log = serve.output()
    assert code == 0, log
    assert "stopped" in log and "Traceback" not in log and "Caught exception" not in log
    assert CAMERA_PASSWORD not in log and "tok-1" not in log
    # Every flagged event is in the database with its files; MQTT got each of them
    events = query(serve.db, "SELECT * FROM events")
    assert len(events) >= 2
    assert all(Path(e["snapshot_path"]).is_file() for e in events)
    sent = query(serve.db, "SELECT * FROM deliveries WHERE target = 'mqtt' AND status = 'sent'")
    assert {d["event_id"] for d in sent} >= {e["id"] for e in events[:-1]}
    wait_for(lambda: subscriber.on("/cameras/north-gate/availability")[-1][2] == b"offline", 10, "offline")
    footage = query(serve.db, "SELECT * FROM videos WHERE camera = 'north-gate'")
    assert footage and footage[0]["video"].startswith("live ") and footage[0]["frames"] > 20


def test_broker_down_and_camera_unreachable(tmp_path: Path, clip: Path, live: Servers) -> None:
    """Events are stored while the broker is down and published once it is up; an unreachable
    camera is shown down and retried while the other camera works."""
    broker_port = free_port()
    config = write_config(
        tmp_path,
        {
            "side-gate": {"source": str(clip), "loop": True},
            "east-gate": {"source": f"rtsp://127.0.0.1:{free_port()}/x"},
        },
        mqtt={"host": "127.0.0.1", "port": broker_port},
        alerts={"retry_min_s": 0.5, "retry_max_s": 1},
    )
    serve = live(Serve(tmp_path, config))
    try:
        serve.start()
        api = serve.client()
        first = wait_for(lambda: api.get("/api/events").json(), 40, "an event while the broker is down")[0]
        # The first send attempt may come after the event is listed: wait for it, then look.
        pending = wait_for(
            lambda: [
                d
                for d in query(serve.db, "SELECT * FROM deliveries WHERE event_id = ?", first["id"])
                if d["attempts"] >= 1
            ],
            20,
            "a failed send attempt",
        )
        assert pending[0]["status"] == "pending" and "not connected" in pending[0]["last_error"]
        cameras = {c["name"]: c for c in api.get("/api/cameras").json()}
        assert cameras["east-gate"]["state"] == "down" and "connection refused" in cameras["east-gate"]["detail"]
        assert cameras["east-gate"]["reconnects"] >= 2 and cameras["side-gate"]["state"] == "live"
        assert httpx.get(f"{serve.url}/api/health").json()["cameras"] == {"side-gate": "live", "east-gate": "down"}

        live(Broker(tmp_path, port=broker_port)).start()  # its own broker: the shared one is never down
        subscriber = live(Subscriber(broker_port))
        wait_for(lambda: any(e["id"] == first["id"] for e in subscriber.events()), 40, "the stored event published")
        sent = query(serve.db, "SELECT * FROM deliveries WHERE event_id = ?", first["id"])
        assert sent[0]["status"] == "sent" and sent[0]["attempts"] >= 2
        # The retained availability shows the unreachable camera offline
        wait_for(lambda: subscriber.on("/cameras/east-gate/availability"), 20, "east-gate availability")
        assert subscriber.on("/cameras/east-gate/availability")[-1][2] == b"offline"
    finally:
        assert serve.stop() == 0, serve.output()


def test_district_centre_collects_two_schools(
    tmp_path: Path, clip: Path, live: Servers, broker: Broker, topic_prefix: str
) -> None:
    schools = []
    for site in ("No1 Middle School", "第二小学"):
        folder = tmp_path / f"school{len(schools)}"
        folder.mkdir()
        config = write_config(
            folder,
            {"gate": {"source": str(clip), "loop": True}},
            site=site,
            mqtt={"host": "127.0.0.1", "port": broker.port, "topic_prefix": topic_prefix},
        )
        schools.append(live(Serve(folder, config)))
    center_port = free_port()
    sites = ("No1 Middle School", "第二小学")
    center = live(start_center(tmp_path, broker.port, center_port, topic_prefix, sites=sites))
    try:
        for school in schools:
            school.start()
        client = httpx.Client(base_url=f"http://127.0.0.1:{center_port}", timeout=10)
        wait_for(lambda: _login(client), 30, "the centre's web server")
        assert client.get("/api/events").status_code == 200

        def both() -> list[dict[str, Any]]:
            events = client.get("/api/events").json()
            return events if {e["site"] for e in events} == {"No1 Middle School", "第二小学"} else []

        events = wait_for(both, 60, "events from both schools")
        assert all(e["kind"] == "unregistered_entry" and e["status"] == "new" for e in events)
        # A guard acknowledges at school 1: the centre sees the new status
        school_api = schools[0].client()
        event_id = school_api.get("/api/events").json()[0]["id"]
        assert school_api.post(f"/api/events/{event_id}/review", json={"action": "acknowledged"}).status_code == 200

        def acknowledged() -> bool:
            rows = client.get("/api/events", params={"site": "No1 Middle School"}).json()
            return any(e["id"] == event_id and e["status"] == "acknowledged" for e in rows)

        wait_for(acknowledged, 20, "the status change at the centre")

        def online() -> bool:
            # Retained messages arrive in their own time, after the events. (Under stress run 5 of 5
            # the camera never showed online: its MQTT client had connected before its on_connect
            # was set, so "online" was never published. Callbacks are now set before connecting.)
            site = {s["site"]: s for s in client.get("/api/sites").json()}.get("第二小学")
            return bool(site and site["availability"] == "online" and site["cameras"][0]["availability"] == "online")

        wait_for(online, 60, "school 2 and its camera online at the centre")
        assert httpx.get(f"http://127.0.0.1:{center_port}/api/events").status_code == 401

        # School 2 loses power: its last wills tell the centre (no clean goodbye was sent)
        schools[1].kill()

        def gone() -> bool:
            site = {s["site"]: s for s in client.get("/api/sites").json()}["第二小学"]
            return site["availability"] == "offline" and site["cameras"][0]["availability"] == "offline"

        wait_for(gone, 20, "the last wills at the centre")
    finally:
        for school in schools:
            school.stop()
        center.stop()
    assert "Traceback" not in center.output() and "Caught exception" not in center.output()


def _login(client: httpx.Client) -> bool:
    try:
        return client.post("/api/login", json={"username": "district", "password": PASSWORD}).status_code == 200
    except httpx.HTTPError:
        return False


def test_a_crossing_still_awaiting_confirmation_is_stored_when_the_stream_ends(tmp_path: Path, live: Servers) -> None:
    """The clip stops 0.1-0.2 s after person A is first seen inside (confirmation takes 0.3 s): the
    worker's end-of-stream flush (the same path as stopping) still stores the entry."""
    clip = cut_clip(tmp_path / "short.mp4", 5.0)
    config = write_config(tmp_path, {"gate": {"source": str(clip)}})
    serve = live(Serve(tmp_path, config))
    try:
        serve.start()
        api = serve.client()
        wait_for(lambda: api.get("/api/cameras").json()[0]["state"] == "ended", 30, "the clip played")
        events = wait_for(lambda: api.get("/api/events").json(), 10, "the flushed entry")
        assert len(events) == 1 and events[0]["kind"] == "unregistered_entry"
    finally:
        assert serve.stop() == 0, serve.output()


def test_a_line_outside_the_picture_shows_the_camera_misconfigured(
    tmp_path: Path, clip: Path, live: Servers, broker: Broker, topic_prefix: str
) -> None:
    """Without `resolution` in the config, the frame size is known only once the stream is up."""
    wide = {"gate": {"points": [[700, 250], [700, 470]], "inside": [420, 380]}}
    subscriber = live(Subscriber(broker.port, f"{topic_prefix}/#"))
    config = write_config(
        tmp_path,
        {"gate": {"source": str(clip), "loop": True, "lines": wide}},
        mqtt={"host": "127.0.0.1", "port": broker.port, "topic_prefix": topic_prefix},
    )
    serve = live(Serve(tmp_path, config))
    try:
        serve.start()
        api = serve.client()
        camera = wait_for(lambda: [c for c in api.get("/api/cameras").json() if c["state"] == "misconfigured"], 20, "")[
            0
        ]
        assert camera["detail"].startswith("cameras.gate.lines.gate.points:") and "(640x480)" in camera["detail"]
        assert httpx.get(f"{serve.url}/api/health").json()["cameras"] == {"gate": "misconfigured"}

        def reported() -> bool:
            states = subscriber.on("/cameras/gate/state")
            return bool(states) and json.loads(states[-1][2])["state"] == "misconfigured"

        wait_for(reported, 10, "the state on MQTT")
        assert subscriber.on("/cameras/gate/availability")[-1][2] == b"offline"
    finally:
        assert serve.stop() == 0, serve.output()


def test_several_cameras_at_once_every_sampled_frame_accounted_for(tmp_path: Path, clip: Path, live: Servers) -> None:
    """Issue 25's live capacity, kept as counts (not timings): four cameras over RTSP, each one
    continuous session (two gates by day, one in infrared, an empty infrared corridor). Every
    frame sampled is analysed, counted as dropped, or still waiting: none silently lost. The empty
    corridor is skimmed (keyframes looked at, almost nothing analysed) and the infrared gate,
    idle between its people, skims too yet flags the entry of every loop: none missed."""
    day = looped(clip, tmp_path / "day.mp4", 90)
    streams = {
        "day-1": day,
        "day-2": day,
        "ir-gate": night_clip(day, tmp_path / "ir-gate.mp4", empty=False),
        "corridor": night_clip(day, tmp_path / "corridor.mp4", empty=True),
    }
    servers = {name: live(RtspServer(path, tmp_path / f"{name}.log").start()) for name, path in streams.items()}
    cameras = {name: {"source": server.url()} for name, server in servers.items()}
    serve = live(Serve(tmp_path, write_config(tmp_path, cameras)))
    serve.start()
    api = serve.client()

    def ir_entries() -> list[datetime]:
        events = api.get("/api/events", params={"camera": "ir-gate"}).json()
        return sorted(datetime.fromisoformat(e["time"]) for e in events if e["camera"] == "ir-gate")

    entries = wait_for(lambda: len(ir_entries()) >= 4 and ir_entries(), 120, "four entries at the IR gate")
    assert all(b - a < timedelta(seconds=15) for a, b in pairwise(entries)), entries  # one each 10 s loop
    health = {c["name"]: c for c in api.get("/api/cameras").json()}
    for camera in health.values():
        waiting = camera["frames_sampled"] - camera["frames_analysed"] - camera["frames_dropped"]
        assert 0 <= waiting <= 2 + 1 + REPLAYED_AT_MOST, camera  # the queue, the frame in hand, a wake's catch-up
    corridor, gate = health["corridor"], health["ir-gate"]
    assert corridor["frames_skimmed"] >= 5 and corridor["frames_analysed"] < corridor["frames_in"] / 10, corridor
    assert gate["frames_skimmed"] >= 1, gate
    assert all(health[name]["frames_analysed"] >= 50 for name in ("day-1", "day-2", "ir-gate")), health
    flagged = wait_for(lambda: {e["camera"] for e in api.get("/api/events").json()} >= {"day-1", "day-2"}, 60, "")
    assert flagged
