"""Webhooks: each event and alarm POSTed to a configured URL, as gatewatch's own JSON (a district
system) or as a chat group robot's markdown message (`kind: wecom`, 企业微信, followed by the
snapshot's thumbnail as an image message; `kind: dingtalk`, 钉钉, with its signed URL: its robots
show pictures only from a public URL, which gatewatch does not publish), worded in the site's
language with its camera names.

At least once: a POST whose answer was lost is sent again, with the same `Idempotency-Key`
header (the delivery's id) and the same body; a receiver that keeps the keys it has seen can
drop the repeat. A chat robot answers HTTP 200 even when it refuses a message: its `errcode`
says, and anything but 0 is a failed try (retried, and logged with the robot's own words)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import datetime
from urllib.parse import quote_plus

import httpx

from pipeline.alerts.outbox import DeliveryError
from pipeline.config import Config, WebhookConfig
from pipeline.messages import AlarmMessage, CameraTrouble, EventMessage, Outgoing
from pipeline.redact import redact
from pipeline.vocabulary import MessageCode
from pipeline.wording import Message, name, say, zone_word


class WebhookSender:
    def __init__(self, config: WebhookConfig, site: Config) -> None:
        """`site`: its language, clock and place names, for a chat message."""
        self.config = config
        self.site = site
        self.client = httpx.Client(timeout=config.timeout_s, headers=config.headers, follow_redirects=False)

    @property
    def label(self) -> str:
        return redact(self.config.url.split("?", 1)[0])  # query strings often carry tokens

    def send(self, message: Outgoing, key: str) -> None:
        if isinstance(message, CameraTrouble):  # never queued here (alarm receivers only)
            return
        if self.config.kind == "json":
            self._post(message.model_dump(mode="json"), key)
            return
        self._post(self._chat(message), key)
        if self.config.kind == "wecom" and message.thumbnail:
            # WeCom robots take a picture as its own message (base64 + MD5), right after the text
            picture = base64.b64decode(message.thumbnail)
            image = {"base64": message.thumbnail, "md5": hashlib.md5(picture, usedforsecurity=False).hexdigest()}
            self._post({"msgtype": "image", "image": image}, f"{key}-image")

    def _post(self, body: dict[str, object], key: str) -> None:
        try:
            response = self.client.post(self._url(), json=body, headers={"Idempotency-Key": key})
        except Exception as exc:  # httpx's texts repeat the URL, which may carry a token: the kind only
            raise DeliveryError(f"{self.label}: {type(exc).__name__}") from None
        if not response.is_success:
            raise DeliveryError(f"{self.label}: HTTP {response.status_code}")
        if self.config.kind != "json":
            try:
                answer = response.json()
            except ValueError:
                raise DeliveryError(f"{self.label}: the robot's answer is not JSON") from None
            if answer.get("errcode") != 0:
                words = str(answer.get("errmsg", ""))[:200]
                raise DeliveryError(f"{self.label}: errcode {answer.get('errcode')} {words}")

    def _url(self) -> str:
        """DingTalk's signed URL: the time in ms and HMAC-SHA256 of "time\\nsecret" with the secret."""
        if self.config.kind != "dingtalk" or not self.config.secret:
            return self.config.url
        stamp = str(round(time.time() * 1000))
        digest = hmac.new(self.config.secret.encode(), f"{stamp}\n{self.config.secret}".encode(), hashlib.sha256)
        return f"{self.config.url}&timestamp={stamp}&sign={quote_plus(base64.b64encode(digest.digest()))}"

    def _chat(self, message: EventMessage | AlarmMessage) -> dict[str, object]:
        language, places = self.site.language, self.site.places
        moment = datetime.fromisoformat(message.time)
        when = f"{moment:%Y-%m-%d %H:%M:%S} {zone_word(self.site.timezone, language) or f'{moment:%z}'}"
        link = (
            Message(MessageCode.CHAT_LINK, {"url": message.snapshot_url}).text(language) if message.snapshot_url else ""
        )
        if isinstance(message, AlarmMessage):
            reason = message.reason_message
            worded = Message(
                MessageCode.CHAT_ALARM,
                {
                    "kind": name(message.kind, language),
                    "id": str(message.id),
                    "site": message.site,
                    "time": when,
                    "by": message.raised_by,
                    "reason": say(Message(reason.code, reason.values) if reason else None, message.reason, language)
                    or "—",
                    "link": link,
                },
            )
        else:
            worded = Message(
                MessageCode.CHAT_EVENT,
                {
                    "kind": name(message.kind, language),
                    "site": message.site,
                    "camera": places.camera(message.camera),
                    "line": places.line(message.camera, message.line),
                    "time": when,
                    "status": message.status,
                    "link": link,
                },
            )
        title = f"{name(message.kind, language)} · {message.site}"
        text = worded.text(language).strip()
        if self.config.kind == "dingtalk":
            return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}
        return {"msgtype": "markdown", "markdown": {"content": text}}
