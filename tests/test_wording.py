"""Messages are stored as codes and worded when read: both languages must say the same thing."""

from __future__ import annotations

import re
from enum import StrEnum

import pytest

from pipeline.vocabulary import AlarmKind, CameraState, Direction, EventKind, EventStatus, MessageCode, Role
from pipeline.web.i18n import LABELS
from pipeline.wording import LANGUAGES, NAMES, TEMPLATES, Message, language_of_zone, say, stored


@pytest.mark.parametrize("code", list(MessageCode))
def test_every_message_code_has_words_in_both_languages(code: MessageCode) -> None:
    assert set(TEMPLATES[code]) == {"en", "zh"} and all(TEMPLATES[code].values())


@pytest.mark.parametrize("code", list(MessageCode))
def test_both_languages_use_the_same_values(code: MessageCode) -> None:
    en, zh = (set(re.findall(r"\{(\w+)\}", TEMPLATES[code][lang])) for lang in ("en", "zh"))
    assert en == zh or (code == "outside_picture" and zh <= en)  # zh leaves out FFmpeg's English words


def test_every_name_has_both_languages() -> None:
    assert all(set(words) == {"en", "zh"} and all(words.values()) for words in NAMES.values())


@pytest.mark.parametrize("words", [EventKind, EventStatus, Direction, Role, AlarmKind, CameraState], ids=repr)
def test_every_member_of_a_shown_closed_set_has_words_in_both_languages(words: type[StrEnum]) -> None:
    for member in words:
        for lang in LANGUAGES:
            label = LABELS[lang][f"state_{member}"] if words is CameraState else LABELS[lang][member]
            assert (label and label != str(member)) or (lang == "en" and member in (Direction.IN, Direction.OUT)), (
                member
            )


def test_a_message_survives_the_database_and_is_worded_either_way() -> None:
    message = Message(MessageCode.UNREGISTERED, {"closed": "22:30-06:00", "window": "120"})
    back = Message.from_json(message.to_json())
    assert back == message
    assert back.text("en") == "closed (22:30-06:00), no registration within 120 s"
    assert back.text("zh") == "封闭时段（22:30-06:00），前后 120 秒内无登记"  # noqa: RUF001
    assert stored(message) == (message.text("en"), message.to_json())
    assert stored("typed by a guard") == ("typed by a guard", None)


def test_old_rows_still_say_something_and_unknown_codes_are_refused() -> None:
    assert say(None, "closed (22:30-06:00), no registration within 120 s", "zh").startswith("closed")  # before schema 7
    assert Message(MessageCode.UNREGISTERED, {}).text("en") == "closed (?), no registration within ? s"
    assert Message.from_json(None) is None
    with pytest.raises(ValueError, match="from_a_newer_version"):
        Message.from_json('{"code": "from_a_newer_version", "values": {"camera": "gate"}}')


@pytest.mark.parametrize(
    ("zone", "language"),
    [("Asia/Shanghai", "zh"), ("Asia/Urumqi", "zh"), ("Asia/Hong_Kong", "zh"), ("Europe/Berlin", "en"), ("UTC", "en")],
)
def test_a_site_in_china_reads_chinese_by_default(zone: str, language: str) -> None:
    assert language_of_zone(zone) == language
