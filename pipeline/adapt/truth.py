"""A short truth file for `gatewatch adapt --truth`: the crossings a person counted on the
held-back minutes, so that the check also compares the two models where it matters, crossing by
crossing through the camera's own lines, and not only against what the evidence found.

    {"crossings": [{"video": "gate-2_20261128220000.mp4", "line": "gate", "direction": "in", "at_s": 512.4}]}

`at_s`: seconds from the start of that recording, as a player shows them. Only crossings in the
held-back minutes (the end of each recording) count; the file may hold others.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pipeline.adapt.footage import NO_START
from pipeline.camera import CameraPipeline, Detect
from pipeline.config import Config
from pipeline.errors import GatewatchError
from pipeline.evaluation import Event, Score, score
from pipeline.records import Crossing
from pipeline.sources import VideoFile
from pipeline.vocabulary import Direction

TOLERANCE_S = 2.0  # a counted crossing matches one found this close in time


class TruthCrossing(BaseModel):
    model_config = ConfigDict(extra="forbid")

    video: str = Field(min_length=1)
    line: str = Field(min_length=1)
    direction: Direction
    at_s: float = Field(ge=0)


class TruthFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    crossings: list[TruthCrossing]


def load_truth(path: Path, videos: list[Path], config: Config, camera: str) -> TruthFile:
    """The file, checked against the recordings and the camera's lines (which entry, which key)."""
    try:
        truth = TruthFile.model_validate(json.loads(path.read_text()))
    except OSError as exc:
        raise GatewatchError(f"--truth {path}: cannot be read ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise GatewatchError(f"--truth {path}: not JSON ({exc.msg}, line {exc.lineno})") from None
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise GatewatchError(f"--truth {path}: {where}: {error['msg']}") from None
    names = {video.name for video in videos}
    watched = {*config.cameras[camera].lines, *config.cameras[camera].zones}
    for k, crossing in enumerate(truth.crossings):
        if crossing.video not in names:
            raise GatewatchError(
                f"--truth {path}: crossings.{k}.video: {crossing.video!r} is not one of the recordings given"
            )
        if crossing.line not in watched:
            raise GatewatchError(
                f"--truth {path}: crossings.{k}.line: camera {camera} has no line or zone {crossing.line!r}"
            )
    return truth


def crossing_scores(
    truth: TruthFile,
    videos: list[Path],
    held_back_from: list[int],
    config: Config,
    camera: str,
    detect: Detect,
    nights: tuple[Detect, Detect],
) -> tuple[Score, Score]:
    """Crossings on the held-back minutes through the camera's own pipeline, at night with each of
    `nights` (the bundled model, the adapted one), scored against the truth: (bundled, adapted)."""
    found: tuple[list[Event], list[Event]] = ([], [])
    wanted: list[Event] = []
    tolerance = 0
    for number, path in enumerate(videos):
        source = VideoFile(path, config.sampling.fps, NO_START)
        first = held_back_from[number]
        tolerance = max(tolerance, round(TOLERANCE_S * source.fps))
        size = (source.width, source.height)
        # Both pipelines step through the same decoded frames: the footage is read once.
        pipelines = [CameraPipeline(config, camera, size, source.analysed_fps, detect, night) for night in nights]
        crossings: tuple[list[Crossing], list[Crossing]] = ([], [])
        for frame in source.frames(first):
            for pipeline, into in zip(pipelines, crossings, strict=True):
                into.extend(c for c, _ in pipeline.step(frame).crossings)
        for pipeline, into, events in zip(pipelines, crossings, found, strict=True):
            into.extend(c for c, _ in pipeline.finish())
            events.extend(Event(f"{number}:{c.line}", c.direction, c.frame) for c in into)
        wanted += [
            Event(f"{number}:{c.line}", c.direction, round(c.at_s * source.fps))
            for c in truth.crossings
            if c.video == path.name and round(c.at_s * source.fps) >= first
        ]
    return score(found[0], wanted, tolerance), score(found[1], wanted, tolerance)
