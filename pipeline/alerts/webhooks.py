"""Webhooks: each event POSTed as JSON to a configured URL (a district system, a chat bot).

At least once: a POST whose answer was lost is sent again, with the same `Idempotency-Key`
header (the delivery's id) and the same body; a receiver that keeps the keys it has seen can
drop the repeat."""

from __future__ import annotations

import httpx

from pipeline.alerts.outbox import DeliveryError
from pipeline.config import WebhookConfig
from pipeline.messages import AlarmMessage, EventMessage
from pipeline.redact import redact


class WebhookSender:
    def __init__(self, config: WebhookConfig) -> None:
        self.config = config
        self.client = httpx.Client(timeout=config.timeout_s, headers=config.headers, follow_redirects=False)

    @property
    def label(self) -> str:
        return redact(self.config.url.split("?", 1)[0])  # query strings often carry tokens

    def send(self, message: EventMessage | AlarmMessage, key: str) -> None:
        try:
            response = self.client.post(
                self.config.url, json=message.model_dump(mode="json"), headers={"Idempotency-Key": key}
            )
        except Exception as exc:  # httpx's texts repeat the URL, which may carry a token: the kind only
            raise DeliveryError(f"{self.label}: {type(exc).__name__}") from None
        if not response.is_success:
            raise DeliveryError(f"{self.label}: HTTP {response.status_code}")
