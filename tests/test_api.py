"""The guard web UI's JSON API in process (tests/box.py): the real app over the demo's analysed
database (two unregistered entries with their snapshots, crops and clips), users in it, and the
north gate replayed as its live camera. Login and every route behind it, reviews that change the
database, quick registration, limits and validation. `gatewatch serve` end to end is in
test_web.py, test_serve.py and test_alarms.py."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from starlette.testclient import TestClient

from pipeline import review
from pipeline.wording import Message

from .box import WebBox, replay, web_box
from .conftest import SAMPLE
from .live import PASSWORD, query

PUBLIC = {("/api/login", "post"), ("/api/health", "get")}


@pytest.fixture
def box(analysed: Path) -> WebBox:
    """The demo's analysis (this test's copy) served, with the north gate in a group `main`."""
    config = analysed / "configs" / "demo.yaml"
    settings = yaml.safe_load(config.read_text())
    config.write_text(yaml.safe_dump({**settings, "groups": {"main": ["north-gate"]}}))
    frames = {"north-gate": replay(SAMPLE, 2)}
    return web_box(config, analysed / "out" / "gatewatch.db", analysed / "out" / "snapshots", frames=frames)


def open_events(api: Any, count: int = 1) -> list[dict[str, Any]]:
    events = api.get("/api/events", params={"status": "new"}).json()
    assert len(events) >= count, events
    return events


def test_every_api_route_needs_a_login(box: WebBox) -> None:
    # The docs too (README: a map of the API is for people with a login).
    anonymous = box.client(None)
    assert anonymous.get("/openapi.json").status_code == 401
    assert anonymous.get("/docs", follow_redirects=False).headers["location"] == "/login"
    api = box.client("guard")
    assert "swagger-ui-bundle.js" in api.get("/docs").text
    spec = api.get("/openapi.json").json()
    checked = 0
    for path, methods in spec["paths"].items():
        concrete = re.sub(r"\{[^}]+\}", "1", path)
        for method in methods:
            if (path, method) in PUBLIC:
                continue
            if path.endswith("/registrations/import"):  # reads CSV
                response = anonymous.request(
                    method.upper(), concrete, content="x", headers={"Content-Type": "text/csv"}
                )
            elif path.endswith("/photo"):  # reads a picture
                response = anonymous.request(
                    method.upper(), concrete, content=b"x", headers={"Content-Type": "application/octet-stream"}
                )
            else:
                response = anonymous.request(method.upper(), concrete, json={})
            assert response.status_code == 401, (method, path, response.status_code, response.text)
            checked += 1
    assert checked >= 15


def test_openapi_documents_the_models_of_requests_and_answers(box: WebBox) -> None:
    spec = box.client("guard").get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    listed = spec["paths"]["/api/events"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert listed["items"]["$ref"] == "#/components/schemas/EventView"
    assert schemas["EventStatus"]["enum"] == ["new", "acknowledged", "false_alarm", "authorized"]
    for model in ("EventDetail", "Review", "RegistrationView", "Registered", "Imported", "CameraStatus", "UserView"):
        assert schemas[model]["properties"], model
    cameras = spec["paths"]["/api/cameras"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert cameras["items"]["$ref"] == "#/components/schemas/CameraStatus"
    anonymous = box.client(None)
    assert anonymous.get("/api/health").status_code == 200
    assert anonymous.get("/", follow_redirects=False).headers["location"] == "/login"
    # A made-up token is no better than none
    forged = anonymous.get("/api/events", headers={"Authorization": "Bearer not-a-session"})
    assert forged.status_code == 401


def test_login_is_checked_and_logout_ends_the_session(box: WebBox) -> None:
    anonymous = box.client(None)
    bad = anonymous.post("/api/login", json={"username": "guard", "password": "wrong-password"})
    assert bad.status_code == 401 and "wrong user name or password" in bad.json()["detail"]
    token = anonymous.post("/api/login", json={"username": "guard", "password": PASSWORD}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    fresh = box.client(None)  # no cookie: the token alone
    assert fresh.get("/api/me", headers=headers).json() == {"username": "guard", "role": "guard"}
    assert fresh.post("/api/logout", headers=headers).status_code == 200
    assert fresh.get("/api/me", headers=headers).status_code == 401
    stored = [r["token_hash"] for r in query(box.db, "SELECT token_hash FROM sessions")]
    assert token not in stored  # only a hash of the token is kept
    assert all(len(h) == 64 for h in stored)
    password_hashes = [r[0] for r in query(box.db, "SELECT password_hash FROM users")]
    assert all(h.startswith("$argon2") and PASSWORD not in h for h in password_hashes)


def test_review_changes_the_database_and_refuses_what_is_final(box: WebBox) -> None:
    api = box.client("guard")
    event = open_events(api)[-1]
    response = api.post(f"/api/events/{event['id']}/review", json={"action": "acknowledged", "note": "on my way"})
    assert response.status_code == 200 and response.json()["status"] == "acknowledged"
    row = query(box.db, "SELECT status FROM events WHERE id = ?", event["id"])[0]
    review = query(box.db, "SELECT * FROM event_reviews WHERE event_id = ?", event["id"])[-1]
    assert row["status"] == "acknowledged" and review["by"] == "guard" and review["note"] == "on my way"
    assert api.post(f"/api/events/{event['id']}/review", json={"action": "false_alarm"}).status_code == 200
    again = api.post(f"/api/events/{event['id']}/review", json={"action": "authorized"})
    assert again.status_code == 409 and "False alarm already (by guard" in again.json()["detail"]
    handled = Message(**again.json()["messages"][0])  # and as a code, for the console to word
    assert handled.text("zh").startswith(f"告警 #{event['id']} 已是“误报”") and "已是最终状态" in handled.text("zh")
    shown = api.get(f"/api/events/{event['id']}").json()
    assert [h["to_status"] for h in shown["history"]] == ["acknowledged", "false_alarm"]


def test_quick_registration_authorizes_the_open_alert_it_explains(box: WebBox) -> None:
    api = box.client("guard")
    event = open_events(api)[0]
    body = {
        "scope": "main",
        "name": "王芳",
        "ref": "V-0042",
        "reason": "parent",
        "at": event["time"],
        "window_minutes": 0.5,
    }
    response = api.post("/api/registrations", json=body)
    assert response.status_code == 201, response.text
    result = response.json()
    assert event["id"] in result["authorized_events"]
    row = query(box.db, "SELECT status, registration_id FROM events WHERE id = ?", event["id"])[0]
    assert row["status"] == "authorized" and row["registration_id"] == result["registration"]["id"]
    stored = query(box.db, "SELECT * FROM registrations WHERE id = ?", result["registration"]["id"])[0]
    assert stored["name"] == "王芳" and stored["created_by"] == "guard" and stored["origin"] == "web"
    listed = api.get("/api/registrations", params={"since": "2026-11-28T22:00:00"}).json()  # the demo's night
    assert any(r["id"] == stored["id"] and r["left"] == 0 for r in listed)


def test_malformed_input_gets_422_with_a_clear_message(box: WebBox) -> None:
    api = box.client("guard")
    response = api.post("/api/registrations", json={"scope": "north-gate", "count": 0})
    assert response.status_code == 422
    assert "body.count: Input should be greater than or equal to 1" in response.json()["detail"]
    unknown = api.post("/api/registrations", json={"scope": "back-door"})
    assert unknown.status_code == 422 and "'back-door' is not a camera or group" in unknown.json()["detail"]
    assert api.post("/api/events/1/review", json={"action": "delete"}).status_code == 422
    assert api.get("/api/events/..%2F..%2Fetc%2Fpasswd/snapshot").status_code in (404, 422)  # no such route
    assert api.get("/api/events", params={"since": "yesterday-ish"}).status_code == 422
    assert api.post("/api/login", content=b"{not json", headers={"Content-Type": "application/json"}).status_code == 422


def test_oversized_uploads_are_refused(box: WebBox) -> None:
    admin = box.client("admin")
    big = b"time,camera,count\n" + b"2026-11-28 22:31,north-gate,1\n" * 80_000  # 2.3 MB
    response = admin.post("/api/registrations/import", content=big, headers={"Content-Type": "text/csv"})
    assert response.status_code == 413 and "too large" in response.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit still holds
        for _ in range(40):
            yield b"x" * 50_000

    chunked = admin.post("/api/registrations/import", content=chunks(), headers={"Content-Type": "text/csv"})
    assert chunked.status_code == 413
    small = b"time,camera,count,name\n2026-11-28 22:31,north-gate,1,Li Lei\nnot a time,north-gate,1,x\n"
    imported = admin.post("/api/registrations/import", content=small, headers={"Content-Type": "text/csv"})
    assert imported.status_code == 200, imported.text
    assert imported.json()["added"] == 1 and imported.json()["bad_rows"][0]["row"] == 3
    guard = box.client("guard")
    assert (
        guard.post("/api/registrations/import", content=small, headers={"Content-Type": "text/csv"}).status_code == 403
    )


def test_snapshots_are_served_by_event_id_only(box: WebBox) -> None:
    api = box.client("guard")
    event = open_events(api)[0]
    assert api.get(f"/api/events/{event['id']}/crop").content[:2] == b"\xff\xd8"
    # Even a row pointing outside the snapshot folder does not serve that file
    connection = sqlite3.connect(box.db)
    with connection:
        connection.execute("UPDATE events SET crop_path = '/etc/passwd' WHERE id = ?", [event["id"]])
    connection.close()
    assert api.get(f"/api/events/{event['id']}/crop").status_code == 404
    assert api.get("/api/events/999999/snapshot").status_code == 404


def test_users_are_managed_by_admins(box: WebBox) -> None:
    guard, admin = box.client("guard"), box.client("admin")
    new = {"username": "night-guard", "password": "long-enough-1", "role": "guard"}
    assert guard.post("/api/users", json=new).status_code == 403
    assert admin.post("/api/users", json=new).status_code == 201
    assert admin.post("/api/users", json=new).status_code == 409
    assert admin.post("/api/users", json={**new, "username": "x", "password": "short"}).status_code == 422
    assert "night-guard" in {u["username"] for u in admin.get("/api/users").json()}


def test_reports_and_camera_pages(box: WebBox) -> None:
    api = box.client("guard")
    today = datetime.now().astimezone().strftime("%Y-%m-%d")
    day = api.get("/reports/day", params={"date": today})
    assert day.status_code == 200 and "<html" in day.text.lower()
    assert api.get("/reports/month", params={"month": today[:7]}).status_code == 200
    invalid_month = api.get("/reports/month", params={"month": "2026-13"})
    assert invalid_month.status_code == 422 and "month '2026-13': write the month as YYYY-MM" in invalid_month.text
    invalid_day = api.get("/reports/day", params={"date": "2026-02-30"})
    assert invalid_day.status_code == 422 and invalid_day.json()["detail"].startswith("date '2026-02-30'")
    for path, value in (("month", "0000-01"), ("month", "9999-12"), ("day", "9999-12-31")):  # past the calendar
        beyond = api.get(f"/reports/{path}", params={"date" if path == "day" else path: value})
        assert beyond.status_code == 422 and beyond.json()["messages"][0]["values"] == {"value": value}
    cameras = api.get("/api/cameras").json()
    assert cameras[0]["name"] == "north-gate" and cameras[0]["state"] == "live"
    assert api.get("/api/cameras/nope/frame.jpg").status_code == 404


def test_authorize_registers_the_visitor_on_the_spot(box: WebBox) -> None:
    api = box.client("guard")
    event = open_events(api)[0]
    wrong = api.post(f"/api/events/{event['id']}/review", json={"action": "acknowledged", "visitor": {"name": "x"}})
    assert wrong.status_code == 422 and "visitor goes with action 'authorized'" in wrong.json()["detail"]
    body = {"action": "authorized", "note": "parent, late pick-up", "visitor": {"name": "李雷", "ref": "110101"}}
    response = api.post(f"/api/events/{event['id']}/review", json=body)
    assert response.status_code == 200 and response.json()["status"] == "authorized"
    row = query(box.db, "SELECT registration_id FROM events WHERE id = ?", event["id"])[0]
    registration = query(box.db, "SELECT * FROM registrations WHERE id = ?", row["registration_id"])[0]
    assert (registration["name"], registration["ref"], registration["scope"]) == ("李雷", "110101", "north-gate")
    assert registration["created_by"] == "guard" and registration["valid_from"] == event["time"]
    # An event that is already final is refused, and no registration is left behind
    before = len(query(box.db, "SELECT id FROM registrations"))
    again = api.post(f"/api/events/{event['id']}/review", json={**body, "visitor": {"name": "王五"}})
    assert again.status_code == 409
    assert len(query(box.db, "SELECT id FROM registrations")) == before


def test_out_of_range_input_is_422_or_404_never_500(box: WebBox) -> None:
    api = box.client("guard")
    assert api.get("/api/events/99999999999999999999999").status_code == 422
    assert api.get("/api/events/99999999999999999999999/crop").status_code == 422
    assert api.get("/api/events/9223372036854775807").status_code == 404
    review = {"action": "authorized", "registration_id": 99999999999999999999999}
    assert api.post("/api/events/1/review", json=review).status_code == 422
    for at in ("9999-12-31T23:00:00", "0001-01-01T00:00:00"):
        response = api.post("/api/registrations", json={"scope": "north-gate", "at": at})
        assert response.status_code == 422 and "between 2000 and 2099" in response.json()["detail"], response.text
    admin = box.client("admin")
    rows = b"time,camera,count\n2026-11-28 22:31,north-gate,99999999999999999999999\n9999-01-01 00:00,north-gate,1\n"
    imported = admin.post("/api/registrations/import", content=rows, headers={"Content-Type": "text/csv"})
    assert imported.status_code == 200, imported.text
    assert [b["row"] for b in imported.json()["bad_rows"]] == [2, 3] and imported.json()["added"] == 0

    def chunks() -> Iterator[bytes]:  # a JSON route, no Content-Length
        yield b'{"scope": "north-gate", "name": "'
        for _ in range(25):
            yield b"x" * 50_000
        yield b'"}'

    assert (
        api.post("/api/registrations", content=chunks(), headers={"Content-Type": "application/json"}).status_code
        == 413
    )


def test_every_answer_carries_a_content_security_policy_and_pages_run_only_their_own_scripts(box: WebBox) -> None:
    """Issue 24.3: a value that slips into a page unescaped still cannot run script."""
    api = box.client("admin")
    event_id = open_events(api)[0]["id"]
    for path in ("/", "/login", f"/events/{event_id}", "/docs", "/api/events"):
        response = api.get(path)
        assert response.status_code == 200, path
        policy = response.headers["content-security-policy"]
        nonce = re.search(r"'nonce-([\w-]+)'", policy).group(1)  # type: ignore[union-attr]
        assert "script-src 'self' 'nonce-" in policy and "'unsafe-inline'" not in policy.split("style-src")[0]
        assert "frame-ancestors 'none'" in policy and response.headers["x-content-type-options"] == "nosniff"
        scripts = re.findall(r"^\s*<script([^>]*)>", response.text, re.MULTILINE)
        assert all(f'nonce="{nonce}"' in attributes or "src=" in attributes for attributes in scripts), path
    assert api.get("/").headers["content-security-policy"] != api.get("/").headers["content-security-policy"]


def test_state_changes_only_from_the_box_s_own_pages_and_in_their_content_type(box: WebBox) -> None:
    """Issue 24.4: a page on another port of the same host imported visitors through an admin's
    browser (same-site, so the cookie went along). The browser's Origin / Sec-Fetch-Site decide."""
    admin = box.client("admin")
    csv = "time,camera,count,name\n2026-11-28 22:30:00,north-gate,1,访客\n"
    before = len(admin.get("/api/registrations").json())
    refused = [
        admin.post("/api/registrations/import", content=csv, headers={"Content-Type": "text/csv",
                                                                        "Origin": "http://box:9999"}),
        admin.post("/api/registrations/import", content=csv, headers={"Content-Type": "text/csv",
                                                                        "Sec-Fetch-Site": "same-site"}),
        admin.post("/api/registrations/import", content=csv, headers={"Content-Type": "text/plain"}),
        admin.post("/api/alarms", content='{"reason": "x"}', headers={"Content-Type": "text/plain"}),
        admin.post("/api/alarms", json={"reason": "x"}, headers={"Origin": "http://evil.example"}),
    ]  # fmt: skip
    assert [r.status_code for r in refused] == [403, 403, 415, 415, 403]
    assert len(admin.get("/api/registrations").json()) == before
    assert not admin.get("/api/alarms").json()
    same = admin.post(
        "/api/registrations/import", content=csv, headers={"Content-Type": "text/csv", "Origin": "http://box"}
    )
    assert same.status_code == 200, same.text
    assert admin.post("/api/alarms", json={"reason": "x"}, headers={"Sec-Fetch-Site": "same-origin"}).status_code == 201


def test_lenient_input_is_refused(box: WebBox) -> None:
    """Issue 24.13: `/api/events/1.0/clip` served event 1, `ADMIN` could be made beside `admin`,
    `{"disabled": "yes"}` counted as true and a NUL byte was stored in an alarm's reason."""
    admin = box.client("admin")
    event_id = open_events(admin)[0]["id"]
    assert admin.get(f"/api/events/{event_id}").status_code == 200
    for path in (f"/api/events/{event_id}.0", f"/api/events/{event_id}.0/snapshot", f"/api/events/+{event_id}"):
        answer = admin.get(path)
        assert answer.status_code == 422 and "digits only" in answer.text, (path, answer.text)
    twin = admin.post("/api/users", json={"username": "ADMIN", "password": "long-enough-1"})
    assert twin.status_code == 409 and "upper and lower case" in twin.json()["detail"]
    made = admin.post("/api/users", json={"username": "night.guard", "password": "long-enough-1"})
    assert made.status_code == 201
    for loose in ("yes", "true", 1, "1"):
        answer = admin.post("/api/users/night.guard/access", json={"disabled": loose})
        assert answer.status_code == 422, (loose, answer.text)
    assert admin.post("/api/users/night.guard/access", json={"disabled": True}).status_code == 200
    for text in ("gate\x00open", "gate\x1b[31m"):
        answer = admin.post("/api/alarms", json={"reason": text})
        assert answer.status_code == 422 and "control characters" in answer.text
        assert admin.post("/api/users", json={"username": "x", "password": "long-enough-1", "display_name": text}
                          ).status_code == 422  # fmt: skip
    assert not admin.get("/api/alarms").json()
    assert admin.post("/api/alarms", json={"reason": "两行\n说明"}).status_code == 201  # a line break is fine


def test_a_guesser_elsewhere_does_not_lock_the_guard_out(box: WebBox) -> None:
    """Issue 24.5, through the login route: wrong passwords from one address lock that address
    out of the name, not the guard on their own device."""
    guesser = TestClient(box.app, base_url="http://box", client=("10.9.9.9", 40000))
    guard = TestClient(box.app, base_url="http://box", client=("10.0.0.5", 40000))
    answers = [guesser.post("/api/login", json={"username": "guard", "password": f"guess-{n}"}).status_code
               for n in range(8)]  # fmt: skip
    assert answers[:5] == [401] * 5 and answers[-1] == 429
    assert guesser.post("/api/login", json={"username": "guard", "password": PASSWORD}).status_code == 429
    assert guard.post("/api/login", json={"username": "guard", "password": PASSWORD}).status_code == 200


def test_an_alarm_raised_in_one_tap_gets_its_reason_after(box: WebBox) -> None:
    """Issue 22.2: the one-click alarm needs no reason first; the one who raised it (or an admin)
    adds it once, and it is sent again."""
    guard, admin = box.client("guard"), box.client("admin")
    raised = guard.post("/api/alarms", json={})
    assert raised.status_code == 201 and raised.json()["reason"] == ""
    alarm_id = raised.json()["id"]
    assert admin.post("/api/alarms", json={}).status_code == 201
    other = admin.get("/api/alarms").json()[0]["id"]
    assert guard.post(f"/api/alarms/{other}/reason", json={"reason": "x"}).status_code == 403  # not theirs
    added = guard.post(f"/api/alarms/{alarm_id}/reason", json={"reason": "有人翻墙"})
    assert added.status_code == 200 and added.json()["reason"] == "有人翻墙"
    assert guard.post(f"/api/alarms/{alarm_id}/reason", json={"reason": "again"}).status_code == 409
    assert guard.post(f"/api/alarms/{alarm_id}/reason", json={"reason": ""}).status_code == 422
    assert guard.post("/api/alarms/999999/reason", json={"reason": "x"}).status_code == 404


def test_an_acknowledgement_can_be_taken_back_briefly_by_whoever_gave_it(
    box: WebBox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 22.4: batch actions can be undone for a short time (30 s), by the one who did them."""
    guard, admin = box.client("guard"), box.client("admin")
    first, second = (e["id"] for e in open_events(guard, 2)[:2])
    assert guard.post("/api/events/review", json={"ids": [first, second], "action": "acknowledged"}).status_code == 200
    not_theirs = admin.post("/api/events/undo", json={"ids": [first]}).json()
    assert not_theirs["changed"] == [] and "only they can undo it" in not_theirs["refused"][0]["detail"]
    assert guard.post("/api/events/undo", json={"ids": [first]}).json()["changed"] == [first]
    assert guard.get(f"/api/events/{first}").json()["status"] == "new"
    monkeypatch.setattr(review, "UNDO_S", 0.0)  # past the time
    late = guard.post("/api/events/undo", json={"ids": [second, first]}).json()
    assert late["changed"] == [] and "undo is for the first" in late["refused"][0]["detail"]
    assert "only an acknowledgement can be undone" in late["refused"][1]["detail"]


def test_the_monthly_report_downloads_as_pdf(box: WebBox) -> None:
    answer = box.client().get("/reports/month.pdf", params={"month": "2026-11", "note": "情况正常"})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    assert (
        answer.content.startswith(b"%PDF-")
        and 'filename="gatewatch-report-2026-11.pdf"' in answer.headers["content-disposition"]
    )
    assert box.client(None).get("/reports/month.pdf", params={"month": "2026-11"}).status_code == 401
