"""The crossing state machine on tracks we construct: what counts once, and what never counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.config import CrossingConfig, LineConfig
from pipeline.crossings import LineCrossingCounter
from pipeline.geometry import Segment, anchor_point
from pipeline.records import Track

T0 = datetime(2026, 11, 28, 23, 0, tzinfo=UTC)
FPS = 5
HEIGHT = 100  # box height in pixels; the dead band is 4 % of it (4 px) by default

# A vertical gate line x = 300 from y = 200 to y = 400, inside to the right.
GATE = LineConfig(points=((300, 200), (300, 400)), inside=(400, 300))


def box_at(x: float, foot_y: float = 300) -> tuple[float, float, float, float]:
    return (x - 20, foot_y - HEIGHT, x + 20, foot_y)


def run(paths: dict[int, list[tuple[float, float] | None]], config: CrossingConfig | None = None):
    """Feed foot points (x, y) per track per frame (None = not seen); returns all crossings."""
    counter = LineCrossingCounter("cam", {"gate": GATE}, config or CrossingConfig(), track_timeout_s=1.0)
    frames = max(len(p) for p in paths.values())
    crossings = []
    for frame in range(frames):
        ts = T0 + timedelta(seconds=frame / FPS)
        tracks = [
            Track(track_id, box_at(*path[frame][:1], foot_y=path[frame][1]), 0.9)
            for track_id, path in paths.items()
            if frame < len(path) and path[frame] is not None
        ]
        crossings += counter.update(frame, ts, tracks)
    return crossings + counter.finish()


def walk(x0: float, x1: float, steps: int, y: float = 300) -> list[tuple[float, float] | None]:
    return [(x0 + (x1 - x0) * i / (steps - 1), y) for i in range(steps)]


def test_segment_sides_follow_inside_point_whatever_the_point_order() -> None:
    forward = Segment((300, 200), (300, 400), inside=(400, 300))
    backward = Segment((300, 400), (300, 200), inside=(400, 300))
    for segment in (forward, backward):
        assert segment.signed_distance((350, 300)) == pytest.approx(50)
        assert segment.signed_distance((250, 300)) == pytest.approx(-50)


def test_position_along_tells_segment_from_extension() -> None:
    segment = Segment((300, 200), (300, 400), inside=(400, 300))
    assert segment.position_along((250, 300), (350, 300)) == pytest.approx(0.5)
    assert segment.position_along((250, 500), (350, 500)) == pytest.approx(1.5)
    assert segment.position_along((250, 300), (250, 350)) is None  # parallel


def test_anchor_is_bottom_centre_by_default() -> None:
    assert anchor_point((10, 20, 30, 120), "foot") == (20, 120)
    assert anchor_point((10, 20, 30, 120), "center") == (20, 70)


def test_one_walk_in_is_one_in_crossing() -> None:
    crossings = run({1: walk(200, 400, 20)})
    assert [(c.direction, c.track_id) for c in crossings] == [("in", 1)]
    # Dated at the first frame seen clearly on the new side, not when it was confirmed.
    assert crossings[0].frame == 10
    assert crossings[0].ts == T0 + timedelta(seconds=10 / FPS)


def test_one_walk_out_is_one_out_crossing() -> None:
    assert [c.direction for c in run({1: walk(400, 200, 20)})] == ["out"]


def test_walking_past_the_end_of_the_segment_is_not_a_crossing() -> None:
    assert run({1: walk(200, 400, 20, y=450)}) == []


def test_jitter_around_the_line_produces_nothing() -> None:
    jitter = [(300 + (3 if i % 2 else -3), 300) for i in range(40)]  # +-3 px, inside the 4 px dead band
    assert run({1: [(250, 300)] + jitter}) == []


def test_standing_on_the_line_then_going_back_produces_nothing() -> None:
    path = walk(200, 300, 10) + [(301, 300)] * 15 + walk(300, 200, 10)
    assert run({1: path}) == []


def test_stepping_over_and_straight_back_is_cancelled_by_confirmation() -> None:
    # One frame clearly inside (0.2 s < confirm_s 0.3 s), then back out: flicker, not an entry.
    path = walk(250, 295, 5) + [(310, 300)] + walk(290, 200, 5)
    assert run({1: path}) == []


def test_crossing_in_then_out_counts_both_directions() -> None:
    path = walk(200, 400, 15) + walk(400, 200, 15)
    assert [c.direction for c in run({1: path})] == ["in", "out"]


def test_walking_along_the_line_is_not_a_crossing() -> None:
    # Along the line inside the dead band, from one end to the other.
    path = [(302, y) for y in range(180, 420, 10)]
    assert run({1: path}) == []


def test_group_crossing_together_is_counted_per_person() -> None:
    paths = {1: walk(200, 400, 20, y=280), 2: walk(190, 390, 20, y=320), 3: walk(210, 410, 20, y=360)}
    crossings = run(paths)
    assert sorted(c.track_id for c in crossings) == [1, 2, 3]
    assert {c.direction for c in crossings} == {"in"}


def test_track_ending_right_after_stepping_in_still_counts() -> None:
    # Seen once inside, then gone (through the door): the pending crossing counts when the track ends.
    path = walk(200, 290, 8) + [(320, 300)]
    assert [c.direction for c in run({1: path})] == ["in"]


def test_id_switch_at_the_line_is_stitched() -> None:
    before = walk(200, 296, 8)
    after: list[tuple[float, float] | None] = [None] * 9 + walk(312, 400, 8)
    crossings = run({1: before, 2: after})
    assert [(c.direction, c.track_id) for c in crossings] == [("in", 2)]


def test_stitching_can_be_turned_off() -> None:
    before = walk(200, 296, 8)
    after: list[tuple[float, float] | None] = [None] * 9 + walk(312, 400, 8)
    assert run({1: before, 2: after}, CrossingConfig(stitch_distance=0)) == []


def test_far_away_new_track_does_not_inherit() -> None:
    before = walk(200, 296, 8)
    after: list[tuple[float, float] | None] = [None] * 9 + walk(500, 600, 8)  # 2 box heights away
    assert run({1: before, 2: after}) == []


def test_no_confirmation_delay_counts_immediately() -> None:
    path = walk(250, 295, 5) + [(310, 300)] + walk(290, 200, 5)
    assert [c.direction for c in run({1: path}, CrossingConfig(confirm_s=0))] == ["in", "out"]
