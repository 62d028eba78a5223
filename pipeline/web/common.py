"""What the box's UI and the district centre's UI share: database access per thread, login and
sessions, the size limit on request bodies, readable validation errors, page templates."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import fastapi_offline
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, Response
from fastapi import Path as FastApiPath
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import AfterValidator, BaseModel, BeforeValidator, Field
from sse_starlette.sse import EventSourceResponse
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipeline import wording
from pipeline.db import ThreadStores, User
from pipeline.errors import BadValue, Conflict, Forbidden, GatewatchError, InvalidInput, NotFound
from pipeline.live.hub import Hub
from pipeline.users import create_session, end_session, find_login, password_matches, session_user
from pipeline.vocabulary import MessageCode, Role
from pipeline.web.i18n import LABELS, language
from pipeline.web.throttle import Busy, LoadShedder, LoginThrottle, busy_response
from pipeline.wording import Language

DOCS_STATIC = "/static-offline-docs"
MAX_BODY_BYTES = 1_000_000  # a registration export of a busy month is well under this
BODY_TIMEOUT_S = 10.0  # a megabyte over a phone's slowest link; a client that takes longer is holding a slot
UPLOAD_MIN_BYTES_PER_S = 100_000  # a file pushed (a school's clip to its centre) may take as long as this allows

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


# Domain fields the API names differently (the daily report's query is `date`).
PARAMETERS = {"day": "date"}
# Anything else the domain raises (a full disk, a database locked past the timeout) is the server's
# trouble, not the request's: 503, so a client retries rather than gives up.
_STATUS: dict[type[GatewatchError], int] = {NotFound: 404, Conflict: 409, Forbidden: 403}
# Pydantic's checks of a request, as messages the console words in the reader's language: the
# code for the error type, and the constraint's value from its context.
_CHECKS: dict[str, tuple[MessageCode, str | None]] = {
    "missing": (MessageCode.FIELD_MISSING, None),
    "string_too_short": (MessageCode.TOO_SHORT, "min_length"),
    "too_short": (MessageCode.TOO_SHORT, "min_length"),
    "string_too_long": (MessageCode.TOO_LONG, "max_length"),
    "too_long": (MessageCode.TOO_LONG, "max_length"),
    "greater_than_equal": (MessageCode.TOO_SMALL, "ge"),
    "greater_than": (MessageCode.TOO_SMALL, "gt"),
    "less_than_equal": (MessageCode.TOO_LARGE, "le"),
    "less_than": (MessageCode.TOO_LARGE, "lt"),
    "int_parsing": (MessageCode.NOT_A_NUMBER, None),
    "float_parsing": (MessageCode.NOT_A_NUMBER, None),
}


def _check_message(error: Mapping[str, Any]) -> wording.Message:
    """One of pydantic's errors as a message: its own when a validator raised `BadValue`."""
    context = error.get("ctx") or {}
    if isinstance(context.get("error"), BadValue):
        return context["error"].message
    field = str(error["loc"][-1]) if error["loc"] else "body"
    code, limit = _CHECKS.get(error["type"], (MessageCode.FIELD_INVALID, None))
    values = {"field": field, "text": error["msg"].removeprefix("Value error, ")}
    if limit is not None and limit in context:
        values["min" if code in (MessageCode.TOO_SHORT, MessageCode.TOO_SMALL) else "max"] = str(context[limit])
    return wording.Message(code, values)


@dataclass
class Auth:
    stores: ThreadStores
    session_lifetime: timedelta
    cookie: str  # the box's and the centre's differ: on one host, logging into one must not log out the other
    site_language: Language | None = None  # the box's site; the centre serves many
    https: bool = False  # server.public_url is https: the session cookie only ever travels encrypted
    throttle: LoginThrottle = field(default_factory=LoginThrottle)

    def user(self, request: Request) -> User | None:
        token = request.cookies.get(self.cookie)
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            token = header[7:].strip()
        if not token:
            return None
        return session_user(self.stores.get(), token, datetime.now(UTC))

    def required(self, request: Request) -> User:
        user = self.user(request)
        if user is None:
            raise HTTPException(401, "log in first (POST /api/login)", headers={"WWW-Authenticate": "Bearer"})
        return user


def current_user(request: Request) -> User:
    auth: Auth = request.app.state.auth
    return auth.required(request)


def current_admin(request: Request) -> User:
    user = current_user(request)
    if user.role != Role.ADMIN:
        raise HTTPException(403, "admins only")
    return user


UserDep = Annotated[User, Depends(current_user)]
AdminDep = Annotated[User, Depends(current_admin)]


def _printable(text: str) -> str:
    """Text a person typed: control characters (a NUL, an escape) are no part of a name or a
    reason, and stored they break exports and reports downstream. Line breaks are allowed."""
    if any((ord(c) < 32 and c not in "\n\t") or ord(c) == 127 for c in text):
        raise ValueError("control characters (such as NUL) are not allowed")
    return text


def _digits(value: object) -> object:
    """A path id as written: `1.0` or ` 1` is not the id 1."""
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise ValueError("a whole number, digits only")
    return value


Plain = Annotated[str, AfterValidator(_printable)]
PathId = Annotated[int, BeforeValidator(_digits), FastApiPath(ge=1, le=2**63 - 1)]


class Login(BaseModel):
    username: Plain = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


def login_router(auth: Auth, title_key: str) -> APIRouter:
    """Login page and API; also makes `auth` the app's (through `app.state`, for `UserDep`)."""
    router = APIRouter()

    @router.get("/login", include_in_schema=False)
    def login_page(request: Request) -> HTMLResponse:
        lang = language(request, auth.site_language)
        return templates.TemplateResponse(
            request, "login.html", {"t": LABELS[lang], "lang": lang, "title_key": title_key}
        )

    @router.post("/api/login", tags=["auth"], responses={429: {"description": "too many wrong passwords"}})
    def login(body: Login, request: Request, response: Response) -> Any:
        """Check the password; the session comes back as a cookie and as a token for scripts.
        Wrong passwords are counted per user name and address, and per address: past a few, 429
        with Retry-After (doubling, up to 5 minutes); the right password from another device
        still works."""
        store = auth.stores.get()
        address = request.client.host if request.client else "unknown"
        try:
            auth.throttle.check_allowed(body.username, address)
            found = find_login(store, body.username)
            if found is None:
                auth.throttle.pretend_check()
            else:
                with auth.throttle.hashing():
                    matches = password_matches(found[1], body.password)
        except Busy as exc:
            return busy_response(exc, 429)
        if found is None or not matches:
            auth.throttle.failed(body.username, address)
            raise HTTPException(401, "wrong user name or password")
        user = found[0]
        if user.disabled_at:  # the right password, so saying why is no help to a guesser
            raise HTTPException(403, "this user is disabled; ask an admin")
        auth.throttle.succeeded(body.username, address)
        token = create_session(store, user.username, auth.session_lifetime, datetime.now(UTC))
        response.set_cookie(
            auth.cookie,
            token,
            max_age=int(auth.session_lifetime.total_seconds()),
            httponly=True,
            samesite="strict",
            # Behind an HTTPS proxy on this box (uvicorn trusts X-Forwarded-Proto from 127.0.0.1)
            # or with an https public_url: never sent over plain HTTP.
            secure=auth.https or request.url.scheme == "https",
        )
        return {"username": user.username, "role": user.role, "token": token}

    @router.post("/api/logout", tags=["auth"])
    def logout(request: Request, response: Response, _: UserDep) -> dict[str, str]:
        token = request.cookies.get(auth.cookie) or request.headers.get("authorization", "")[7:].strip()
        end_session(auth.stores.get(), token)
        response.delete_cookie(auth.cookie)
        return {"status": "logged out"}

    @router.get("/api/me", tags=["auth"])
    def me(user: UserDep) -> dict[str, str]:
        return {"username": user.username, "role": user.role}

    return router


def live_feed(request: Request, hub: Hub) -> EventSourceResponse:
    """Server-sent events from `hub` to one open page, until it goes: each message's `type` is the
    event's name, the message itself its data."""

    async def messages() -> AsyncIterator[dict[str, str]]:
        async for message in hub.subscribe():
            if await request.is_disconnected():
                return
            yield {"event": message["type"], "data": json.dumps(message, ensure_ascii=False)}

    return EventSourceResponse(messages(), ping=15)


def page_or_login(auth: Auth, request: Request, render: Callable[[User], Response]) -> Response:
    """Pages send a browser without a session to the login page; the API answers 401 instead."""
    user = auth.user(request)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    return render(user)


class BodyLimit:
    """Refuses request bodies over the limit with 413, whether or not they announce their size,
    and bodies that do not arrive within `BODY_TIMEOUT_S` with 408.

    The body is read here, in full, before the app sees it: a limit hit while FastAPI parses a
    JSON body would surface as its own 400 ("error parsing the body"), not 413. And a request
    counts against the load shedder (inside this) only once its body is in: eight clients that
    announce 200 bytes and send one must not make every other request answer 503."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES, uploads: Mapping[str, int] | None = None) -> None:
        """`uploads`: path prefixes that take files, with their own limit (and the time to send it
        at `UPLOAD_MIN_BYTES_PER_S`)."""
        self.app = app
        self.limit = limit
        self.uploads = dict(uploads or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit = next((size for prefix, size in self.uploads.items() if path.startswith(prefix)), self.limit)
        timeout_s = max(BODY_TIMEOUT_S, limit / UPLOAD_MIN_BYTES_PER_S)
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _error(413, f"request body too large (limit {limit // 1000} kB)", send)
            return
        messages: list[Message] = []
        seen = 0
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            try:
                message = await asyncio.wait_for(receive(), deadline - asyncio.get_running_loop().time())
            except TimeoutError:
                await _error(408, f"the request body did not arrive within {timeout_s:.0f} s", send)
                return
            messages.append(message)
            if message["type"] != "http.request":
                break
            seen += len(message.get("body", b""))
            if seen > limit:
                await _error(413, f"request body too large (limit {limit // 1000} kB)", send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


class SecurityHeaders:
    """A Content-Security-Policy on every answer: scripts run only from this server's own files
    and from the inline blocks of its own pages (each page's blocks carry this request's nonce),
    so a value that slips past escaping into a page still cannot run. No framing, no plugins,
    no guessing of content types."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(18)
        scope.setdefault("state", {})["csp_nonce"] = nonce
        policy = (
            f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; object-src 'none'; "
            "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
        )

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = policy
                headers["X-Content-Type-Options"] = "nosniff"
                headers["X-Frame-Options"] = "DENY"
                headers["Referrer-Policy"] = "same-origin"
            await send(message)

        await self.app(scope, receive, with_headers)


class SameOrigin:
    """State-changing requests only from this server's own pages (or from scripts, which send no
    `Origin`), and only in the content type the route reads.

    The session cookie is SameSite=Strict, but "site" ignores the port: a page served on another
    port of the box (or any host of the school's domain) is same-site, and its forms and fetches
    carry the cookie. So the browser's own `Origin` / `Sec-Fetch-Site` headers decide, and a body
    must be JSON (or CSV for the registrations import): a form cannot send either cross-origin
    without the browser asking first."""

    UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
    CSV_ROUTES = ("/api/registrations/import",)

    def __init__(self, app: ASGIApp, public_url: str | None = None, uploads: Iterable[str] = ()) -> None:
        """`uploads`: path prefixes that take files (application/octet-stream) from scripts."""
        self.app = app
        self.public_origin = _origin_of(public_url) if public_url else None
        self.uploads = tuple(uploads)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in self.UNSAFE:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        problem = self._cross_origin(scope, headers) or self._wrong_type(scope, headers)
        if problem is not None:
            await _error(*problem, send)
            return
        await self.app(scope, receive, send)

    def _cross_origin(self, scope: Scope, headers: Headers) -> tuple[int, str] | None:
        origin = headers.get("origin")
        if origin is not None:
            own = f"{scope.get('scheme', 'http')}://{headers.get('host', '')}".lower()
            if origin.lower() not in (own, self.public_origin):
                return 403, "cross-origin request refused: send it from this server's own pages"
        elif headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
            return 403, "cross-site request refused: send it from this server's own pages"
        return None

    def _wrong_type(self, scope: Scope, headers: Headers) -> tuple[int, str] | None:
        if headers.get("content-length", "0") == "0" and "transfer-encoding" not in headers:
            return None  # no body: nothing to read in any type
        wanted = "text/csv" if scope["path"] in self.CSV_ROUTES else "application/json"
        if self.uploads and scope["path"].startswith(self.uploads):
            wanted = "application/octet-stream"
        given = headers.get("content-type", "").split(";")[0].strip().lower()
        if given != wanted:
            return 415, f"send the body as {wanted} (Content-Type: {wanted}), not {given or 'untyped'}"
        return None


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


async def _error(status: int, detail: str, send: Send) -> None:
    await JSONResponse({"detail": detail}, status_code=status)({"type": "http"}, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


def new_app(
    title: str,
    summary: str,
    db_path: Path,
    session_lifetime: timedelta,
    title_key: str,
    cookie: str,
    public_url: str | None = None,
    site_language: Language | None = None,
    uploads: Mapping[str, int] | None = None,
) -> FastAPI:
    """A FastAPI app with login, the body limit and readable errors.

    The API docs (/docs, /openapi.json) need a login like everything else: the box sits on a
    school network, and a map of its API is of more use to a curious pupil than to anyone who
    has a login. The docs page uses the Swagger UI files fastapi-offline ships (FastAPI's own
    page loads them from a CDN, and nothing here may reach the internet)."""
    app = FastAPI(title=title, summary=summary, version="1", docs_url=None, redoc_url=None, openapi_url=None)
    https = bool(public_url and public_url.lower().startswith("https://"))
    auth = Auth(ThreadStores(db_path), session_lifetime, cookie, site_language, https)
    app.state.auth = auth
    app.include_router(login_router(auth, title_key))
    app.add_middleware(SameOrigin, public_url=public_url, uploads=list(uploads or {}))
    app.add_middleware(LoadShedder)
    app.add_middleware(BodyLimit, uploads=uploads)  # after the shedder, so outside it: the body is in before it counts
    app.add_middleware(SecurityHeaders)
    app.mount(DOCS_STATIC, StaticFiles(directory=Path(fastapi_offline.__file__).parent / "static"), name="docs")

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(_: UserDep) -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> Response:
        def render(_: User) -> Response:
            page = get_swagger_ui_html(
                openapi_url="/openapi.json",
                title=f"{title} API",
                swagger_js_url=f"{DOCS_STATIC}/swagger-ui-bundle.js",
                swagger_css_url=f"{DOCS_STATIC}/swagger-ui.css",
                swagger_favicon_url=f"{DOCS_STATIC}/favicon.png",
            )
            nonce = request.state.csp_nonce  # its inline start-up script runs under the page's policy
            return HTMLResponse(bytes(page.body).replace(b"<script>", f'<script nonce="{nonce}">'.encode()))

        return page_or_login(auth, request, render)

    @app.exception_handler(RequestValidationError)
    async def readable_validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        """422 with one sentence per problem ('body.count: Input should be greater than 0')."""
        problems = [
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors()
        ]
        messages = [_check_message(e).as_dict() for e in exc.errors()]
        return JSONResponse({"detail": "; ".join(problems), "errors": problems, "messages": messages}, 422)

    @app.exception_handler(GatewatchError)
    async def user_error(_: Request, exc: GatewatchError) -> JSONResponse:
        """The same checks as the command line, answered with the status a client can act on."""
        worded = {"messages": [exc.message.as_dict()]} if exc.message else {}
        if isinstance(exc, InvalidInput):
            name = PARAMETERS.get(exc.field, exc.field)
            return JSONResponse({"detail": exc.worded(name), "errors": [exc.worded(name)], **worded}, 422)
        return JSONResponse({"detail": str(exc), **worded}, status_code=_STATUS.get(type(exc), 503))

    return app
