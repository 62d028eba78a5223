"""Motion gating on synthetic frames: skips the detector only when nothing moves near the lines
and nobody tracked is there, and never for longer than max_skip_s; and says why it runs it (a
shared detector serves someone walking before a routine look)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from pipeline.camera import CameraPipeline
from pipeline.config import Config, MotionConfig
from pipeline.motion import MotionGate, watched_area
from pipeline.records import Detections, Frame
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


def test_a_crossing_waiting_to_hold_goes_first_but_is_not_detected_more() -> None:
    gate = MotionGate(MotionConfig(), AREA)
    gate.should_detect(scene(), 0.0, [])
    assert gate.should_detect(scene(), 0.2, [(330.0, 400.0)], crossing=True) == Urgency.CROSSING
    assert gate.should_detect(scene(person_x=300), 0.4, [], crossing=True) == Urgency.CROSSING
    assert gate.should_detect(scene(person_x=300), 0.6, [], crossing=True) is None  # nothing moved since


def test_a_camera_asks_for_its_frames_first_while_a_crossing_waits_to_hold() -> None:
    """The frames between a crossing and its confirmation decide an alert: the camera marks them
    so (a shared detector serves them first) and no others. Real tracker and counter, the
    detector's answers given: someone walking right across a gate line at 5 fps."""
    config = Config.model_validate(
        {
            "timezone": "UTC",
            "motion": {"enabled": False},  # the detector on every frame: its answers stay in step
            "cameras": {
                "gate": {"source": "x.mp4", "lines": {"gate": {"points": [[320, 0], [320, 480]], "inside": [600, 240]}}}
            },
        }
    )
    walk = [150.0 + 14 * i for i in range(24)]
    answers = iter(Detections(np.array([[x, 200, x + 40, 320]], np.float32), np.array([0.8], np.float32)) for x in walk)
    camera = CameraPipeline(config, "gate", SIZE, 5.0, lambda _: next(answers))
    start = datetime(2026, 12, 6, 23, 0, tzinfo=UTC)
    urgencies, confirmed = [], []
    for index in range(len(walk)):
        step = camera.step(Frame(index, index / 5, start + timedelta(seconds=index / 5), scene()))
        urgencies.append(camera.urgency)
        confirmed += [(index, crossing.frame) for crossing, _ in step.crossings]
    [(confirmed_at, crossed_at)] = confirmed
    assert confirmed_at > crossed_at + 1  # confirm_s 0.3: held on the second frame after
    crossing = [i for i, urgency in enumerate(urgencies) if urgency == Urgency.CROSSING]
    assert crossing == list(range(crossed_at + 1, confirmed_at + 1))
