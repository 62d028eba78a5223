"""The crossing state machine on tracks we construct: what counts once, and what never counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.config import CrossingConfig
from pipeline.crossings import CrossingCounter, Watched
from pipeline.geometry import Segment, Zone, anchor_point
from pipeline.records import Track

T0 = datetime(2026, 11, 28, 23, 0, tzinfo=UTC)
FPS = 5
HEIGHT = 100  # box height in pixels; the dead band is 4 % of it (4 px) by default

# A vertical gate line x = 300 from y = 200 to y = 400, inside to the right.
GATE = Segment((300, 200), (300, 400), inside=(400, 300))


def box_at(x: float, foot_y: float = 300) -> tuple[float, float, float, float]:
    return (x - 20, foot_y - HEIGHT, x + 20, foot_y)


def run(
    paths: dict[int, list[tuple[float, float] | None]],
    config: CrossingConfig | None = None,
    watched: dict[str, Watched] | None = None,
):
    """Feed foot points (x, y) per track per frame (None = not seen); returns all crossings."""
    config = config or CrossingConfig()
    watched = watched or {"gate": Watched(GATE, config.anchor)}
    counter = CrossingCounter("cam", watched, config, track_timeout_s=1.0)
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


# A dormitory door zone: the square 300..400 x 250..350 (feet inside it are inside the door).
DOOR = Zone(((300, 250), (400, 250), (400, 350), (300, 350)))


def test_zone_sides_are_inside_and_outside_the_polygon() -> None:
    assert DOOR.signed_distance((350, 300)) == pytest.approx(50)
    assert DOOR.signed_distance((250, 300)) == pytest.approx(-50)


def test_walking_into_a_zone_is_one_entry_and_out_again_one_exit() -> None:
    crossings = run({1: walk(200, 350, 16) + walk(350, 200, 16)}, watched={"door": Watched(DOOR, "foot")})
    assert [(c.line, c.direction) for c in crossings] == [("door", "in"), ("door", "out")]


def test_someone_first_seen_inside_a_zone_has_not_entered_it() -> None:
    assert run({1: walk(340, 360, 20)}, watched={"door": Watched(DOOR, "foot")}) == []


def test_lingering_on_a_zone_edge_produces_nothing() -> None:
    edge = [(300 + (2 if i % 2 else -2), 300) for i in range(30)]
    assert run({1: [(250, 300)] * 3 + edge}, watched={"door": Watched(DOOR, "foot")}) == []


def test_group_entering_a_zone_is_counted_per_person() -> None:
    crossings = run(
        {1: walk(200, 350, 16, y=280), 2: walk(210, 360, 16, y=320)}, watched={"door": Watched(DOOR, "foot")}
    )
    assert sorted(c.track_id for c in crossings if c.direction == "in") == [1, 2]


def test_centre_anchor_crosses_later_than_the_feet_on_a_horizontal_line() -> None:
    """Someone walking down the image toward a horizontal line: the feet reach it half a box before the centre."""
    line = Segment((0, 300), (640, 300), inside=(320, 400))
    path = [(320, 250 + 10 * i) for i in range(20)]
    foot = run({1: path}, watched={"l": Watched(line, "foot")})
    center = run({1: path}, watched={"l": Watched(line, "center")})
    assert len(foot) == len(center) == 1
    assert center[0].frame - foot[0].frame == HEIGHT // 2 // 10


def test_crossing_records_track_age_and_travel() -> None:
    [crossing] = run({1: walk(200, 400, 21)})
    # Steps of 10 px at 5 fps; the band is 4 px, so the first frame clearly inside is x = 310 (frame 11).
    assert crossing.frame == 11
    assert crossing.track_age_s == pytest.approx(11 / FPS)
    assert crossing.travel_px == pytest.approx(110)


def test_track_age_survives_an_id_switch() -> None:
    before = walk(200, 280, 9)
    after = [None] * 9 + walk(290, 400, 12)
    [crossing] = run({1: before, 2: after})
    assert crossing.track_id == 2
    assert crossing.track_age_s > 2.0  # counted from track 1's first sighting


def test_only_tracks_that_move_count_as_moving() -> None:
    """Motion gating keeps the detector on for moving people only; a standing figure (or a static
    false detection) is left to the periodic check."""
    counter = CrossingCounter("cam", {"gate": Watched(GATE, "foot")}, CrossingConfig(), track_timeout_s=3.0)
    for frame in range(10):
        ts = T0 + timedelta(seconds=frame / FPS)
        counter.update(frame, ts, [Track(1, box_at(100), 0.9), Track(2, box_at(200 + 10 * frame), 0.9)])
    assert counter.moving_points(ts) == [(290.0, 300.0)]
    later = ts + timedelta(seconds=1.5)
    counter.update(10, later, [Track(1, box_at(100), 0.9), Track(2, box_at(290), 0.9)])
    assert counter.moving_points(later) == []
