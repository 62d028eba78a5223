"""What the box's UI and the district centre's UI share: database access per thread, login and
sessions, the size limit on request bodies, readable validation errors, page templates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipeline.errors import GatewatchError
from pipeline.store import ThreadStores
from pipeline.users import check_password, create_session, end_session, session_user
from pipeline.web.i18n import LABELS, language

COOKIE = "gatewatch_session"
MAX_BODY_BYTES = 1_000_000  # a registration export of a busy month is well under this

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


@dataclass
class Auth:
    stores: ThreadStores
    session_lifetime: timedelta

    def user(self, request: Request) -> dict[str, Any] | None:
        token = request.cookies.get(COOKIE)
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            token = header[7:].strip()
        if not token:
            return None
        return session_user(self.stores.get(), token, datetime.now(UTC))

    def required(self, request: Request) -> dict[str, Any]:
        user = self.user(request)
        if user is None:
            raise HTTPException(401, "log in first (POST /api/login)", headers={"WWW-Authenticate": "Bearer"})
        return user


def current_user(request: Request) -> dict[str, Any]:
    auth: Auth = request.app.state.auth
    return auth.required(request)


def current_admin(request: Request) -> dict[str, Any]:
    user = current_user(request)
    if user["role"] != "admin":
        raise HTTPException(403, "admins only")
    return user


UserDep = Annotated[dict, Depends(current_user)]
AdminDep = Annotated[dict, Depends(current_admin)]


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


def login_router(auth: Auth, title_key: str) -> APIRouter:
    """Login page and API; also makes `auth` the app's (through `app.state`, for `UserDep`)."""
    router = APIRouter()

    @router.get("/login", include_in_schema=False)
    def login_page(request: Request) -> HTMLResponse:
        lang = language(request)
        return templates.TemplateResponse(
            request, "login.html", {"t": LABELS[lang], "lang": lang, "title_key": title_key}
        )

    @router.post("/api/login", tags=["auth"])
    def login(body: Login, response: Response) -> dict[str, str]:
        """Check the password; the session comes back as a cookie and as a token for scripts."""
        store = auth.stores.get()
        user = check_password(store, body.username, body.password)
        if user is None:
            raise HTTPException(401, "wrong user name or password")
        token = create_session(store, user["username"], auth.session_lifetime, datetime.now(UTC))
        response.set_cookie(
            COOKIE,
            token,
            max_age=int(auth.session_lifetime.total_seconds()),
            httponly=True,
            samesite="strict",
        )
        return {"username": user["username"], "role": user["role"], "token": token}

    @router.post("/api/logout", tags=["auth"])
    def logout(request: Request, response: Response, _: UserDep) -> dict[str, str]:
        token = request.cookies.get(COOKIE) or request.headers.get("authorization", "")[7:].strip()
        end_session(auth.stores.get(), token)
        response.delete_cookie(COOKIE)
        return {"status": "logged out"}

    @router.get("/api/me", tags=["auth"])
    def me(user: UserDep) -> dict[str, Any]:
        return user

    return router


def page_or_login(auth: Auth, request: Request, render: Callable[[dict[str, Any]], Response]) -> Response:
    """Pages send a browser without a session to the login page; the API answers 401 instead."""
    user = auth.user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    return render(user)


class BodyLimit:
    """Refuses request bodies over the limit with 413, whether or not they announce their size."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _too_large(self.limit, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _too_large(self.limit, send)


class _TooLarge(Exception):
    pass


async def _too_large(limit: int, send: Send) -> None:
    response = JSONResponse({"detail": f"request body too large (limit {limit // 1000} kB)"}, status_code=413)
    await response({"type": "http"}, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


def new_app(title: str, summary: str, db_path: Path, session_lifetime: timedelta, title_key: str) -> FastAPI:
    """A FastAPI app with login, the body limit and readable errors. The API docs page (/docs)
    comes from fastapi-offline, which ships Swagger UI's files: FastAPI's own page loads them
    from a CDN, and nothing here may reach the internet."""
    app = FastAPIOffline(title=title, summary=summary, version="1", redoc_url=None)
    auth = Auth(ThreadStores(db_path), session_lifetime)
    app.state.auth = auth
    app.include_router(login_router(auth, title_key))
    app.add_middleware(BodyLimit)

    @app.exception_handler(RequestValidationError)
    async def readable_validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        """422 with one sentence per problem ('body.count: Input should be greater than 0')."""
        problems = [
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors()
        ]
        return JSONResponse({"detail": "; ".join(problems), "errors": problems}, status_code=422)

    @app.exception_handler(GatewatchError)
    async def user_error(_: Request, exc: GatewatchError) -> JSONResponse:
        """The same checks as the command line, answered as 409 (the request was understood but refused)."""
        return JSONResponse({"detail": str(exc)}, status_code=409)

    return app
