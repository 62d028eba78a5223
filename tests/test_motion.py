"""Motion gating on synthetic frames: skips the detector only when nothing moves near the lines
and nobody tracked is there, and never for longer than max_skip_s; and says why it runs it (a
shared detector serves someone walking before a routine look)."""

from __future__ import annotations

import numpy as np

from pipeline.config import MotionConfig
from pipeline.motion import MotionGate, watched_area
from pipeline.vocabulary import Urgency

SIZE = (640, 480)
AREA = watched_area([(320, 250), (320, 470)], SIZE, margin=0.2)


def scene(person_x: int | None = None, noise: int = 0) -> np.ndarray:
    rng = np.random.default_rng(person_x or 0)
    image = np.full((SIZE[1], SIZE[0], 3), 90, np.uint8)
    image[::40] = 140  # some texture
    if person_x is not None:
        image[280:460, person_x - 20 : person_x + 20] = 30
    if noise:
        image = np.clip(image.astype(np.int16) + rng.normal(0, noise, image.shape), 0, 255).astype(np.uint8)
    return image


def test_watched_area_is_the_lines_grown_by_the_margin_and_clipped() -> None:
    assert AREA == (192, 154, 449, 480)


def test_still_noisy_scene_skips_after_the_first_frame() -> None:
    gate = MotionGate(MotionConfig(), AREA)
    decisions = [gate.should_detect(scene(noise=3), t * 0.2, []) for t in range(8)]
    assert decisions == [Urgency.CHANGED] + [None] * 7


def test_someone_moving_near_the_line_wakes_the_detector() -> None:
    gate = MotionGate(MotionConfig(), AREA)
    assert gate.should_detect(scene(), 0.0, [])
    assert not gate.should_detect(scene(), 0.2, [])
    assert gate.should_detect(scene(person_x=300), 0.4, []) == Urgency.CHANGED


def test_motion_far_from_the_lines_is_ignored() -> None:
    gate = MotionGate(MotionConfig(), AREA)
    gate.should_detect(scene(), 0.0, [])
    assert not gate.should_detect(scene(person_x=60), 0.2, [])


def test_slow_creep_adds_up_against_the_last_detection() -> None:
    """Each step is under the threshold against the previous frame, not against the last detection."""
    gate = MotionGate(MotionConfig(min_area=0.02), AREA)
    assert gate.should_detect(scene(person_x=300), 0.0, [])
    results = [gate.should_detect(scene(person_x=300 + step), 0.2 * step, []) for step in range(1, 9)]
    assert not results[0] and any(results)


def test_tracked_person_in_the_area_keeps_the_detector_on_elsewhere_not() -> None:
    gate = MotionGate(MotionConfig(), AREA)
    gate.should_detect(scene(), 0.0, [])
    assert gate.should_detect(scene(), 0.2, [(330.0, 400.0)]) == Urgency.TRACKED
    assert gate.should_detect(scene(), 0.4, [(50.0, 400.0)]) is None


def test_detector_runs_at_least_every_max_skip_s() -> None:
    gate = MotionGate(MotionConfig(max_skip_s=1.0), AREA)
    decisions = [gate.should_detect(scene(), t * 0.2, []) for t in range(11)]
    assert [i for i, d in enumerate(decisions) if d] == [0, 5, 10]
    assert decisions[5] == decisions[10] == Urgency.ROUTINE  # nothing moved: a look to keep tracks alive


def test_disabled_gate_always_detects() -> None:
    gate = MotionGate(MotionConfig(enabled=False), AREA)
    assert all(gate.should_detect(scene(), t * 0.2, []) for t in range(5))
