"""Keeping secrets out of what gatewatch prints, logs and stores.

Camera URLs carry passwords (rtsp://admin:secret@...), and FFmpeg's own error texts repeat the
URL; everything that describes a camera goes through here first.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def redact(source: str) -> str:
    """The URL with any user name and password replaced by ***."""
    parts = urlsplit(source)
    if parts.password is None and parts.username is None:
        return source
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"***@{host}"))


def scrub(text: str, source: str) -> str:
    """`text` with the source's password (and the full URL) taken out, for messages built from
    someone else's error text."""
    text = text.replace(source, redact(source))
    password = urlsplit(source).password
    return text.replace(password, "***") if password else text
