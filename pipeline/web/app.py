"""The box's web UI and JSON API (FastAPI, served by `gatewatch serve`): the guard's page and one
router per resource (events, registrations, cameras, reports, users).

Every route but login and health (the docs too) needs a session (cookie from the login page, or
`Authorization: Bearer <token>` for scripts).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response
from pydantic import BaseModel

from pipeline.config import Config
from pipeline.db import User
from pipeline.vocabulary import CameraState
from pipeline.web import alarms, cameras, events, patrols, registrations, reports, users
from pipeline.web.box import Box, LiveSide
from pipeline.web.common import Auth, new_app, page_or_login, templates
from pipeline.web.i18n import language, page_context


class Health(BaseModel):
    status: str
    site: str
    cameras: dict[str, CameraState]


def create_app(config: Config, db_path: Path, snapshot_dir: Path, live: LiveSide) -> FastAPI:
    app = new_app(
        "gatewatch",
        "Unregistered entries at school gates: live alerts, events, registrations, cameras.",
        db_path,
        timedelta(hours=config.server.session_hours),
        "title",
        "gatewatch_session",
        config.server.public_url,
        config.language,
        uploads={patrols.PHOTO_PREFIX: patrols.MAX_PHOTO_BYTES},
    )
    auth: Auth = app.state.auth
    box = app.state.box = Box(config, live, snapshot_dir.resolve(), auth.stores)
    app.state.live_jpegs = cameras.LiveJpegs()  # one encode per analysed frame, whatever the viewers
    for module in (events, registrations, cameras, reports, users, alarms, patrols):
        app.include_router(module.router)
    app.include_router(events.pages)

    @app.get("/api/health", tags=["service"])
    def health() -> Health:
        """For monitoring: no login; says whether each camera is live, nothing more."""
        states = {camera.name: camera.state for camera in live.cameras()}
        return Health(status="ok", site=config.site.name, cameras=states)

    @app.get("/", include_in_schema=False)
    def home(request: Request) -> Response:
        lang = language(request, auth.site_language)

        def render(user: User) -> Response:
            today = datetime.now(config.tz).date()
            context = {
                **page_context(lang, config),
                "user": user,
                "scopes": sorted(config.registration_scopes()),
                "cameras": list(config.cameras),
                "patrols": config.patrols,
                "people_json": json.dumps(box.store.users.names(), ensure_ascii=False),
                "today": today.isoformat(),
                "month": today.strftime("%Y-%m"),
            }
            response = templates.TemplateResponse(request, "ui.html", context)
            response.set_cookie("lang", lang, samesite="strict")
            return response

        return page_or_login(auth, request, render)

    return app
