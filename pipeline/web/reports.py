"""/reports: the daily and monthly safety reports, as the command line writes them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from pipeline.patrols import PatrolPlan
from pipeline.report import Period, ReportData, collect, day_period, month_period, render_html, render_pdf
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


@router.get("/month.pdf", response_class=Response, responses={200: {"content": {"application/pdf": {}}}})
def month_pdf(
    box: BoxDep,
    _: UserDep,
    request: Request,
    month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$")],
    note: Annotated[str | None, Query(max_length=2000, description="情况说明")] = None,
) -> Response:
    """The monthly report as the A4 PDF a head teacher sends (as `gatewatch report --pdf`)."""
    data = _data(box, request, month_period(month, box.config.tz))
    data.note = note.strip() if note and note.strip() else None
    name = f"gatewatch-report-{data.period.label}.pdf"
    return Response(
        render_pdf(data), media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'}
    )


def _report(box: Box, request: Request, period: Period) -> str:
    return render_html(_data(box, request, period))


def _data(box: Box, request: Request, period: Period) -> ReportData:
    config = box.config
    lang = language(request, config.language)
    now = datetime.now(config.tz)
    patrols = PatrolPlan(config.patrols, config.tz) if config.patrols else None
    data = collect(box.store, period, config.site.name, now, lang, config.places, patrols)
    data.unit, data.contact = config.site.unit, config.site.contact
    return data
