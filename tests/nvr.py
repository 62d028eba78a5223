"""An NVR export made from the sample clip: the same frames cut into files as recorders name them.

The files are encoded losslessly, so the pieces decode to exactly the frames of the whole (a
reference encoded the same way): any difference in crossings between the two comes from how
gatewatch strings files together, not from the encoder.
"""

from __future__ import annotations

import itertools
import shutil
import sqlite3
import subprocess
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import av
import numpy as np
import yaml

from .conftest import ROOT, SAMPLE, gatewatch

Crossings = list[tuple[str, str, str, str, int]]

SAMPLE_START = datetime.fromisoformat("2026-11-28T22:29:50+08:00")
FPS = 10


@cache
def sample_frames() -> tuple[np.ndarray, ...]:
    with av.open(str(SAMPLE)) as container:
        return tuple(frame.to_ndarray(format="bgr24") for frame in container.decode(video=0))


def first_half() -> tuple[np.ndarray, ...]:
    """The sample's first 30 s: persons A, B and C walk in (frames 48, 146, 248), then nothing for
    5 s. Exports made of it test what strings and resumes files at half the cost of the whole."""
    return sample_frames()[:300]


HALF_CUTS = [
    100,
    200,
]  # three 10-second files: A crosses in the first, B in the second, C (walking up at the cut) in the third


def encode(path: Path, frames: tuple[np.ndarray, ...] | list[np.ndarray]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format="mp4") as output:
        stream = output.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = 640, 480, "yuv444p"
        stream.options = {"qp": "0", "preset": "ultrafast"}
        for image in frames:
            output.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        output.mux(stream.encode(None))
    return path


def cut(folder: Path, cuts: list[int], name: str = "ch01", frames: tuple[np.ndarray, ...] | None = None) -> list[Path]:
    """The sample cut at these frame numbers into files named `{name}_<start>.mp4` (cuts at whole
    seconds, as file names hold whole seconds)."""
    frames = frames if frames is not None else sample_frames()
    edges = [0, *cuts, len(frames)]
    paths = []
    for first, end in itertools.pairwise(edges):
        start = SAMPLE_START + timedelta(seconds=first / FPS)
        paths.append(encode(folder / f"{name}_{start:%Y%m%d%H%M%S}.mp4", frames[first:end]))
    return paths


GATE = {"points": [[320, 250], [320, 470]], "inside": [420, 380]}


def write_config(folder: Path, cameras: dict[str, dict[str, Any]]) -> Path:
    """One line per camera, closed at night; the demo's registrations (north-gate's) where there is a north-gate."""
    config = {
        "timezone": "Asia/Shanghai",
        "cameras": {
            name: {"source": "rtsp://nvr/" + name, **extra, "lines": {"gate": GATE}} for name, extra in cameras.items()
        },
        "schedules": {"night": {"closed": ["22:30-06:00"]}},
        "rules": [
            {"camera": name, "line": "gate", "schedule": "night", "require_registration": True, "window": 30}
            for name in cameras
        ],
    }
    if "north-gate" in cameras:
        shutil.copy(ROOT / "configs" / "registrations.csv", folder / "registrations.csv")
        config["registrations"] = {"csv": "registrations.csv"}
    path = folder / "gatewatch.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def batch(config: Path, *paths: Path | str, db: Path, extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    return gatewatch(
        "analyze", *paths, "--config", config, "--db", db, "--snapshots", db.parent / "snapshots", *extra
    )  # fmt: skip


def crossings(db: Path, camera: str | None = None) -> Crossings:
    """(camera, time, line, direction, flagged) of each stored crossing, in time order."""
    connection = sqlite3.connect(db)
    try:
        rows = connection.execute(
            "SELECT camera, ts, line, direction, flagged FROM crossings ORDER BY camera, ts, line"
        ).fetchall()
    finally:
        connection.close()
    return [r for r in rows if camera is None or r[0] == camera]


def files_of(db: Path) -> dict[str, int]:
    """Each analysed file's name and how many crossings are stored with it."""
    connection = sqlite3.connect(db)
    try:
        videos = [Path(v).name for (v,) in connection.execute("SELECT video FROM videos")]
        counts = dict(connection.execute("SELECT video, count(*) FROM crossings GROUP BY video").fetchall())
    finally:
        connection.close()
    return {name: next((n for v, n in counts.items() if Path(v).name == name), 0) for name in videos}


def stored_any(db: Path) -> bool:
    try:
        return bool(files_of(db))
    except sqlite3.Error:  # not created yet
        return False


def analysed_whole(folder: Path, frames: tuple[np.ndarray, ...] | None = None) -> Crossings:
    """The sample (or `frames` of it) as one file, encoded as the pieces are, analysed as one
    file: what a batch of its pieces must give."""
    whole = encode(folder / "ch01_20261128222950.mp4", frames if frames is not None else sample_frames())
    config = write_config(folder, {"north-gate": {}})
    result = gatewatch("analyze", whole, "--config", config, "--db", folder / "g.db", "--snapshots", folder / "s")
    assert result.returncode == 0, result.stderr
    found = crossings(folder / "g.db")
    assert len(found) >= (6 if frames is None else 3), found  # the sample has 7 crossings (3 in the first half)
    return found
