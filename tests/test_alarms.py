"""The one-click alarm (一键报警) and automatic escalation, end to end with the real pieces: a school's
`gatewatch serve` (a looped clip as its camera), Debian's mosquitto, the district centre process,
a webhook receiver and Debian's Chromium on both web pages."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from pipeline.messages import AlarmAck, AlarmMessage, topic_level
from pipeline.pieces import THUMBNAIL_BYTES
from pipeline.signing import sign
from pipeline.vocabulary import AlarmKind

from .live import (
    PASSWORD,
    Broker,
    Process,
    Serve,
    Servers,
    Subscriber,
    Webhook,
    cut_clip,
    free_port,
    log_in,
    query,
    site_key,
    start_center,
    wait_for,
    write_config,
)

SITE = "No1 Middle School"
ESCALATE_AFTER_S = 10


@dataclass
class District:
    school: Serve
    center: Process
    center_url: str
    webhook: Webhook
    folder: Path  # the school's and the centre's files

    def center_client(self) -> httpx.Client:
        client = httpx.Client(base_url=self.center_url, timeout=10)
        assert client.post("/api/login", json={"username": "district", "password": PASSWORD}).is_success
        return client


PREFIX = "alarms-module"  # this module's topics on the session's broker


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory, broker: Broker) -> Iterator[District]:
    folder = tmp_path_factory.mktemp("alarms")
    webhook = Webhook()
    clip = cut_clip(folder / "clip.mp4", 10)
    rule = {
        "camera": "gate",
        "line": "gate",
        "schedule": "always",
        "window": 30,
        "escalation": {"after_s": ESCALATE_AFTER_S},
    }
    port = free_port()
    config = write_config(
        folder,
        {"gate": {"source": str(clip), "loop": True, "name": "北门"}},
        site=SITE,
        rules=[rule],
        mqtt={"host": "127.0.0.1", "port": broker.port, "topic_prefix": PREFIX},
        center={"url": f"http://127.0.0.1:{port}"},  # evidence is pushed there (issue 23.2)
        webhooks=[{"url": webhook.url}],
        alerts={"retry_min_s": 0.5, "retry_max_s": 2},
    )
    school = Serve(folder, config)
    center = start_center(folder, broker.port, port, PREFIX, sites=(SITE,))
    try:
        school.start()
        found = District(school, center, f"http://127.0.0.1:{port}", webhook, folder)
        wait_for(lambda: _up(found), 30, "the centre's web server")
        yield found
    finally:
        assert school.stop() == 0, school.output()
        center.stop()
        webhook.close()
    for log in (school.output(), center.output()):
        assert "Traceback" not in log and "Caught exception" not in log, log


def _up(district: District) -> bool:
    try:
        return httpx.get(f"{district.center_url}/api/alarms", timeout=2).status_code == 401
    except httpx.HTTPError:
        return False


def test_one_click_alarm_reaches_the_centre_and_its_confirmation_comes_back(district: District) -> None:
    school = district.school.client("guard")
    raised = school.post("/api/alarms", json={"reason": "有人翻越围墙"})
    assert raised.status_code == 201, raised.text
    alarm = raised.json()
    assert (alarm["kind"], alarm["raised_by"], alarm["status"]) == ("one_click", "guard", "open")
    stored = query(district.school.db, "SELECT * FROM alarms WHERE id = ?", alarm["id"])[0]
    assert stored["raised_by"] == "guard" and stored["reason"] == "有人翻越围墙"  # audited before it is sent
    center = district.center_client()

    def at_centre() -> dict[str, Any] | None:
        return next((a for a in center.get("/api/alarms").json() if a["reason"] == "有人翻越围墙"), None)

    seen = wait_for(at_centre, 30, "the alarm at the district centre")
    assert seen["site"] == SITE and seen["status"] == "open" and seen["raised_by"] == "guard"
    hooked = wait_for(
        lambda: [h for h in district.webhook.received if h["body"].get("type") == "alarm"], 30, "the alarm's webhook"
    )
    assert hooked[0]["body"]["reason"] == "有人翻越围墙"
    confirmed = center.post(f"/api/alarms/{seen['site_topic']}/{seen['alarm_id']}/ack")
    assert confirmed.status_code == 200, confirmed.text
    assert center.post(f"/api/alarms/{seen['site_topic']}/{seen['alarm_id']}/ack").status_code == 409  # once

    def back_at_school() -> dict[str, Any] | None:
        mine = next(a for a in school.get("/api/alarms").json() if a["id"] == alarm["id"])
        return mine if mine["status"] == "acknowledged" else None

    mine = wait_for(back_at_school, 30, "the centre's confirmation at the school")
    assert mine["acknowledged_by"] == "district" and mine["acknowledged_at"]


def test_forged_confirmations_are_refused_and_logged(district: District, broker: Broker) -> None:
    """Issue 24.2: anyone on the broker could publish `<site>/alarms/<id>/ack` and the school showed
    "confirmed by" whatever it said. Unsigned, signed with another key, moved from another alarm,
    or dated before the alarm: each refused, and the alarm stays open for the real confirmation."""
    school = district.school.client("guard")
    alarm = school.post("/api/alarms", json={"reason": "forgery drill"}).json()
    topic = f"{PREFIX}/No1-Middle-School/alarms/{alarm['id']}/ack"
    now = datetime.now(UTC).isoformat()
    ack = AlarmAck(alarm_id=alarm["id"], site="No1-Middle-School", by="attacker", at=now)
    forged = [
        ack,
        sign(ack, "0" * 64),
        sign(ack.model_copy(update={"alarm_id": alarm["id"] + 1000}), site_key(SITE)),
        sign(ack.model_copy(update={"at": "2020-01-01T00:00:00+08:00"}), site_key(SITE)),
    ]
    before = district.school.output().count("refused a confirmation")
    attacker = Subscriber(broker.port, f"{PREFIX}/none")
    try:
        for message in forged:
            attacker.client.publish(topic, message.model_dump_json(), qos=1, retain=True).wait_for_publish(10)
        wait_for(
            lambda: district.school.output().count("refused a confirmation") >= before + len(forged),
            30,
            "the school to refuse each forged confirmation",
        )
    finally:
        attacker.client.publish(topic, b"", qos=1, retain=True).wait_for_publish(10)  # clear the retained one
        attacker.close()
    mine = next(a for a in school.get("/api/alarms").json() if a["id"] == alarm["id"])
    assert mine["status"] == "open" and mine["acknowledged_by"] is None
    assert "attacker" not in str(query(district.school.db, "SELECT * FROM alarms"))


def test_the_centre_believes_only_what_a_school_signed_about_itself(district: District, broker: Broker) -> None:
    """Issue 24.2 and 24.3: events and alarms at the centre come from an enrolled school, signed with
    its key, about itself; a hostile field is refused by the message model before it is stored."""
    key = site_key(SITE)
    alarm = AlarmMessage(
        id=900001, site=SITE, kind=AlarmKind.ONE_CLICK, reason="forged", raised_by="x",
        time="2026-11-28T23:00:00+08:00",
    )  # fmt: skip
    hostile = json.dumps({**alarm.model_dump(mode="json"), "time": "<img src=x onerror=alert(1)>"})
    attempts = [
        (f"{PREFIX}/No1-Middle-School/alarms", alarm.model_dump_json()),  # unsigned
        (f"{PREFIX}/No1-Middle-School/alarms", sign(alarm, "1" * 64).model_dump_json()),  # another key
        (f"{PREFIX}/Evil-School/alarms", sign(alarm.model_copy(update={"site": "Evil School"}), key).model_dump_json()),
        (f"{PREFIX}/No1-Middle-School/alarms", sign(alarm.model_copy(update={"site": "Other"}), key).model_dump_json()),
        (f"{PREFIX}/No1-Middle-School/alarms", hostile),
    ]
    before = district.center.output().count("skipped a message") + district.center.output().count("refused a message")
    sender = Subscriber(broker.port, f"{PREFIX}/none")
    try:
        for topic, payload in attempts:
            sender.client.publish(topic, payload, qos=1).wait_for_publish(10)

        def refused() -> int:
            log = district.center.output()
            return log.count("skipped a message") + log.count("refused a message") - before

        wait_for(lambda: refused() >= len(attempts), 30, "the centre to refuse each message")
        assert "onerror" not in district.center.output()  # the refusal names the field, not its text
        sender.client.publish(f"{PREFIX}/No1-Middle-School/alarms", sign(alarm, key).model_dump_json(), qos=1)
        center = district.center_client()
        wait_for(lambda: [a for a in center.get("/api/alarms").json() if a["alarm_id"] == 900001], 30, "the real one")
        assert [a["reason"] for a in center.get("/api/alarms").json() if a["alarm_id"] == 900001] == ["forged"]
    finally:
        sender.close()


def test_an_alert_nobody_handles_is_escalated_on_its_own(district: District) -> None:
    school = district.school.client("guard")

    def escalated() -> list[dict[str, Any]]:
        return [a for a in school.get("/api/alarms").json() if a["kind"] == "automatic"]

    alarm = wait_for(escalated, 90, "an automatic escalation")[0]
    assert alarm["event_id"] and alarm["raised_by"] == "gatewatch" and alarm["camera"] == "gate"
    event = query(district.school.db, "SELECT status, created_at FROM events WHERE id = ?", alarm["event_id"])[0]
    assert event["status"] == "new"  # nobody had handled it
    # Each alert is escalated once, however long it stays unhandled
    counted = query(district.school.db, "SELECT count(*) AS n FROM alarms WHERE event_id = ?", alarm["event_id"])[0][
        "n"
    ]
    assert counted == 1
    center = district.center_client()

    def at_centre() -> dict[str, Any] | None:
        return next((a for a in center.get("/api/alarms").json() if a["event_id"] == alarm["event_id"]), None)

    wait_for(at_centre, 30, "the escalation at the centre")
    # Its event's evidence is on the alarm itself (issue 23.2): the thumbnail, and the files verified
    shown = wait_for(lambda: (a := at_centre()) and a["evidence"].get("snapshot") == "verified" and a, 60, "evidence")
    assert shown["has_thumbnail"] and shown["evidence"]["crop"] == "verified" and shown["camera_name"] == "北门"
    # A guard handles the alert after all: the centre's alarm says who did what, and when (issue 23.1)
    reviewed = school.post(f"/api/events/{alarm['event_id']}/review", json={"action": "false_alarm", "note": "树影"})
    assert reviewed.status_code == 200, reviewed.text
    stale = wait_for(lambda: (a := at_centre()) and a["event_status"] == "false_alarm" and a, 30, "the handling")
    assert stale["status"] == "open" and stale["handled_by"] == "guard" and stale["handled_note"] == "树影"
    assert stale["handled_at"].endswith("+08:00")  # the school's clock


def test_each_event_reaches_the_centre_with_its_evidence_verified(district: District, browser: Any) -> None:
    """Issue 23.2: the thumbnail in the message, the snapshot, crop and clip pushed by the school,
    each checked against the SHA-256 the school signed; the officer sees them without a login to
    the school, and a file changed at the centre is shown as altered, never as the school's."""
    center = district.center_client()
    topic = topic_level(SITE)

    def complete() -> dict[str, Any] | None:
        pieces = {"snapshot": "verified", "crop": "verified", "clip": "verified"}
        return next((e for e in center.get("/api/events").json() if e["evidence"] == pieces), None)

    event = wait_for(complete, 90, "an event with its snapshot, crop and clip verified at the centre")
    assert event["has_thumbnail"] and event["site_topic"] == topic and event["camera_name"] == "北门"
    paths = "SELECT snapshot_path, crop_path, clip_path FROM events WHERE id = ?"
    stored = query(district.school.db, paths, event["id"])
    for piece, path in zip(("snapshot", "crop", "clip"), stored[0], strict=True):
        answer = center.get(f"/api/evidence/{topic}/{event['id']}/{piece}")
        assert answer.status_code == 200 and answer.content == Path(path).read_bytes(), piece  # the school's own bytes
    thumbnail = center.get(f"/api/evidence/{topic}/{event['id']}/thumbnail")
    assert thumbnail.headers["content-type"] == "image/jpeg" and len(thumbnail.content) <= THUMBNAIL_BYTES
    assert thumbnail.content.startswith(b"\xff\xd8")
    # Its signed message named each piece by its digest (the clip once a later message carried it)
    payload = query(district.folder / "center.db", "SELECT payload FROM center_events WHERE event_id = ?", event["id"])
    message = json.loads(payload[0]["payload"])
    assert {ref["piece"] for ref in message["evidence"]} >= {"snapshot", "crop"}
    # Nobody without a login at the centre reads them
    assert httpx.get(f"{district.center_url}/api/evidence/{topic}/{event['id']}/snapshot").status_code == 401
    # The officer sees the thumbnail and "verified" on the centre's page
    page = browser.new_page(locale="zh-CN")
    log_in(page, district.center_url, "district")
    row = f"#rows tr[data-id='{event['id']}']"
    page.wait_for_selector(f"{row} [data-piece=clip][data-state=verified]")
    assert "已核验" in page.inner_text(f"{row} [data-piece=snapshot]") and "北门" in page.inner_text(row)
    page.wait_for_function(f'() => document.querySelector("{row} img.thumb")?.naturalWidth > 0')
    # A file changed on the centre's disk is refused and shown as altered
    crop = next((district.folder / "center-evidence" / topic).glob(f"{event['id']}-crop.jpg"))
    crop.write_bytes(crop.read_bytes()[:-10] + b"0123456789")
    assert center.get(f"/api/evidence/{topic}/{event['id']}/crop").status_code == 409
    listed = next(e for e in center.get("/api/events").json() if e["id"] == event["id"])
    assert listed["evidence"]["crop"] == "altered" and listed["evidence"]["snapshot"] == "verified"
    page.reload()
    page.wait_for_selector(f"{row} [data-piece=crop][data-state=altered]")
    page.close()


def test_the_alarm_button_and_the_centre_page_in_the_browser(district: District, browser: Any) -> None:
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    log_in(page, district.school.url, "guard")
    page.wait_for_selector("#alerts")
    assert page.inner_text("#alarm-button") == "一键报警"
    page.on("dialog", lambda dialog: pytest.fail(f"a dialog asked: {dialog.message}"))  # issue 22.2: none
    page.click("#alarm-button")  # the first tap arms it (a press in a pocket raises nothing)...
    assert page.inner_text("#alarm-button") == "再按一次立即报警"
    page.click("#alarm-button")  # ...the second raises it, with no reason to type first
    row = page.wait_for_selector("#alarm-list .alarm-row.open form.alarm-reason")
    alarm_id = row.evaluate("form => form.closest('[data-alarm]').dataset.alarm")
    raised = query(district.school.db, "SELECT reason, raised_by FROM alarms WHERE id = ?", int(alarm_id))[0]
    assert dict(raised) == {"reason": "", "raised_by": "guard"}  # stored and sent at once
    # The reason, added after: stored, and sent again to the centre, which shows it
    page.fill(f"[data-alarm='{alarm_id}'] input[name=reason]", "校门口有可疑人员")
    # Another alarm draws the list again while the guard is typing: what was typed stays
    other = district.school.client("guard").post("/api/alarms", json={}).json()["id"]
    page.wait_for_selector(f"#alarm-list [data-alarm='{other}']")
    assert page.input_value(f"[data-alarm='{alarm_id}'] input[name=reason]") == "校门口有可疑人员"
    page.click(f"[data-alarm='{alarm_id}'] form.alarm-reason button")
    page.wait_for_selector(f"#alarm-list [data-alarm='{alarm_id}']:has-text('校门口有可疑人员')")
    # The district officer confirms it on the centre's page, in the same browser (cookies do not
    # tell ports apart: the box and the centre name their session cookies differently, so logging
    # into one does not log the other out); the school's page shows it at once
    centre = context.new_page()
    log_in(centre, district.center_url, "district")
    # A locator, not an element: a new escalation may draw the list again between finding and clicking
    centre.locator(".alarm-row.open:has-text('校门口有可疑人员') [data-ack]").click(timeout=30_000)
    confirmed = centre.wait_for_selector(".alarm-row.acknowledged:has-text('校门口有可疑人员')").inner_text()
    # In the school's clock (Asia/Shanghai), raised and confirmed alike, never the centre's UTC
    assert confirmed.count("UTC+08:00") == 2 and "UTC+00:00" not in confirmed, confirmed
    page.wait_for_selector(f"#alarm-list [data-alarm='{alarm_id}'].acknowledged", timeout=30_000)
    assert "district" in page.inner_text(f"#alarm-list [data-alarm='{alarm_id}']")
    # The officer logs out of the centre (issue 23.1): its session is gone, the school's is not
    centre.click("#logout")
    centre.wait_for_url("**/login**")
    centre.goto(district.center_url)
    centre.wait_for_url("**/login**")
    page.reload()  # still logged in at the school
    page.wait_for_selector("#alarm-button")
    # A drill (issue 23.4): two taps as for an alarm, marked as a drill here and at the centre
    page.click("#drill-button")
    assert page.inner_text("#drill-button") == "再按一次开始演练"
    page.click("#drill-button")
    page.wait_for_selector("#alarm-list .alarm-row:has-text('报警演练')")
    drills = lambda: [a for a in district.center_client().get("/api/alarms").json() if a["kind"] == "drill"]  # noqa: E731
    assert wait_for(drills, 30, "the drill at the centre")[0]["priority"] == 3  # after every real alarm
    context.close()


def test_a_confirmation_given_while_the_broker_is_away_reaches_the_school_later(tmp_path: Path, live: Servers) -> None:
    """The officer confirms while the broker is down, and the centre is restarted before it comes
    back: the confirmation is in the centre's database, not only in a client's memory, and is
    sent once the broker is there again. (Its own broker: the session's is never stopped.)"""
    broker = live(Broker(tmp_path)).start()
    port = free_port()
    center = live(start_center(tmp_path, broker.port, port, sites=("No2 School",)))
    school = live(Subscriber(broker.port))  # stands in for a school: publishes an alarm, reads the confirmation
    try:
        url = f"http://127.0.0.1:{port}"
        officer = httpx.Client(base_url=url, timeout=10)
        wait_for(lambda: _logged_in(officer), 30, "the centre's web server")
        wait_for(lambda: officer.get("/api/health").json()["broker_connected"], 30, "the centre on the broker")
        alarm = AlarmMessage(
            id=7, site="No2 School", kind=AlarmKind.ONE_CLICK, reason="有人翻墙", raised_by="guard",
            time="2026-11-28T23:00:00+08:00",
        )  # fmt: skip
        signed = sign(alarm, site_key("No2 School")).model_dump_json()
        school.client.publish("gatewatch/No2-School/alarms", signed, qos=1)
        wait_for(lambda: officer.get("/api/alarms").json(), 30, "the alarm at the centre")
        school.close()
        broker.stop()
        wait_for(lambda: not officer.get("/api/health").json()["broker_connected"], 30, "the broker gone")
        assert officer.post("/api/alarms/No2-School/7/ack").status_code == 200
        row = query(tmp_path / "center.db", "SELECT status, ack_sent_at FROM center_alarms")[0]
        assert row["status"] == "acknowledged" and row["ack_sent_at"] is None
        assert center.stop() == 0
        broker = live(Broker(tmp_path, broker.port)).start()
        center.start()
        school = live(Subscriber(broker.port))
        back = wait_for(lambda: school.on("/No2-School/alarms/7/ack"), 60, "the confirmation at the school")
        assert json.loads(back[0][2])["by"] == "district"
        later = live(Subscriber(broker.port))  # retained: a school that connects afterwards reads it too
        try:
            kept = wait_for(lambda: later.on("/No2-School/alarms/7/ack"), 30, "the retained confirmation")
            assert kept[0][3] and json.loads(kept[0][2])["by"] == "district"
        finally:
            later.close()
        sent = lambda: query(tmp_path / "center.db", "SELECT ack_sent_at FROM center_alarms")[0]["ack_sent_at"]  # noqa: E731
        wait_for(sent, 10, "the confirmation marked sent")
    finally:
        school.close()
        center.stop()
        broker.stop()
    assert "Traceback" not in center.output(), center.output()


def _logged_in(client: httpx.Client) -> bool:
    try:
        return client.post("/api/login", json={"username": "district", "password": PASSWORD}).is_success
    except httpx.HTTPError:
        return False
