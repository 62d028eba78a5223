"""/reports: the daily and monthly safety reports, as the command line writes them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from pipeline.patrols import PatrolPlan
from pipeline.report import Period, collect, day_period, month_period, render_html
from pipeline.web.box import Box, BoxDep
from pipeline.web.common import UserDep
from pipeline.web.i18n import language

router = APIRouter(prefix="/reports", tags=["reports"])


@router.get("/day", response_class=HTMLResponse)
def day_report(
    box: BoxDep,
    _: UserDep,
    request: Request,
    day: Annotated[str, Query(alias="date", pattern=r"^\d{4}-\d{2}-\d{2}$")],
) -> str:
    """The daily report as a self-contained HTML page (as `gatewatch report --day`); `?lang=zh|en`,
    else the reader's language."""
    return _report(box, request, day_period(day, box.config.tz))


@router.get("/month", response_class=HTMLResponse)
def month_report(
    box: BoxDep, _: UserDep, request: Request, month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$")]
) -> str:
    """The monthly safety report (as `gatewatch report --month`), A4 for printing and signing."""
    return _report(box, request, month_period(month, box.config.tz))


def _report(box: Box, request: Request, period: Period) -> str:
    config = box.config
    lang = language(request, config.language)
    now = datetime.now(config.tz)
    patrols = PatrolPlan(config.patrols, config.tz) if config.patrols else None
    return render_html(collect(box.store, period, config.site.name, now, lang, config.places, patrols))
