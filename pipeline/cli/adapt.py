"""`gatewatch adapt VIDEO... --camera ID --out FILE.onnx`: the detector refitted to one camera."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from pipeline.cli.app import ConfigOption, app, out, progress_bar
from pipeline.config import load_config
from pipeline.errors import GatewatchError
from pipeline.files import ensure_writable_dir
from pipeline.lighting import Lighting
from pipeline.sources import VideoFile

EXIT_REFUSED = 1  # the adapted model lost on the held-back minutes: nothing written


@app.command("adapt")
def adapt_command(
    videos: Annotated[list[Path], typer.Argument(help="the camera's own recordings, day and night (10 min or more)")],
    config: ConfigOption,
    camera: Annotated[str, typer.Option(help="the camera these recordings are from (its id in the config)")],
    model_out: Annotated[Path, typer.Option("--out", help="the adapted model to write (.onnx)")],
    held_back: Annotated[
        float,
        typer.Option(min=0.1, max=0.5, help="share of each recording (its end) kept back to check the adapted model"),
    ] = 0.25,
    truth: Annotated[
        Path | None,
        typer.Option(help="crossings a person counted (JSON, see README): the check compares crossings too"),
    ] = None,
) -> None:
    """Refit the bundled person detector to one camera's night from its own footage, without labels,
    and write it only if it beats the bundled model at night on minutes it did not learn from."""
    from rich.progress import TextColumn

    from pipeline.adapt import Progress, adapt

    cfg = load_config(config)
    if camera not in cfg.cameras:
        raise GatewatchError(f"--camera {camera!r}: no such camera in {config} (have: {', '.join(cfg.cameras)})")
    if model_out.suffix.lower() != ".onnx":
        raise GatewatchError(f"--out {model_out}: the model is an ONNX file; name it *.onnx")
    missing = [str(v) for v in videos if not v.is_file()]
    if missing:
        raise GatewatchError(f"video file not found: {', '.join(missing)}")
    ensure_writable_dir(model_out.parent)
    seconds = sum(VideoFile(v, cfg.sampling.fps, datetime.now(UTC)).duration_s for v in videos)
    bar = progress_bar(TextColumn("{task.description}"))
    with bar:
        reading = bar.add_task("reading the footage", total=seconds)
        learning = bar.add_task("learning", total=None, visible=False)
        checking = bar.add_task("checking on the held-back minutes", total=seconds * held_back, visible=False)

        def read(seconds: float) -> None:
            bar.update(reading, completed=seconds)

        def learnt(views: int, total: int) -> None:
            bar.update(learning, completed=views, total=total, visible=True)

        def checked(seconds: float) -> None:
            bar.update(checking, completed=seconds, visible=True)

        result = adapt(videos, cfg, camera, model_out, held_back, Progress(read, learnt, checked), truth)
    footage = result.footage
    out.print(
        f"{len(videos)} recording(s), {footage.seconds / 60:.1f} min; {footage.tracks} people found by evidence; "
        f"{footage.learnt} views learnt from, {len(footage.checking())} held back"
    )
    table = Table(title="Held-back minutes: average precision against the people found there", title_justify="left")
    for column in ("views", "kind", "people", "bundled", "adapted", ""):
        table.add_column(column, justify="left" if column in ("kind", "") else "right")
    for c in result.comparisons:
        if c.kind == Lighting.DAY:
            verdict = "not judged: by day the camera keeps the bundled model"
        else:
            verdict = "too few people to judge" if not c.counts else ("LOST" if c.lost else "better or equal")
        table.add_row(str(c.views), c.kind, str(c.people), f"{c.bundled:.3f}", f"{c.adapted:.3f}", verdict)
    out.print(table)
    if result.crossings is not None:
        for name, score in zip(("bundled", "adapted"), result.crossings, strict=True):
            out.print(
                f"crossings on the held-back minutes, {name} model at night: F1 {score.f1:.3f} "
                f"({score.true_positives} found, {score.false_negatives} missed, {score.false_positives} false)"
            )
    if not result.written:
        reason = (
            f"it lost on {', '.join(result.lost)}"
            if result.lost
            else "the held-back minutes had too few people at night to check it (give longer night recordings "
            "with people walking)"
        )
        out.print(f"not written: {reason}; the bundled model stays the better one for camera {camera}")
        raise typer.Exit(EXIT_REFUSED)
    out.print(
        f"wrote {model_out}. To use it on this camera's night frames, set in {config}:\n"
        f"  cameras:\n    {camera}:\n      night_model: {model_out}"
    )
