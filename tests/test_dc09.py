"""Alarms to professional alarm receiving centres over SIA DC-09 (issue 23.3), received by an
independent implementation: PyPI's `pysiaalarm` (the DC-09 receiver Home Assistant uses), run
here as the receiving centre. The school is a real `gatewatch serve`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pysiaalarm import CommunicationsProtocol, SIAAccount, SIAClient, SIAEvent

from pipeline.alerts.dc09 import Dc09Sender, crc16
from pipeline.alerts.outbox import DeliveryError
from pipeline.config import AlarmReceiverConfig
from pipeline.db import Store
from pipeline.live.troubles import Troubles
from pipeline.messages import AlarmMessage, CameraTrouble
from pipeline.vocabulary import AlarmKind

from .live import RtspServer, Serve, Servers, Webhook, cut_clip, free_port, log_in, wait_for, write_config

ACCOUNT = "1A2B"
AES_KEY = "0123456789ABCDEF0123456789ABCDEF"  # 32 characters: AES-256, as pysiaalarm takes it


class Receiver:
    """pysiaalarm's receiver on a port, keeping every event it acknowledged."""

    def __init__(self, port: int, key: str | None = None, protocol: str = "tcp") -> None:
        self.port = port
        self.events: list[SIAEvent] = []
        self._lock = threading.Lock()
        which = CommunicationsProtocol.TCP if protocol == "tcp" else CommunicationsProtocol.UDP
        self.client = SIAClient("127.0.0.1", port, [SIAAccount(ACCOUNT, key)], self._got, which)

    def _got(self, event: SIAEvent) -> None:
        with self._lock:
            self.events.append(event)

    def got(self) -> list[SIAEvent]:
        with self._lock:
            return list(self.events)

    def __enter__(self) -> Receiver:
        self.client.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.client.stop()


@dataclass
class School:
    serve: Serve
    plain: int  # SIA DCS over TCP, no key: down until a test starts it
    secret: Receiver  # Contact ID, AES: up from the start
    wrong_key: Receiver  # has another key than the school's
    webhook: Webhook


@pytest.fixture(scope="module")
def school(tmp_path_factory: pytest.TempPathFactory) -> Iterator[School]:
    folder = tmp_path_factory.mktemp("dc09")
    clip = cut_clip(folder / "clip.mp4", 10)
    plain, secret, wrong = free_port(), free_port(), free_port()
    receivers = [
        {"name": "police", "host": "127.0.0.1", "port": plain, "account": ACCOUNT.lower(), "receiver": "1",
         "line": "2"},
        {"name": "guards-co", "host": "127.0.0.1", "port": secret, "account": ACCOUNT, "format": "ADM-CID",
         "key": AES_KEY},
        {"name": "old-key", "host": "127.0.0.1", "port": wrong, "account": ACCOUNT, "key": AES_KEY},
    ]  # fmt: skip
    webhook = Webhook()
    webhook.failures_left = 0
    config = write_config(
        folder,
        {"gate": {"source": str(clip), "loop": True}, "north": {"source": str(clip), "loop": True}},
        alarm_receivers=receivers,
        webhooks=[{"url": webhook.url}],
        alerts={"retry_min_s": 0.5, "retry_max_s": 1},
    )
    serve = Serve(folder, config)
    with Receiver(secret, AES_KEY) as up, Receiver(wrong, "FEDCBA9876543210") as wrong_key:
        try:
            serve.start()
            yield School(serve, plain, up, wrong_key, webhook)
        finally:
            assert serve.stop() == 0, serve.output()
            webhook.close()
    assert "Traceback" not in serve.output(), serve.output()
    assert AES_KEY not in serve.output()  # keys are secrets: never in a log line


def _deliveries(school: School, alarm_id: int) -> dict[str, dict[str, Any]]:
    alarms = school.serve.client("guard").get("/api/alarms").json()
    alarm = next(a for a in alarms if a["id"] == alarm_id)
    return {d["target"]: d for d in alarm["deliveries"]}


def test_alarms_reach_the_receiving_centres_once_acknowledged_and_retried_while_one_is_down(school: School) -> None:
    guard = school.serve.client("guard")
    raised = guard.post("/api/alarms", json={})  # one tap, the reason comes after
    assert raised.status_code == 201, raised.text
    alarm_id = raised.json()["id"]
    # The AES receiver (Contact ID) decrypts it: a panic alarm, acknowledged
    event = wait_for(school.secret.got, 30, "the alarm at the AES receiver")[0]
    assert (event.account, event.code, event.encrypted, event.message_type.value) == (
        ACCOUNT, "PA", True, "ADM-CID"
    )  # fmt: skip
    assert event.event_qualifier == "1" and event.event_type == "120"  # a new panic alarm
    sent = wait_for(lambda: _deliveries(school, alarm_id)["dc09:guards-co"]["status"] == "sent", 30, "history")
    assert sent
    # A receiver holding another key cannot read it, and does not acknowledge: retried, never "sent"
    failing = wait_for(
        lambda: (d := _deliveries(school, alarm_id)["dc09:old-key"])["attempts"] >= 2 and d,
        30,
        "retries to the receiver with another key",
    )
    assert failing["status"] == "pending" and failing["last_error"] and not school.wrong_key.got(), failing
    # The police's receiver is down: the alarm waits, with why, in the alarm's history
    down = wait_for(lambda: (d := _deliveries(school, alarm_id)["dc09:police"])["attempts"] >= 2 and d, 30, "retries")
    assert down["status"] == "pending" and "ConnectionRefusedError" in down["last_error"]
    # The guard adds the reason: the centre and the webhooks hear it again, a receiving centre does not
    assert guard.post(f"/api/alarms/{alarm_id}/reason", json={"reason": "有人翻越围墙"}).status_code == 200
    with Receiver(school.plain) as police:  # ... and back
        event = wait_for(police.got, 30, "the alarm at the police's receiver once it is back")[0]
        assert (event.account, event.code, event.encrypted, event.ri) == (ACCOUNT, "PA", False, "1")
        assert event.receiver == "R1" and event.line == "L2"
        history = wait_for(
            lambda: (d := _deliveries(school, alarm_id))["dc09:police"]["status"] == "sent" and d, 30, "sent"
        )
        reasons = lambda: [h for h in school.webhook.received if h["body"].get("reason") == "有人翻越围墙"]  # noqa: E731
        wait_for(reasons, 30, "the reason at the webhook")
        assert len(police.got()) == 1 and len(school.secret.got()) == 1  # one alarm, one message each
    assert [target for target in history if target.startswith("dc09:")] == [
        "dc09:police", "dc09:guards-co", "dc09:old-key"
    ]  # fmt: skip
    assert history["dc09:police"]["attempts"] >= 2 and history["dc09:police"]["sent_at"]


def test_an_escalated_alert_is_an_intrusion_in_its_cameras_zone(school: School) -> None:
    guard = school.serve.client("guard")
    events = wait_for(lambda: guard.get("/api/events", params={"camera": "north"}).json(), 60, "an alert on north")
    before = len(school.secret.got())
    assert guard.post("/api/alarms", json={"event_id": events[0]["id"]}).status_code == 201
    got = wait_for(lambda: school.secret.got()[before:], 30, "the escalation at the receiver")[0]
    assert (got.event_type, got.ri) == ("130", "002")  # burglary, zone 2: north is the second camera


def test_a_drill_is_the_receivers_manual_test_report(school: School) -> None:
    """Issue 23.4: a drill goes through every channel marked as a test, here Contact ID 601."""
    guard = school.serve.client("guard")
    before = len(school.secret.got())
    drill = guard.post("/api/alarms", json={"drill": True})
    assert drill.status_code == 201 and drill.json()["kind"] == "drill", drill.text
    got = wait_for(lambda: school.secret.got()[before:], 30, "the drill at the receiver")[0]
    assert (got.event_qualifier, got.event_type, got.ri) == ("1", "601", "000")  # a manual test, no camera
    assert guard.post("/api/alarms", json={"drill": True, "event_id": 1}).status_code == 422  # escalates nothing
    sender = Dc09Sender(AlarmReceiverConfig(name="t", host="127.0.0.1", port=1, account="1A2B"), {})
    message = AlarmMessage(
        id=9, site="s", kind=AlarmKind.DRILL, reason="", raised_by="g", time="2026-12-05T22:00:00+08:00"
    )
    assert "|Nri1/RX0]" in sender.frame(message, 1, datetime(2026, 12, 5, 14, 0, tzinfo=UTC)).decode()  # SIA: RX


def test_a_camera_down_too_long_is_a_trouble_and_its_return_a_restore(tmp_path: Path, live: Servers) -> None:
    """Issue 23.3: a camera down past alerts.camera_trouble_after_s reaches the receiver as a zone
    trouble (Contact ID 1 380, its zone), once; back, as the restore (3 380). Real serve, RTSP
    server, pysiaalarm."""
    clip = cut_clip(tmp_path / "clip.mp4", 10)
    rtsp_port, receiver_port = free_port(), free_port()
    receiver = {"name": "guards-co", "host": "127.0.0.1", "port": receiver_port, "account": ACCOUNT,
                "format": "ADM-CID"}  # fmt: skip
    config = write_config(
        tmp_path,
        {"gate": {"source": str(clip), "loop": True}, "dorm": {"source": f"rtsp://127.0.0.1:{rtsp_port}/gate"}},
        alarm_receivers=[receiver],
        alerts={"retry_min_s": 0.5, "retry_max_s": 1, "camera_trouble_after_s": 3},
    )
    serve = live(Serve(tmp_path, config))
    with Receiver(receiver_port) as centre:
        serve.start()
        trouble = wait_for(centre.got, 60, "the camera trouble at the receiver")[0]
        # dorm is the first camera of the written file (YAML sorts the keys): zone 1
        assert (trouble.event_qualifier, trouble.event_type, trouble.ri) == ("1", "380", "001")
        live(RtspServer(clip, tmp_path / "rtsp.log", port=rtsp_port).start())  # the camera comes back
        restored = wait_for(lambda: centre.got()[1:], 60, "the restore at the receiver")[0]
        assert (restored.event_qualifier, restored.event_type, restored.ri) == ("3", "380", "001")
        assert len(centre.got()) == 2  # one trouble, one restore: told once each
    assert "camera dorm down since" in serve.output() and "camera dorm back" in serve.output()


def test_troubles_wait_out_a_short_drop_and_are_queued_once(tmp_path: Path) -> None:
    with Store(tmp_path / "gatewatch.db") as store:
        troubles = Troubles(tmp_path / "gatewatch.db", ["dc09:police"], 60, lambda: None)
        start = datetime(2026, 12, 5, 22, 0, tzinfo=UTC)
        store.outages.begin("gate", start, "refused")
        assert troubles.check(store, start + timedelta(seconds=59)) == []  # a short drop rings nowhere
        told = troubles.check(store, start + timedelta(seconds=61))
        assert [(t.camera, t.restored) for t in told] == [("gate", False)]
        assert troubles.check(store, start + timedelta(seconds=90)) == []  # once
        store.outages.end(start + timedelta(minutes=5), "gate")
        assert [t.restored for t in troubles.check(store, start + timedelta(minutes=5))] == [True]
        store.outages.begin("gate", start + timedelta(minutes=6), "refused")
        store.outages.end(start + timedelta(minutes=6, seconds=10), "gate")  # back in 10 s: neither
        assert troubles.check(store, start + timedelta(minutes=8)) == []
        due = store.deliveries.due("dc09:police", start + timedelta(hours=1), 10)
        assert [(d.trouble.camera, d.trouble.restored) for d in due if d.trouble] == [("gate", False), ("gate", True)]
    sender = Dc09Sender(AlarmReceiverConfig(name="t", host="127.0.0.1", port=1, account="1A2B"), {"gate": 1})
    back = CameraTrouble(site="s", camera="gate", since="2026-12-06T06:00:00+08:00", restored=True)
    assert "|Nri1/UJ1]" in sender.frame(back, 1, start).decode()  # SIA: untyped zone trouble restore


def test_the_message_itself_udp_and_a_bad_answer() -> None:
    """DC-09 over UDP (SIA DCS), and what the transmitter makes of an answer that is no ACK."""
    alarm = AlarmMessage(
        id=3, site="s", kind=AlarmKind.ONE_CLICK, reason="", raised_by="guard", time="2026-12-05T22:00:00+08:00"
    )
    port = free_port()
    sender = Dc09Sender(
        AlarmReceiverConfig(name="udp", host="127.0.0.1", port=port, protocol="udp", account=ACCOUNT, timeout_s=5), {}
    )
    with Receiver(port, protocol="udp") as receiver:
        sender.send(alarm, "delivery-key")
        event = wait_for(receiver.got, 10, "the UDP alarm")[0]
    assert (event.code, event.ri, event.message) == ("PA", "1", "0")  # no camera: zone 0
    frame = sender.frame(alarm, 42, datetime(2026, 12, 5, 14, 0, tzinfo=UTC)).decode()
    assert frame == f'\n{crc16(frame[9:-1])}0038"SIA-DCS"0042L0#1A2B[#1A2B|Nri1/PA0]_14:00:00,12-05-2026\r'
    assert crc16("123456789") == "BB3D"  # CRC-16/ARC's check value
    nak = '"NAK"0000R0L0A0[]_14:00:00,12-05-2026'
    with pytest.raises(DeliveryError, match="answered NAK"):
        sender._check(f"\n{crc16(nak)}{len(nak):04X}{nak}\r".encode(), 42)
    ack = '"ACK"0041L0#1A2B[]'
    with pytest.raises(DeliveryError, match="another message"):
        sender._check(f"\n{crc16(ack)}{len(ack):04X}{ack}\r".encode(), 42)
    with pytest.raises(DeliveryError, match="no valid answer"):
        sender._check(b"\nFFFF0010" + ack.encode() + b"\r", 41)


def test_the_guard_sees_which_receiving_centres_have_the_alarm(school: School, browser: Any) -> None:
    page = browser.new_context(locale="zh-CN").new_page()
    log_in(page, school.serve.url, "guard")
    page.wait_for_selector("#alarm-button")
    alarm_id = school.serve.client("guard").post("/api/alarms", json={}).json()["id"]
    row = f"#alarm-list [data-alarm='{alarm_id}']"
    # Told when the receiver acknowledged, without a reload; the one that cannot read it, too
    page.wait_for_selector(f"{row} [data-receiver='guards-co']:has-text('已接收')", timeout=30_000)
    assert "未接收，重试中" in page.inner_text(f"{row} [data-receiver='old-key']")  # noqa: RUF001
