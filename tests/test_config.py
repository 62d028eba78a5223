"""Config validation: every mistake names the file, the key (and line) and what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipeline.config import load_config
from pipeline.errors import GatewatchError

from .conftest import DEMO_CONFIG


def demo() -> dict:
    return yaml.safe_load(DEMO_CONFIG.read_text())


def write(tmp_path: Path, data: dict | str) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    return path


def error_for(tmp_path: Path, data: dict | str) -> str:
    with pytest.raises(GatewatchError) as caught:
        load_config(write(tmp_path, data))
    return str(caught.value)


def test_demo_config_loads_and_resolves_paths_from_its_folder() -> None:
    config = load_config(DEMO_CONFIG)
    assert list(config.cameras) == ["north-gate"]
    assert config.resolve(config.registrations.csv).is_file()
    assert config.resolve(config.cameras["north-gate"].source).is_file()
    assert all([str(w) for w in windows] == ["22:30-06:00"] for windows in config.schedules["night"].weekly().values())


def test_unknown_key_is_named_with_its_line(tmp_path: Path) -> None:
    data = demo()
    data["cameras"]["north-gate"]["lines"]["gate"]["insde"] = [1, 2]
    message = error_for(tmp_path, data)
    assert "bad.yaml:" in message
    assert "cameras.north-gate.lines.gate.insde: unknown key" in message
    line = int(message.split(":")[1])
    assert "insde" in write(tmp_path, data).read_text().splitlines()[line - 1]


def test_line_end_point_outside_the_frame(tmp_path: Path) -> None:
    data = demo()
    data["cameras"]["north-gate"]["lines"]["gate"]["points"] = [[320, 250], [320, 900]]
    assert "cameras.north-gate.lines.gate: end point [320, 900] is outside the 640x480 frame" in error_for(
        tmp_path, data
    )


def test_inside_point_on_the_line(tmp_path: Path) -> None:
    data = demo()
    data["cameras"]["north-gate"]["lines"]["gate"]["inside"] = [320, 1000]  # on the line's extension
    assert "cameras.north-gate.lines.gate: `inside` [320.0, 1000.0] lies on the line" in error_for(tmp_path, data)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("camera", "south-gate", "rules.0.camera: unknown camera 'south-gate' (have: north-gate)"),
        ("line", "door", "rules.0.line: camera 'north-gate' has no line 'door' (have: gate)"),
        ("schedule", "weekend", "rules.0.schedule: unknown schedule 'weekend' (have: night)"),
    ],
)
def test_rule_naming_unknown_things(tmp_path: Path, field: str, value: str, expected: str) -> None:
    data = demo()
    data["rules"][0][field] = value
    assert expected in error_for(tmp_path, data)


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        ("22:30 to 06:00", "is not a time range like '22:30-06:00'"),
        ("25:00-06:00", "25:00 is not a time of day"),
        ("22:30-22:30", "starts and ends at the same time"),
    ],
)
def test_bad_time_range(tmp_path: Path, window: str, expected: str) -> None:
    data = demo()
    data["schedules"]["night"]["closed"] = [window]
    message = error_for(tmp_path, data)
    assert "schedules.night.closed.0" in message and expected in message


def test_bad_weekday_and_unknown_timezone(tmp_path: Path) -> None:
    data = demo()
    data["schedules"]["night"]["days"] = ["monday"]
    assert "schedules.night.days.0" in error_for(tmp_path, data)
    data = demo()
    data["timezone"] = "Asia/Beijing"
    assert "timezone: unknown time zone 'Asia/Beijing'" in error_for(tmp_path, data)


def test_missing_required_key_and_wrong_types(tmp_path: Path) -> None:
    data = demo()
    del data["timezone"]
    assert "timezone: required key is missing" in error_for(tmp_path, data)
    data = demo()
    data["detector"]["confidence"] = 2
    assert "detector.confidence" in error_for(tmp_path, data)


def test_not_yaml_and_missing_file(tmp_path: Path) -> None:
    assert "not valid YAML" in error_for(tmp_path, "cameras: [unclosed\n")
    assert "expected a mapping" in error_for(tmp_path, "- just a list\n")
    with pytest.raises(GatewatchError, match="config file not found"):
        load_config(tmp_path / "missing.yaml")
