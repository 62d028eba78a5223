"""Registrations (CSV, counts, windows) and the rule that flags unregistered entries."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from pipeline.config import Config
from pipeline.records import Crossing
from pipeline.registrations import OpenAlert, Registration, RegistrationBook
from pipeline.rules import RuleEngine

TZ = ZoneInfo("Asia/Shanghai")
NIGHT = datetime(2026, 11, 28, 23, 0, tzinfo=TZ)


def config(require_registration: bool = True, directions: list[str] | None = None, **extra: object) -> Config:
    rule: dict[str, object] = {
        "camera": "gate-cam",
        "line": "gate",
        "schedule": "night",
        "require_registration": require_registration,
        "window": 120,
        **extra,
    }
    if directions:
        rule["directions"] = directions
    return Config.model_validate(
        {
            "timezone": "Asia/Shanghai",
            "cameras": {
                "gate-cam": {
                    "source": "x.mp4",
                    "lines": {
                        "gate": {"points": [[0, 0], [100, 0]], "inside": [50, 50]},
                        "side": {"points": [[0, 10], [0, 90]], "inside": [50, 50]},
                    },
                },
                "gate-cam-2": {"source": "z.mp4"},
                "dorm": {"source": "y.mp4", "zones": {"door": {"points": [[0, 0], [50, 0], [50, 50], [0, 50]]}}},
            },
            "groups": {"north": ["gate-cam", "gate-cam-2"]},
            "schedules": {"night": {"closed": ["22:30-06:00"]}},
            "rules": [rule],
        }
    )


def crossing(
    ts: datetime,
    direction: str = "in",
    line: str = "gate",
    camera: str = "gate-cam",
    track: int = 1,
    age: float = 5.0,
    travel: float = 200.0,
) -> Crossing:
    return Crossing(camera, line, direction, track, 0, ts, (0, 0, 10, 10), 0.9, age, travel)  # type: ignore[arg-type]


def registration(
    ts: datetime,
    count: int = 1,
    camera: str = "gate-cam",
    name: str = "visitor",
    until: datetime | None = None,
    id: int = 1,
) -> Registration:
    """Ids are explicit: tests with two registrations in one book give each its own, so the book can
    never mistake one for the other (ids from hash(name) collided under some PYTHONHASHSEEDs)."""
    return Registration(camera, ts, until or ts, count, name, id=id)


def book(*registrations: Registration) -> RegistrationBook:
    return RegistrationBook([(r, r.count) for r in registrations], {"north": ["gate-cam", "gate-cam-2"]})


def test_unregistered_entry_in_closed_hours_is_flagged() -> None:
    decision = RuleEngine(config(), book()).decide(crossing(NIGHT))
    assert decision.flagged and decision.kind == "unregistered_entry"
    assert "no registration within 120 s" in decision.reason.text()


def test_entry_in_open_hours_is_not_flagged() -> None:
    decision = RuleEngine(config(), book()).decide(crossing(NIGHT.replace(hour=12)))
    assert not decision.flagged and "open" in decision.reason.text()


def test_exits_and_other_lines_are_not_flagged_by_an_entry_rule() -> None:
    engine = RuleEngine(config(), book())
    assert not engine.decide(crossing(NIGHT, direction="out")).flagged
    assert not engine.decide(crossing(NIGHT, line="side")).flagged


def test_rule_can_watch_exits_too() -> None:
    decision = RuleEngine(config(directions=["in", "out"]), book()).decide(crossing(NIGHT, "out"))
    assert decision.flagged and decision.kind == "unregistered_exit"


def test_rule_without_registration_flags_every_closed_hours_entry() -> None:
    visitors = book(registration(NIGHT))
    decision = RuleEngine(config(require_registration=False), visitors).decide(crossing(NIGHT))
    assert decision.flagged and decision.kind == "closed_hours_entry"
    assert decision.closed == "2026-11-28 22:30-06:00"
    assert visitors.take("gate-cam", NIGHT, 0) is not None  # not used up


def test_registration_within_window_covers_one_entry_per_count() -> None:
    visit = registration(NIGHT + timedelta(seconds=60), count=2)
    engine = RuleEngine(config(), book(visit))
    decisions = [engine.decide(crossing(NIGHT + timedelta(seconds=s), track=s)) for s in (0, 5, 10)]
    assert [d.flagged for d in decisions] == [False, False, True]
    assert decisions[0].registration_id == visit.id
    assert "covered by registration" in decisions[0].reason.text()


def test_registration_outside_window_or_other_camera_does_not_cover() -> None:
    visitors = book(
        registration(NIGHT + timedelta(seconds=121), name="late", id=1), registration(NIGHT, camera="dorm", id=2)
    )
    assert RuleEngine(config(), visitors).decide(crossing(NIGHT)).flagged


def test_registration_before_the_entry_counts_within_window() -> None:
    assert not RuleEngine(config(), book(registration(NIGHT - timedelta(seconds=119)))).decide(crossing(NIGHT)).flagged


def test_nearest_registration_in_time_is_used_first() -> None:
    near = registration(NIGHT + timedelta(seconds=10), name="near", id=2)
    visitors = book(registration(NIGHT - timedelta(seconds=100), name="far", id=1), near)
    assert RuleEngine(config(), visitors).decide(crossing(NIGHT)).registration_id == near.id


def test_registration_valid_from_until_covers_the_whole_period() -> None:
    visit = registration(NIGHT - timedelta(hours=1), until=NIGHT + timedelta(hours=1), count=3)
    engine = RuleEngine(config(window=0), book(visit))
    assert not engine.decide(crossing(NIGHT + timedelta(minutes=59))).flagged
    assert engine.decide(crossing(NIGHT + timedelta(minutes=61), track=2)).flagged


def test_registration_for_a_group_covers_each_camera_of_it() -> None:
    visit = registration(NIGHT, count=2, camera="north")
    visitors = book(visit)
    assert visitors.take("gate-cam-2", NIGHT, 10) == visit
    assert visitors.take("gate-cam", NIGHT, 10) == visit
    assert visitors.take("gate-cam", NIGHT, 10) is None  # both people used up
    assert book(visit).take("dorm", NIGHT, 10) is None


def test_young_tracks_do_not_count_for_a_rule_with_minimum_age() -> None:
    engine = RuleEngine(config(min_track_age_s=1.0), book())
    decision = engine.decide(crossing(NIGHT, age=0.4))
    assert not decision.flagged and "track seen for 0.4 s, rule needs 1 s" in decision.reason.text()
    assert engine.decide(crossing(NIGHT, age=1.0)).flagged


def test_small_moves_do_not_count_for_a_rule_with_minimum_displacement() -> None:
    engine = RuleEngine(config(min_displacement_px=50), book())
    decision = engine.decide(crossing(NIGHT, travel=20))
    assert not decision.flagged and "moved 20 px, rule needs 50 px" in decision.reason.text()
    assert engine.decide(crossing(NIGHT, travel=60)).flagged


def test_zone_rule_flags_entering_the_zone_in_closed_hours() -> None:
    engine = RuleEngine(config(line=None, zone="door", camera="dorm"), book())
    decision = engine.decide(crossing(NIGHT, line="door", camera="dorm"))
    assert decision.flagged and decision.kind == "unregistered_entry"
    assert not engine.decide(crossing(NIGHT, line="door", camera="dorm", direction="out")).flagged


def test_registration_window_is_real_time_across_dst() -> None:
    new_york = ZoneInfo("America/New_York")
    # 01:30 EDT and 01:10 EST (fold=1) are 1 h 40 min apart, though the wall clocks say 20 min.
    entry = datetime(2026, 11, 1, 1, 10, fold=1, tzinfo=new_york)
    visitors = book(registration(datetime(2026, 11, 1, 1, 30, tzinfo=new_york)))
    assert visitors.take("gate-cam", entry, window_s=1800) is None
    assert visitors.take("gate-cam", entry, window_s=6000) is not None


def test_late_registration_claims_the_nearest_open_alerts_up_to_its_count() -> None:
    alerts = [
        OpenAlert(1, "gate-cam", NIGHT - timedelta(seconds=90), 120),
        OpenAlert(2, "gate-cam-2", NIGHT + timedelta(seconds=10), 120),  # another camera of the group
        OpenAlert(3, "gate-cam", NIGHT + timedelta(seconds=30), 120),
        OpenAlert(4, "gate-cam", NIGHT + timedelta(seconds=500), 120),  # outside the window
    ]
    pair = registration(NIGHT, count=2, camera="north", id=7)
    claimed = book(pair).claim(alerts)
    assert [(alert.event_id, r.id) for alert, r in claimed] == [(2, 7), (3, 7)]


def test_claims_go_by_registration_order_and_explain_each_alert_once() -> None:
    alerts = [OpenAlert(1, "gate-cam", NIGHT, 120), OpenAlert(2, "gate-cam", NIGHT + timedelta(seconds=5), 120)]
    first, second = registration(NIGHT, id=3), registration(NIGHT, id=4, name="second")
    claimed = book(second, first).claim(alerts)
    assert [(alert.event_id, r.id) for alert, r in claimed] == [(1, 3), (2, 4)]
