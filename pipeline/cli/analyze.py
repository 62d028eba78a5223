"""`gatewatch analyze` (the offline run) and `gatewatch check-config`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from pipeline.cli.app import DEFAULT_DB, ConfigOption, DbOption, app, err, out
from pipeline.config import load_config
from pipeline.lighting import Lighting, LightingTally
from pipeline.redact import redact
from pipeline.schedule import ALL_DAY, WEEKDAYS, WHOLE_DAY, Schedule
from pipeline.vocabulary import Direction

if TYPE_CHECKING:
    from pipeline.analyze import Summary


@app.command()
def analyze(
    video: Annotated[Path, typer.Argument(help="recorded video file")],
    config: ConfigOption,
    camera: Annotated[str | None, typer.Option(help="camera id from the config (optional with one camera)")] = None,
    start: Annotated[
        str | None, typer.Option(help="wall-clock time of the first frame, e.g. 2026-11-28T23:00:00+08:00")
    ] = None,
    db: DbOption = DEFAULT_DB,
    snapshots: Annotated[Path, typer.Option(help="folder for event snapshots")] = Path("out/snapshots"),
    jsonl: Annotated[Path | None, typer.Option(help="also write every crossing as JSON lines here")] = None,
) -> None:
    """Analyse a recorded video: count line crossings and flag unregistered entries during closed hours."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from pipeline.analyze import analyze as run_analysis

    cfg = load_config(config)
    progress = Progress(
        TextColumn("{task.description}", style="bold"),
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
        Text.assemble(
            (summary.camera, "bold"),
            f"  {summary.video}  starts {summary.start:%Y-%m-%d %H:%M:%S%z} (from {summary.start_source})",
        )
    )
    table = Table(title="Crossings", title_justify="left")
    table.add_column("line")
    table.add_column("in", justify="right")
    table.add_column("out", justify="right")
    for line in sorted({line for line, _ in summary.counts}):
        counts = summary.counts
        table.add_row(line, str(counts[(line, Direction.IN)]), str(counts[(line, Direction.OUT)]))
    if summary.counts:
        out.print(table)
    else:
        out.print("Crossings: none")
    out.print(f"Covered by registrations: {summary.covered}")
    out.print(f"Flagged events: {len(summary.flagged)}", style="bold")
    for event in summary.flagged:
        out.print(
            f"  #{event.event_id} {event.kind} line {event.line} at {event.ts:%Y-%m-%d %H:%M:%S%z} "
            f"(track {event.track_id})"
        )
        out.print(f"      snapshot {event.snapshot}")
        out.print(f"      crop     {event.crop}")
    out.print(
        f"{summary.frames_decoded} frames ({summary.duration_s:.1f} s of video), {summary.frames_analysed} analysed "
        f"at {summary.analysed_fps:.1f} fps ({summary.frames_detected} needed the detector), in "
        f"{summary.elapsed_s:.1f} s: {summary.speed:.1f}x real time"
    )
    if summary.frames_missing:
        out.print(
            f"Warning: the file ends {summary.frames_missing} frame(s) ({summary.frames_missing / summary.fps:.1f} s) "
            "before its index says: it is truncated, and that footage was not analysed",
            style="bold",
        )
    night = _night_note(summary.lighting)
    if night:
        out.print(night)
    out.print(f"Stored in {db}" + (f"; crossings in {jsonl}" if jsonl else ""))


def _night_note(lighting: LightingTally) -> str:
    """Said when the footage looks like night, so a camera stuck in IR or too dark is noticed."""
    infrared, low = lighting.share(Lighting.INFRARED), lighting.share(Lighting.LOW_LIGHT)
    if infrared + low < 0.05:
        return ""
    parts = [f"{share:.0%} {label}" for share, label in ((infrared, "infrared (grey)"), (low, "low light")) if share]
    return (
        f"Night footage: {' and '.join(parts)} in the sampled frames. The bundled model is trained for "
        "night (README: Cameras at night)."
    )


@app.command("check-config")
def check_config(config: Annotated[Path, typer.Argument(help="YAML config to validate")]) -> None:
    """Validate a config and print what gatewatch understood from it."""
    from pipeline.analyze import load_config_registrations

    cfg = load_config(config)
    out.print(Text.assemble((str(config), "bold"), f": valid. Site {cfg.site.name!r}, time zone {cfg.timezone}."))
    out.print(
        f"Detector: {cfg.detector.model} ({cfg.detector.type}), confidence {cfg.detector.confidence:g}; "
        f"sampling {cfg.sampling.fps:g} fps; tracker {cfg.tracker.type}"
    )
    for name, cam in cfg.cameras.items():
        size = f" {cam.resolution[0]}x{cam.resolution[1]}" if cam.resolution else ""
        out.print(Text.assemble("Camera ", (name, "bold"), f"{size}: {redact(cam.source)}"))
        for line_name, line in cam.lines.items():
            (x1, y1), (x2, y2) = line.points
            out.print(
                f"  line {line_name}: ({x1:g},{y1:g}) -> ({x2:g},{y2:g}), inside side at "
                f"({line.inside[0]:g},{line.inside[1]:g})"
            )
        for zone_name, zone in cam.zones.items():
            corners = " ".join(f"({x:g},{y:g})" for x, y in zone.points)
            out.print(f"  zone {zone_name}: {corners}")
    for group, members in cfg.groups.items():
        out.print(Text.assemble("Group ", (group, "bold"), f": {', '.join(members)}"))
    for name, section in cfg.schedules.items():
        schedule = Schedule(name, section, cfg.tz)
        by_hours: dict[str, list[str]] = {}
        for index, windows in schedule.weekly.items():
            by_hours.setdefault(", ".join(str(w) for w in windows) or "open", []).append(WEEKDAYS[index])
        parts = [f"{hours} ({'every day' if len(days) == 7 else ' '.join(days)})" for hours, days in by_hours.items()]
        out.print(Text.assemble("Schedule ", (name, "bold"), f": closed {'; '.join(parts)}"))
        for exception in schedule.exceptions:
            span = str(exception.first) if exception.first == exception.last else f"{exception.first}..{exception.last}"
            windows = [WHOLE_DAY] if exception.closed == ALL_DAY else exception.closed
            hours = ", ".join(str(w) for w in windows) or "open all day"
            out.print(f"  exception {exception.name!r} {span}: {hours}")
    for rule in cfg.rules:
        what = "unregistered" if rule.require_registration else "any"
        kind = "line" if rule.line else "zone"
        extra = [f"registration window {rule.window:g} s"] if rule.require_registration else []
        if rule.min_track_age_s:
            extra.append(f"tracks seen >= {rule.min_track_age_s:g} s")
        if rule.min_displacement_px:
            extra.append(f"moved >= {rule.min_displacement_px:g} px")
        extra.append(f"anchor {cfg.anchor_of(rule.camera, rule.target)}")
        out.print(
            f"Rule: {what} {'/'.join(rule.directions)} crossings of {kind} {rule.camera}.{rule.target} while "
            f"{rule.schedule!r} is closed ({'; '.join(extra)})"
        )
    if cfg.registrations.csv:
        rows = load_config_registrations(cfg)
        out.print(f"Registrations: {len(rows)} from {cfg.resolve(cfg.registrations.csv)}")
