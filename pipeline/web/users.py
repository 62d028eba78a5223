"""/api/users: who may log in (admins only)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from pipeline.users import add_user, list_users
from pipeline.vocabulary import Role
from pipeline.web.box import BoxDep
from pipeline.web.common import AdminDep

router = APIRouter(prefix="/api", tags=["users"])


class NewUser(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=8, max_length=256)
    role: Role = Role.GUARD


class UserView(BaseModel):
    username: str
    role: Role
    created_at: str = ""


@router.get("/users")
def users(box: BoxDep, _: AdminDep) -> list[UserView]:
    return [UserView(username=u.username, role=u.role, created_at=u.created_at) for u in list_users(box.store)]


@router.post("/users", status_code=201)
def new_user(body: NewUser, box: BoxDep, _: AdminDep) -> UserView:
    add_user(box.store, body.username, body.password, body.role, datetime.now(UTC))
    return UserView(username=body.username, role=body.role)
