"""Who sent a message: HMAC-SHA256 over its fields with the key a school and its district centre
share from enrolment.

Anyone who can publish to the broker can put any JSON on any topic a broker's ACL lets them. So
the school signs each event and alarm it sends, and the centre each confirmation; the receiver
checks the signature with that site's key before it believes a word. The signature covers
every field of the message (the alarm id and the site topic included), as canonical JSON: a
confirmation cannot be moved to another alarm or another school, nor its time changed. A file a
school pushes to its centre (evidence) is signed by its SHA-256 the same way.

Keys are secrets: they come from `${VAR}` in configuration, and never appear in a log line,
an error or a stored row.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import TypeVar

from pydantic import BaseModel

MIN_KEY_CHARS = 32  # `openssl rand -hex 32` gives 64; anything shorter than 32 can be guessed offline

Signed = TypeVar("Signed", bound=BaseModel)


class BadSignature(ValueError):
    """The message is not from who it says (no signature, or not made with the site's key)."""


def _digest(message: BaseModel, key: str) -> str:
    fields = message.model_dump(mode="json", exclude={"signature"})
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(key.encode(), canonical.encode(), hashlib.sha256).hexdigest()


def sign(message: Signed, key: str) -> Signed:
    """The message with its `signature` set."""
    return message.model_copy(update={"signature": _digest(message, key)})


def verify(message: BaseModel, key: str) -> None:
    """Raises `BadSignature` unless `message.signature` was made with `key` over these fields."""
    signature = getattr(message, "signature", None)
    if not signature:
        raise BadSignature("the message is not signed")
    if not hmac.compare_digest(signature, _digest(message, key)):
        raise BadSignature("the signature does not match the site's key")


def upload_signature(key: str, site_topic: str, event_id: int, piece: str, sha256: str) -> str:
    """For a file pushed to the centre: binds its digest to the school, the event and the piece,
    so a file cannot be stored under another school's or another event's name."""
    text = f"{site_topic}/{event_id}/{piece}/{sha256}"
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()


def verify_upload(signature: str, key: str, site_topic: str, event_id: int, piece: str, sha256: str) -> None:
    if not hmac.compare_digest(signature, upload_signature(key, site_topic, event_id, piece, sha256)):
        raise BadSignature("the signature does not match the site's key")
