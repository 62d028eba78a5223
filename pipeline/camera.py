"""One camera's stages from frame to crossing, shared by `analyze` (a file) and `serve` (a stream).

    Frame -> MotionGate -> detect -> Tracker -> CrossingCounter -> crossings (with their frames)

Where frames come from, who runs the detector and what happens to a crossing afterwards differ
between the two; keeping this part in one place means a live camera and the footage it recorded
give the same crossings.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pipeline.config import Config
from pipeline.crossings import CrossingCounter, watched_for
from pipeline.detectors.boxes import crop_detector
from pipeline.lighting import LightingTally
from pipeline.motion import MotionGate, watched_area
from pipeline.records import Crossing, Detections, Frame
from pipeline.tracking import Tracker

# Frames are kept this much longer than a crossing normally takes to confirm, for its snapshot.
FRAME_BUFFER_MARGIN_S = 1.0

Detect = Callable[[np.ndarray], Detections]


@dataclass(frozen=True)
class Step:
    crossings: list[tuple[Crossing, Frame]]  # confirmed now, each with the frame it happened in
    detected: bool  # whether the detector ran on this frame
    pending: bool  # a crossing is waiting for confirmation (its frame must stay decodable)


class CameraPipeline:
    def __init__(self, config: Config, camera: str, size: tuple[int, int], analysed_fps: float, detect: Detect) -> None:
        camera_config = config.cameras[camera]
        points = [p for s in (*camera_config.lines.values(), *camera_config.zones.values()) for p in s.points]
        area = watched_area(points, size, config.motion.margin) if points else (0, 0, *size)
        self.gate = MotionGate(config.motion, area)
        self.detect = crop_detector(detect, area) if config.detector.region == "watched" else detect
        self.tracker = Tracker(config.tracker, analysed_fps, config.detector.confidence)
        self.counter = CrossingCounter(
            camera, watched_for(camera, config), config.crossing, config.tracker.lost_track_s
        )
        self.keep_s = config.crossing.confirm_s + config.tracker.lost_track_s + FRAME_BUFFER_MARGIN_S
        self.recent: OrderedDict[int, Frame] = OrderedDict()
        self.lighting = LightingTally()

    def step(self, frame: Frame) -> Step:
        self.recent[frame.index] = frame
        self.lighting.offer(frame.image)
        pending = self.counter.pending_frames()
        for old in [i for i, f in self.recent.items() if frame.pts - f.pts > self.keep_s and i not in pending]:
            del self.recent[old]
        detecting = self.gate.should_detect(frame.image, frame.pts, self.counter.moving_points(frame.ts))
        detections = self.detect(frame.image) if detecting else Detections.empty()
        tracks = self.tracker.update(detections, frame.pts)
        crossings = self._with_frames(self.counter.update(frame.index, frame.ts, tracks))
        return Step(crossings, detecting, bool(pending))

    def finish(self) -> list[tuple[Crossing, Frame]]:
        """Crossings still waiting for confirmation when the footage ends count (the person did cross)."""
        return self._with_frames(self.counter.finish())

    def _with_frames(self, crossings: list[Crossing]) -> list[tuple[Crossing, Frame]]:
        ordered = sorted(crossings, key=lambda c: (c.ts, c.line, c.track_id))
        return [(c, self.recent[c.frame]) for c in ordered]
