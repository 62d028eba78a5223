"""One camera's stages from frame to crossing, shared by `analyze` (a file) and `serve` (a stream).

    Frame -> MotionGate -> detect -> Tracker -> CrossingCounter -> crossings (with their frames)
                                 +-> (at night) weak Tracker -> its CrossingCounter -> gates -+

At night `detect` is the camera's night model where it has one (`cameras.X.night_model`).

Where frames come from, who runs the detector and what happens to a crossing afterwards differ
between the two; keeping this part in one place means a live camera and the footage it recorded
give the same crossings.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta

import numpy as np
import supervision as sv

from pipeline.config import Config
from pipeline.crossings import CrossingCounter, watched_for
from pipeline.detectors.boxes import crop_detector
from pipeline.lighting import Lighting, LightingTally
from pipeline.motion import MotionGate, watched_area
from pipeline.records import Crossing, Detections, Frame, Track
from pipeline.stature import Stature
from pipeline.tracking import Tracker
from pipeline.vocabulary import Urgency

# Weak tracks' ids start here, far above any id the main tracker gives.
WEAK_IDS = 1 << 40
# A detection overlapping a tracked person this much is that person, not someone else in the dark.
APART_IOU = 0.3
# A weak track crosses only after it moved this many of its heights: someone standing on a line
# in the dark, their box jittering across it, has not.
WEAK_TRAVEL = 0.5
# ...and within this long of its start: a weak track that has stayed longer is on a fixture
# (someone standing by a door, a post) until glare or noise pushes its box onto something else,
# not on someone passing.
WEAK_MAX_AGE_S = 10.0
# A weak track's detections count as evidence for this many times `night.evidence_s` back.
EVIDENCE_SPAN = 2.0
# A weak track's crossing this close in time to a person's on the same line and way is that person.
DUPLICATE_S = 2.0
# Frames are kept this much longer than a crossing normally takes to confirm, for its snapshot.
FRAME_BUFFER_MARGIN_S = 1.0

Detect = Callable[[np.ndarray], Detections]


@dataclass(frozen=True)
class Step:
    crossings: list[tuple[Crossing, Frame]]  # confirmed now, each with the frame it happened in
    detected: bool  # whether the detector ran on this frame
    pending: bool  # a crossing is waiting for confirmation (its frame must stay decodable)


class CameraPipeline:
    def __init__(
        self,
        config: Config,
        camera: str,
        size: tuple[int, int],
        analysed_fps: float,
        detect: Detect,
        detect_night: Detect | None = None,
    ) -> None:
        """`detect_night`: the camera's night model (`cameras.X.night_model`), for the frames the
        lighting check calls infrared or low light; `detect` for the others."""
        camera_config = config.cameras[camera]
        points = [p for s in (*camera_config.lines.values(), *camera_config.zones.values()) for p in s.points]
        area = watched_area(points, size, config.motion.margin) if points else (0, 0, *size)
        self.gate = MotionGate(config.motion, area)
        watched = config.detector.region == "watched"
        self.detect = crop_detector(detect, area) if watched else detect
        self.detect_night = crop_detector(detect_night, area) if watched and detect_night else detect_night
        self.detector = config.detector
        self.tracker = Tracker(config.tracker, analysed_fps, config.detector.confidence)
        self.weak = Tracker(config.tracker, analysed_fps, config.detector.night.confidence)
        self.evidence: dict[int, deque[float]] = {}  # each weak track's recent detection times
        self.evidence_frames = config.detector.night.evidence_s * analysed_fps
        self.counter = CrossingCounter(
            camera, watched_for(camera, config), config.crossing, config.tracker.lost_track_s
        )
        # Weak tracks cross on their own counter: one never takes over a person's line state.
        self.weak_counter = CrossingCounter(
            camera, watched_for(camera, config), config.crossing, config.tracker.lost_track_s
        )
        self.counted: deque[Crossing] = deque()  # the main tracks' recent crossings
        self.keep_s = config.crossing.confirm_s + config.tracker.lost_track_s + FRAME_BUFFER_MARGIN_S
        self.recent: OrderedDict[int, Frame] = OrderedDict()
        self.lighting = LightingTally()
        self.urgency: Urgency | None = None  # why the frame in hand goes to the detector (a shared one serves by it)
        self.stature = Stature(config.detector.night.size_tolerance, size[1])

    def step(self, frame: Frame) -> Step:
        self.recent[frame.index] = frame
        self.lighting.offer(frame.image)
        pending = self.counter.pending_frames() | self.weak_counter.pending_frames()
        for old in [i for i, f in self.recent.items() if frame.pts - f.pts > self.keep_s and i not in pending]:
            del self.recent[old]
        moving = self.counter.moving_points(frame.ts) + self.weak_counter.moving_points(frame.ts)
        self.urgency = self.gate.should_detect(frame.image, frame.pts, moving, bool(pending))
        detecting = self.urgency is not None
        detect = self.detect_night if self.detect_night and self._night() else self.detect
        detections = detect(frame.image) if detecting else Detections.empty()
        self.stature.learn(detections.xyxy[detections.confidence >= self.detector.confidence])
        tracks = self.tracker.update(detections.where(detections.confidence >= self.detector.low_confidence), frame.pts)
        weak = self._weak(detections, tracks, frame.pts)
        self._gather(weak, frame.pts)
        crossings = self.counter.update(frame.index, frame.ts, tracks)
        crossings += self._weak_crossings(crossings, self.weak_counter.update(frame.index, frame.ts, weak))
        return Step(self._with_frames(crossings), detecting, bool(pending))

    def _weak_crossings(self, counted: list[Crossing], weak: list[Crossing]) -> list[Crossing]:
        """A weak track's crossing counts when it was seen long enough (`_shown_enough`), walked
        (`_walked`), and no person's track crossed that line the same way within DUPLICATE_S (it
        was that person, seen twice)."""
        self.counted.extend(counted)
        latest = max((c.ts for c in (*counted, *weak)), default=None)
        while latest is not None and self.counted and latest - self.counted[0].ts > timedelta(seconds=2 * DUPLICATE_S):
            self.counted.popleft()
        return [c for c in weak if self._shown_enough(c.track_id) and _walked(c) and not self._counted_already(c)]

    def _counted_already(self, weak: Crossing) -> bool:
        return any(
            (c.line, c.direction) == (weak.line, weak.direction)
            and abs((c.ts - weak.ts).total_seconds()) <= DUPLICATE_S
            for c in self.counted
        )

    def _weak(self, detections: Detections, tracks: list[Track], pts: float) -> list[Track]:
        """At night, people the network scores below the day's thresholds, tracked on their own
        (ids above WEAK_IDS) so their boxes never pull a person's track onto another in a crowd:
        only detections away from every tracked person, down to `night.low_confidence`, and of a
        person's height where their feet are (`stature`, once the camera has shown enough people)."""
        if not self._night():
            return []
        apart = detections.confidence >= self.detector.night.low_confidence
        apart &= self.stature.plausible(detections.xyxy)
        if tracks and len(detections):
            boxes = np.array([t.box for t in tracks], np.float32)
            apart &= sv.box_iou_batch(detections.xyxy, boxes).max(axis=1) < APART_IOU
        return [replace(t, track_id=t.track_id + WEAK_IDS) for t in self.weak.update(detections.where(apart), pts)]

    def _night(self) -> bool:
        return self.lighting.last in (Lighting.INFRARED, Lighting.LOW_LIGHT)

    def _gather(self, tracks: list[Track], pts: float) -> None:
        for track in tracks:
            self.evidence.setdefault(track.track_id, deque()).append(pts)
        for track_id, seen in list(self.evidence.items()):
            while seen and pts - seen[0] > EVIDENCE_SPAN * self.detector.night.evidence_s:
                seen.popleft()
            if not seen:
                del self.evidence[track_id]

    def _shown_enough(self, track_id: int) -> bool:
        """A weak track counts once it was detected frame after frame for `night.evidence_s`
        lately, within the last EVIDENCE_SPAN times that: a noise burst, a moth, a glint, a sweep
        of headlights or a box that jumped from one thing to another are not. (A strong score
        proves nothing here: a strong detection is the main tracker's, on its next frame.)"""
        return len(self.evidence.get(track_id, ())) >= self.evidence_frames

    def finish(self) -> list[tuple[Crossing, Frame]]:
        """Crossings still waiting for confirmation when the footage ends count (the person did cross)."""
        counted = self.counter.finish()
        return self._with_frames(counted + self._weak_crossings(counted, self.weak_counter.finish()))

    def _with_frames(self, crossings: list[Crossing]) -> list[tuple[Crossing, Frame]]:
        ordered = sorted(crossings, key=lambda c: (c.ts, c.line, c.track_id))
        return [(c, self.recent[c.frame]) for c in ordered]


def _walked(crossing: Crossing) -> bool:
    height = crossing.box[3] - crossing.box[1]
    return crossing.travel_px >= WEAK_TRAVEL * height and crossing.track_age_s <= WEAK_MAX_AGE_S
