"""The `gatewatch` command: parse, call, print. No logic lives here.

Errors the user can fix (`GatewatchError`) print one line and exit with code 2; typer's own
usage errors also exit 2. Tracebacks are for bugs only.
"""

from __future__ import annotations

import os

# FFmpeg would print its own decoder complaints for damaged files; gatewatch reports those
# itself, on one line. Must be set before OpenCV is first imported.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit, urlunsplit

import typer
from rich.console import Console
from rich.table import Table

from pipeline.errors import GatewatchError

if TYPE_CHECKING:
    from pipeline.analyze import Summary

EXIT_USER_ERROR = 2
app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="gatewatch: unregistered entries at school gates, from camera footage.",
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)


@app.command()
def analyze(
    video: Annotated[Path, typer.Argument(help="recorded video file")],
    config: Annotated[Path, typer.Option("--config", "-c", help="YAML config")],
    camera: Annotated[str | None, typer.Option(help="camera id from the config (optional with one camera)")] = None,
    start: Annotated[
        str | None, typer.Option(help="wall-clock time of the first frame, e.g. 2026-11-28T23:00:00+08:00")
    ] = None,
    db: Annotated[Path, typer.Option(help="SQLite database")] = Path("out/gatewatch.db"),
    snapshots: Annotated[Path, typer.Option(help="folder for event snapshots")] = Path("out/snapshots"),
    jsonl: Annotated[Path | None, typer.Option(help="also write every crossing as JSON lines here")] = None,
) -> None:
    """Analyse a recorded video: count line crossings and flag unregistered entries during closed hours."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from pipeline.analyze import analyze as run_analysis
    from pipeline.config import load_config

    cfg = load_config(config)
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} frames"),
        TextColumn("{task.fields[fps]:.0f} fps"),
        TextColumn("{task.fields[crossings]} crossings"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
    with progress:
        task = progress.add_task(video.name, total=None, fps=0.0, crossings=0)
        started = datetime.now(UTC)

        def on_frame(done: int, total: int, crossings: int) -> None:
            elapsed = (datetime.now(UTC) - started).total_seconds()
            progress.update(
                task,
                completed=done,
                total=total or None,
                fps=done / elapsed if elapsed > 0 else 0.0,
                crossings=crossings,
            )

        summary = run_analysis(
            cfg,
            video,
            camera=camera,
            start=start,
            db_path=db,
            snapshot_dir=snapshots,
            jsonl_path=jsonl,
            analysed_at=started,
            progress=on_frame,
        )
    _print_summary(summary, db, jsonl)


def _print_summary(summary: Summary, db: Path, jsonl: Path | None) -> None:
    out.print(
        f"[bold]{summary.camera}[/]  {summary.video}  starts {summary.start:%Y-%m-%d %H:%M:%S%z} "
        f"(from {summary.start_source})"
    )
    table = Table(title="Crossings", title_justify="left")
    table.add_column("line")
    table.add_column("in", justify="right")
    table.add_column("out", justify="right")
    for line in sorted({line for line, _ in summary.counts}):
        table.add_row(line, str(summary.counts[(line, "in")]), str(summary.counts[(line, "out")]))
    if summary.counts:
        out.print(table)
    else:
        out.print("Crossings: none")
    out.print(f"Covered by registrations: {summary.covered}")
    out.print(f"[bold]Flagged events: {len(summary.flagged)}[/]")
    for event in summary.flagged:
        out.print(
            f"  #{event.event_id} {event.kind} line {event.line} at {event.ts:%Y-%m-%d %H:%M:%S%z} "
            f"(track {event.track_id})"
        )
        out.print(f"      snapshot {event.snapshot}")
        out.print(f"      crop     {event.crop}")
    out.print(
        f"{summary.frames_decoded} frames ({summary.duration_s:.1f} s of video), {summary.frames_analysed} analysed "
        f"at {summary.analysed_fps:.1f} fps, in {summary.elapsed_s:.1f} s: {summary.speed:.1f}x real time"
    )
    out.print(f"Stored in {db}" + (f"; crossings in {jsonl}" if jsonl else ""))


@app.command("check-config")
def check_config(config: Annotated[Path, typer.Argument(help="YAML config to validate")]) -> None:
    """Validate a config and print what gatewatch understood from it."""
    from pipeline.config import load_config
    from pipeline.registrations import load_registrations_csv

    cfg = load_config(config)
    out.print(f"[bold]{config}[/]: valid. Time zone {cfg.timezone}.")
    out.print(
        f"Detector: {cfg.detector.model} ({cfg.detector.type}), confidence {cfg.detector.confidence:g}; "
        f"sampling {cfg.sampling.fps:g} fps; tracker {cfg.tracker.type}"
    )
    for name, cam in cfg.cameras.items():
        size = f" {cam.resolution[0]}x{cam.resolution[1]}" if cam.resolution else ""
        out.print(f"Camera [bold]{name}[/]{size}: {_redact(cam.source)}")
        for line_name, line in cam.lines.items():
            (x1, y1), (x2, y2) = line.points
            out.print(
                f"  line {line_name}: ({x1:g},{y1:g}) -> ({x2:g},{y2:g}), inside side at "
                f"({line.inside[0]:g},{line.inside[1]:g})"
            )
    for name, schedule in cfg.schedules.items():
        out.print(
            f"Schedule [bold]{name}[/]: closed {', '.join(str(w) for w in schedule.windows)} "
            f"starting on {', '.join(schedule.days)}"
        )
    for rule in cfg.rules:
        what = "unregistered" if rule.require_registration else "any"
        out.print(
            f"Rule: {what} {'/'.join(rule.directions)} crossings of {rule.camera}.{rule.line} while "
            f"{rule.schedule!r} is closed"
            + (f" (registration window {rule.window:g} s)" if rule.require_registration else "")
        )
    if cfg.registrations.csv:
        path = cfg.resolve(cfg.registrations.csv)
        rows = load_registrations_csv(path, cfg.tz, set(cfg.cameras))
        out.print(f"Registrations: {len(rows)} from {path}")


def _redact(source: str) -> str:
    """Camera URLs carry passwords; never print them."""
    parts = urlsplit(source)
    if parts.password is None and parts.username is None:
        return source
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"***@{host}"))


def main() -> None:
    try:
        app()
    except GatewatchError as exc:
        err.print(f"gatewatch: error: {exc}", markup=False, soft_wrap=True)
        sys.exit(EXIT_USER_ERROR)
    except KeyboardInterrupt:
        err.print("gatewatch: interrupted; nothing from this run was stored", markup=False)
        sys.exit(130)
