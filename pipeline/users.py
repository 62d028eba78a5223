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

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from pipeline.db import Store, User
from pipeline.errors import Conflict, InvalidInput, NotFound
from pipeline.vocabulary import MessageCode, Role, choices, member
from pipeline.wording import Message

MIN_PASSWORD = 8
USERNAME = re.compile(r"^[\w.@-]{1,64}$")

_hasher = PasswordHasher()


def add_user(store: Store, username: str, password: str, role: Role, at: datetime, display_name: str = "") -> None:
    if not USERNAME.match(username):
        bad = Message(MessageCode.BAD_USERNAME, {"user": username})
        raise InvalidInput("username", "use 1-64 letters, digits, . _ @ or -", username, bad)
    if member(Role, role) is None:
        raise InvalidInput("role", f"use one of {choices(Role)}", role)
    _check_password(username, password)
    with store.write():
        existing = store.users.same_name(username)
        if existing == username:
            raise Conflict(Message(MessageCode.USER_EXISTS, {"user": username}))
        if existing is not None:  # ADMIN beside admin: two logins a reader of the audit trail takes for one
            raise Conflict(Message(MessageCode.USER_CASE, {"user": username, "existing": existing}))
        store.users.add(username, _hasher.hash(password), Role(role), at, display_name.strip())


def set_password(store: Store, username: str, password: str) -> None:
    _check_password(username, password)
    if not store.users.set_password_hash(username, _hasher.hash(password)):
        raise NotFound(Message(MessageCode.NO_USER, {"user": username}))


def _check_password(username: str, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        short = Message(MessageCode.SHORT_PASSWORD, {"min": str(MIN_PASSWORD)})
        raise InvalidInput("password", f"at least {MIN_PASSWORD} characters for {username}", message=short)


def remove_user(store: Store, username: str) -> None:
    if not store.users.remove(username):
        raise NotFound(Message(MessageCode.NO_USER, {"user": username}))


def set_disabled(store: Store, username: str, disabled: bool, at: datetime, *, by: str | None = None) -> None:
    """Disable or enable a login. Nobody disables themselves, and the last enabled admin stays, so
    the box is never left without someone who can manage it."""
    with store.write():
        if disabled:
            if username == by:
                raise Conflict(Message(MessageCode.SELF_DISABLE, {"user": username}))
            if store.users.enabled_admins() == [username]:
                raise Conflict(Message(MessageCode.LAST_ADMIN, {"user": username}))
        if not store.users.set_disabled(username, at if disabled else None):
            raise NotFound(Message(MessageCode.NO_USER, {"user": username}))


def list_users(store: Store) -> list[User]:
    return store.users.all()


def find_login(store: Store, username: str) -> tuple[User, str] | None:
    """A user and their password hash, for a login check (which the web layer paces)."""
    return store.users.login(username)


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return bool(_hasher.verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_session(store: Store, username: str, lifetime: timedelta, at: datetime) -> str:
    token = secrets.token_urlsafe(32)
    store.users.start_session(_digest(token), username, at, at + lifetime)
    return token


def session_user(store: Store, token: str, at: datetime) -> User | None:
    return store.users.session_user(_digest(token), at)


def end_session(store: Store, token: str) -> None:
    store.users.end_session(_digest(token))
