"""Registrations from text: the guard's command line, access-control CSV exports (UTF-8 or GBK,
their own column names) and the config's CSV all go through one parser."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pipeline.errors import GatewatchError
from pipeline.registrations import parse_duration, parse_registration, parse_time, read_registrations_csv
from pipeline.review import still_to_come

TZ = ZoneInfo("Asia/Shanghai")
SCOPES = {"gate", "north"}


def write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "registrations.csv"
    path.write_text(text, encoding=encoding)
    return path


def read(path: Path, **kwargs: object):
    return read_registrations_csv(path, TZ, SCOPES, origin=f"import {path.name}", **kwargs)  # type: ignore[arg-type]


def test_time_formats_of_access_control_exports() -> None:
    expected = datetime(2026, 11, 28, 23, 5, tzinfo=TZ)
    for text in ("2026-11-28 23:05", "2026/11/28 23:05:00", "2026/11/28 23:05", "2026-11-28T23:05:00+08:00"):
        assert parse_time(text, TZ) == expected
    assert parse_time("2026/1/5 9:05", TZ) == datetime(2026, 1, 5, 9, 5, tzinfo=TZ)
    with pytest.raises(ValueError, match="not a time"):
        parse_time("yesterday", TZ)


def test_durations() -> None:
    assert parse_duration("90d") == timedelta(days=90)
    assert parse_duration("10m") == timedelta(minutes=10)
    assert parse_duration("45") == timedelta(seconds=45)
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("ten minutes")


def test_time_with_window_and_from_until() -> None:
    at = parse_registration({"time": "2026-11-28 23:00", "window": "10m", "camera": "gate"}, TZ, SCOPES, origin="t")
    assert (at.valid_from, at.valid_until) == (
        datetime(2026, 11, 28, 22, 50, tzinfo=TZ),
        datetime(2026, 11, 28, 23, 10, tzinfo=TZ),
    )
    assert at.count == 1 and at.source == "guard"
    span = parse_registration(
        {
            "from": "2026-11-28 08:00",
            "until": "2026-11-28 17:00",
            "camera": "north",
            "count": "3",
            "source": "card_swipe",
        },
        TZ,
        SCOPES,
        origin="t",
    )
    assert span.count == 3 and span.scope == "north" and span.source == "card_swipe"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"camera": "gate"}, "missing time"),
        ({"time": "2026-11-28 23:00", "camera": "gate", "count": "0"}, "count must be at least 1"),
        ({"time": "2026-11-28 23:00", "camera": "gate", "count": "two"}, "count 'two' is not a whole number"),
        ({"from": "2026-11-28 23:00", "until": "2026-11-28 22:00", "camera": "gate"}, "until .* is before from"),
        ({"time": "2026-11-28 23:00", "camera": "back-door"}, "camera 'back-door' is not a camera or group"),
        ({"time": "2026-11-28 23:00", "camera": "gate", "source": "phone"}, "source 'phone' is not one of"),
        ({"time": "2026-11-28 23:00", "from": "2026-11-28 22:00", "camera": "gate"}, "either time .* or from"),
    ],
)
def test_bad_registrations_say_which_field(values: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_registration(values, TZ, SCOPES, origin="t")


def test_csv_with_bom_blank_lines_and_offsets(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "\ufefftime,camera,count,name,reason\n2026-11-28 23:00,gate,2,Li,parent\n\n"
        "2026-11-28T15:05:00+00:00,gate,1,Wang,\n",
    )
    loaded = read(path)
    assert loaded.bad == [] and loaded.encoding == "utf-8"
    assert [(r.valid_from, r.count, r.name) for r in loaded.good] == [
        (datetime(2026, 11, 28, 23, 0, tzinfo=TZ), 2, "Li"),
        (datetime(2026, 11, 28, 23, 5, tzinfo=TZ), 1, "Wang"),
    ]
    assert loaded.good[0].origin == "import registrations.csv row 2"


def test_bad_rows_are_reported_by_number_and_good_rows_kept(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "time,camera,count\n2026-11-28 23:00,gate,1\nyesterday,gate,1\n2026-11-28 23:00,gate,0\n"
        "2026-11-28 23:00,back-door,1\n2026-11-28 23:30,gate,2\n",
    )
    loaded = read(path)
    assert [r.count for r in loaded.good] == [1, 2]
    assert [(e.row, e.message.split(" ")[0]) for e in loaded.bad] == [(3, "'yesterday'"), (4, "count"), (5, "camera")]


def test_gbk_export_with_chinese_columns_and_mapping(tmp_path: Path) -> None:
    text = (
        "刷卡时间,门禁点,姓名,卡号,事由\n"
        "2026/11/28 23:05:10,gate,张三,10023,夜班\n"
        "2026/11/28 23:40:00,gate,李四,10024,送货\n"
    )
    path = write(tmp_path, text, encoding="gbk")
    mapping = {"time": "刷卡时间", "camera": "门禁点", "name": "姓名", "ref": "卡号", "reason": "事由"}
    loaded = read(path, mapping=mapping, defaults={"source": "card_swipe"})
    assert loaded.encoding == "gbk" and loaded.bad == []
    assert [(r.name, r.ref, r.reason, r.source) for r in loaded.good] == [
        ("张三", "10023", "夜班", "card_swipe"),
        ("李四", "10024", "送货", "card_swipe"),
    ]


def test_default_camera_for_exports_that_name_none(tmp_path: Path) -> None:
    path = write(tmp_path, "刷卡时间,姓名\n2026-11-28 23:05,张三\n", encoding="utf-8")
    loaded = read(path, mapping={"time": "刷卡时间", "name": "姓名"}, defaults={"camera": "north"})
    assert [r.scope for r in loaded.good] == ["north"]


def test_header_only_file_has_no_rows(tmp_path: Path) -> None:
    assert read(write(tmp_path, "time,camera\n")).good == []


@pytest.mark.parametrize(
    ("text", "kwargs", "message"),
    [
        ("when,camera,count\n", {}, "registrations.csv: missing column(s) time"),
        ("time,camera,count,badge\n", {}, "registrations.csv: unknown column(s) badge"),
        ("a,b\n", {"mapping": {"time": "刷卡时间"}}, "missing column(s) 刷卡时间, camera; the file has a, b"),
        ("a,b\n", {"mapping": {"badge": "a"}}, "map 'badge=...': unknown field 'badge'"),
        ("time,camera\n", {"encoding": "ebcdic"}, "encoding 'ebcdic': use auto, utf-8, utf-16, gbk, big5, latin-1"),
    ],
)
def test_file_level_problems_are_errors(tmp_path: Path, text: str, kwargs: dict, message: str) -> None:
    with pytest.raises(GatewatchError) as caught:
        read(write(tmp_path, text), **kwargs)
    assert message in str(caught.value)


def test_wrong_encoding_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "registrations.csv"
    path.write_bytes("time,camera,name\n2026-11-28 23:00,gate,张三\n".encode("gbk"))
    with pytest.raises(GatewatchError, match="not UTF-8 text"):
        read(path, encoding="utf-8")
    path.write_bytes(b"time,camera\n\xff\xfe\xff\xfe\x80\x80\n")
    with pytest.raises(GatewatchError, match="neither UTF-8, UTF-16, GBK nor Big5"):
        read(path)


TRADITIONAL = (
    "time,camera,name,reason\n2026-11-28 23:05,gate,陳大文,家長接學生\n2026-11-28 23:40,gate,黃麗華,廚房送貨\n"
)


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("big5", "big5"), ("utf-16", "utf-16"), ("utf-16-le", "utf-16"), ("utf-16-be", "utf-16"), ("utf-8", "utf-8")],
)
def test_big5_and_utf16_exports_are_read_right(tmp_path: Path, encoding: str, expected: str) -> None:
    """Issue 24.11: a Big5 export (Hong Kong, Taiwan access control) was stored garbled as GBK with
    exit 0; Excel's "Unicode text" (UTF-16) was refused with a hint to use latin-1."""
    loaded = read(write(tmp_path, TRADITIONAL, encoding=encoding))
    assert loaded.encoding == expected and loaded.bad == []
    assert [(r.name, r.reason) for r in loaded.good] == [("陳大文", "家長接學生"), ("黃麗華", "廚房送貨")]


def test_a_spreadsheet_or_binary_file_is_not_read_as_text(tmp_path: Path) -> None:
    path = tmp_path / "registrations.csv"
    path.write_bytes(b"time,camera\n2026-11-28 23:05,gate\n\x00\x00\x00PK\x03\x04")
    with pytest.raises(GatewatchError, match="NUL bytes, so it is not a CSV text file"):
        read(path)


def test_missing_csv_is_explained(tmp_path: Path) -> None:
    with pytest.raises(GatewatchError, match="registrations file not found"):
        read(tmp_path / "nope.csv")


def test_same_content_same_key() -> None:
    values = {"time": "2026-11-28 23:00", "camera": "gate", "name": "Li"}
    first = parse_registration(values, TZ, SCOPES, origin="a")
    assert first.key == parse_registration(values, TZ, SCOPES, origin="b").key
    assert first.key != parse_registration({**values, "name": "Wang"}, TZ, SCOPES, origin="a").key


def test_a_visit_written_down_ahead_waits_for_the_visitor() -> None:
    """A visit more than a minute ahead of the box's clock is still to come (it explains no alert
    of the past); one within the minute is now (clocks differ by seconds); none given is now."""
    now = datetime(2026, 12, 6, 21, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert still_to_come(now + timedelta(minutes=30), now)
    assert not still_to_come(now + timedelta(seconds=30), now)
    assert not still_to_come(now - timedelta(hours=1), now)
    assert not still_to_come(None, now)
