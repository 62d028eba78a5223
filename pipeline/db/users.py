"""Web users (argon2 hashes, never passwords) and login sessions (SHA-256 of the token only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pipeline.db.base import Repository
from pipeline.vocabulary import Role


@dataclass(frozen=True)
class User:
    username: str
    role: Role
    created_at: str = ""
    disabled_at: str | None = None  # set: the user can no longer log in (the audit trail keeps the name)
    display_name: str = ""  # the person's name, for reports; the login name when empty

    @property
    def shown(self) -> str:
        return self.display_name or self.username


class Users(Repository):
    def exists(self, username: str) -> bool:
        return self.db.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone() is not None

    def same_name(self, username: str) -> str | None:
        """The user whose name differs from this one at most in case (user names are ASCII)."""
        row = self.db.execute("SELECT username FROM users WHERE lower(username) = lower(?)", [username]).fetchone()
        return row[0] if row else None

    def add(self, username: str, password_hash: str, role: Role, at: datetime, display_name: str = "") -> None:
        with self.store.write():
            self.db.execute(
                "INSERT INTO users (username, password_hash, role, created_at, display_name) VALUES (?, ?, ?, ?, ?)",
                [username, password_hash, role, at.isoformat(), display_name],
            )

    def set_password_hash(self, username: str, password_hash: str) -> bool:
        """False when there is no such user. Every session of the user ends."""
        with self.store.write():
            cursor = self.db.execute("UPDATE users SET password_hash = ? WHERE username = ?", [password_hash, username])
            self.db.execute("DELETE FROM sessions WHERE username = ?", [username])
        return bool(cursor.rowcount)

    def remove(self, username: str) -> bool:
        """False when there is no such user. Every session of the user ends."""
        with self.store.write():
            cursor = self.db.execute("DELETE FROM users WHERE username = ?", [username])
            self.db.execute("DELETE FROM sessions WHERE username = ?", [username])
        return bool(cursor.rowcount)

    def names(self) -> dict[str, str]:
        """How each login is named to readers of pages and reports: the person's name where one is given."""
        return {user.username: user.shown for user in self.all()}

    def all(self) -> list[User]:
        rows = self.db.execute(
            "SELECT username, role, created_at, disabled_at, display_name FROM users ORDER BY username"
        ).fetchall()
        return [User(name, Role(role), created, disabled, shown or "") for name, role, created, disabled, shown in rows]

    def set_disabled(self, username: str, at: datetime | None) -> bool:
        """Disable (`at`) or enable (None) a user; disabling ends every session. False: no such user."""
        with self.store.write():
            cursor = self.db.execute(
                "UPDATE users SET disabled_at = ? WHERE username = ?", [at.isoformat() if at else None, username]
            )
            if at is not None:
                self.db.execute("DELETE FROM sessions WHERE username = ?", [username])
        return bool(cursor.rowcount)

    def enabled_admins(self) -> list[str]:
        rows = self.db.execute(
            "SELECT username FROM users WHERE role = ? AND disabled_at IS NULL ORDER BY username", [Role.ADMIN]
        ).fetchall()
        return [row[0] for row in rows]

    def login(self, username: str) -> tuple[User, str] | None:
        """A user and their password hash, for a login check."""
        row = self.db.execute(
            "SELECT username, password_hash, role, disabled_at FROM users WHERE username = ?", [username]
        ).fetchone()
        return (User(row[0], Role(row[2]), disabled_at=row[3]), row[1]) if row else None

    def start_session(self, token_hash: str, username: str, at: datetime, expires: datetime) -> None:
        with self.store.write():
            self.db.execute("DELETE FROM sessions WHERE julianday(expires_at) < julianday(?)", [at.isoformat()])
            self.db.execute(
                "INSERT INTO sessions (token_hash, username, created_at, expires_at) VALUES (?, ?, ?, ?)",
                [token_hash, username, at.isoformat(), expires.isoformat()],
            )

    def session_user(self, token_hash: str, at: datetime) -> User | None:
        row = self.db.execute(
            """SELECT u.username, u.role, u.display_name FROM sessions s JOIN users u ON u.username = s.username
               WHERE s.token_hash = ? AND julianday(s.expires_at) > julianday(?) AND u.disabled_at IS NULL""",
            [token_hash, at.isoformat()],
        ).fetchone()
        return User(row[0], Role(row[1]), display_name=row[2] or "") if row else None

    def end_session(self, token_hash: str) -> None:
        with self.store.write():
            self.db.execute("DELETE FROM sessions WHERE token_hash = ?", [token_hash])
