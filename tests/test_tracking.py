"""The tracker adapter over Roboflow `trackers`, with real ByteTrack and OC-SORT."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.config import TrackerConfig
from pipeline.records import Detections
from pipeline.tracking import Tracker


def detections(*boxes: tuple[float, float, float, float], score: float = 0.9) -> Detections:
    return Detections(np.array(boxes, np.float32).reshape(-1, 4), np.full(len(boxes), score, np.float32))


@pytest.mark.parametrize("kind", ["bytetrack", "ocsort"])
def test_unconfirmed_detections_are_dropped_and_people_keep_their_ids(kind: str) -> None:
    tracker = Tracker(TrackerConfig(type=kind), fps=5, high_confidence=0.4)
    seen: list[list[int]] = []
    for step in range(6):
        dx = 8 * step
        tracks = tracker.update(detections((100 + dx, 100, 140 + dx, 200), (400 - dx, 100, 440 - dx, 200)), step / 5)
        seen.append(sorted(t.track_id for t in tracks))
    # The first frame only proposes tracks (id -1 in the library): nothing comes out.
    assert seen[0] == []
    # Afterwards: two people, two stable ids, never -1.
    assert all(ids == seen[-1] for ids in seen[3:])
    assert len(set(seen[-1])) == 2 and min(seen[-1]) >= 0


def test_weak_detections_continue_a_track_but_do_not_start_one() -> None:
    tracker = Tracker(TrackerConfig(), fps=5, high_confidence=0.5)
    for step in range(3):
        tracker.update(detections((100 + 5 * step, 100, 140 + 5 * step, 200)), step / 5)
    ids = {t.track_id for t in tracker.update(detections((115, 100, 155, 200), score=0.3), 0.6)}
    assert len(ids) == 1
    fresh = Tracker(TrackerConfig(), fps=5, high_confidence=0.5)
    for step in range(4):
        assert fresh.update(detections((100, 100, 140, 200), score=0.3), step / 5) == []
