"""`gatewatch register` (the guard at the gate), `registrations import` (access-control exports)
and `registrations list`. A registration that arrives after an alert authorizes it."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from pipeline.cli.app import (
    DEFAULT_DB,
    ConfigOption,
    DbOption,
    OptionalConfig,
    app,
    err,
    maybe_config,
    now,
    open_existing_store,
    out,
    parse_instant,
    site_zone,
)
from pipeline.config import Config, load_config
from pipeline.db import Added, Store
from pipeline.errors import GatewatchError
from pipeline.registrations import FIELDS, Registration, parse_registration, read_registrations_csv
from pipeline.review import record_registrations
from pipeline.vocabulary import RegistrationSource, choices

registrations_app = typer.Typer(no_args_is_help=True, help="Registrations: import exports, list what is stored.")
app.add_typer(registrations_app, name="registrations")

EXIT_ROWS_REJECTED = 2


def _save(store: Store, config: Config, registrations: Iterable[Registration]) -> Added:
    added, authorized = record_registrations(store, config, registrations, now())
    for event_id, registration in authorized:
        out.print(f"  authorized event #{event_id}: {registration.describe()} entered after the alert")
    return added


@app.command()
def register(
    camera: Annotated[str, typer.Option(help="camera or group of cameras the people come through")],
    by: Annotated[str, typer.Option(help="who records it (guard name or badge)")],
    config: ConfigOption,
    db: DbOption = DEFAULT_DB,
    at: Annotated[str | None, typer.Option(help="time of the visit (default: now)")] = None,
    window: Annotated[str, typer.Option(help="valid this long either side of --at, e.g. 10m")] = "0",
    from_: Annotated[str | None, typer.Option("--from", help="valid from (instead of --at)")] = None,
    until: Annotated[str | None, typer.Option(help="valid until (with --from)")] = None,
    count: Annotated[int, typer.Option(help="number of people")] = 1,
    name: Annotated[str, typer.Option(help="visitor's name")] = "",
    ref: Annotated[str, typer.Option(help="ID card, visitor pass or badge number")] = "",
    reason: Annotated[str, typer.Option(help="why they come")] = "",
    source: Annotated[str, typer.Option(help=f"one of {choices(RegistrationSource)}")] = RegistrationSource.GUARD,
) -> None:
    """Record people allowed through a gate (visitor book, guard authorisation)."""
    cfg = load_config(config)
    values = {
        "camera": camera,
        "count": str(count),
        "name": name,
        "ref": ref,
        "reason": reason,
        "source": source,
    }
    if from_ or until:
        values |= {"from": from_ or "", "until": until or ""}
        if at:
            raise GatewatchError("give either --at (with --window) or --from and --until")
    else:
        values |= {"time": at or now().astimezone(cfg.tz).isoformat(), "window": window}
    try:
        registration = parse_registration(values, cfg.tz, cfg.scopes(), origin="cli", created_by=by)
    except ValueError as exc:
        raise GatewatchError(str(exc)) from None
    with Store(db) as store:
        added = _save(store, cfg, [registration])
        found = store.registrations.get(added.first_id) if added.count else None
    if found is None:
        out.print("Already registered (the same registration is stored); nothing added.")
        return
    saved = found[0]
    out.print(
        f"Saved {saved.describe()}: valid {saved.valid_from:%Y-%m-%d %H:%M:%S} to {saved.valid_until:%Y-%m-%d %H:%M:%S}"
    )


def _mapping(pairs: list[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for text in pairs:
        for pair in filter(None, (p.strip() for p in text.split(","))):
            field, sep, column = pair.partition("=")
            if not sep or not field.strip() or not column.strip():
                raise GatewatchError(
                    f"--map {pair!r}: write field=column, e.g. time=刷卡时间 (fields: {', '.join(FIELDS)})"
                )
            mapping[field.strip()] = column.strip()
    return mapping


@registrations_app.command("import")
def import_csv(
    file: Annotated[Path, typer.Argument(help="CSV export (visitor system, card reader)")],
    by: Annotated[str, typer.Option(help="who imports it")],
    config: ConfigOption,
    db: DbOption = DEFAULT_DB,
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", help="field=column pairs, comma-separated, e.g. time=刷卡时间,name=姓名"),
    ] = None,
    encoding: Annotated[str, typer.Option(help="auto, utf-8, utf-16, gbk, big5 or latin-1")] = "auto",
    camera: Annotated[str | None, typer.Option(help="camera or group for rows that name none")] = None,
    source: Annotated[
        str, typer.Option(help=f"source for rows that name none: {choices(RegistrationSource)}")
    ] = RegistrationSource.CARD_SWIPE,
    window: Annotated[str | None, typer.Option(help="validity either side of each row's time, e.g. 5m")] = None,
) -> None:
    """Import registrations from a CSV; bad rows are listed by number and the good ones imported."""
    cfg = load_config(config)
    defaults = {"source": source} | ({"camera": camera} if camera else {}) | ({"window": window} if window else {})
    loaded = read_registrations_csv(
        file,
        cfg.tz,
        cfg.scopes(),
        mapping=_mapping(map_ or []),
        defaults=defaults,
        encoding=encoding,
        origin=f"import {file.name}",
        created_by=by,
    )
    with Store(db) as store:
        added = _save(store, cfg, loaded.good)
    for problem in loaded.bad:
        err.print(f"gatewatch: {file}: row {problem.row}: {problem.message}", soft_wrap=True)
    out.print(
        f"{file} ({loaded.encoding}): imported {added.count}, already present {added.skipped}, "
        f"rejected {len(loaded.bad)}"
    )
    if loaded.bad:
        sys.exit(EXIT_ROWS_REJECTED)


@registrations_app.command("list")
def list_registrations(
    db: DbOption = DEFAULT_DB,
    config: OptionalConfig = None,
    since: Annotated[str | None, typer.Option(help="valid at or after this time (or 7d)")] = None,
) -> None:
    """Stored registrations and how many people each still covers."""
    cfg = maybe_config(config)
    with open_existing_store(db, readonly=True) as store:
        cutoff = parse_instant("--since", since, site_zone(store, cfg)) if since else None
        found = store.registrations.valid(ending_after=cutoff)
    if not found:
        out.print("No registrations.")
        return
    table = Table()
    for column in ("id", "camera", "valid from", "until", "count", "left", "name", "ref", "source", "origin"):
        table.add_column(column)
    for registration, left in found:
        table.add_row(
            str(registration.id),
            registration.scope,
            f"{registration.valid_from:%Y-%m-%d %H:%M:%S}",
            f"{registration.valid_until:%Y-%m-%d %H:%M:%S}",
            str(registration.count),
            str(left),
            registration.name,
            registration.ref,
            registration.source,
            registration.origin,
        )
    out.print(table)
