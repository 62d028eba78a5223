"""The guard's web UI against a running `gatewatch serve` (a looped clip as the camera), end to end:
in Debian's Chromium, a guard logs in, sees a live alert arrive and acknowledges it; wrong
passwords are throttled while the cameras keep running; behind a TLS proxy the session cookie is
secure. The API route by route is tested in process (test_api.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from .live import PASSWORD, Serve, cut_clip, query, wait_for, write_config


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    folder = tmp_path_factory.mktemp("web")
    clip = cut_clip(folder / "clip.mp4", 10)
    config = write_config(folder, {"side-gate": {"source": str(clip), "loop": True}}, groups={"main": ["side-gate"]})
    server = Serve(folder, config).start()
    yield server
    assert server.stop() == 0, server.output()
    assert "Traceback" not in server.output()


def test_guard_sees_a_live_alert_and_acknowledges_it(serve: Serve, browser: Any) -> None:
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{serve.url}/")
    assert page.url.endswith("/login")
    page.fill("input[name=username]", "guard")
    page.fill("input[name=password]", "wrong-password")
    page.click("button[type=submit]")
    page.wait_for_selector("#error:not([hidden])")
    assert "用户名或密码错误" in page.inner_text("#error")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#alerts")
    assert "实时告警" in page.inner_text("header")  # Chinese labels for a Chinese browser
    shown = {
        int(i.removeprefix("alert-")) for i in page.eval_on_selector_all("#alerts .alert", "els => els.map(e => e.id)")
    }
    # The next crossing of the looped clip arrives over the live feed
    newest = max(shown, default=0)
    card = page.wait_for_selector(
        f"#alerts .alert[data-status=new]:not({','.join(f'#alert-{i}' for i in shown) or '#none'})", timeout=40_000
    )
    event_id = int(card.get_attribute("id").removeprefix("alert-"))
    assert event_id > newest
    assert "未登记进入" in card.inner_text()
    page.wait_for_function("img => img.complete && img.naturalWidth === 640", arg=card.query_selector("img"))
    assert int(page.get_attribute("body", "data-beeps") or 0) >= 1  # the audible alert played
    card.query_selector(".note").fill("已到现场")
    card.query_selector("button[data-action=acknowledged]").click()
    page.wait_for_selector(f"#alert-{event_id}", state="detached")  # handled: it leaves the live list
    page.wait_for_selector("#undo-bar:not([hidden])")
    row = query(serve.db, "SELECT status FROM events WHERE id = ?", event_id)[0]
    review = query(serve.db, "SELECT * FROM event_reviews WHERE event_id = ?", event_id)[-1]
    assert row["status"] == "acknowledged" and review["by"] == "guard" and review["note"] == "已到现场"
    # English on request, and the camera page shows the live frame with its line
    page.goto(f"{serve.url}/?lang=en")
    page.click("[data-tab=cameras]")
    image = page.wait_for_selector("[data-camera=side-gate] img")
    page.wait_for_function("img => img.complete && img.naturalWidth === 640", arg=image)
    assert "Live" in page.inner_text("[data-camera=side-gate]")
    page.goto(f"{serve.url}/docs")  # the API docs, from the box itself
    page.wait_for_selector(".swagger-ui .opblock-summary-path")
    assert len(page.query_selector_all(".opblock")) >= 15
    context.close()
    assert requests and all(url.startswith(serve.url) for url in requests)  # nothing from the internet


def test_wrong_passwords_are_throttled_and_cameras_keep_running(serve: Serve) -> None:
    admin = serve.client("admin")
    user = {"username": "gate-2", "password": "long-enough-2", "role": "guard"}
    assert admin.post("/api/users", json=user).status_code == 201
    wrong = {"username": "gate-2", "password": "not-the-one"}
    answers = [httpx.post(f"{serve.url}/api/login", json=wrong, timeout=30) for _ in range(8)]
    codes = [a.status_code for a in answers]
    assert codes[:5] == [401] * 5 and 429 in codes[5:], codes
    refused = next(a for a in answers if a.status_code == 429)
    assert int(refused.headers["retry-after"]) >= 1 and "too many wrong passwords" in refused.json()["detail"]
    right = {"username": "gate-2", "password": "long-enough-2"}
    # Locked means locked: the right password waits too, then works once the wait is over.
    wait_for(lambda: httpx.post(f"{serve.url}/api/login", json=right).status_code == 200, 60, "the lock to pass")
    assert httpx.get(f"{serve.url}/api/health").json()["cameras"] == {"side-gate": "live"}


def test_session_cookie_is_secure_behind_https(serve: Serve) -> None:
    body = {"username": "guard", "password": PASSWORD}
    plain = httpx.post(f"{serve.url}/api/login", json=body)
    assert "secure" not in plain.headers["set-cookie"].lower()
    # A TLS proxy on the box (uvicorn trusts X-Forwarded-Proto from 127.0.0.1).
    proxied = httpx.post(f"{serve.url}/api/login", json=body, headers={"X-Forwarded-Proto": "https"})
    assert "; secure" in proxied.headers["set-cookie"].lower()
