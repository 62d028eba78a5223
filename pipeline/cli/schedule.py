"""`gatewatch schedule NAME --at TIME`: is the gate closed then, and why."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer
from rich.text import Text

from pipeline.cli.app import ConfigOption, app, now, out, parse_instant
from pipeline.config import load_config
from pipeline.errors import GatewatchError
from pipeline.schedule import Schedule
from pipeline.term_calendar import FIRST_YEAR, LAST_YEAR, covers


@app.command("schedule")
def schedule_command(
    name: Annotated[str, typer.Argument(help="schedule name from the config")],
    config: ConfigOption,
    at: Annotated[
        str | None, typer.Option(help="time to check, e.g. 2026-12-24T23:30 (site time unless it has an offset)")
    ] = None,
) -> None:
    """Say whether a schedule has the gate closed at a time, and which window or exception decides it."""
    cfg = load_config(config)
    if name not in cfg.schedules:
        raise GatewatchError(f"no schedule {name!r} in {config} (have: {', '.join(cfg.schedules) or 'none'})")
    schedule = Schedule(name, cfg.schedules[name], cfg.tz)
    when = parse_instant("--at", at, cfg.tz) if at else now()
    local = when.astimezone(cfg.tz)
    closed = schedule.closed_by(local)
    stamp = f"{local:%a %Y-%m-%d %H:%M %Z (%z)}"
    if closed is not None:
        out.print(Text.assemble(("CLOSED", "bold red"), f" at {stamp}: window {closed}"))
        out.print(f"  the window starts on {closed.plan.day} ({closed.plan.source})")
    else:
        out.print(Text.assemble(("OPEN", "bold green"), f" at {stamp}: no closed window covers this time"))
    out.print(f"  that day:      {schedule.plan(local.date()).describe()}")
    out.print(f"  the day before: {schedule.plan(local.date() - timedelta(days=1)).describe()}")
    if schedule.calendar == "none":
        out.print("  national calendar: none (holidays only as the schedule's exceptions)")
    elif covers(local.year):
        out.print("  national calendar: china (statutory holidays closed all day, make-up workdays on Monday's hours)")
    else:
        out.print(
            f"  national calendar: china, but chinese-calendar has no data for {local.year} (it covers "
            f"{FIRST_YEAR}-{LAST_YEAR}): no holiday is known; upgrade it, or list them as exceptions"
        )
