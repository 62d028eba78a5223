"""Night footage: telling IR and low-light pictures from day ones, single-channel frames, and the
demo clip filmed at night giving the guard the same answer as by day. Real decoding, the real
bundled model; the night looks come from benchmarks/night.py (seeded)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from benchmarks.data import clip_frames, encode
from benchmarks.night import Look, degrade, degraded_frames, draw, looks
from pipeline.camera import CameraPipeline
from pipeline.config import Config, DetectorConfig
from pipeline.detectors import load_detector
from pipeline.lighting import Lighting, LightingTally, lighting_of
from pipeline.records import Detections, Frame
from pipeline.stature import Stature

from .conftest import SAMPLE, analyze, rows


@pytest.fixture(scope="module")
def day_frames() -> list[np.ndarray]:
    return clip_frames(SAMPLE)


def test_lighting_tells_day_infrared_and_low_light(day_frames: list[np.ndarray]) -> None:
    rng = np.random.default_rng(5)
    picks = day_frames[::60]
    assert {lighting_of(f) for f in picks} == {Lighting.DAY}
    for condition, expected in (("ir", Lighting.INFRARED), ("lowlight", Lighting.LOW_LIGHT)):
        for look in looks(condition, "test", 3):
            assert {lighting_of(degrade(f, look, rng)) for f in picks} == {expected}, look
    grey = cv2.cvtColor(picks[0], cv2.COLOR_BGR2GRAY)
    assert lighting_of(grey) is Lighting.INFRARED
    assert lighting_of(grey[:, :, None]) is Lighting.INFRARED


def test_tally_samples_frames_and_says_the_share_at_night(day_frames: list[np.ndarray]) -> None:
    look = draw("ir", np.random.default_rng(1))
    rng = np.random.default_rng(2)
    tally = LightingTally(every=10)
    for k, frame in enumerate(day_frames[:100]):
        tally.offer(degrade(frame, look, rng) if k >= 50 else frame)
    assert sum(tally.counts.values()) == 10
    assert tally.share(Lighting.INFRARED) == 0.5
    assert tally.share(Lighting.DAY) == 0.5
    assert tally.last is Lighting.INFRARED


def test_single_channel_frames_are_detected_as_their_grey_copy(day_frames: list[np.ndarray]) -> None:
    detector = load_detector(DetectorConfig(), Path)
    frame = day_frames[130]  # person B near the gate
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    as_colour = detector.detect(cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR))
    assert len(as_colour) >= 1
    for single in (grey, grey[:, :, None]):
        found = detector.detect(single)
        np.testing.assert_array_equal(found.xyxy, as_colour.xyxy)
        np.testing.assert_array_equal(found.confidence, as_colour.confidence)


def _film(frames: list[np.ndarray], look: Look, path: Path) -> None:
    height, width = frames[0].shape[:2]
    encode(path, degraded_frames(frames, look, "demo"), (width, height), 10, 1_200_000)


# Mid-range looks of each condition (benchmarks/night.py draws from wider ranges). The day-only
# model finds none of the demo's 7 crossings in this IR look, and 3 (one counted twice) in this
# low light, which flags neither of the two unregistered entries.
DEMO_NIGHTS = {
    "ir": Look("ir", contrast=0.42, mid=125, noise=7, blur=1.2, bloom=0.2),
    "lowlight": Look("lowlight", gamma=2.2, gain=0.6, noise=5, chroma_noise=7),
}


@pytest.fixture(scope="module")
def night_films(day_frames: list[np.ndarray], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The demo clip filmed in each night look, named as the sample (so it is dated the same)."""
    films = {}
    for condition, look in DEMO_NIGHTS.items():
        films[condition] = tmp_path_factory.mktemp(condition) / SAMPLE.name
        _film(day_frames, look, films[condition])
    return films


@pytest.mark.parametrize("condition", sorted(DEMO_NIGHTS))
def test_demo_at_night_flags_the_same_entries(demo_copy: Path, night_films: dict[str, Path], condition: str) -> None:
    """The demo's 22:30 gate, filmed by an IR camera or a dark colour one: the same two people are
    flagged and the same three covered, and the summary says the footage is night footage."""
    result = analyze(demo_copy, night_films[condition])
    assert result.returncode == 0, result.stderr
    events = rows(demo_copy / "out" / "gatewatch.db", "events")
    assert len(events) == 2, result.stdout
    assert "Covered by registrations: 3" in result.stdout
    expected = "100% infrared (grey)" if condition == "ir" else "100% low light"
    assert f"Night footage: {expected}" in result.stdout


WALK = [(150.0 + 14 * i, 200.0) for i in range(24)]  # a person's box corner, left to right across x=320, 5 fps


def _gate() -> Config:
    """A 640x480 camera with one vertical gate line at x = 320 (in: to the right), motion gate off."""
    return Config.model_validate(
        {
            "timezone": "UTC",
            "motion": {"enabled": False},
            "cameras": {
                "gate": {"source": "x.mp4", "lines": {"gate": {"points": [[320, 0], [320, 480]], "inside": [600, 240]}}}
            },
        }
    )


def _walk(scores: list[float], colour: bool, path: list[tuple[float, float]] = WALK) -> list[str]:
    """The crossings of someone walking across a gate line whom the network scores `scores`
    frame by frame (0: not found), in a grey infrared picture or a colour day one: the real
    tracker, crossing counter and evidence, with the detector's answers given."""
    config = _gate()
    image = np.full((480, 640, 3), 90, np.uint8)
    if colour:
        image[:, :, 2] = 160  # a colour picture: day
    answers = iter(
        Detections(np.array([[x, y, x + 40, y + 120]], np.float32), np.array([score], np.float32))
        if score
        else Detections.empty()
        for (x, y), score in zip(path, scores, strict=True)
    )
    pipeline = CameraPipeline(config, "gate", (640, 480), 5.0, lambda _: next(answers))
    start = datetime(2026, 11, 28, 23, 0, tzinfo=UTC)
    found = []
    for index in range(len(path)):
        frame = Frame(index, index / 5, start + timedelta(seconds=index / 5), image)
        found += [f"{c.line} {c.direction}" for c, _ in pipeline.step(frame).crossings]
    return found + [f"{c.line} {c.direction}" for c, _ in pipeline.finish()]


def test_a_person_seen_weakly_frame_after_frame_at_night_is_counted() -> None:
    """Issue 21.3: in the dark the network scores a person 0.15-0.3, under the day's thresholds
    (0.4 to start a track): seen so on frame after frame they are counted; the same score on
    an instant (a noise burst, a moth) is not, nor someone standing on the line whose box
    jitters across it; by day nothing changes."""
    weak = [0.22] * len(WALK)
    assert _walk(weak, colour=False) == ["gate in"]
    assert _walk(weak, colour=True) == []  # by day the day's thresholds: a 0.22 alone starts nothing
    glint = [0.0] * 10 + [0.25] * 3 + [0.0] * 11  # three frames (0.6 s) at the line
    assert _walk(glint, colour=False) == []
    standing = [(280.0 + (25 if i // 6 % 2 else -25), 200.0) for i in range(len(WALK))]  # on the line, swaying
    assert _walk(weak, colour=False, path=standing) == []
    strong = [0.8] * len(WALK)
    assert _walk(strong, colour=False) == _walk(strong, colour=True) == ["gate in"]  # counted once, not twice


def test_a_camera_night_model_sees_the_night_frames_and_only_those(day_frames: list[np.ndarray]) -> None:
    """`cameras.X.night_model`: the frames the lighting check calls infrared or low light go to the
    night model, day frames to the day one, and a camera flipping from colour to IR (dusk) flips
    with it. Both detectors are the real bundled model; each call is counted by which one ran."""
    config = _gate()
    detector = load_detector(DetectorConfig(), Path)
    calls: list[str] = []

    def by(name: str) -> Callable[[np.ndarray], Detections]:
        def detect(image: np.ndarray) -> Detections:
            calls.append(name)
            return detector.detect(image)

        return detect

    pipeline = CameraPipeline(config, "gate", (640, 480), 5.0, by("day"), by("night"))
    pipeline.lighting.every = 1
    look = DEMO_NIGHTS["ir"]
    rng = np.random.default_rng(3)
    start = datetime(2026, 11, 28, 17, 0, tzinfo=UTC)
    for index in range(20):
        image = day_frames[index] if index < 10 else degrade(day_frames[index], look, rng)
        pipeline.step(Frame(index, index / 5, start + timedelta(seconds=index / 5), image))
    assert calls == ["day"] * 10 + ["night"] * 10


def test_stature_learns_a_cameras_perspective_from_confident_people() -> None:
    stature = Stature(tolerance=2.0, frame_height=480)
    feet = np.linspace(200, 460, 120)
    heights = 0.5 * feet - 40  # far people (feet high up) small, near ones tall
    boxes = np.stack([np.full(120, 100.0), feet - heights, np.full(120, 140.0), feet], axis=1).astype(np.float32)
    stature.learn(boxes[:60])
    assert stature.expected(np.array([400.0])) is None  # too few people yet: everything is plausible
    assert stature.plausible(np.array([[0, 0, 10, 400]], np.float32)).all()
    stature.learn(boxes[60:])
    np.testing.assert_allclose(stature.expected(np.array([400.0])), [160.0], rtol=0.01)
    candidates = np.array([[0, 240, 40, 400], [0, 360, 20, 400], [0, 0, 200, 400]], np.float32)  # 160, 40, 400 tall
    assert stature.plausible(candidates).tolist() == [True, False, False]
    assert Stature(tolerance=0, frame_height=480).plausible(candidates).all()  # 0: off
    one_spot = Stature(tolerance=2.0, frame_height=480)
    one_spot.learn(np.array([[100, 260, 120, 320]] * 150, np.float32))  # one walker at one spot, seen 150 times
    assert one_spot.expected(np.array([400.0])) is None  # says nothing of people elsewhere


def test_a_weak_night_box_the_wrong_size_for_where_it_stands_is_not_a_person() -> None:
    """A glow three times a person's height walking across the line at night (a headlight's
    reflection) is not counted once the camera has shown people there; a weak person of the right
    height still is (issue 21.3)."""
    config = _gate()
    day = np.full((480, 640, 3), 90, np.uint8)
    day[:, :, 2] = 160
    grey = np.full((480, 640, 3), 90, np.uint8)
    start = datetime(2026, 11, 28, 23, 0, tzinfo=UTC)

    def crossings(height: float) -> list[str]:
        answers: list[Detections] = []
        # By day, 120 frames of a confident person 60 px tall walking up and down outside the line.
        answers += [
            Detections(np.array([[40 + i, 190 + i, 60 + i, 250 + i]], np.float32), np.array([0.8], np.float32))
            for i in range(120)
        ]
        # Night falls; nobody for 4 s (the day's track ends); then a weak shape walks across the
        # line, feet at 320 too.
        answers += [Detections.empty()] * 20
        answers += [
            Detections(np.array([[x, 320 - height, x + height / 3, 320]], np.float32), np.array([0.22], np.float32))
            for x, _ in WALK
        ]
        feed = iter(answers)
        pipeline = CameraPipeline(config, "gate", (640, 480), 5.0, lambda _: next(feed))
        pipeline.lighting.every = 1
        found = []
        for index in range(len(answers)):
            image = day if index < 120 else grey
            frame = Frame(index, index / 5, start + timedelta(seconds=index / 5), image)
            found += [f"{c.line} {c.direction}" for c, _ in pipeline.step(frame).crossings]
        return found + [f"{c.line} {c.direction}" for c, _ in pipeline.finish()]

    assert crossings(60) == ["gate in"]
    assert crossings(180) == []
