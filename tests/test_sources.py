"""Video decoding, sampling to the configured rate, and frame times (DST-safe)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pipeline.evaluation import Event, score
from pipeline.records import seconds_between
from pipeline.sources import VideoFile

from .conftest import SAMPLE

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
