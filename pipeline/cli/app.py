"""The `gatewatch` Typer app and what its commands share: consoles, common options, time parsing.

Commands only parse, call and print; the work lives in the stage modules.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console

from pipeline.config import Config, load_config
from pipeline.db import Store
from pipeline.errors import GatewatchError
from pipeline.registrations import parse_duration, parse_time

if TYPE_CHECKING:
    from rich.progress import Progress, ProgressColumn

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="gatewatch: unregistered entries at school gates, from camera footage.",
)
# Markup off: names, notes and file names are user text, and "[/]" in one would crash the print
# (after its change was committed) or restyle the line. Emphasis is given with `style=` instead.
out = Console(highlight=False, soft_wrap=True, markup=False)
err = Console(stderr=True, highlight=False, markup=False)
if not out.is_terminal:
    out.width = 200  # piped or logged: tables need not fit an 80-column guess

ConfigOption = Annotated[
    Path, typer.Option("--config", "-c", envvar="GATEWATCH_CONFIG", help="YAML config (or $GATEWATCH_CONFIG)")
]
OptionalConfig = Annotated[
    Path | None,
    typer.Option("--config", "-c", envvar="GATEWATCH_CONFIG", help="YAML config, for its time zone and names"),
]
DbOption = Annotated[Path, typer.Option("--db", envvar="GATEWATCH_DB", help="SQLite database (or $GATEWATCH_DB)")]
DEFAULT_DB = Path("out/gatewatch.db")


def now() -> datetime:
    return datetime.now(UTC)


def open_existing_store(path: Path, *, readonly: bool = False) -> Store:
    """Commands that read results must not create an empty database where the user mistyped a path;
    `readonly` ones also work where the database cannot be written (a read-only disk, an archive)."""
    if not path.is_file():
        raise GatewatchError(f"{path}: no gatewatch database here (run `gatewatch analyze` first, or pass --db)")
    return Store(path, readonly=readonly)


def site_zone(store: Store, config: Config | None) -> ZoneInfo:
    """The config's zone, else the one the database was analysed in."""
    if config is not None:
        return config.tz
    name = store.meta("timezone")
    if name is None:
        raise GatewatchError(f"{store.path}: no time zone recorded yet; pass --config")
    return ZoneInfo(name)


def maybe_config(path: Path | None) -> Config | None:
    return load_config(path) if path is not None else None


def parse_instant(option: str, text: str, tz: ZoneInfo) -> datetime:
    """A time for --since, --at and the like: ISO-like local time, or a duration ago ('7d')."""
    try:
        return parse_time(text, tz)
    except ValueError:
        pass
    try:
        return now().astimezone(tz) - parse_duration(text)
    except ValueError:
        raise GatewatchError(
            f"{option} {text!r}: give a time like 2026-11-28 22:30, or a duration ago like 7d"
        ) from None


def progress_bar(title: ProgressColumn, *columns: ProgressColumn) -> Progress:
    """A bar on the terminal's stderr, gone once done (nothing of it in a log or pipe)."""
    from rich.progress import BarColumn, Progress, TimeRemainingColumn

    return Progress(
        title, BarColumn(), *columns, TimeRemainingColumn(), console=err, transient=True, disable=not err.is_terminal
    )
