"""Video decoding, sampling to the configured rate, and frame times (DST-safe)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pipeline.evaluation import Event, score
from pipeline.records import seconds_between
from pipeline.sources import VideoFile

from .conftest import DEMO_CONFIG, SAMPLE

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_sampling_takes_evenly_spaced_frames_with_times() -> None:
    start = datetime(2026, 11, 28, 22, 29, 50, tzinfo=SHANGHAI)
    video = VideoFile(SAMPLE, target_fps=5, start=start)
    assert (video.fps, video.width, video.height, video.frame_count) == (10, 640, 480, 620)
    frames = list(video.frames())
    assert [f.index for f in frames[:4]] == [0, 2, 4, 6]
    assert len(frames) == 310 and video.decoded == 620
    assert frames[5].ts == start + timedelta(seconds=1)
    assert frames[0].image.shape == (480, 640, 3)


@pytest.mark.parametrize(("target", "expected"), [(3, 186), (10, 620), (30, 620)])
def test_any_target_rate(target: float, expected: int) -> None:
    video = VideoFile(SAMPLE, target_fps=target, start=datetime(2026, 1, 1, tzinfo=SHANGHAI))
    assert sum(1 for i in range(620) if video.is_sampled(i)) == expected


def test_frame_times_are_exact_across_a_dst_change() -> None:
    new_york = ZoneInfo("America/New_York")
    start = datetime(2026, 11, 1, 1, 59, 30, tzinfo=new_york)  # EDT, 30 s before clocks fall back
    frames = list(VideoFile(SAMPLE, target_fps=1, start=start).frames())
    minute_later = frames[60]
    assert seconds_between(minute_later.ts, start) == 60
    assert minute_later.ts.utcoffset() == timedelta(hours=-5)  # now EST
    assert minute_later.ts.strftime("%H:%M:%S") == "01:00:30"


def test_scoring_matches_one_to_one_within_tolerance() -> None:
    truth = [Event("gate", "in", 100), Event("gate", "in", 110), Event("gate", "out", 200)]
    predicted = [Event("gate", "in", 104), Event("gate", "out", 150), Event("gate", "in", 300)]
    result = score(predicted, truth, tolerance_frames=10)
    assert (result.true_positives, result.false_positives, result.false_negatives) == (1, 2, 2)
    assert result.by_group[("gate", "in")] == (1, 1, 1)
    assert result.f1 == pytest.approx(1 / 3)


def write_idle_clip(path, seconds: int = 20, fps: int = 10, gop: int = 10, active: tuple[int, int] = (80, 120)) -> None:
    """Still background; a dark block crosses the frame during frames `active`."""
    import av
    import numpy as np

    container = av.open(str(path), "w")
    stream = container.add_stream("libx264", rate=fps)
    stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
    stream.options = {"g": str(gop), "bf": "0", "preset": "veryfast"}
    for index in range(seconds * fps):
        image = np.full((240, 320, 3), 120, np.uint8)
        image[::20] = 160
        if active[0] <= index < active[1]:
            x = 10 + (index - active[0]) * 7
            image[100:220, x : x + 30] = 20
        for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()


def test_skimming_decodes_keyframes_while_idle_and_everything_around_activity(tmp_path) -> None:
    from pipeline.config import MotionConfig
    from pipeline.motion import MotionGate
    from pipeline.sources import SkimmingVideoFile

    clip = tmp_path / "idle.mp4"
    write_idle_clip(clip)
    source = SkimmingVideoFile(clip, target_fps=5, start=datetime(2026, 1, 1, tzinfo=SHANGHAI))
    gate = MotionGate(MotionConfig(max_skip_s=60), (0, 0, 320, 240))
    analysed, skimmed = [], []
    for frame in source.frames():
        if frame.skimmed:
            skimmed.append(frame.index)
            if gate.changed(frame.image):
                source.rewind()
            continue
        analysed.append(frame.index)
        source.idle = not gate.should_detect(frame.image, frame.pts, [])
    assert source.decoded == 200
    # Keyframes every 10 frames were skimmed while idle...
    assert skimmed and all(i % 10 == 0 for i in skimmed)
    assert len(analysed) < 60  # of 100 sampled frames
    # ...and every sampled frame of the activity (80-119), and the keyframe interval before it, was analysed.
    assert set(range(70, 120, 2)) <= set(analysed)
    assert analysed == sorted(set(analysed))  # in order, none twice


def test_skimming_and_full_decoding_find_the_same_crossings(tmp_path) -> None:
    """The demo gate, quiet for 10 s, then person A walks in (sample frames 0-99), then quiet again."""
    import av
    import cv2

    from pipeline.config import load_config
    from pipeline.offline.analyze import analyze

    capture = cv2.VideoCapture(str(SAMPLE))
    walk = [capture.read()[1] for _ in range(100)]
    clip = tmp_path / "north-gate_20261128230000.mp4"
    container = av.open(str(clip), "w")
    stream = container.add_stream("libx264", rate=10)
    stream.width, stream.height, stream.pix_fmt = 640, 480, "yuv420p"
    stream.options = {"g": "10", "bf": "0", "preset": "veryfast"}
    for image in [walk[0]] * 100 + walk + [walk[-1]] * 100:
        for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()

    config = load_config(DEMO_CONFIG)
    results = {}
    for skim in (False, True):
        changed = config.model_copy(update={"sampling": config.sampling.model_copy(update={"skim_idle": skim})})
        changed._base_dir = config.base_dir
        summary = analyze(
            changed,
            clip,
            db_path=tmp_path / f"{skim}.db",
            snapshot_dir=tmp_path / f"snaps-{skim}",
            analysed_at=datetime(2026, 11, 29, tzinfo=SHANGHAI),
        )
        results[skim] = [(d.crossing.direction, d.crossing.frame) for d in summary.decisions], summary.frames_analysed
    crossings, analysed = results[True]
    assert len(crossings) == 1 and crossings[0][0] == "in" and 140 <= crossings[0][1] <= 160  # A, 4.8 s into the walk
    assert crossings == results[False][0]
    assert analysed < results[False][1] * 0.6
