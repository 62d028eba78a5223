"""The district centre's web UI and API: every school's events in one list, and which schools and
cameras are online."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import Response

from pipeline.center import CenterSubscriber, center_alarms, center_events, center_sites
from pipeline.db import User
from pipeline.vocabulary import EventStatus
from pipeline.web.common import Auth, PathId, UserDep, new_app, page_or_login, templates
from pipeline.web.i18n import LABELS, language
from pipeline.wording import templates as templates_in

SESSION_HOURS = 12


def create_center_app(db_path: Path, subscriber: CenterSubscriber) -> FastAPI:
    app = new_app(
        "gatewatch centre",
        "Alerts of many schools, received over MQTT.",
        db_path,
        timedelta(hours=SESSION_HOURS),
        "center_title",
        "gatewatch_centre_session",
    )
    auth: Auth = app.state.auth
    stores = auth.stores

    @app.get("/api/health", tags=["service"])
    def health() -> dict[str, Any]:
        connected = subscriber.client is not None and subscriber.client.is_connected()
        return {"status": "ok", "broker_connected": connected, "events_received": subscriber.received}

    @app.get("/", include_in_schema=False)
    def home(request: Request) -> Response:
        lang = language(request)

        def render(user: User) -> Response:
            context = {
                "t": LABELS[lang],
                "lang": lang,
                "user": user,
                "labels_json": json.dumps(LABELS[lang], ensure_ascii=False),
                "words_json": json.dumps(templates_in(lang), ensure_ascii=False),
            }
            return templates.TemplateResponse(request, "center.html", context)

        return page_or_login(auth, request, render)

    @app.get("/api/events", tags=["events"])
    def events(
        _: UserDep,
        site: str | None = None,
        status: EventStatus | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[dict[str, Any]]:
        """All schools' events, newest first, with their latest status."""
        return center_events(stores.get(), site, status, limit)

    @app.get("/api/alarms", tags=["alarms"])
    def alarms(_: UserDep, limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[dict[str, Any]]:
        """Every school's alarms to the police and the centre: open ones first."""
        return center_alarms(stores.get(), limit)

    @app.post("/api/alarms/{site_topic}/{alarm_id}/ack", tags=["alarms"])
    def acknowledge(site_topic: str, alarm_id: PathId, user: UserDep) -> dict[str, Any]:
        """Confirm an alarm; the school sees who confirmed it and when."""
        if not subscriber.acknowledge(site_topic, alarm_id, user.username):
            raise HTTPException(409, f"alarm {alarm_id} of {site_topic}: not an open alarm here")
        return {"site_topic": site_topic, "alarm_id": alarm_id, "acknowledged_by": user.username}

    @app.get("/api/sites", tags=["sites"])
    def sites(_: UserDep) -> list[dict[str, Any]]:
        """Each school's availability and its cameras' (from the retained MQTT topics)."""
        return center_sites(stores.get())

    return app
