"""Evidence for each flagged event: the annotated full frame and a crop of the person.

Files are written atomically (see `files.atomic_write`) before the event row commits, so
an event in the database always points at a complete JPEG, even after a power cut.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TextIO

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from pipeline.clips import Clip, write_clip
from pipeline.config import CameraConfig, LineConfig, ZoneConfig
from pipeline.errors import GatewatchError
from pipeline.files import atomic_write, ensure_writable_dir
from pipeline.fonts import cjk_font
from pipeline.records import Decision, Evidence, Frame
from pipeline.wording import Language, name

JPEG_QUALITY = 90
CROP_MARGIN = 0.15  # of the box size on each side, so the crop shows some surroundings
RED = (40, 40, 230)
YELLOW = (0, 220, 255)
GREEN = (80, 200, 80)
WHITE = (255, 255, 255)
BLACK = (0, 0, 0)


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "x"


@dataclass(frozen=True)
class EvidenceFiles:
    """A flagged crossing's evidence as bytes, named relative to the snapshot folder: made where
    the frame is (a worker process, a cluster node), written where the database is."""

    name: str  # camera/date/stem, without suffix
    full: bytes  # the annotated frame (JPEG)
    crop: bytes  # the person (JPEG)
    clip: bytes | None = None  # seconds around the crossing (MP4), once encoded


def render_evidence(
    frame: Frame,
    decision: Decision,
    shape: LineConfig | ZoneConfig,
    video_stem: str,
    language: Language,
    camera_name: str,
) -> EvidenceFiles:
    """The annotated frame and the crop. `camera_name` is what people read (北门): the picture
    is passed on and must say where; the file names keep the ids."""
    c = decision.crossing
    stem = f"{c.ts:%H%M%S}_{_safe(video_stem)}_f{c.frame}_t{c.track_id}_{_safe(c.line)}"
    name = f"{_safe(c.camera)}/{c.ts:%Y-%m-%d}/{stem}"
    return EvidenceFiles(
        name,
        _jpeg(annotate(frame.image, decision, shape, language, camera_name)),
        _jpeg(crop_person(frame.image, c.box)),
    )


def _jpeg(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise GatewatchError("could not encode a snapshot")
    return data.tobytes()


class SnapshotWriter:
    def __init__(self, root: Path, language: Language = "en") -> None:
        # Absolute: rows keep these paths, and `events show`, `prune` and `serve` may run elsewhere.
        self.root = root.absolute()
        self.language = language  # of the caption burnt into the picture
        self.created: list[Path] = []  # files this run added (not ones it replaced)
        self._lock: TextIO | None = None
        ensure_writable_dir(self.root)

    def write(
        self, frame: Frame, decision: Decision, shape: LineConfig | ZoneConfig, video_stem: str, camera_name: str
    ) -> Evidence:
        return self.save(render_evidence(frame, decision, shape, video_stem, self.language, camera_name))

    def save(self, files: EvidenceFiles) -> Evidence:
        full, crop = self.root / f"{files.name}.jpg", self.root / f"{files.name}_crop.jpg"
        self._write(full, files.full)
        self._write(crop, files.crop)
        clip = None
        if files.clip is not None:
            clip = self.root / f"{files.name}.mp4"
            self._write(clip, files.clip)
        return Evidence(full, crop, clip)

    def write_clip(self, evidence: Evidence, clip: Clip, camera_name: str) -> Path:
        """The event's clip beside its snapshots (same name, .mp4), kept and pruned with them,
        each frame captioned with the camera and its time."""
        path = evidence.full.with_suffix(".mp4")
        existed = path.exists()
        write_clip(path, clip, clip_stamp(camera_name))
        if not existed:
            self.created.append(path)
        return path

    def sweep(self, camera: str, video_stem: str, keep: set[str]) -> list[Path]:
        """Remove what a killed run (kill -9, power cut) of this camera's video left: snapshots no
        stored event points at (it never reached its commit) and half-written temporary files.

        Every run holds a shared lock on the camera's folder while it writes; the sweep needs the
        lock alone, so it never removes the files of a run still in progress (then it waits for
        a later run). `keep`: every snapshot path the camera's stored events point at."""
        folder = self.root / _safe(camera)
        folder.mkdir(parents=True, exist_ok=True)
        self._lock = (folder / ".writers.lock").open("a")
        removed = []
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pass
        else:
            name = re.compile(
                rf"^\.?\d{{6}}_{re.escape(_safe(video_stem))}_f\d+_t\d+_[A-Za-z0-9_.-]+?(_crop\.jpg|\.jpg|\.mp4)(\.\w+\.tmp)?$"
            )
            for path in sorted(folder.glob("*/*")):
                if name.match(path.name) and str(path) not in keep:
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
                        removed.append(path)
        fcntl.flock(self._lock, fcntl.LOCK_SH)
        return removed

    def close(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def remove_created(self) -> None:
        """Undo this run's new files when its rows could not be committed (no orphans). Files an
        earlier run made are kept: its committed events still point at them."""
        for path in self.created:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        self.created.clear()

    def _write(self, path: Path, data: bytes) -> None:
        existed = path.exists()
        atomic_write(path, data)
        if not existed:
            self.created.append(path)


def annotate(
    image: np.ndarray, decision: Decision, shape: LineConfig | ZoneConfig, language: Language, camera_name: str
) -> np.ndarray:
    """The frame as a guard needs it: the line with its inside side marked (or the zone), the person,
    camera and time, captioned in the site's language."""
    language = _readable(language)
    out = image.copy()
    c = decision.crossing
    _draw_shape(out, shape, language)
    x1, y1, x2, y2 = (round(v) for v in c.box)
    cv2.rectangle(out, (x1, y1), (x2, y2), RED, 2)
    direction = name(c.direction, language)
    _label(out, f"{shape.name or c.line} {direction} #{c.track_id} {c.confidence:.2f}", (x1, max(12, y1 - 6)), RED)
    kind = name(decision.kind, language) if decision.kind else ""
    stamp(out, f"{camera_name}  {c.ts:%Y-%m-%d %H:%M:%S %z}  {kind}")
    return out


def stamp(image: np.ndarray, text: str) -> None:
    """A black band across the top of `image` with `text` on it (camera, time): the caption of
    snapshots and of every frame of a clip, so a picture passed on still says where and when."""
    band = _text_size(image) + 12
    cv2.rectangle(image, (0, 0), (image.shape[1], band), BLACK, -1)
    _label(image, text, (4, band - 6), BLACK)


def clip_stamp(camera_name: str) -> Callable[[np.ndarray, datetime], None]:
    """What `encode_mp4` draws on each frame of a camera's clip: the camera and that frame's time."""
    return lambda image, ts: stamp(image, f"{camera_name}  {ts:%Y-%m-%d %H:%M:%S %z}")


def draw_shapes(image: np.ndarray, camera: CameraConfig, language: Language) -> np.ndarray:
    """A camera's picture with all its lines and zones, named, each line's inside marked in the
    site's language: so an installer can check them, and a guard read them."""
    language = _readable(language)
    out = image.copy()
    for shape_name, shape in (*camera.lines.items(), *camera.zones.items()):
        _draw_shape(out, shape, language)
        x, y = shape.points[0]
        _label(out, shape.name or shape_name, (int(x) + 4, max(14, int(y) - 4)), BLACK)
    return out


def _readable(language: Language) -> Language:
    """The language captions can be drawn in: question marks help nobody (fonts.py has said
    what to install)."""
    return "en" if language != "en" and cjk_font() is None else language


def _draw_shape(image: np.ndarray, shape: LineConfig | ZoneConfig, language: Language = "en") -> None:
    if isinstance(shape, LineConfig):
        _draw_line(image, shape, language)
    else:
        _draw_zone(image, shape)


def _draw_zone(image: np.ndarray, zone: ZoneConfig) -> None:
    corners = np.array([[round(x), round(y)] for x, y in zone.points], np.int32)
    tinted = image.copy()
    cv2.fillPoly(tinted, [corners], YELLOW)
    cv2.addWeighted(tinted, 0.2, image, 0.8, 0, dst=image)
    cv2.polylines(image, [corners], True, YELLOW, 2, cv2.LINE_AA)


def _draw_line(out: np.ndarray, line: LineConfig, language: Language) -> None:
    p1, p2 = (tuple(round(v) for v in p) for p in line.points)
    cv2.line(out, p1, p2, YELLOW, 2, cv2.LINE_AA)
    # Arrow from the middle of the line towards the inside point: which way is "in".
    mid = np.array([(p1[0] + p2[0]) / 2, (p1[1] + p2[1]) / 2])
    toward = np.array(line.inside, float) - mid
    norm = float(np.linalg.norm(toward)) or 1.0
    tip = mid + toward / norm * min(40.0, norm)
    cv2.arrowedLine(out, tuple(int(v) for v in mid), tuple(int(v) for v in tip), GREEN, 2, cv2.LINE_AA, tipLength=0.3)
    _label(out, name("in", language).upper(), (int(tip[0]) + 4, int(tip[1]) + 4), GREEN)


def _text_size(image: np.ndarray) -> int:
    """Letters readable on a phone, whatever the camera's resolution."""
    return max(12, round(image.shape[0] / 40))


@functools.cache
def _font(size: int) -> ImageFont.FreeTypeFont | None:
    path = cjk_font()
    return ImageFont.truetype(str(path), size) if path else None


def _label(image: np.ndarray, text: str, origin: tuple[int, int], color: tuple[int, int, int]) -> None:
    """White text on a coloured box whose bottom-left is `origin`."""
    font = _font(_text_size(image))
    x, y = origin
    if font is None:
        (w, h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.45, 1)
        cv2.rectangle(image, (x, y - h - 4), (x + w + 4, y + 2), color, -1)
        cv2.putText(image, text, (x + 2, y - 2), cv2.FONT_HERSHEY_SIMPLEX, 0.45, WHITE, 1, cv2.LINE_AA)
        return
    picture = Image.fromarray(np.ascontiguousarray(image[..., ::-1]))
    draw = ImageDraw.Draw(picture)
    left, top, right, bottom = draw.textbbox((x + 2, y - 2), text, font=font, anchor="ls")
    draw.rectangle((left - 2, top - 2, right + 2, bottom + 2), fill=color[::-1])
    draw.text((x + 2, y - 2), text, font=font, fill=WHITE, anchor="ls")
    image[:] = np.asarray(picture)[..., ::-1]


def crop_person(image: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    height, width = image.shape[:2]
    x1, y1, x2, y2 = box
    mx, my = (x2 - x1) * CROP_MARGIN, (y2 - y1) * CROP_MARGIN
    left, top = max(0, int(x1 - mx)), max(0, int(y1 - my))
    right, bottom = min(width, int(x2 + mx) + 1), min(height, int(y2 + my) + 1)
    if right - left < 2 or bottom - top < 2:
        return image.copy()
    return image[top:bottom, left:right].copy()
