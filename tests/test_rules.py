"""Registrations (CSV, counts, windows) and the rule that flags unregistered entries."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pipeline.config import Config
from pipeline.errors import GatewatchError
from pipeline.records import Crossing
from pipeline.registrations import Registration, RegistrationBook, load_registrations_csv
from pipeline.rules import RuleEngine

TZ = ZoneInfo("Asia/Shanghai")
NIGHT = datetime(2026, 11, 28, 23, 0, tzinfo=TZ)


def config(require_registration: bool = True, directions: list[str] | None = None) -> Config:
    rule = {
        "camera": "gate-cam",
        "line": "gate",
        "schedule": "night",
        "require_registration": require_registration,
        "window": 120,
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
                "dorm": {"source": "y.mp4"},
            },
            "schedules": {"night": {"closed": ["22:30-06:00"]}},
            "rules": [rule],
        }
    )


def crossing(ts: datetime, direction: str = "in", line: str = "gate", camera: str = "gate-cam", track: int = 1):
    return Crossing(camera, line, direction, track, 0, ts, (0, 0, 10, 10), 0.9)  # type: ignore[arg-type]


def registration(ts: datetime, count: int = 1, camera: str = "gate-cam", name: str = "visitor") -> Registration:
    return Registration(f"r-{name}", ts, camera, count, name, "")


def test_unregistered_entry_in_closed_hours_is_flagged() -> None:
    decision = RuleEngine(config(), RegistrationBook([])).decide(crossing(NIGHT))
    assert decision.flagged and decision.kind == "unregistered_entry"
    assert "no registration within 120 s" in decision.reason


def test_entry_in_open_hours_is_not_flagged() -> None:
    decision = RuleEngine(config(), RegistrationBook([])).decide(crossing(NIGHT.replace(hour=12)))
    assert not decision.flagged and "open" in decision.reason


def test_exits_and_other_lines_are_not_flagged_by_an_entry_rule() -> None:
    engine = RuleEngine(config(), RegistrationBook([]))
    assert not engine.decide(crossing(NIGHT, direction="out")).flagged
    assert not engine.decide(crossing(NIGHT, line="side")).flagged


def test_rule_can_watch_exits_too() -> None:
    decision = RuleEngine(config(directions=["in", "out"]), RegistrationBook([])).decide(crossing(NIGHT, "out"))
    assert decision.flagged and decision.kind == "unregistered_exit"


def test_rule_without_registration_flags_every_closed_hours_entry() -> None:
    book = RegistrationBook([registration(NIGHT)])
    decision = RuleEngine(config(require_registration=False), book).decide(crossing(NIGHT))
    assert decision.flagged and decision.kind == "closed_hours_entry"
    assert book.remaining["r-visitor"] == 1


def test_registration_within_window_covers_one_entry_per_count() -> None:
    book = RegistrationBook([registration(NIGHT + timedelta(seconds=60), count=2)])
    engine = RuleEngine(config(), book)
    decisions = [engine.decide(crossing(NIGHT + timedelta(seconds=s), track=s)) for s in (0, 5, 10)]
    assert [d.flagged for d in decisions] == [False, False, True]
    assert decisions[0].registration_id == "r-visitor"
    assert book.remaining["r-visitor"] == 0


def test_registration_outside_window_or_other_camera_does_not_cover() -> None:
    book = RegistrationBook(
        [
            registration(NIGHT + timedelta(seconds=121), name="late"),
            registration(NIGHT, camera="dorm", name="dorm"),
        ]
    )
    assert RuleEngine(config(), book).decide(crossing(NIGHT)).flagged


def test_registration_before_the_entry_counts_within_window() -> None:
    book = RegistrationBook([registration(NIGHT - timedelta(seconds=119))])
    assert not RuleEngine(config(), book).decide(crossing(NIGHT)).flagged


def test_nearest_registration_in_time_is_used_first() -> None:
    book = RegistrationBook(
        [
            registration(NIGHT - timedelta(seconds=100), name="far"),
            registration(NIGHT + timedelta(seconds=10), name="near"),
        ]
    )
    assert RuleEngine(config(), book).decide(crossing(NIGHT)).registration_id == "r-near"


def write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "registrations.csv"
    path.write_text(text, encoding=encoding)
    return path


def test_csv_loads_with_zone_and_bom(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "\ufefftime,camera,count,name,note\n2026-11-28 23:00,gate,2,Li,parent\n\n"
        "2026-11-28T15:05:00+00:00,gate,1,Wang,\n",
    )
    rows = load_registrations_csv(path, TZ, {"gate"})
    assert [(r.time, r.count, r.name) for r in rows] == [
        (datetime(2026, 11, 28, 23, 0, tzinfo=TZ), 2, "Li"),
        (datetime(2026, 11, 28, 23, 5, tzinfo=TZ), 1, "Wang"),
    ]
    assert rows[0].id == "registrations.csv:2"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("time,camera\n", "missing column(s) count"),
        ("time,camera,count,badge\n", "unknown column(s) badge"),
        ("time,camera,count\n2026-11-28 23:00,gate,1\nyesterday,gate,1\n", "row 3: time 'yesterday'"),
        ("time,camera,count\n2026-11-28 23:00,gate,0\n", "row 2: count must be at least 1"),
        ("time,camera,count\n2026-11-28 23:00,gate,two\n", "row 2: count 'two' is not a whole number"),
        ("time,camera,count\n2026-11-28 23:00,back-door,1\n", "row 2: unknown camera 'back-door'"),
    ],
)
def test_malformed_csv_names_the_row(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(GatewatchError, match="registrations.csv: " + message.replace("(", r"\(").replace(")", r"\)")):
        load_registrations_csv(write(tmp_path, text), TZ, {"gate"})


def test_non_utf8_csv_is_explained(tmp_path: Path) -> None:
    path = write(tmp_path, "time,camera,count,name\n2026-11-28 23:00,gate,1,张三\n", encoding="gbk")
    with pytest.raises(GatewatchError, match="not UTF-8"):
        load_registrations_csv(path, TZ, {"gate"})


def test_missing_csv_is_explained(tmp_path: Path) -> None:
    with pytest.raises(GatewatchError, match="registrations file not found"):
        load_registrations_csv(tmp_path / "nope.csv", TZ, {"gate"})


def test_registration_window_is_real_time_across_dst() -> None:
    new_york = ZoneInfo("America/New_York")
    # 01:30 EDT and 01:10 EST (fold=1) are 1 h 40 min apart, though the wall clocks say 20 min.
    entry = datetime(2026, 11, 1, 1, 10, fold=1, tzinfo=new_york)
    book = RegistrationBook([registration(datetime(2026, 11, 1, 1, 30, tzinfo=new_york))])
    assert book.take("gate-cam", entry, window_s=1800) is None
    assert book.take("gate-cam", entry, window_s=6000) is not None
