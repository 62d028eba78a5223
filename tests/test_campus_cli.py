"""The campus commands end to end, as staff use them: schedule, register, registrations import,
events review and export, prune. Real analysis of the sample clip (once, copied for each test that
starts from it), real SQLite, files on disk; commands run in process (see conftest)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import yaml

from pipeline.db.schema import SCHEMA_VERSION

from .conftest import ROOT, analyze, assert_user_error, gatewatch, rows

# The demo flags two entries: person C at 22:30:14.8 and F at 22:30:56 (see sample_videos/).
C_TIME = "2026-11-28 22:30:15"


def db_args(folder: Path) -> list[str | Path]:
    return ["--db", folder / "out" / "gatewatch.db"]


def config_args(folder: Path) -> list[str | Path]:
    return ["--config", folder / "configs" / "demo.yaml"]


def ok(result) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def add_exceptions(folder: Path) -> None:
    path = folder / "configs" / "demo.yaml"
    config = yaml.safe_load(path.read_text())
    config["schedules"]["night"]["exceptions"] = [
        {"name": "Christmas Eve concert", "date": "2026-12-24", "closed": ["23:00-06:00"]},
        {"name": "winter break", "from": "2027-01-20", "until": "2027-02-20", "closed": "all day"},
    ]
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def test_schedule_says_closed_or_open_and_why(demo_copy: Path) -> None:
    add_exceptions(demo_copy)
    closed = ok(gatewatch("schedule", "night", *config_args(demo_copy), "--at", "2026-12-24T23:30"))
    assert "CLOSED at Thu 2026-12-24 23:30" in closed
    assert "window 2026-12-24 23:00-06:00 (Christmas Eve concert)" in closed
    open_ = ok(gatewatch("schedule", "night", *config_args(demo_copy), "--at", "2026-12-24T22:45"))
    assert "OPEN at Thu 2026-12-24 22:45" in open_ and "exception 'Christmas Eve concert'" in open_
    holiday = ok(gatewatch("schedule", "night", *config_args(demo_copy), "--at", "2027-02-01 12:00"))
    assert "00:00-24:00 (winter break)" in holiday
    # The night that starts on the last day of the break still runs into the next morning.
    assert "CLOSED" in ok(gatewatch("schedule", "night", *config_args(demo_copy), "--at", "2027-02-21T03:00"))
    assert "chinese-calendar has no data for 2027" in holiday  # said, not silently assumed
    # China's calendar by default (the demo site is in Asia/Shanghai): National Day closed all day
    national = ok(gatewatch("schedule", "night", *config_args(demo_copy), "--at", "2026-10-01T10:00"))
    assert "CLOSED at Thu 2026-10-01 10:00" in national and "national calendar '国庆节 National Day'" in national


def test_schedule_errors(demo_copy: Path) -> None:
    assert_user_error(gatewatch("schedule", "weekend", *config_args(demo_copy)), "no schedule 'weekend'", "night")
    assert_user_error(gatewatch("schedule", "night", *config_args(demo_copy), "--at", "Christmas"), "--at 'Christmas'")


def test_late_registration_authorizes_the_flagged_entry(analysed: Path) -> None:
    db = analysed / "out" / "gatewatch.db"
    assert [e["status"] for e in rows(db, "events")] == ["new", "new"]
    late = ["register", "--camera", "north-gate", "--at", C_TIME, "--name", "Zhao Lei", "--ref", "V0413"]
    late += ["--reason", "parent, late pick-up", "--by", "Guard Sun", *config_args(analysed), *db_args(analysed)]
    stdout = ok(gatewatch(*late))
    assert "authorized event #1" in stdout
    events = rows(db, "events")
    assert [e["status"] for e in events] == ["authorized", "new"]
    registration = rows(db, "registrations")[-1]
    assert events[0]["registration_id"] == registration["id"] and registration["name"] == "Zhao Lei"
    [review] = rows(db, "event_reviews")
    assert (review["event_id"], review["by"], review["from_status"], review["to_status"]) == (
        1,
        "Guard Sun",
        "new",
        "authorized",
    )
    assert "entered after the alert" in review["note"]
    # Its one person is used up: registering again is a duplicate, and the other event stays new.
    again = ok(gatewatch(*late))
    assert "Already registered" in again
    assert [e["status"] for e in rows(db, "events")] == ["authorized", "new"]


def test_registration_far_from_the_event_authorizes_nothing(analysed: Path) -> None:
    args = ["register", "--camera", "north-gate", "--at", "2026-11-28 23:30", "--by", "Guard Sun"]
    stdout = ok(gatewatch(*args, *config_args(analysed), *db_args(analysed)))
    assert "authorized" not in stdout
    assert [e["status"] for e in rows(analysed / "out" / "gatewatch.db", "events")] == ["new", "new"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--count", "0"], "count must be at least 1"),
        (["--from", "2026-11-28 23:00", "--until", "2026-11-28 22:00"], "until '2026-11-28 22:00' is before from"),
        (["--camera", "back-door"], "camera 'back-door' is not a camera or group"),
        (["--source", "phone"], "source 'phone' is not one of"),
        (["--at", "2026-11-28 23:00", "--from", "2026-11-28 22:00", "--until", "2026-11-28 23:30"], "either --at"),
    ],
)
def test_bad_registrations_are_refused_and_nothing_is_stored(demo_copy: Path, args: list[str], message: str) -> None:
    base = ["register", "--by", "Guard Sun", *config_args(demo_copy), *db_args(demo_copy)]
    if "--camera" not in args:
        base += ["--camera", "north-gate"]
    assert_user_error(gatewatch(*base, *args), message)
    assert not (demo_copy / "out" / "gatewatch.db").exists()


def test_import_gbk_export_reports_bad_rows_and_keeps_good_ones(analysed: Path) -> None:
    export = analysed / "刷卡记录.csv"
    export.write_bytes(
        (
            "序号,刷卡时间,门禁点,姓名,卡号\r\n"
            "1,2026/11/28 22:30:56,north-gate,钱七,20001\r\n"
            "2,2026/11/28 23:10:00,north-gate,孙八,20002\r\n"
            "3,昨天,north-gate,周九,20003\r\n"
            "4,2026/11/28 23:20:00,south-gate,吴十,20004\r\n"
        ).encode("gbk")
    )
    result = gatewatch(
        "registrations",
        "import",
        export,
        "--map",
        "time=刷卡时间,camera=门禁点,name=姓名",
        "--map",
        "ref=卡号",
        "--by",
        "office",
        *config_args(analysed),
        *db_args(analysed),
    )
    assert result.returncode == 2
    assert "row 4: '昨天' is not a time" in result.stderr
    assert "row 5: camera 'south-gate' is not a camera or group" in result.stderr
    assert "(gbk): imported 2, already present 0, rejected 2" in result.stdout
    assert "authorized event #2" in result.stdout  # 钱七 swiped in at F's time
    stored = rows(analysed / "out" / "gatewatch.db", "registrations")
    imported = [r for r in stored if r["origin"].startswith("import")]
    assert [(r["name"], r["ref"], r["source"], r["origin"]) for r in imported] == [
        ("钱七", "20001", "card_swipe", "import 刷卡记录.csv row 2"),
        ("孙八", "20002", "card_swipe", "import 刷卡记录.csv row 3"),
    ]
    # The same file again adds nothing.
    again = gatewatch(
        "registrations",
        "import",
        export,
        "--map",
        "time=刷卡时间,camera=门禁点,name=姓名,ref=卡号",
        "--by",
        "office",
        *config_args(analysed),
        *db_args(analysed),
    )
    assert "imported 0, already present 2, rejected 2" in again.stdout
    listing = ok(gatewatch("registrations", "list", *db_args(analysed)))
    assert "钱七" in listing and "孙八" in listing


def test_import_with_missing_columns_or_wrong_encoding_stores_nothing(analysed: Path) -> None:
    export = analysed / "export.csv"
    export.write_bytes("刷卡时间,姓名\n2026/11/28 23:10:00,孙八\n".encode("gbk"))
    base = ["registrations", "import", export, "--by", "office", *config_args(analysed), *db_args(analysed)]
    assert_user_error(gatewatch(*base, "--map", "time=刷卡时间"), "missing column(s) camera")
    assert_user_error(gatewatch(*base, "--encoding", "utf-8", "--map", "time=刷卡时间"), "not UTF-8 text")
    assert_user_error(gatewatch(*base, "--map", "time"), "--map 'time': write field=column")
    assert len(rows(analysed / "out" / "gatewatch.db", "registrations")) == 2  # the config's two


def test_review_lifecycle_with_audit_trail(analysed: Path) -> None:
    db = analysed / "out" / "gatewatch.db"
    ok(gatewatch("events", "ack", "1", "--by", "Guard Sun", "--note", "went to the gate", *db_args(analysed)))
    ok(gatewatch("events", "false-alarm", "1", "--by", "Officer Li", "--note", "a teacher", *db_args(analysed)))
    assert_user_error(
        gatewatch("events", "authorize", "1", "--by", "Officer Li", *db_args(analysed)),
        "event 1 is False alarm already (by Officer Li",
        "nothing (it is final)",
    )
    register = [
        "register",
        "--camera",
        "north-gate",
        "--at",
        "2026-11-28 23:50",
        "--name",
        "Qian",
        "--by",
        "Officer Li",
    ]
    ok(gatewatch(*register, *config_args(analysed), *db_args(analysed)))
    ok(gatewatch("events", "authorize", "2", "--by", "Officer Li", "--registration", "3", *db_args(analysed)))
    assert rows(db, "events")[1]["registration_id"] == 3
    assert_user_error(gatewatch("events", "ack", "9", "--by", "x", *db_args(analysed)), "event 9: no such event")
    assert_user_error(gatewatch("events", "ack", "2", "--by", " ", *db_args(analysed)), "--by: say who")

    reviews = rows(db, "event_reviews")
    assert [(r["event_id"], r["by"], r["from_status"], r["to_status"]) for r in reviews] == [
        (1, "Guard Sun", "new", "acknowledged"),
        (1, "Officer Li", "acknowledged", "false_alarm"),
        (2, "Officer Li", "new", "authorized"),
    ]
    assert [e["status"] for e in rows(db, "events")] == ["false_alarm", "authorized"]

    shown = ok(gatewatch("events", "show", "1", *db_args(analysed)))
    assert "status false_alarm" in shown and "evidence    present" in shown
    assert "Guard Sun  new -> acknowledged: went to the gate" in shown
    assert "_crop.jpg" in shown
    listed = ok(gatewatch("events", "list", "--status", "false_alarm", *db_args(analysed)))
    assert "false_alarm" in listed and "1 event(s)" in listed


def test_authorize_with_a_used_up_registration_is_refused(analysed: Path) -> None:
    # Registration 1 (Li Wei, 1 person) already covers person B.
    assert_user_error(
        gatewatch("events", "authorize", "1", "--by", "x", "--registration", "1", *db_args(analysed)),
        "already covers all 1",
    )
    assert rows(analysed / "out" / "gatewatch.db", "event_reviews") == []


def test_events_list_filters_by_time_and_camera(analysed: Path) -> None:
    assert "2 event(s)" in ok(gatewatch("events", "list", "--since", "2026-11-28 22:30", *db_args(analysed)))
    assert "1 event(s)" in ok(gatewatch("events", "list", "--since", "2026-11-28 22:30:30", *db_args(analysed)))
    # 14:30:30 UTC is 22:30:30 in Shanghai.
    assert "1 event(s)" in ok(gatewatch("events", "list", "--until", "2026-11-28T14:30:30Z", *db_args(analysed)))
    assert "No events match" in ok(gatewatch("events", "list", "--camera", "south-gate", *db_args(analysed)))
    assert_user_error(gatewatch("events", "list", "--status", "done", *db_args(analysed)), "--status 'done'")


def test_export_csv_and_json(analysed: Path) -> None:
    ok(gatewatch("events", "ack", "2", "--by", "Guard Sun", *db_args(analysed)))
    target = analysed / "exports" / "events.csv"
    ok(gatewatch("events", "export", "--format", "csv", "--out", target, *db_args(analysed)))
    lines = target.read_text().splitlines()
    assert lines[0].startswith("id,kind,camera,line,direction,ts,status,reviewed_by")
    assert len(lines) == 3 and ",acknowledged,Guard Sun," in lines[2]
    exported = json.loads(ok(gatewatch("events", "export", "--format", "json", *db_args(analysed))))
    assert [(e["id"], e["status"]) for e in exported] == [(1, "new"), (2, "acknowledged")]
    assert_user_error(gatewatch("events", "export", "--format", "xml", *db_args(analysed)), "--format 'xml'")


def test_prune_removes_old_snapshots_and_marks_rows(analysed: Path) -> None:
    db = analysed / "out" / "gatewatch.db"
    events = rows(db, "events")
    files = [Path(e[k]) for e in events for k in ("snapshot_path", "crop_path", "clip_path")]
    assert all(p.is_file() for p in files) and {p.suffix for p in files} == {".jpg", ".mp4"}
    # The footage is from 2026-11-28; nothing is older than 3650 days.
    assert "0 event(s) older than 3650d" in ok(gatewatch("prune", "--older-than", "3650d", *db_args(analysed)))
    dry = ok(gatewatch("prune", "--older-than", "0d", "--dry-run", *db_args(analysed)))
    assert "2 event(s) older than 0d: would remove 6 file(s)" in dry and all(p.is_file() for p in files)

    assert "removed 6 file(s)" in ok(gatewatch("prune", "--older-than", "0d", *db_args(analysed)))
    assert not any(p.exists() for p in files)
    assert all(e["pruned_at"] for e in rows(db, "events"))
    assert "evidence    pruned" in ok(gatewatch("events", "show", "1", *db_args(analysed)))
    assert_user_error(gatewatch("prune", "--older-than", "soon", *db_args(analysed)), "--older-than")


def test_missing_snapshot_is_said_not_hidden(analysed: Path) -> None:
    event = rows(analysed / "out" / "gatewatch.db", "events")[0]
    Path(event["crop_path"]).unlink()
    assert "evidence    MISSING: " in ok(gatewatch("events", "show", "1", *db_args(analysed)))


def test_reading_commands_do_not_create_a_database(tmp_path: Path) -> None:
    assert_user_error(gatewatch("events", "list", "--db", tmp_path / "typo.db"), "no gatewatch database here")
    assert not (tmp_path / "typo.db").exists()


def test_registrations_are_consumed_across_videos(analysed: Path, half_sample: Path) -> None:
    """The same registrations cannot excuse the same people twice: a second recording of the
    same moment (another file: the first half again) finds them used up, so its covered entry
    (B) is flagged, beside C."""
    result = analyze(analysed, half_sample)
    assert result.returncode == 0, result.stderr
    assert "Covered by registrations: 0" in result.stdout and "Flagged events: 2" in result.stdout
    # Re-running the first video frees and re-uses exactly its own registrations.
    assert "Covered by registrations: 3" in ok(analyze(analysed))


def test_v1_database_is_upgraded_in_place(demo_copy: Path) -> None:
    db = demo_copy / "out" / "gatewatch.db"
    db.parent.mkdir()
    connection = sqlite3.connect(db)
    connection.executescript(
        """CREATE TABLE videos (camera TEXT, video TEXT, start TEXT, fps FLOAT, frames INTEGER, analysed_at TEXT,
                                PRIMARY KEY (camera, video));
           CREATE TABLE events (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, camera TEXT NOT NULL, line TEXT NOT NULL,
               direction TEXT, ts TEXT NOT NULL, video TEXT, frame INTEGER, track_id INTEGER, confidence FLOAT,
               bbox TEXT, snapshot_path TEXT, crop_path TEXT, status TEXT NOT NULL DEFAULT 'new',
               registration_id TEXT, reason TEXT, created_at TEXT);
           CREATE TABLE crossings (id INTEGER PRIMARY KEY, camera TEXT, video TEXT, line TEXT, direction TEXT,
               track_id INTEGER, frame INTEGER, ts TEXT, flagged INTEGER, event_id INTEGER, registration_id TEXT,
               reason TEXT, bbox TEXT);
           INSERT INTO events (kind, camera, line, ts, status) VALUES ('unregistered_entry', 'north-gate', 'gate',
               '2026-11-01T23:00:00+08:00', 'acknowledged');
           INSERT INTO crossings (camera, line, direction, ts, registration_id) VALUES ('north-gate', 'gate', 'in',
               '2026-11-01T23:00:00+08:00', 'registrations.csv:2');
           PRAGMA user_version = 1;"""
    )
    connection.close()
    assert analyze(demo_copy).returncode == 0
    connection = sqlite3.connect(db)
    assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert connection.execute("SELECT status FROM events WHERE id = 1").fetchone()[0] == "acknowledged"
    assert connection.execute("SELECT count(*) FROM crossings WHERE typeof(registration_id) = 'text'").fetchone() == (
        0,
    )
    connection.close()
    assert "3 event(s)" in ok(gatewatch("events", "list", *db_args(demo_copy)))


def test_database_from_a_newer_gatewatch_is_refused(demo_copy: Path) -> None:
    db = demo_copy / "out" / "gatewatch.db"
    db.parent.mkdir()
    connection = sqlite3.connect(db)
    connection.execute("PRAGMA user_version = 99")
    connection.close()
    assert_user_error(gatewatch("events", "list", "--db", db), "made by a newer gatewatch")


def test_editing_the_config_csv_replaces_unused_rows(analysed: Path, short_sample: Path) -> None:
    """Each analysis syncs the config's CSV first (of any recording: a short one will do)."""
    csv = analysed / "configs" / "registrations.csv"
    lines = csv.read_text().splitlines()
    csv.write_text("\n".join([*lines, "2026-11-28 23:40,north-gate,1,Zhou,,typo,guard"]) + "\n")
    assert analyze(analysed, short_sample).returncode == 0
    csv.write_text("\n".join([*lines, "2026-11-28 23:45,north-gate,1,Zhou,,fixed,guard"]) + "\n")
    assert analyze(analysed, short_sample).returncode == 0
    names = [(r["name"], r["reason"]) for r in rows(analysed / "out" / "gatewatch.db", "registrations")]
    assert ("Zhou", "typo") not in names and ("Zhou", "fixed") in names
    assert len(names) == 3


def test_campus_example_config_is_valid_and_explained() -> None:
    stdout = ok(gatewatch("check-config", ROOT / "configs" / "campus-example.yaml"))
    for text in (
        "Site 'Example No. 1 Middle School'",
        "zone door: (820,600) (1180,600) (1260,1060) (740,1060)",
        "Group main-entrance: north-gate",
        "Schedule term: closed 12:10-13:30, 22:30-06:00 (mon tue wed thu); 22:30-06:00 (fri); 00:00-24:00 (sat sun)",
        "exception 'winter break' 2027-01-23..2027-02-21: 00:00-24:00",
        "exception 'mock exam' 2026-12-17: 06:00-07:00, 22:00-06:00",
        "Rule: any in crossings of zone dorm-a.door while 'dorm-night' is closed (moved >= 40 px; anchor foot)",
        "tracks seen >= 0.5 s",
        "rtsp://***@192.168.1.64:554/",
    ):
        assert text in stdout
    assert "secret" not in stdout


def test_zone_rule_on_the_sample_clip(demo_copy: Path) -> None:
    """A zone just inside the gate: the same people enter it as cross the line (6 in, 1 out)."""
    path = demo_copy / "configs" / "demo.yaml"
    config = yaml.safe_load(path.read_text())
    config["cameras"]["north-gate"]["zones"] = {
        "courtyard": {"points": [[335, 240], [639, 240], [639, 479], [335, 479]]}
    }
    config["rules"] = [
        {"camera": "north-gate", "zone": "courtyard", "schedule": "night", "require_registration": False}
    ]
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    result = analyze(demo_copy)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in (demo_copy / "out" / "crossings.jsonl").read_text().splitlines()]
    zone = [r for r in records if r["line"] == "courtyard"]
    assert sorted(r["direction"] for r in zone) == ["in"] * 6 + ["out"]
    assert len([r for r in records if r["line"] == "gate"]) == 7  # the line is still counted alongside
    flagged = [r for r in zone if r["flagged"]]
    # Every entry into the zone after 22:30 is flagged (no registration needed); A came before.
    assert len(flagged) == 5 and all(r["ts"] >= "2026-11-28T22:30" for r in flagged)
    events = rows(demo_copy / "out" / "gatewatch.db", "events")
    assert {e["kind"] for e in events} == {"closed_hours_entry"} and all(
        Path(e["snapshot_path"]).is_file() for e in events
    )


def test_rerun_after_a_late_registration_keeps_the_event_linked(analysed: Path) -> None:
    """After a late registration authorized event 1, a re-run finds the entry covered; the event
    stays (authorized) and its crossing stays linked to it, so the report counts it once."""
    late = ["register", "--camera", "north-gate", "--at", C_TIME, "--by", "Guard Sun"]
    assert "authorized event #1" in ok(gatewatch(*late, *config_args(analysed), *db_args(analysed)))
    result = analyze(analysed)
    assert "Covered by registrations: 4" in result.stdout and "Flagged events: 1" in result.stdout
    db = analysed / "out" / "gatewatch.db"
    assert [(e["id"], e["status"]) for e in rows(db, "events")] == [(1, "authorized"), (2, "new")]
    linked = [c for c in rows(db, "crossings") if c["event_id"] == 1]
    assert len(linked) == 1 and linked[0]["registration_id"] == rows(db, "registrations")[-1]["id"]
    folder = analysed / "reports"
    assert gatewatch("report", "--day", "2026-11-28", *db_args(analysed), "--out", folder).returncode == 0
    daily = (folder / "gatewatch-report-2026-11-28-daily.csv").read_text(encoding="utf-8-sig").splitlines()
    assert daily[1] == "2026-11-28,north-gate,gate,6,1,5,2,3,1,0"


def test_user_text_is_printed_as_written_and_exported_inert(analysed: Path) -> None:
    """Names and notes are text, never markup for the terminal nor formulas for a spreadsheet."""
    db = analysed / "out" / "gatewatch.db"
    name, reviewer, note = "[/]Zhou [bold]", "@guard[/]", '=HYPERLINK("http://x","y")'
    register = ["register", "--camera", "north-gate", "--at", "2026-11-28 23:50", "--name", name, "--by", reviewer]
    ok(gatewatch(*register, "--reason", "-2+3", *config_args(analysed), *db_args(analysed)))
    acked = ok(gatewatch("events", "ack", "1", "--by", reviewer, "--note", note, *db_args(analysed)))
    assert f"(by {reviewer})" in acked
    assert [r["by"] for r in rows(db, "event_reviews")] == [reviewer]  # committed once, printed fine
    assert reviewer in ok(gatewatch("events", "list", *db_args(analysed)))
    assert note in ok(gatewatch("events", "show", "1", *db_args(analysed)))
    assert name in ok(gatewatch("registrations", "list", *db_args(analysed)))
    exported = ok(gatewatch("events", "export", "--format", "csv", *db_args(analysed)))
    assert "'@guard[/]" in exported and """'=HYPERLINK(""http://x"",""y"")""" in exported
    report = analysed / "reports"
    ok(gatewatch("report", "--month", "2026-11", *db_args(analysed), "--out", report))
    events_csv = next(report.glob("*-events.csv")).read_text(encoding="utf-8-sig")
    assert "'@guard[/]" in events_csv and ",@guard" not in events_csv


def test_latin1_export_is_refused_not_stored_garbled(analysed: Path) -> None:
    export = analysed / "visitors.csv"
    export.write_bytes("time,camera,name\n2026-11-28 23:10,north-gate,Müller Øst\n".encode("latin-1"))
    base = ["registrations", "import", export, "--by", "office", *config_args(analysed), *db_args(analysed)]
    assert_user_error(gatewatch(*base), "visitors.csv: as GBK this reads like garbled text", "--encoding")
    assert len(rows(analysed / "out" / "gatewatch.db", "registrations")) == 2
    ok(gatewatch(*base, "--encoding", "latin-1"))
    assert rows(analysed / "out" / "gatewatch.db", "registrations")[-1]["name"] == "Müller Øst"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--count", "99999999999999999999999"], "count"),
        (["--count", "1001"], "more than 1000 people"),
        (["--at", "9999-12-31 23:00"], "between 2000 and 2099"),
        (["--at", "0001-01-01 00:00"], "between 2000 and 2099"),
        (["--window", "99999999999999d"], "window"),
        (["--window", "2d"], "over 24 hours"),
    ],
)
def test_out_of_range_registrations_are_refused(analysed: Path, args: list[str], message: str) -> None:
    base = ["register", "--camera", "north-gate", "--by", "Sun", *config_args(analysed), *db_args(analysed)]
    assert_user_error(gatewatch(*base, *args), message)
    assert_user_error(gatewatch("events", "show", "99999999999999999999999", *db_args(analysed)), "no such event")
