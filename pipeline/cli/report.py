"""`gatewatch report`: the monthly (or daily) safety report for the district."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli.app import (
    DEFAULT_DB,
    DbOption,
    OptionalConfig,
    app,
    maybe_config,
    now,
    open_existing_store,
    out,
    site_zone,
)
from pipeline.errors import GatewatchError, InvalidInput
from pipeline.patrols import PatrolPlan
from pipeline.report import collect, day_period, month_period, write_report
from pipeline.vocabulary import EventStatus
from pipeline.wording import Language, language_of_zone


@app.command()
def report(
    month: Annotated[str | None, typer.Option(help="month to report, YYYY-MM")] = None,
    day: Annotated[str | None, typer.Option(help="or one day, YYYY-MM-DD")] = None,
    db: DbOption = DEFAULT_DB,
    config: OptionalConfig = None,
    out_dir: Annotated[Path, typer.Option("--out", help="folder for the HTML and CSV files")] = Path("out/reports"),
    lang: Annotated[str | None, typer.Option(help="zh or en; default: the site's language")] = None,
    pdf: Annotated[bool, typer.Option("--pdf", help="also the A4 PDF, laid out here (no browser needed)")] = False,
    note: Annotated[
        str | None, typer.Option(help="情况说明: what the school explains about the period (else a box to write in)")
    ] = None,
) -> None:
    """Write the safety report: HTML (self-contained, for printing and signing) plus CSV tables,
    and with --pdf the A4 PDF a head teacher sends."""
    if (month is None) == (day is None):
        raise GatewatchError("give --month YYYY-MM or --day YYYY-MM-DD")
    cfg = maybe_config(config)
    with open_existing_store(db, readonly=True) as store:
        tz = site_zone(store, cfg)
        period = month_period(month, tz) if month else day_period(day or "", tz)
        site = cfg.site.name if cfg else store.meta("site") or "gatewatch"
        chosen = _language(lang) or (cfg.language if cfg else language_of_zone(tz.key))
        patrols = PatrolPlan(cfg.patrols, tz) if cfg and cfg.patrols else None
        data = collect(store, period, site, now(), chosen, cfg.places if cfg else None, patrols)
    if cfg is not None:
        data.unit, data.contact = cfg.site.unit, cfg.site.contact
    data.note = note.strip() if note and note.strip() else None
    files = write_report(data, out_dir, pdf=pdf)
    totals = data.totals
    out.print(
        f"{data.site}, {period.title}: {totals.entries} entries, {totals.exits} exits, "
        f"{totals.closed_entries} in closed hours, {totals.flagged} flagged "
        f"({data.statuses[EventStatus.NEW]} not yet reviewed), {totals.registered} covered by registrations"
    )
    for path in files:
        out.print(f"  {path}")


def _language(text: str | None) -> Language | None:
    if text is None:
        return None
    if text not in ("zh", "en"):
        raise InvalidInput("lang", "use zh or en", text)
    return "zh" if text == "zh" else "en"
