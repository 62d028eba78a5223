"""WeCom (企业微信) and DingTalk (钉钉) group robots as webhook kinds (issue 23.3): gatewatch's sender
against a local HTTP receiver that checks what those robots check (their documented message
format, DingTalk's signed URL) and answers as they do (HTTP 200 with an `errcode`)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import cv2
import numpy as np
import pytest

from pipeline.alerts.outbox import DeliveryError
from pipeline.alerts.webhooks import WebhookSender
from pipeline.config import WebhookConfig, load_config
from pipeline.messages import AlarmMessage, EventMessage, MessageView
from pipeline.vocabulary import AlarmKind, EventKind, EventStatus, MessageCode

from .conftest import DEMO_CONFIG

SECRET = "SECtest0123456789abcdef"  # what DingTalk shows for a robot with signing on
WECOM_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"


class Robots:
    """Answers as WeCom's `/cgi-bin/webhook/send?key=` and DingTalk's `/robot/send?access_token=` do."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any]]] = []
        robots = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                url = urlsplit(self.path)
                query = parse_qs(url.query)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                answer = robots.check(url.path, query, body)
                if answer["errcode"] == 0:
                    robots.received.append((url.path, body))
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def check(self, path: str, query: dict[str, list[str]], body: dict[str, Any]) -> dict[str, Any]:
        if path == "/cgi-bin/webhook/send":
            if query.get("key") != [WECOM_KEY]:
                return {"errcode": 93000, "errmsg": "invalid webhook url"}
            if body.get("msgtype") == "image":  # base64 of a JPG/PNG of at most 2 MB, and its MD5
                image = body.get("image", {})
                picture = base64.b64decode(image.get("base64", ""))
                if not picture.startswith((b"\xff\xd8", b"\x89PNG")) or len(picture) > 2_000_000:
                    return {"errcode": 301019, "errmsg": "media size out of limit or not an image"}
                if hashlib.md5(picture).hexdigest() != image.get("md5"):
                    return {"errcode": 301019, "errmsg": "md5 not match"}
                return {"errcode": 0, "errmsg": "ok"}
            content = body.get("markdown", {}).get("content", "")
            if body.get("msgtype") != "markdown" or not content or len(content.encode()) > 4096:
                return {"errcode": 40008, "errmsg": "invalid message type"}
            return {"errcode": 0, "errmsg": "ok"}
        stamp, sign = query.get("timestamp", [""])[0], query.get("sign", [""])[0]
        expected = base64.b64encode(hmac.new(SECRET.encode(), f"{stamp}\n{SECRET}".encode(), hashlib.sha256).digest())
        if not stamp or abs(time.time() * 1000 - int(stamp)) > 3_600_000 or sign != expected.decode():
            return {"errcode": 310000, "errmsg": "sign not match"}
        markdown = body.get("markdown", {})
        if body.get("msgtype") != "markdown" or not markdown.get("title") or not markdown.get("text"):
            return {"errcode": 40035, "errmsg": "missing parameter"}
        return {"errcode": 0, "errmsg": "ok"}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def robots() -> Iterator[Robots]:
    found = Robots()
    yield found
    found.close()


SITE = load_config(DEMO_CONFIG)
THUMBNAIL = base64.b64encode(cv2.imencode(".jpg", np.full((180, 320, 3), 90, np.uint8))[1].tobytes()).decode()
EVENT = EventMessage(
    id=12, site="第一中学", kind=EventKind.UNREGISTERED_ENTRY, camera="north-gate", line="gate", direction=None,
    time="2026-12-05T22:10:00+08:00", status=EventStatus.NEW, reason=None, closed=None,
    snapshot_url="https://box.school.example/api/events/12/snapshot", crop_url="x", thumbnail=THUMBNAIL,
)  # fmt: skip
UNHANDLED = MessageView(code=MessageCode.UNHANDLED, values={"event": "12", "camera": "north-gate", "line": "gate",
                                                            "after": "300"})  # fmt: skip
ALARM = AlarmMessage(
    id=5, site="第一中学", kind=AlarmKind.AUTOMATIC, camera="north-gate", event_id=12, reason="", raised_by="gatewatch",
    reason_message=UNHANDLED,
    time="2026-12-05T22:15:00+08:00", snapshot_url="https://box.school.example/api/events/12/snapshot",
)  # fmt: skip


def test_an_event_in_a_wecom_group(robots: Robots) -> None:
    url = f"{robots.url}/cgi-bin/webhook/send?key={WECOM_KEY}"
    WebhookSender(WebhookConfig(url=url, kind="wecom"), SITE).send(EVENT, "k1")
    assert robots.received[0][0] == "/cgi-bin/webhook/send"
    # The snapshot's thumbnail follows as an image message (the robot checked its MD5)
    assert [body["msgtype"] for _, body in robots.received] == ["markdown", "image"]
    assert base64.b64decode(robots.received[1][1]["image"]["base64"]) == base64.b64decode(THUMBNAIL)
    body = robots.received[0][1]
    content = body["markdown"]["content"]
    assert content.startswith("### 未登记进入 · 第一中学")
    assert "2026-12-05 22:10:00 北京时间" in content and "状态：新告警" in content  # noqa: RUF001
    assert SITE.places.camera("north-gate") in content
    assert "[查看抓拍（需登录）](https://box.school.example/api/events/12/snapshot)" in content  # noqa: RUF001
    wrong = WebhookSender(WebhookConfig(url=f"{robots.url}/cgi-bin/webhook/send?key=old", kind="wecom"), SITE)
    with pytest.raises(DeliveryError, match="errcode 93000 invalid webhook url") as refused:
        wrong.send(EVENT, "k2")
    assert "key=" not in str(refused.value)  # the URL's token stays out of the log


def test_an_alarm_in_a_dingtalk_group_with_a_signed_url(robots: Robots) -> None:
    url = f"{robots.url}/robot/send?access_token=abc"
    WebhookSender(WebhookConfig(url=url, kind="dingtalk", secret=SECRET), SITE).send(ALARM, "k1")
    _path, body = robots.received[0]
    assert body["markdown"]["title"] == "告警超时自动上报 · 第一中学"
    text = body["markdown"]["text"]
    assert "### 告警超时自动上报 #5 · 第一中学" in text and "2026-12-05 22:15:00 北京时间" in text
    assert "报警人：gatewatch" in text and "告警 #12（north-gate/gate）300 秒内无人处理" in text  # noqa: RUF001
    unsigned = WebhookSender(WebhookConfig(url=url, kind="dingtalk", secret="SECanother"), SITE)
    with pytest.raises(DeliveryError, match="errcode 310000 sign not match"):
        unsigned.send(ALARM, "k2")
    assert len(robots.received) == 1
    with pytest.raises(ValueError, match="only a dingtalk webhook signs"):
        WebhookConfig(url=url, kind="wecom", secret=SECRET)
