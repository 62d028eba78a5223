"""Messages are stored as codes and worded when read: both languages must say the same thing."""

from __future__ import annotations

import re

import pytest

from pipeline.wording import NAMES, TEMPLATES, Message, language_of_zone, say, stored


@pytest.mark.parametrize("code", sorted(TEMPLATES))
def test_both_languages_use_the_same_values(code: str) -> None:
    en, zh = (set(re.findall(r"\{(\w+)\}", TEMPLATES[code][lang])) for lang in ("en", "zh"))
    assert en == zh or (code == "outside_picture" and zh <= en)  # zh leaves out FFmpeg's English words


def test_every_name_has_both_languages() -> None:
    assert all(set(words) == {"en", "zh"} and all(words.values()) for words in NAMES.values())


def test_a_message_survives_the_database_and_is_worded_either_way() -> None:
    message = Message("unregistered", {"closed": "22:30-06:00", "window": "120"})
    back = Message.from_json(message.to_json())
    assert back == message
    assert back.text("en") == "closed (22:30-06:00), no registration within 120 s"
    assert back.text("zh") == "封闭时段（22:30-06:00），前后 120 秒内无登记"  # noqa: RUF001
    assert stored(message) == (message.text("en"), message.to_json())
    assert stored("typed by a guard") == ("typed by a guard", None)


def test_old_rows_and_unknown_codes_still_say_something() -> None:
    assert say(None, "closed (22:30-06:00), no registration within 120 s", "zh").startswith("closed")  # before schema 7
    assert Message("from_a_newer_version", {"camera": "gate"}).text("zh") == "gate"
    assert Message("unregistered", {}).text("en") == "closed (?), no registration within ? s"
    assert Message.from_json(None) is None


@pytest.mark.parametrize(
    ("zone", "language"),
    [("Asia/Shanghai", "zh"), ("Asia/Urumqi", "zh"), ("Asia/Hong_Kong", "zh"), ("Europe/Berlin", "en"), ("UTC", "en")],
)
def test_a_site_in_china_reads_chinese_by_default(zone: str, language: str) -> None:
    assert language_of_zone(zone) == language
