"""/reports: the daily and monthly safety reports, as the command line writes them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from pipeline.report import Period, collect, day_period, month_period, render_html
from pipeline.web.box import Box, BoxDep
from pipeline.web.common import UserDep

router = APIRouter(prefix="/reports", tags=["reports"])


@router.get("/day", response_class=HTMLResponse)
def day_report(
    box: BoxDep, _: UserDep, day: Annotated[str, Query(alias="date", pattern=r"^\d{4}-\d{2}-\d{2}$")]
) -> str:
    """The daily report as a self-contained HTML page (as `gatewatch report --day`)."""
    return _report(box, day_period(day, box.config.tz))


@router.get("/month", response_class=HTMLResponse)
def month_report(box: BoxDep, _: UserDep, month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$")]) -> str:
    """The monthly safety report (as `gatewatch report --month`)."""
    return _report(box, month_period(month, box.config.tz))


def _report(box: Box, period: Period) -> str:
    return render_html(collect(box.store, period, box.config.site.name, datetime.now(box.config.tz)))
