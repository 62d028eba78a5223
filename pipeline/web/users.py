"""/api/users: who may log in (admins only)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field, StrictBool

from pipeline.users import add_user, list_users, set_disabled, set_password
from pipeline.vocabulary import Role
from pipeline.web.box import Box, BoxDep
from pipeline.web.common import AdminDep, Plain

router = APIRouter(prefix="/api", tags=["users"])


class NewUser(BaseModel):
    username: Plain = Field(min_length=1, max_length=64)
    password: str = Field(min_length=8, max_length=256)
    role: Role = Role.GUARD
    display_name: Plain = Field("", max_length=100, description="the person's name, as reports show it")


class UserView(BaseModel):
    username: str
    role: Role
    created_at: str = ""
    disabled_at: str | None = None
    display_name: str = ""


class NewPassword(BaseModel):
    password: str = Field(min_length=8, max_length=256)


class Access(BaseModel):
    disabled: StrictBool = Field(description='true or false (not "yes", 1 or "true")')


@router.get("/users")
def users(box: BoxDep, _: AdminDep) -> list[UserView]:
    return [UserView(**asdict(u)) for u in list_users(box.store)]


@router.post("/users", status_code=201)
def new_user(body: NewUser, box: BoxDep, _: AdminDep) -> UserView:
    add_user(box.store, body.username, body.password, body.role, datetime.now(UTC), body.display_name)
    return _one(box, body.username)


@router.post("/users/{username}/password")
def reset_password(username: str, body: NewPassword, box: BoxDep, _: AdminDep) -> UserView:
    """A new password (the user is logged out everywhere)."""
    set_password(box.store, username, body.password)
    return _one(box, username)


@router.post("/users/{username}/access")
def access(username: str, body: Access, box: BoxDep, admin: AdminDep) -> UserView:
    """Disable a login (its sessions end at once; its name stays in the audit trail) or enable it again."""
    set_disabled(box.store, username, body.disabled, datetime.now(UTC), by=admin.username)
    return _one(box, username)


def _one(box: Box, username: str) -> UserView:
    return next(UserView(**asdict(u)) for u in list_users(box.store) if u.username == username)
