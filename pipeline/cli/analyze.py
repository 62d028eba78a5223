"""`gatewatch analyze` (the offline run) and `gatewatch check-config`."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from pipeline.cli.app import DEFAULT_DB, ConfigOption, DbOption, app, err, out, progress_bar
from pipeline.config import Config, load_config
from pipeline.errors import GatewatchError
from pipeline.lighting import Lighting, LightingTally
from pipeline.offline.footage import MAX_GAP_S, Found
from pipeline.redact import redact
from pipeline.schedule import ALL_DAY, WEEKDAYS, WHOLE_DAY, Schedule
from pipeline.vocabulary import Direction

LIST_FAILED = 20  # failed files listed one by one; past this, counted by reason and listed in a file

if TYPE_CHECKING:
    from pipeline.offline.analyze import Summary
    from pipeline.offline.batch import BatchReport


@app.command()
def analyze(
    videos: Annotated[
        list[str],
        typer.Argument(
            help="recorded video file(s), folders (searched recursively) or glob patterns, e.g. an NVR export",
            show_default=False,
        ),
    ],
    config: ConfigOption,
    camera: Annotated[
        str | None,
        typer.Option(help="camera id from the config, for every file (else from the config's files/channel)"),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(help="wall-clock time of the first frame, e.g. 2026-11-28T23:00:00+08:00 (one file only)"),
    ] = None,
    db: DbOption = DEFAULT_DB,
    snapshots: Annotated[Path, typer.Option(help="folder for event snapshots")] = Path("out/snapshots"),
    jsonl: Annotated[
        Path | None, typer.Option(help="also write every crossing as JSON lines here (one file only)")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="parallel workers for several files (default: what cores and memory allow)"),
    ] = None,
    force: Annotated[bool, typer.Option(help="analyse again files already analysed with this config")] = False,
    max_gap: Annotated[
        float, typer.Option(min=0, help="seconds between two files of a camera beyond which they are not continuous")
    ] = MAX_GAP_S,
    ray: Annotated[
        str | None,
        typer.Option(
            envvar="RAY_ADDRESS",
            help="run the batch on this Ray cluster (e.g. ray://head:10001 or auto)",
            show_envvar=True,
        ),
    ] = None,
) -> None:
    """Analyse recorded video: count line crossings and flag unregistered entries during closed hours.

    One file is analysed as given. Several files, folders or patterns are a batch: each file goes to
    its camera, each camera's files are analysed in time order as one recording, cameras in
    parallel, and files already analysed with the same config are skipped."""
    cfg = load_config(config)
    single = len(videos) == 1 and Path(videos[0]).is_file() and workers is None and not force and ray is None
    if single:
        _analyze_one(cfg, Path(videos[0]), camera, start, db, snapshots, jsonl)
        return
    from pipeline.offline.footage import find_videos

    found = find_videos(videos)  # a path that is not there is the first thing to say
    for flag, value in (("--start", start), ("--jsonl", jsonl)):
        if value is not None:
            raise GatewatchError(f"{flag}: only for one file; a batch dates each file by its name or metadata")
    _analyze_batch(cfg, found, camera, db, snapshots, workers, force, max_gap, ray)


def _analyze_one(
    cfg: Config, video: Path, camera: str | None, start: str | None, db: Path, snapshots: Path, jsonl: Path | None
) -> None:
    from rich.progress import TextColumn

    from pipeline.offline.analyze import analyze as run_analysis

    progress = progress_bar(
        TextColumn("{task.description}", style="bold"),
        TextColumn("{task.completed}/{task.total} frames"),
        TextColumn("{task.fields[fps]:.0f} fps"),
        TextColumn("{task.fields[crossings]} crossings"),
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


def _analyze_batch(
    cfg: Config,
    found: Found,
    camera: str | None,
    db: Path,
    snapshots: Path,
    workers: int | None,
    force: bool,
    max_gap: float,
    ray: str | None,
) -> None:
    from rich.progress import TextColumn

    from pipeline.db import Store
    from pipeline.offline.batch import BatchProgress, default_workers, run_batch
    from pipeline.offline.footage import plan

    done = None
    if not force and db.is_file():
        with Store(db, readonly=True) as store:
            done = store.events.analysed_files()
    files = found.files
    batch = plan(files, cfg, camera=camera, done=done, max_gap_s=max_gap)
    batch.unreadable.extend(found.skipped)  # reported and counted as failed, like a file that cannot be opened
    workers = workers or default_workers(len(batch.chains))
    where = f"on the Ray cluster at {ray}" if ray else f"with {workers} worker(s)"
    seconds = sum(c.duration_s for c in batch.chains)
    err.print(
        f"{len(files) + len(found.skipped)} file(s): {len(batch.recordings)} to analyse "
        f"({_length(seconds)} of video in "
        f"{len(batch.chains)} continuous run(s)), {len(batch.done)} analysed before, "
        f"{len(batch.unassigned)} without a camera, {len(batch.unreadable)} unreadable; {where}",
        soft_wrap=True,
    )
    for path, why in batch.unassigned:
        err.print(f"  skipped {path}: {why}", soft_wrap=True)
    for gap in batch.gaps:
        what = f"a gap of {gap.seconds:.0f} s" if gap.seconds > 0 else f"an overlap of {-gap.seconds:.0f} s"
        err.print(
            f"  {gap.camera}: {what} between {gap.before.name} and {gap.after.name}; tracks restart there",
            soft_wrap=True,
        )
    progress = progress_bar(
        TextColumn("[bold]batch"),
        TextColumn("{task.fields[files]} files"),
        TextColumn("{task.fields[hours]} h of video"),
        TextColumn("{task.fields[speed]:.1f}x real time"),
    )
    started = datetime.now(UTC)
    clock = time.perf_counter()
    report = None
    try:
        with progress:
            task = progress.add_task("batch", total=seconds or None, files="0/0", hours="0.0", speed=0.0)

            def on_progress(state: BatchProgress) -> None:
                elapsed = time.perf_counter() - clock
                progress.update(
                    task,
                    completed=state.seconds_seen,
                    files=f"{state.files_done}/{state.files_total}",
                    hours=f"{state.seconds_seen / 3600:.1f}/{state.seconds_total / 3600:.1f}",
                    speed=state.seconds_seen / elapsed if elapsed > 0 else 0.0,
                )

            report = run_batch(
                cfg,
                batch,
                db_path=db,
                snapshot_dir=snapshots,
                analysed_at=started,
                workers=workers,
                ray_address=ray,
                on_progress=on_progress,
            )
    except KeyboardInterrupt:
        err.print(
            "gatewatch: interrupted; every file finished before is stored, the files in progress are not. "
            "Run the same command again to analyse the rest.",
            soft_wrap=True,
        )
        raise typer.Exit(130) from None
    _print_batch(report, db, started)
    if report.failed:
        raise typer.Exit(1)  # some files failed, the rest are stored


def _print_batch(report: BatchReport, db: Path, started: datetime) -> None:
    table = Table(title="Cameras", title_justify="left")
    for column in ("camera", "files", "hours", "in", "out", "flagged", "skipped", "failed"):
        table.add_column(column, justify="left" if column == "camera" else "right")
    for name, tally in report.cameras.items():
        if tally.files or tally.skipped or tally.failed:
            table.add_row(
                name,
                str(tally.files),
                f"{tally.seconds / 3600:.2f}",
                str(tally.crossings_in),
                str(tally.crossings_out),
                str(tally.flagged),
                str(len(tally.skipped)),
                str(len(tally.failed)),
            )
    out.print(table)
    _print_failed(report.failed, db, started)
    out.print(
        f"{_length(report.seconds)} of video in {report.elapsed_s:.0f} s ({report.speed:.1f}x real time, "
        f"{report.workers} worker(s)); stored in {db}",
        soft_wrap=True,
    )
    if report.failed:
        out.print(f"{len(report.failed)} file(s) failed; the rest are stored. Fix or remove them and run again.")


def _print_failed(failed: list[tuple[Path, str]], db: Path, started: datetime) -> None:
    """Each failed file on a line of its own, up to `LIST_FAILED`; past that, the count per reason
    on screen and the whole list in a file beside the database (10,000 lines would scroll away
    the summary, and an audit needs every name)."""
    if len(failed) <= LIST_FAILED:
        for path, why in failed:
            out.print(f"failed {path}: {why}", style="bold", soft_wrap=True)
        return
    listing = db.parent / f"failed-{started:%Y%m%dT%H%M%SZ}.txt"
    listing.parent.mkdir(parents=True, exist_ok=True)
    listing.write_text("".join(f"{path}\t{why}\n" for path, why in failed), encoding="utf-8")
    for why, count in Counter(why for _, why in failed).most_common():
        out.print(f"failed {count} file(s): {why}", style="bold", soft_wrap=True)
    out.print(f"every failed file, with why: {listing}", soft_wrap=True)


def _length(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


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
    from pipeline.offline.prepare import load_config_registrations

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
