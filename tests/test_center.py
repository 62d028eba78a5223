"""The district centre's console (issue 23.1), with the real pieces: Debian's mosquitto, the
`gatewatch center` process and Debian's Chromium. The schools are stand-ins that publish what a
school's `serve` publishes, signed with their enrolment keys, so each test sets exactly the
alarms, events and outages it needs (the real school's side: tests/test_alarms.py)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
import pytest

from pipeline.alerts.evidence import SHA256_HEADER, SIGNATURE_HEADER, EvidencePush
from pipeline.alerts.outbox import DeliveryError
from pipeline.config import CenterLinkConfig
from pipeline.messages import AlarmAck, AlarmMessage, EventMessage, EvidenceRef, topic_level
from pipeline.pieces import THUMBNAIL_BYTES, sha256_of, thumbnail
from pipeline.signing import sign, upload_signature, verify
from pipeline.vocabulary import AlarmKind, EventKind, EventStatus, EvidencePiece

from .live import (
    PASSWORD,
    Broker,
    Process,
    Servers,
    Subscriber,
    free_port,
    log_in,
    query,
    site_key,
    start_center,
    wait_for,
)

SCHOOLS = ("No1 Middle School", "No2 School", "No3 School")


@dataclass
class Centre:
    process: Process
    url: str
    prefix: str
    schools: Subscriber  # publishes as the schools do, and reads what the centre sends them
    db: Path

    def client(self) -> httpx.Client:
        client = httpx.Client(base_url=self.url, timeout=10)
        assert client.post("/api/login", json={"username": "district", "password": PASSWORD}).is_success
        return client

    def alarm(self, site: str, alarm_id: int, kind: AlarmKind, time: str, event_id: int | None = None) -> None:
        alarm = AlarmMessage(
            id=alarm_id, site=site, kind=kind, reason=f"{kind} {alarm_id}", time=time, event_id=event_id,
            raised_by="gatewatch" if kind == AlarmKind.AUTOMATIC else "guard",
        )  # fmt: skip
        self._publish(f"{topic_level(site)}/alarms", sign(alarm, site_key(site)).model_dump_json())

    def event(self, site: str, event_id: int, status: EventStatus, time: str, **more: Any) -> EventMessage:
        event = EventMessage(
            id=event_id, site=site, kind=EventKind.UNREGISTERED_ENTRY, camera="gate", line="gate", direction=None,
            time=time, status=status, reason=None, closed=None, snapshot_url="x", crop_url="y", **more,
        )  # fmt: skip
        self._publish(f"{topic_level(site)}/events", sign(event, site_key(site)).model_dump_json())
        return event

    def availability(self, site: str, state: str) -> None:
        self._publish(f"{topic_level(site)}/availability", state, retain=True)

    def _publish(self, topic: str, payload: str, retain: bool = False) -> None:
        self.schools.client.publish(f"{self.prefix}/{topic}", payload, qos=1, retain=retain).wait_for_publish(10)


@pytest.fixture
def centre(tmp_path: Path, broker: Broker, topic_prefix: str, live: Servers) -> Iterator[Centre]:
    port = free_port()
    process = live(start_center(tmp_path, broker.port, port, topic_prefix, sites=SCHOOLS))
    schools = Subscriber(broker.port, f"{topic_prefix}/#")
    found = Centre(process, f"http://127.0.0.1:{port}", topic_prefix, schools, tmp_path / "center.db")
    try:
        wait_for(lambda: _connected(found), 30, "the centre on the broker")
        yield found
    finally:
        schools.close()
        assert process.stop() == 0
    assert "Traceback" not in process.output(), process.output()


def _connected(centre: Centre) -> bool:
    try:
        return bool(centre.client().get("/api/health").json()["broker_connected"])
    except httpx.HTTPError:
        return False


def _open(client: httpx.Client, **params: Any) -> tuple[list[dict[str, Any]], int]:
    answer = client.get("/api/alarms", params={"status": "open", **params})
    return answer.json(), int(answer.headers["X-Total-Count"])


def test_alarms_in_the_order_to_work_them_a_page_at_a_time_and_confirmed_in_a_batch(centre: Centre) -> None:
    officer = centre.client()
    centre.alarm("No1 Middle School", 1, AlarmKind.AUTOMATIC, "2026-12-05T22:00:00+08:00", event_id=4)
    centre.alarm("No2 School", 1, AlarmKind.ONE_CLICK, "2026-12-05T23:00:00+08:00")
    centre.alarm("No1 Middle School", 2, AlarmKind.ESCALATION, "2026-12-05T22:30:00+08:00", event_id=5)
    centre.alarm("No3 School", 1, AlarmKind.ONE_CLICK, "2026-12-05T22:45:00+08:00")
    centre.alarm("No2 School", 2, AlarmKind.AUTOMATIC, "2026-12-05T21:00:00+08:00", event_id=9)
    centre.alarm("No3 School", 2, AlarmKind.DRILL, "2026-12-05T20:00:00+08:00")  # the oldest, but a drill
    wait_for(lambda: _open(officer)[1] == 6, 30, "six open alarms at the centre")
    alarms, total = _open(officer)
    # A person pressed the button, then a person escalated, then gatewatch did; oldest first in each;
    # a drill after every real alarm
    order = [(a["site_topic"], a["alarm_id"]) for a in alarms]
    assert order == [("No3-School", 1), ("No2-School", 1), ("No1-Middle-School", 2), ("No2-School", 2),
                     ("No1-Middle-School", 1), ("No3-School", 2)]  # fmt: skip
    assert [a["priority"] for a in alarms] == [0, 0, 1, 2, 2, 3]
    page, total = _open(officer, limit=2, offset=2)
    assert total == 6 and [(a["site_topic"], a["alarm_id"]) for a in page] == order[2:4]
    # A batch: three confirmed at once; one names an alarm that is not here
    batch = [{"site_topic": s, "alarm_id": i} for s, i in order[1:4]] + [{"site_topic": "No9", "alarm_id": 1}]
    done = officer.post("/api/alarms/ack", json={"alarms": batch})
    assert done.status_code == 200, done.text
    assert done.json()["confirmed"] == batch[:3] and done.json()["not_open"] == batch[3:]
    again = officer.post("/api/alarms/ack", json={"alarms": batch[:1]}).json()
    assert again == {"confirmed": [], "not_open": batch[:1]}  # another officer was quicker: nothing sent twice
    assert officer.post("/api/alarms/ack", json={"alarms": []}).status_code == 422
    # Each school hears its own confirmations, signed with its key, retained
    for site, alarm_id in order[1:4]:
        school = next(s for s in SCHOOLS if topic_level(s) == site)
        suffix = f"/{site}/alarms/{alarm_id}/ack"
        sent = wait_for(lambda suffix=suffix: centre.schools.on(suffix), 30, f"{site}'s confirmation")
        ack = AlarmAck.model_validate_json(sent[0][2])
        verify(ack, site_key(school))
        assert ack.by == "district" and ack.alarm_id == alarm_id
    assert [(a["site_topic"], a["alarm_id"]) for a in _open(officer)[0]] == [order[0], order[4], order[5]]
    handled = officer.get("/api/alarms", params={"status": "acknowledged"})
    assert handled.headers["X-Total-Count"] == "3"
    assert [a["time"][11:16] for a in handled.json()] == ["23:00", "22:30", "21:00"]  # newest first


def test_new_alarms_are_pushed_to_the_page_as_they_arrive(centre: Centre) -> None:
    officer = centre.client()
    with officer.stream("GET", "/api/stream", timeout=30) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        centre.alarm("No2 School", 7, AlarmKind.ONE_CLICK, "2026-12-05T23:10:00+08:00")
        lines = stream.iter_lines()
        pushed = next(line for line in lines if line.startswith("data:") and '"alarm"' in line)
    assert json.loads(pushed[5:]) == {"type": "alarm", "site": "No2-School", "id": 7}
    assert httpx.get(f"{centre.url}/api/stream", timeout=10).status_code == 401  # behind the login


def test_an_alarm_whose_alert_the_school_handled_shows_who_did_what_and_when(centre: Centre) -> None:
    officer = centre.client()
    centre.event("No1 Middle School", 12, EventStatus.NEW, "2026-12-05T22:10:00+08:00")
    centre.alarm("No1 Middle School", 3, AlarmKind.AUTOMATIC, "2026-12-05T22:12:00+08:00", event_id=12)
    alarm = wait_for(lambda: _open(officer)[0], 30, "the escalation at the centre")[0]
    assert alarm["event_status"] == "new" and alarm["handled_by"] is None  # not handled yet: a live alarm
    centre.event(
        "No1 Middle School", 12, EventStatus.FALSE_ALARM, "2026-12-05T22:10:00+08:00",
        reviewed_by="wang.w", reviewed_at="2026-12-05T22:14:30+08:00", review_note="值班老师",
    )  # fmt: skip
    handled = lambda: (a := _open(officer)[0][0])["event_status"] == "false_alarm" and a  # noqa: E731
    stale = wait_for(handled, 30, "the school's handling at the centre")
    assert (stale["handled_by"], stale["handled_at"], stale["handled_note"]) == (
        "wang.w", "2026-12-05T22:14:30+08:00", "值班老师"
    )  # fmt: skip
    assert officer.post("/api/alarms/No1-Middle-School/3/ack").status_code == 200  # closed in one click
    assert _open(officer)[1] == 0


def test_a_school_going_offline_is_an_alarm_until_an_officer_notes_it(centre: Centre) -> None:
    officer = centre.client()

    def school(name: str) -> dict[str, Any] | None:
        return next((s for s in officer.get("/api/sites").json() if s["site"] == name), None)

    centre.alarm("No3 School", 1, AlarmKind.ONE_CLICK, "2026-12-05T23:00:00+08:00")  # names the school
    centre.availability("No3 School", "online")
    wait_for(lambda: (school("No3-School") or {}).get("availability") == "online", 30, "the school online")
    centre.availability("No3 School", "offline")
    gone = wait_for(lambda: (s := school("No3-School")) and s["availability"] == "offline" and s, 30, "offline")
    assert gone["name"] == "No3 School" and gone["offline_noted_by"] is None
    assert gone["updated_at"].endswith("+08:00")  # the centre's own time, in the district's clock
    never = school("No2-School")  # enrolled, never heard from: listed, so the officer sees it
    assert never and never["availability"] is None and never["name"] == "No2-School"
    assert officer.post("/api/sites/No3-School/offline/ack").status_code == 200
    assert officer.post("/api/sites/No3-School/offline/ack").status_code == 409  # noted once
    centre.availability("No3 School", "offline")  # the retained message again (a reconnection): no news
    centre.alarm("No3 School", 2, AlarmKind.ONE_CLICK, "2026-12-05T23:01:00+08:00")  # after it, in order
    wait_for(lambda: _open(officer)[1] == 2, 30, "the second alarm")
    noted = school("No3-School")
    assert noted and noted["offline_noted_by"] == "district" and noted["updated_at"] == gone["updated_at"]
    centre.availability("No3 School", "online")
    wait_for(lambda: (school("No3-School") or {}).get("availability") == "online", 30, "back online")
    assert school("No3-School")["offline_noted_by"] is None  # type: ignore[index]
    assert officer.post("/api/sites/No3-School/offline/ack").status_code == 409  # not offline


def test_evidence_is_kept_only_as_the_school_signed_it(centre: Centre, tmp_path: Path) -> None:
    """Issue 23.2 at the centre's door: a file is stored only when the school's key signed its
    digest for that school, event and piece; the list says per piece whether it is here as the
    school's message described it; a school's push fails in words while the centre is away and
    gets through once it is back (the outbox retries the same send)."""
    officer = centre.client()
    school = "No2 School"
    picture = tmp_path / "snapshot.jpg"
    picture.write_bytes(cv2.imencode(".jpg", np.full((480, 640, 3), (40, 90, 160), np.uint8))[1].tobytes())
    crop = tmp_path / "crop.jpg"
    crop.write_bytes(cv2.imencode(".jpg", np.full((200, 80, 3), 200, np.uint8))[1].tobytes())
    files = {EvidencePiece.SNAPSHOT: picture, EvidencePiece.CROP: crop}
    refs = [EvidenceRef(piece=p, sha256=sha256_of(f), size=f.stat().st_size) for p, f in files.items()]
    event = centre.event(school, 21, EventStatus.NEW, "2026-12-05T23:20:00+08:00", thumbnail=thumbnail(picture),
                         evidence=refs)  # fmt: skip

    def listed() -> dict[str, Any] | None:
        return next((e for e in officer.get("/api/events").json() if e["id"] == 21), None)

    shown = wait_for(listed, 30, "the event at the centre")
    assert shown["evidence"] == {"snapshot": "missing", "crop": "missing"} and shown["has_thumbnail"]
    small = officer.get("/api/evidence/No2-School/21/thumbnail")  # in the message: there before any file
    assert small.status_code == 200 and len(small.content) <= THUMBNAIL_BYTES
    assert officer.get("/api/evidence/No2-School/21/snapshot").status_code == 404
    # The centre is away: the push fails in words (no key, no signature in them); then it is back
    away = EvidencePush(
        CenterLinkConfig(url=f"http://127.0.0.1:{free_port()}"), school, site_key(school), lambda _id: files
    )
    with pytest.raises(DeliveryError) as failed:
        away.send(event, "k")
    assert "ConnectError" in str(failed.value) and site_key(school) not in str(failed.value)
    push = EvidencePush(CenterLinkConfig(url=centre.url), school, site_key(school), lambda _id: files)
    push.send(event, "k")
    assert listed()["evidence"] == {"snapshot": "verified", "crop": "verified"}  # type: ignore[index]
    assert officer.get("/api/evidence/No2-School/21/snapshot").content == picture.read_bytes()
    push.send(event, "k")  # a repeat (an answer lost on the way) is stored once
    assert query(centre.db, "SELECT count(*) AS n FROM center_evidence")[0]["n"] == 2

    def put(site: str, piece: str, body: bytes, key: str, digest: str | None = None, **headers: str) -> int:
        digest = digest or hashlib.sha256(body).hexdigest()
        signed = {SHA256_HEADER: digest, SIGNATURE_HEADER: upload_signature(key, site, 21, piece, digest)}
        headers = {"Content-Type": "application/octet-stream", **signed, **headers}
        return httpx.put(f"{centre.url}/api/evidence/{site}/21/{piece}", content=body, headers=headers).status_code

    other = b"\xff\xd8 another picture"
    assert put("No2-School", "snapshot", other, site_key("No3 School")) == 403  # another school's key
    assert put("No9-School", "snapshot", other, site_key(school)) == 403  # not enrolled here
    assert put("No2-School", "snapshot", other, site_key(school), digest="0" * 64) == 400  # cut short
    assert put("No2-School", "snapshot", other, site_key(school), **{"Content-Type": "image/jpeg"}) == 415
    assert put("No2-School", "map", other, site_key(school)) == 422  # not a piece of evidence
    assert listed()["evidence"]["snapshot"] == "verified"  # type: ignore[index]  # none of that was stored
    # The school's own key, but not the file its message described: kept, and shown as altered
    assert put("No2-School", "crop", other, site_key(school)) == 201
    assert listed()["evidence"] == {"snapshot": "verified", "crop": "altered"}
    assert officer.get("/api/evidence/No2-School/21/crop").status_code == 409


def test_the_duty_officer_works_the_centre_page(centre: Centre, browser: Any) -> None:
    """Chromium, as the officer sees it: alarms pushed in without a reload, a banner and a looping
    tone until every alarm is confirmed, grouped by school in priority order, a batch confirmed
    after one question, an offline school at the top, an alarm the school handled closed in one
    click, and all of it on a phone's width."""
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    log_in(page, centre.url, "district")
    page.wait_for_selector("#connection:has-text('● 实时')")
    assert page.get_attribute("body", "data-tone") == "off" and page.is_hidden("#banner")
    # Pushed: on the page long before the minute's slow read
    centre.alarm("No1 Middle School", 1, AlarmKind.AUTOMATIC, "2026-12-05T22:00:00+08:00", event_id=4)
    centre.alarm("No2 School", 1, AlarmKind.ONE_CLICK, "2026-12-05T23:00:00+08:00")
    centre.alarm("No1 Middle School", 2, AlarmKind.ONE_CLICK, "2026-12-05T22:30:00+08:00")
    page.wait_for_selector("#open-alarms .alarm-row >> nth=2", timeout=10_000)
    page.wait_for_selector("#banner:has-text('3 条报警待确认')")
    assert page.get_attribute("body", "data-tone") == "on"
    page.wait_for_function("() => Number(document.body.dataset.rings) >= 2", timeout=10_000)  # it loops
    groups = page.eval_on_selector_all("#open-alarms .school-group", "gs => gs.map((g) => g.dataset.site)")
    assert groups == ["No1-Middle-School", "No2-School"]  # No1's one-click (22:30) is the oldest top-priority one
    rows = page.eval_on_selector_all("#open-alarms .alarm-row", "rs => rs.map((r) => r.dataset.alarm)")
    assert rows == ["No1-Middle-School/2", "No1-Middle-School/1", "No2-School/1"]
    assert "UTC+08:00" in page.inner_text("#open-alarms") and "UTC+00:00" not in page.inner_text("#open-alarms")
    # The school handled the alert behind its escalation: shown, and closed in one click
    centre.event(
        "No1 Middle School", 4, EventStatus.AUTHORIZED, "2026-12-05T21:59:00+08:00",
        reviewed_by="li.m", reviewed_at="2026-12-05T22:05:00+08:00", review_note="家长送药",
    )  # fmt: skip
    page.wait_for_selector("[data-alarm='No1-Middle-School/1'].stale")
    stale = page.inner_text("[data-alarm='No1-Middle-School/1'].stale")
    assert "学校已处置" in stale and "li.m" in stale and "家长送药" in stale
    page.click("[data-alarm='No1-Middle-School/1'] button.close")
    page.wait_for_selector("#handled-alarms [data-alarm='No1-Middle-School/1']")
    # A school goes offline: an alarm at the top, the tone goes on until it is noted
    centre.availability("No3 School", "offline")
    page.wait_for_selector("#offline [data-offline='No3-School']")
    offline = page.inner_text("#offline [data-offline='No3-School']")
    assert "学校离线" in offline and "UTC+08:00" in offline  # the district's clock
    above = "document.querySelector('#offline').compareDocumentPosition(document.querySelector('#open-alarms'))"
    assert page.evaluate(above) & 4  # the offline school comes before every alarm
    # Batch: tick No1's group and No2's alarm; one question with the count, then all confirmed
    page.check("[data-site='No1-Middle-School'] .pick-school")
    page.check("[data-alarm='No2-School/1'] .pick")
    page.click("#confirm-selected")
    assert page.inner_text("#batch-text") == "确认 2 所学校的 2 条报警？"  # noqa: RUF001
    page.click("#batch-no")  # a second thought: nothing confirmed
    assert page.is_hidden("#batch-question") and page.locator("#open-alarms .alarm-row").count() == 2
    page.click("#confirm-selected")
    page.click("#batch-yes")
    page.wait_for_selector("#no-open:visible")
    assert page.inner_text("#batch-result") == "已确认 2 条"
    assert page.get_attribute("body", "data-tone") == "on"  # the offline school is still unnoted
    page.click("[data-note='No3-School']")
    page.wait_for_selector("#offline:has-text('知悉人 district')")
    page.wait_for_function("() => document.body.dataset.tone === 'off'")
    assert page.is_visible("#banner")  # still offline, still said, but silent
    centre.availability("No3 School", "online")
    page.wait_for_selector("#banner", state="hidden")
    # A phone: nothing wider than its screen
    phone = context.new_page()
    phone.set_viewport_size({"width": 390, "height": 800})
    phone.goto(centre.url)
    phone.wait_for_selector("#handled-alarms .alarm-row")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()
