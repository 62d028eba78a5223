"""`gatewatch events ...` (review flagged events) and `gatewatch prune` (retention)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from pipeline.cli.app import (
    DEFAULT_DB,
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
from pipeline.db import Event, EventFilter
from pipeline.errors import GatewatchError, InvalidInput
from pipeline.files import atomic_write
from pipeline.registrations import parse_duration
from pipeline.review import (
    change_status,
    events_csv,
    events_json,
    evidence_state,
    get_event,
    history,
    list_events,
    prune,
)
from pipeline.vocabulary import EventStatus, choices, member

events_app = typer.Typer(no_args_is_help=True, help="Review flagged events: list, show, acknowledge, export.")
app.add_typer(events_app, name="events")

Since = Annotated[str | None, typer.Option(help="from this time (e.g. 2026-11-01, or 7d for the last week)")]
Until = Annotated[str | None, typer.Option(help="before this time")]
StatusOption = Annotated[str | None, typer.Option(help=f"only events with this status: {choices(EventStatus)}")]
CameraOption = Annotated[str | None, typer.Option(help="only this camera")]


def _query(
    db: Path, config: Path | None, status: str | None, camera: str | None, since: str | None, until: str | None
) -> list[Event]:
    """The events `list` and `export` select, from the same filter options."""
    wanted = member(EventStatus, status) if status is not None else None
    if status is not None and wanted is None:
        raise InvalidInput("status", f"use one of {choices(EventStatus)}", status)
    with open_existing_store(db, readonly=True) as store:
        tz = site_zone(store, maybe_config(config)) if since or until else None
        filters = EventFilter(
            status=wanted,
            camera=camera,
            since=parse_instant("--since", since, tz) if since and tz else None,
            until=parse_instant("--until", until, tz) if until and tz else None,
        )
        return list_events(store, filters)


@events_app.command("list")
def list_command(
    db: DbOption = DEFAULT_DB,
    config: OptionalConfig = None,
    status: StatusOption = None,
    camera: CameraOption = None,
    since: Since = None,
    until: Until = None,
) -> None:
    """Flagged events, oldest first."""
    rows = _query(db, config, status, camera, since, until)
    if not rows:
        out.print("No events match.")
        return
    table = Table()
    for column in ("id", "time", "camera", "line", "kind", "status", "reviewed by"):
        table.add_column(column)
    for event in rows:
        table.add_row(
            str(event.id),
            f"{event.ts:%Y-%m-%d %H:%M:%S}",
            event.camera,
            event.line,
            event.kind,
            event.status,
            event.reviewed_by or "",
        )
    out.print(table)
    out.print(f"{len(rows)} event(s)")


@events_app.command("show")
def show(event_id: Annotated[int, typer.Argument(help="event id")], db: DbOption = DEFAULT_DB) -> None:
    """One event in full: what, where, when, why, its snapshot files and its review history."""
    with open_existing_store(db, readonly=True) as store:
        event = get_event(store, event_id)
        reviews = history(store, event_id)
        registration = store.registrations.get(event.registration_id) if event.registration_id else None
    title = Text.assemble((f"Event #{event.id}", "bold"), f"  {event.kind}  status ", (event.status, "bold"))
    out.print(title)
    fields = {
        "time": "ts",
        "camera": "camera",
        "line": "line",
        "direction": "direction",
        "closed": "closed",
        "reason": "reason",
        "video": "video",
        "frame": "frame",
        "track": "track_id",
        "raised": "created_at",
    }
    row = event.row()
    for label, key in fields.items():
        out.print(f"  {label:<11} {row[key]}")
    if event.confidence is not None:
        out.print(f"  {'confidence':<11} {event.confidence:.2f}")
    if registration is not None:
        out.print(f"  covered by  {registration[0].describe()}")
    out.print(f"  snapshot    {event.snapshot_path}")
    out.print(f"  crop        {event.crop_path}")
    out.print(f"  clip        {event.clip_path or '(none)'}")
    out.print(f"  evidence    {evidence_state(event)}")
    if reviews:
        out.print("  history:")
    for review in reviews:
        note = f": {review.note}" if review.note else ""
        out.print(f"    {review.at.isoformat()}  {review.by}  {review.from_status} -> {review.to_status}{note}")


def _review(event_id: int, to: EventStatus, by: str, note: str, db: Path, registration: int | None = None) -> None:
    with open_existing_store(db) as store:
        event = change_status(store, event_id, to, by=by, note=note, at=now(), registration_id=registration)
    out.print(f"Event #{event_id} is now {event.status} (by {by})")


By = Annotated[str, typer.Option(help="who reviews (name or badge); recorded in the audit trail")]
Note = Annotated[str, typer.Option(help="what was found or done")]


@events_app.command("ack")
def ack(event_id: int, by: By, note: Note = "", db: DbOption = DEFAULT_DB) -> None:
    """Acknowledge: a guard has seen the alert and is dealing with it."""
    _review(event_id, EventStatus.ACKNOWLEDGED, by, note, db)


@events_app.command("false-alarm")
def false_alarm(event_id: int, by: By, note: Note = "", db: DbOption = DEFAULT_DB) -> None:
    """Mark as a false alarm (no person, or no entry)."""
    _review(event_id, EventStatus.FALSE_ALARM, by, note, db)


@events_app.command("authorize")
def authorize(
    event_id: int,
    by: By,
    note: Note = "",
    registration: Annotated[int | None, typer.Option(help="link this registration id")] = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Authorize: the entry was allowed (optionally linked to a registration)."""
    _review(event_id, EventStatus.AUTHORIZED, by, note, db, registration)


@events_app.command("export")
def export(
    format_: Annotated[str, typer.Option("--format", help="csv or json")] = "csv",
    output: Annotated[Path | None, typer.Option("--out", help="file to write (default: standard output)")] = None,
    db: DbOption = DEFAULT_DB,
    config: OptionalConfig = None,
    status: StatusOption = None,
    camera: CameraOption = None,
    since: Since = None,
    until: Until = None,
) -> None:
    """Export events (with their review state) as CSV or JSON."""
    if format_ not in ("csv", "json"):
        raise GatewatchError(f"--format {format_!r}: use csv or json")
    rows = _query(db, config, status, camera, since, until)
    text = events_csv(rows) if format_ == "csv" else events_json(rows)
    if output is None:
        out.file.write(text)
    else:
        atomic_write(output, text.encode("utf-8"))
        err.print(f"{len(rows)} event(s) written to {output}")


@app.command("prune")
def prune_command(
    older_than: Annotated[str, typer.Option(help="remove snapshots of events older than this, e.g. 90d")],
    db: DbOption = DEFAULT_DB,
    dry_run: Annotated[bool, typer.Option(help="only say what would be removed")] = False,
) -> None:
    """Retention: delete snapshot files of old events; their rows stay, marked as pruned."""
    try:
        age = parse_duration(older_than)
    except ValueError as exc:
        raise GatewatchError(f"--older-than: {exc}") from None
    with open_existing_store(db) as store:
        result = prune(store, age, now(), dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    out.print(
        f"{result.events} event(s) older than {older_than}: {verb} {result.files_removed} file(s), "
        f"{result.bytes_freed / 1e6:.1f} MB"
    )
    if not dry_run:
        out.print(f"{result.registrations} expired registration(s) that excused no entry removed")
    for failure in result.failures:
        err.print(f"gatewatch: could not remove {failure}")
    if result.failures:
        raise GatewatchError(f"{len(result.failures)} file(s) could not be removed; their events are marked pruned")
