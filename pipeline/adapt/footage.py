"""A camera's own footage, read for `gatewatch adapt`: the views the network sees, who walked
through them, and which minutes are held back to check the adapted model.

Who walked through is read from evidence along tracks, as the night pipeline does live
(camera.py): detections down to `detector.night.low_confidence`, tracked, and kept when the track
was seen for `night.evidence_s`, moved half its height or more and is taller than wide. Read
offline, a track's whole path counts, including the frames before it became sure: those are the
frames where the model half-missed someone, which is what the camera's own model should learn to
see. Headlight sweeps, moths and noise leave no such track; a parked car is not taller than wide.
On the held-back minutes the evidence is gathered with each model in turn (`held_back_people`),
so that neither model is judged only by what the other one found.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import supervision as sv

from pipeline.camera import WEAK_TRAVEL
from pipeline.config import Config
from pipeline.detectors.ssdlite import INPUT_SIZE, SSDLiteDetector
from pipeline.lighting import Lighting, lighting_of
from pipeline.sources import VideoFile
from pipeline.tracking import Tracker

# People stand taller than wide; a car, a bench or a lamp's glow is not (median over the track).
PERSON_ASPECT = 1.2
SAME_PERSON_IOU = 0.5  # two models' evidence boxes overlapping this much are one person
NO_START = datetime(2000, 1, 1, tzinfo=UTC)  # footage time is not needed here, only its order


@dataclass
class View:
    """One network input of the footage (a whole frame, or one tile of a wide one), 300x300 BGR."""

    image: np.ndarray = field(repr=False)
    people: np.ndarray  # (n, 4) xyxy in the view's pixels, from the evidence
    lighting: Lighting
    held_back: bool
    video: int
    frame: int  # the frame's index in its video
    x: int  # where the view's tile starts in the frame, and its size there
    width: int
    height: int

    def of_frame(self, boxes: np.ndarray) -> np.ndarray:
        """Frame boxes (xyxy) that lie in this view's tile, in the view's pixels."""
        inside = boxes[(boxes[:, 0] >= self.x - 1) & (boxes[:, 2] <= self.x + self.width + 1)]
        scale = np.array([INPUT_SIZE / self.width, INPUT_SIZE / self.height] * 2, np.float32)
        return ((inside - np.array([self.x, 0, self.x, 0], np.float32)) * scale).reshape(-1, 4)


@dataclass
class Footage:
    videos: list[Path]
    views: list[View]
    seconds: float  # of footage read
    tracks: int  # evidence tracks found (people who walked through)
    held_back_from: list[int]  # per video, its first held-back frame
    learnt: int = 0  # views learnt from, once they are let go of

    def learning(self) -> list[View]:
        return [v for v in self.views if not v.held_back]

    def let_go_of_learning(self) -> None:
        """Drop the learnt views' pictures once their rows are taken: the check needs only its own."""
        self.learnt = len(self.learning())
        self.views = self.checking()

    def checking(self) -> list[View]:
        return [v for v in self.views if v.held_back]


@dataclass
class _Track:
    seen: list[tuple[int, tuple[float, float, float, float]]] = field(default_factory=list)

    def sure(self, frames: float) -> bool:
        if len(self.seen) < frames:
            return False
        boxes = np.array([box for _, box in self.seen], np.float32)
        heights, widths = boxes[:, 3] - boxes[:, 1], boxes[:, 2] - boxes[:, 0]
        feet = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, boxes[:, 3]], axis=1)
        travel = float(np.linalg.norm(feet - feet[0], axis=1).max())
        height = float(np.median(heights))
        return travel >= WEAK_TRAVEL * height and height >= PERSON_ASPECT * float(np.median(widths))


def read_footage(
    videos: list[Path],
    config: Config,
    detector: SSDLiteDetector,
    held_back: float,
    keep_every: Callable[[int], int],
    progress: Callable[[float], None],
) -> Footage:
    """Every video at the configured analysis rate; the last `held_back` share of each is kept for
    the check. `keep_every(n)`: keep every how-many-th frame of a video of `n` frames as views (the
    evidence uses them all). `progress` gets the seconds read so far."""
    views: list[View] = []
    done, tracks, cuts = 0.0, 0, []
    for number, path in enumerate(videos):
        source = VideoFile(path, config.sampling.fps, NO_START)
        every = max(1, keep_every(max(1, round(source.duration_s * source.analysed_fps))))
        cut = round(source.frame_count * (1 - held_back))

        def cut_up(index: int, image: np.ndarray, number: int = number, cut: int = cut) -> list[View]:
            return list(_views(image, detector, number, index, index >= cut))

        sure, kept = _evidence(source, config, detector, lambda pts, before=done: progress(before + pts), every, cut_up)
        tracks += len(sure)
        for index, frame_views in kept.items():
            people = _people_at(sure, index)
            for view in frame_views:
                view.people = view.of_frame(people)
            views += frame_views
        done += source.duration_s
        cuts.append(cut)
    return Footage(videos, views, done, tracks, cuts)


def held_back_people(
    footage: Footage, config: Config, detector: SSDLiteDetector, progress: Callable[[float], None]
) -> list[np.ndarray]:
    """The people found on each held-back view (`footage.checking()`, in order) by evidence with
    `detector`, together with those found with the bundled model (each person once). `progress`
    gets the seconds of held-back footage read so far."""
    found: dict[tuple[int, int], np.ndarray] = {}
    done = 0.0
    for number, path in enumerate(footage.videos):
        source = VideoFile(path, config.sampling.fps, NO_START)
        start = footage.held_back_from[number]
        offset = start / source.fps
        sure, _ = _evidence(
            source, config, detector, lambda pts, before=done - offset: progress(before + pts), first=start
        )
        done += source.duration_s - offset
        frames = {v.frame for v in footage.checking() if v.video == number}
        found.update({(number, index): _people_at(sure, index) for index in frames})
    people = []
    for view in footage.checking():
        extra = view.of_frame(found[(view.video, view.frame)])
        if len(view.people) and len(extra):
            extra = extra[sv.box_iou_batch(extra, view.people).max(axis=1) < SAME_PERSON_IOU]
        people.append(np.concatenate([view.people, extra]))
    return people


def _people_at(tracks: list[_Track], index: int) -> np.ndarray:
    return np.array([box for track in tracks for k, box in track.seen if k == index], np.float32).reshape(-1, 4)


def _evidence(
    source: VideoFile,
    config: Config,
    detector: SSDLiteDetector,
    progress: Callable[[float], None],
    every: int = 0,
    cut_up: Callable[[int, np.ndarray], list[View]] | None = None,
    first: int = 0,
) -> tuple[list[_Track], dict[int, list[View]]]:
    """The sure tracks of one video (from frame `first`), each with (frame index, box) per frame,
    and the views of every `every`-th analysed frame by its index (`cut_up` makes them as the
    frame goes by: a 300x300 view is a tenth of a 720p frame)."""
    night = config.detector.night
    tracker = Tracker(config.tracker, source.analysed_fps, night.confidence)
    found: dict[int, _Track] = {}
    kept: dict[int, list[View]] = {}
    for k, frame in enumerate(source.frames(first)):
        detections = detector.detect(frame.image)
        detections = detections.where(detections.confidence >= night.low_confidence)
        for track in tracker.update(detections, frame.pts):
            found.setdefault(track.track_id, _Track()).seen.append((frame.index, track.box))
        if cut_up is not None and k % every == 0:
            kept[frame.index] = cut_up(frame.index, frame.image)
        progress(frame.pts)
    frames_needed = night.evidence_s * source.analysed_fps
    return [t for t in found.values() if t.sure(frames_needed)], kept


def _views(image: np.ndarray, detector: SSDLiteDetector, video: int, index: int, held_back: bool) -> Iterator[View]:
    """The frame as the network sees it (its tiles, if wide); their people are filled in later."""
    height = image.shape[0]
    lighting = lighting_of(image)
    for x, width in detector.tiles(image):
        tile = cv2.resize(image[:, x : x + width], (INPUT_SIZE, INPUT_SIZE), interpolation=detector.interpolation)
        yield View(tile, np.zeros((0, 4), np.float32), lighting, held_back, video, index, x, width, height)
