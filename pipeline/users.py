"""Who may use the web UI: users with argon2-hashed passwords and two roles, and login sessions.

    guard  sees alerts and cameras, reviews events, registers visitors
    admin  also manages users and imports registration exports

Session tokens are random; only their SHA-256 is stored, so a copied database does not let
anyone in. The first admin is made on the box with `gatewatch users add NAME --role admin`.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from pipeline.errors import Conflict, InvalidInput, NotFound
from pipeline.store import Store
from pipeline.vocabulary import Role, choices, member

MIN_PASSWORD = 8
USERNAME = re.compile(r"^[\w.@-]{1,64}$")

_hasher = PasswordHasher()


def add_user(store: Store, username: str, password: str, role: Role, at: datetime) -> None:
    if not USERNAME.match(username):
        raise InvalidInput("username", "use 1-64 letters, digits, . _ @ or -", username)
    if member(Role, role) is None:
        raise InvalidInput("role", f"use one of {choices(Role)}", role)
    if len(password) < MIN_PASSWORD:
        raise InvalidInput("password", f"at least {MIN_PASSWORD} characters for {username}")
    with store.write():
        if store.db.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone():
            raise Conflict(f"user {username!r} already exists (remove it first, or set a new password)")
        store.db.execute(
            "INSERT INTO users (username, password_hash, role, created_at) VALUES (?, ?, ?, ?)",
            [username, _hasher.hash(password), role, at.isoformat()],
        )


def set_password(store: Store, username: str, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput("password", f"at least {MIN_PASSWORD} characters for {username}")
    with store.write():
        cursor = store.db.execute(
            "UPDATE users SET password_hash = ? WHERE username = ?", [_hasher.hash(password), username]
        )
        if not cursor.rowcount:
            raise NotFound(f"user {username!r}: no such user")
        store.db.execute("DELETE FROM sessions WHERE username = ?", [username])


def remove_user(store: Store, username: str) -> None:
    with store.write():
        cursor = store.db.execute("DELETE FROM users WHERE username = ?", [username])
        if not cursor.rowcount:
            raise NotFound(f"user {username!r}: no such user")
        store.db.execute("DELETE FROM sessions WHERE username = ?", [username])


def list_users(store: Store) -> list[dict[str, Any]]:
    return list(store.db.query("SELECT username, role, created_at FROM users ORDER BY username"))


def find_login(store: Store, username: str) -> tuple[dict[str, Any], str] | None:
    """A user and their password hash, for a login check (which the web layer paces)."""
    row = store.db.execute("SELECT username, password_hash, role FROM users WHERE username = ?", [username]).fetchone()
    return ({"username": row[0], "role": row[2]}, row[1]) if row else None


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return bool(_hasher.verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_session(store: Store, username: str, lifetime: timedelta, at: datetime) -> str:
    token = secrets.token_urlsafe(32)
    with store.write():
        store.db.execute("DELETE FROM sessions WHERE julianday(expires_at) < julianday(?)", [at.isoformat()])
        store.db.execute(
            "INSERT INTO sessions (token_hash, username, created_at, expires_at) VALUES (?, ?, ?, ?)",
            [_digest(token), username, at.isoformat(), (at + lifetime).isoformat()],
        )
    return token


def session_user(store: Store, token: str, at: datetime) -> dict[str, Any] | None:
    row = store.db.execute(
        """SELECT u.username, u.role FROM sessions s JOIN users u ON u.username = s.username
           WHERE s.token_hash = ? AND julianday(s.expires_at) > julianday(?)""",
        [_digest(token), at.isoformat()],
    ).fetchone()
    return {"username": row[0], "role": row[1]} if row else None


def end_session(store: Store, token: str) -> None:
    with store.write():
        store.db.execute("DELETE FROM sessions WHERE token_hash = ?", [_digest(token)])
