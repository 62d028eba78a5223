"""Evidence to the district centre: each flagged event's snapshot, crop and clip, pushed to the
centre's `PUT /api/evidence/<site>/<event>/<piece>` so its officers see them without a login to
the school (which they do not have).

One more outbox target (`center`), queued when an event is flagged (snapshot and crop) and again
when its clip is written: retried with backoff until the centre has answered that it stored each
file, through a school's or the centre's outage. Each file goes with its SHA-256 and an HMAC of
that digest with the school's key (`signing.upload_signature`); the centre stores only what the
school signed, and checks it again against the signed message before an officer sees it.
"""

from __future__ import annotations

import contextlib
import hashlib
import ssl
from collections.abc import Callable
from pathlib import Path

import httpx

from pipeline.alerts.outbox import DeliveryError
from pipeline.config import CenterLinkConfig
from pipeline.messages import EventMessage, Outgoing, topic_level
from pipeline.redact import redact
from pipeline.signing import upload_signature
from pipeline.vocabulary import EvidencePiece

SHA256_HEADER = "X-Gatewatch-Sha256"
SIGNATURE_HEADER = "X-Gatewatch-Signature"
CONTENT_TYPE = "application/octet-stream"  # the piece says what it is


class EvidencePush:
    def __init__(
        self, config: CenterLinkConfig, site: str, key: str, files: Callable[[int], dict[EvidencePiece, Path]]
    ) -> None:
        """`files`: an event's evidence files as they are on disk now, by its id."""
        self.config = config
        self.site_topic = topic_level(site)
        self.key = key
        self.files = files
        verify: ssl.SSLContext | bool = True
        if config.ca_file is not None:
            verify = ssl.create_default_context(cafile=str(config.ca_file))
        self.client = httpx.Client(timeout=config.timeout_s, verify=verify, follow_redirects=False)

    def send(self, message: Outgoing, key: str) -> None:
        """Every piece the message names, each as its own PUT (a repeat is stored once)."""
        if not isinstance(message, EventMessage):  # an alarm's evidence is its event's, pushed with the event
            return
        files = self.files(message.id)
        for ref in message.evidence:
            path = files.get(ref.piece)
            if path is None:  # pruned since: nothing left to send
                continue
            data = path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            self._put(message.id, ref.piece, data, digest)

    def _put(self, event_id: int, piece: EvidencePiece, data: bytes, digest: str) -> None:
        url = f"{self.config.url}/api/evidence/{self.site_topic}/{event_id}/{piece}"
        headers = {
            "Content-Type": CONTENT_TYPE,
            SHA256_HEADER: digest,
            SIGNATURE_HEADER: upload_signature(self.key, self.site_topic, event_id, piece, digest),
        }
        where = f"centre {redact(self.config.url)}"
        try:
            response = self.client.put(url, content=data, headers=headers)
        except Exception as exc:
            raise DeliveryError(f"{where}: {type(exc).__name__}") from None
        if not response.is_success:
            detail = ""
            with contextlib.suppress(ValueError, AttributeError):  # the centre's own words, when it gave any
                detail = f": {str(response.json().get('detail', ''))[:200]}"
            raise DeliveryError(f"{where}: HTTP {response.status_code} for event #{event_id}'s {piece}{detail}")
