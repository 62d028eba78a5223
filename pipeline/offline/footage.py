"""An NVR export as gatewatch sees it: which camera each file is, in what order, and where the gaps are.

NVRs export each channel as 30- or 60-minute files (Hikvision `ch01_20261128230000.mp4`, Dahua
`2026-11-28.23.00.00-2026-11-28.23.30.00[M][0@0][0].dav` in a folder per channel). A file is
given to a camera by `--camera`, by the camera's `files` patterns, or by the channel number in its
name or folder when the config maps channels; a file that fits none (or several) is listed and
left alone: footage analysed against the wrong gate's lines is worse than footage not analysed.

Each camera's files, ordered by start time, form chains: files that follow each other within
`max_gap_s` are one continuous recording (a person crossing as one file ends and the next
begins is counted once); a gap or an overlap starts a new chain, and tracks do not continue
across it.
"""

from __future__ import annotations

import fnmatch
import glob
import hashlib
import json
import os
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import NamedTuple

from pipeline.clock import recording_start
from pipeline.config import BundledModel, Config
from pipeline.detectors.onnx import bundled_model_path
from pipeline.errors import GatewatchError
from pipeline.records import seconds_between
from pipeline.sources import VideoFile

# What a folder's videos are called; a file named on the command line is taken whatever its name.
VIDEO_SUFFIXES = frozenset(
    {".mp4", ".m4v", ".mkv", ".mov", ".avi", ".dav", ".ts", ".mts", ".flv", ".asf", ".mpg", ".mpeg", ".webm", ".264"}
)
MAX_GAP_S = 2.0  # NVRs cut files a frame or two apart; more than this is footage missing
LINKED_FOLDER = "a link to a folder, not followed (a link back up would loop); name its target to include it"

# Channel numbers as NVRs write them: in the file name (ch01_..., Channel 1 ...) or as the folder (D1, CH01, Camera 1).
_CHANNEL_IN_NAME = re.compile(r"^(?:ch|chan|channel)[ _-]?0*(\d{1,3})(?=[ _.\-\[]|$)", re.IGNORECASE)
_CHANNEL_FOLDER = re.compile(r"^(?:d|ch|chan|channel|cam|camera)[ _-]?0*(\d{1,3})$", re.IGNORECASE)


@dataclass(frozen=True)
class Recording:
    """One file of one camera, with what says whether it was analysed before (size, mtime)."""

    camera: str
    path: Path  # absolute: the database's key for the file
    start: datetime
    start_source: str  # "file name", "container metadata", "--start"
    duration_s: float
    size: int
    mtime_ns: int

    @property
    def end(self) -> datetime:
        # In UTC: wall-clock arithmetic in the site's zone is an hour off across a DST change.
        return (self.start.astimezone(UTC) + timedelta(seconds=self.duration_s)).astimezone(self.start.tzinfo)


@dataclass(frozen=True)
class Chain:
    """Files of one camera analysed as one recording, in time order."""

    camera: str
    recordings: tuple[Recording, ...]
    # The file just before, analysed already (a batch resumed): its last seconds are played
    # through the tracker first, so a person crossing as it ends is followed, not lost or doubled.
    lead_in: Recording | None = None

    @property
    def duration_s(self) -> float:
        return sum(r.duration_s for r in self.recordings)


@dataclass(frozen=True)
class Gap:
    camera: str
    before: Path
    after: Path
    seconds: float  # negative: the files overlap


@dataclass
class Plan:
    chains: list[Chain] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    done: list[Recording] = field(default_factory=list)  # analysed before with the same config: skipped
    unassigned: list[tuple[Path, str]] = field(default_factory=list)  # no camera: (file, why)
    unreadable: list[tuple[Path, str]] = field(default_factory=list)  # cannot be opened or dated: (file, why)

    @property
    def recordings(self) -> list[Recording]:
        return [r for chain in self.chains for r in chain.recordings]


class Found(NamedTuple):
    files: list[Path]
    skipped: list[tuple[Path, str]]  # what looked like footage but cannot be analysed: (path, why)


def find_videos(arguments: Iterable[str]) -> Found:
    """Files, folders (searched recursively for videos) and glob patterns, each file once, in
    name order. An argument that names nothing is an error before any work starts.

    Nothing is passed over without a word: a sub-folder that cannot be read, a link to nothing,
    a FIFO or a device under a video's name are listed as skipped (a channel's night must not
    vanish from an audit). Symlinked folders are not followed, by folders and `**` alike: a link
    back up the tree would loop for ever."""
    found: dict[Path, None] = {}
    skipped: dict[Path, str] = {}
    for argument in arguments:
        path = Path(argument).expanduser()
        if path.is_dir():
            before = len(skipped)
            candidates = [p for p in _walk(path, skipped) if p.suffix.lower() in VIDEO_SUFFIXES]
            if not candidates and len(skipped) == before:
                raise GatewatchError(f"{path}: no video files in this folder ({', '.join(sorted(VIDEO_SUFFIXES))})")
        elif path.exists() or path.is_symlink():
            candidates = [path]
        elif glob.has_magic(argument):
            root, pattern = _split_pattern(path)
            if "**" in pattern and root.is_dir():
                list(_walk(root, skipped))  # only to hear of the folders it cannot read
            candidates = list(root.glob(pattern)) if root.is_dir() and pattern else []
            if not candidates:
                raise GatewatchError(f"{argument}: no file matches this pattern")
        else:
            raise GatewatchError(f"{path}: video file not found")
        for candidate in sorted(candidates):
            why = _not_footage(candidate)
            if why is None:
                found.setdefault(candidate.absolute(), None)
            else:
                skipped.setdefault(candidate.absolute(), why)
    return Found(list(found), sorted(skipped.items()))


def _walk(folder: Path, skipped: dict[Path, str]) -> Iterator[Path]:
    """Every entry below `folder` but folders; the folders it cannot read and the symlinked
    folders it does not follow go to `skipped`."""

    def unreadable(exc: OSError) -> None:
        skipped.setdefault(Path(exc.filename).absolute(), f"cannot read this folder ({exc.strerror})")

    for parent, folders, names in os.walk(folder, onerror=unreadable):
        base = Path(parent)
        yield from (base / name for name in names)
        for name in folders:
            if (base / name).is_symlink():
                skipped.setdefault((base / name).absolute(), LINKED_FOLDER)


def _split_pattern(path: Path) -> tuple[Path, str]:
    """`/nvr/L/**/ch09_*.mp4` -> (`/nvr/L`, `**/ch09_*.mp4`): the folder to search from, and the rest."""
    parts = path.parts
    fixed = next((i for i, part in enumerate(parts) if glob.has_magic(part)), len(parts))
    return Path(*parts[:fixed]) if fixed else Path("."), "/".join(parts[fixed:])


def _not_footage(path: Path) -> str | None:
    """Why a path that looks like footage cannot be analysed, or None if it can be read."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "a link to nothing (its target is gone)" if path.is_symlink() else "gone while the batch was planned"
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if stat.S_ISDIR(mode):
        return LINKED_FOLDER if path.is_symlink() else "a folder under a video's name"
    if stat.S_ISFIFO(mode):
        return "not a file but a FIFO"
    if not stat.S_ISREG(mode):
        return "not a file but a device or socket"
    if not os.access(path, os.R_OK):
        return "cannot be read (permission denied)"
    return None


def channel_of(path: Path) -> int | None:
    """The NVR channel a file records, from its name or the nearest folder that names one."""
    match = _CHANNEL_IN_NAME.match(path.name)
    if match:
        return int(match.group(1))
    for folder in path.parents:
        match = _CHANNEL_FOLDER.match(folder.name)
        if match:
            return int(match.group(1))
    return None


def camera_of(path: Path, config: Config, forced: str | None) -> tuple[str | None, str]:
    """The camera a file belongs to, or None and why not."""
    if forced is not None:
        return forced, ""
    by_pattern = [name for name, camera in config.cameras.items() if any(_matches(path, p) for p in camera.files)]
    if len(by_pattern) == 1:
        return by_pattern[0], ""
    if by_pattern:
        return None, f"matches the files patterns of several cameras ({', '.join(by_pattern)})"
    channels = {camera.channel: name for name, camera in config.cameras.items() if camera.channel is not None}
    channel = channel_of(path)
    if channel is not None and channel in channels:
        return channels[channel], ""
    if len(config.cameras) == 1 and not channels and not any(c.files for c in config.cameras.values()):
        return next(iter(config.cameras)), ""
    said = f"channel {channel} is no camera's" if channel is not None else "no channel number in its name"
    return None, f"no camera's files patterns match it and {said}; give --camera or map it in the config"


def _matches(path: Path, pattern: str) -> bool:
    text = path.as_posix()
    return (
        fnmatch.fnmatchcase(path.name, pattern)
        or fnmatch.fnmatchcase(text, pattern)
        or (fnmatch.fnmatchcase(text, f"*/{pattern}"))
    )


def probe(path: Path, camera: str, config: Config, start: str | None = None) -> Recording:
    """Open a file just enough to know its length, and date it (GatewatchError if it cannot)."""
    recorded, source = recording_start(path, start, config.tz)
    video = VideoFile(path, config.sampling.fps, recorded)
    video.capture.release()
    stat = path.stat()
    return Recording(camera, path, recorded, source, video.duration_s, stat.st_size, stat.st_mtime_ns)


def plan(
    files: list[Path],
    config: Config,
    *,
    camera: str | None = None,
    done: dict[tuple[str, str], tuple[int, int, str]] | None = None,
    max_gap_s: float = MAX_GAP_S,
) -> Plan:
    """`done`: (camera, path) -> (size, mtime_ns, config digest) of the files analysed before;
    a file whose three still agree is skipped (pass None to redo everything)."""
    result = Plan()
    forced = config.camera_for(camera) if camera is not None else None
    by_camera: dict[str, list[Recording]] = {}
    for path in files:
        name, why = camera_of(path, config, forced)
        if name is None:
            result.unassigned.append((path, why))
            continue
        try:
            recording = probe(path, name, config)
        except GatewatchError as exc:
            result.unreadable.append((path, str(exc).removeprefix(f"{path}: ")))
            continue
        previous = (done or {}).get((name, str(path)))
        if previous == (recording.size, recording.mtime_ns, analysis_digest(config, name)):
            result.done.append(recording)
        else:
            by_camera.setdefault(name, []).append(recording)
    for name in sorted(by_camera):
        recordings = sorted(by_camera[name], key=lambda r: (r.start, str(r.path)))
        done_here = [r for r in result.done if r.camera == name]

        def lead_in(first: Recording, done_here: list[Recording] = done_here) -> Recording | None:
            return next((r for r in done_here if abs(seconds_between(first.start, r.end)) <= max_gap_s), None)

        chain = [recordings[0]]
        for recording in recordings[1:]:
            previous = chain[-1]
            gap = seconds_between(recording.start, previous.end)
            # A file analysed before in between: this run goes on after it, led in by it.
            resumed = any(previous.start < r.start < recording.start for r in done_here)
            if abs(gap) > max_gap_s or resumed:
                if abs(gap) > max_gap_s and not resumed:
                    result.gaps.append(Gap(name, previous.path, recording.path, gap))
                result.chains.append(Chain(name, tuple(chain), lead_in(chain[0])))
                chain = []
            chain.append(recording)
        result.chains.append(Chain(name, tuple(chain), lead_in(chain[0])))
    return result


def analysis_digest(config: Config, camera: str) -> str:
    """What decides a camera's results: the sections the analysis reads, this camera's lines and
    zones, its rules and their schedules, and the model file's content. Where a camera's stream
    comes from, alerts, the web server and the like are left out: changing them redoes nothing."""
    cameras = config.cameras[camera].model_dump(mode="json", exclude={"source", "loop", "files", "channel"})
    settings = config.model_dump(
        mode="json",
        include={"timezone", "detector", "sampling", "motion", "tracker", "crossing", "clips", "groups"},
        exclude={"detector": {"threads"}},  # how many cores it used changes no result
    )
    rules = [r.model_dump(mode="json") for r in config.rules if r.camera == camera]
    schedules = {r["schedule"]: config.schedules[r["schedule"]].model_dump(mode="json") for r in rules}
    language = config.language
    chosen = config.detector.model
    model = _file_digest(bundled_model_path() if isinstance(chosen, BundledModel) else config.resolve(chosen))
    text = json.dumps([settings, cameras, rules, schedules, language, model], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@cache
def _file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return str(path)  # the detector reports a missing model with its own, clearer, error
