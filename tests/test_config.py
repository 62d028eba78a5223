"""Config validation: every mistake names the file, the key (and line) and what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipeline.config import CenterSites, Config, load_config
from pipeline.errors import GatewatchError
from pipeline.schedule import Schedule

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
    weekly = Schedule("night", config.schedules["night"], config.tz).weekly
    assert all([str(w) for w in windows] == ["22:30-06:00"] for windows in weekly.values())


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


SQUARE = [[400, 300], [600, 300], [600, 460], [400, 460]]


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        ([[400, 300], [600, 460], [600, 300], [400, 460]], "edges 1 and 3 cross each other"),
        ([[400, 300], [500, 300], [600, 300]], "no area"),
        ([[400, 300], [500, 300]], "at least 3 items"),
        ([[400, 300], [700, 300], [600, 460]], "end point [700, 300] is outside the 640x480 frame"),
    ],
)
def test_bad_zone_polygons(tmp_path: Path, points: list, expected: str) -> None:
    data = demo()
    data["cameras"]["north-gate"]["zones"] = {"courtyard": {"points": points}}
    message = error_for(tmp_path, data)
    assert "cameras.north-gate.zones.courtyard" in message and expected in message


def test_zone_and_line_names_are_unique_within_a_camera(tmp_path: Path) -> None:
    data = demo()
    data["cameras"]["north-gate"]["zones"] = {"gate": {"points": SQUARE}}
    assert "zones.gate: a line has the same name" in error_for(tmp_path, data)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"zone": "courtyard"}, "rules.0: give either `line` or `zone`"),
        ({"line": None}, "rules.0: give either `line` or `zone`"),
        ({"line": None, "zone": "dorm"}, "rules.0.zone: camera 'north-gate' has no zone 'dorm' (have: courtyard)"),
        ({"min_track_age_s": -1}, "rules.0.min_track_age_s"),
        ({"anchor": "head"}, "rules.0.anchor"),
    ],
)
def test_rule_targets_and_options(tmp_path: Path, change: dict, expected: str) -> None:
    data = demo()
    data["cameras"]["north-gate"]["zones"] = {"courtyard": {"points": SQUARE}}
    data["rules"][0].update(change)
    data["rules"][0] = {k: v for k, v in data["rules"][0].items() if v is not None}
    assert expected in error_for(tmp_path, data)


def test_rules_on_one_line_must_share_the_anchor(tmp_path: Path) -> None:
    data = demo()
    data["rules"].append({**data["rules"][0], "anchor": "center", "require_registration": False})
    assert "rules.1.anchor: 'center' differs from rules.0 ('foot') on the same line" in error_for(tmp_path, data)


def test_groups_name_known_cameras(tmp_path: Path) -> None:
    data = demo()
    data["groups"] = {"north": ["north-gate", "north-gate-2"]}
    assert "groups.north.1: unknown camera 'north-gate-2'" in error_for(tmp_path, data)
    data["groups"] = {"north-gate": ["north-gate"]}
    assert "groups.north-gate: a camera has the same name" in error_for(tmp_path, data)


def test_schedule_exception_errors_point_at_the_key_and_line(tmp_path: Path) -> None:
    data = demo()
    data["schedules"]["night"]["exceptions"] = [
        {"name": "Christmas", "date": "2026-12-25", "closed": "all day"},
        {"name": "typo", "date": "25/12/2026", "closed": "all day"},
    ]
    message = error_for(tmp_path, data)
    line = next(n for n, text in enumerate(write(tmp_path, data).read_text().splitlines(), 1) if "25/12/2026" in text)
    assert message.startswith(f"{tmp_path / 'bad.yaml'}:{line}: schedules.night.exceptions.1.date: ")
    assert "valid date" in message


def test_overlapping_windows_are_refused_with_the_key(tmp_path: Path) -> None:
    data = demo()
    data["schedules"]["night"]["closed"] = ["22:30-06:00", "05:00-07:00"]
    message = error_for(tmp_path, data)
    assert "schedules.night: windows 22:30-06:00 and 05:00-07:00 overlap" in message


def test_skimming_needs_motion_gating(tmp_path: Path) -> None:
    data = demo()
    data["sampling"] = {"skim_idle": True}
    data["motion"] = {"enabled": False}
    assert "sampling.skim_idle: needs motion.enabled" in error_for(tmp_path, data)


def test_duplicate_keys_are_refused_with_both_lines(tmp_path: Path) -> None:
    """PyYAML keeps the last of two equal keys: a pasted second `inside:` flipped every direction."""
    text = DEMO_CONFIG.read_text()
    doubled = text.replace("inside: [420, 380]", "inside: [420, 380]\n        inside: [220, 380]")
    lines = doubled.splitlines()
    first = next(i for i, line in enumerate(lines, 1) if "inside:" in line)
    message = error_for(tmp_path, doubled)
    assert f"bad.yaml:{first + 1}: key 'inside' is given twice (lines {first} and {first + 1})" in message
    assert "given twice" in error_for(tmp_path, text + "rules: []\n")


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
def test_non_finite_numbers_are_refused_with_the_key(tmp_path: Path, value: str) -> None:
    text = DEMO_CONFIG.read_text().replace("inside: [420, 380]", f"inside: [{value}, 380]")
    message = error_for(tmp_path, text)
    assert "cameras.north-gate.lines.gate.inside.0" in message and "finite" in message
    confidence = DEMO_CONFIG.read_text().replace("confidence: 0.4", f"confidence: {value}")
    assert "detector.confidence" in error_for(tmp_path, confidence)


def test_non_finite_number_from_the_environment_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GW_CONFIDENCE", "nan")
    text = DEMO_CONFIG.read_text().replace("confidence: 0.4", 'confidence: "${GW_CONFIDENCE}"')
    assert "detector.confidence" in error_for(tmp_path, text)


def test_every_number_in_the_config_has_a_range() -> None:
    """Issue 24.9: `rules[].window: 1e23` passed validation and crashed analyze; `session_hours:
    1e8` made every login fail. Every number of every section, and of the centre's enrolment
    file, has an upper bound (read from the models' JSON schema, so a new field cannot forget)."""
    unbounded: list[str] = []

    def walk(node: object, where: str) -> None:
        if isinstance(node, dict):
            numeric = node.get("type") in ("number", "integer") and "enum" not in node and "const" not in node
            if numeric and "maximum" not in node and "exclusiveMaximum" not in node:
                unbounded.append(where)
            for key, value in node.items():
                walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{where}[{index}]")

    for model in (Config, CenterSites):
        walk(model.model_json_schema(), model.__name__)
    assert not unbounded, unbounded


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ("window: 30", "rules.0.window"),
        ("session_hours: 12", "server.session_hours"),
    ],
)
@pytest.mark.parametrize("value", ["1e23", "1e8"])
def test_absurd_numbers_are_refused_with_the_key(tmp_path: Path, change: str, key: str, value: str) -> None:
    config = demo()
    config.setdefault("server", {})["session_hours"] = 12
    text = yaml.safe_dump(config, sort_keys=False)
    assert change in text, change
    message = error_for(tmp_path, text.replace(change, f"{change.split(':')[0]}: {value}"))
    assert key in message and "less than or equal" in message, message


def test_alarm_receivers_are_checked_key_by_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = demo()
    receiver = {"name": "police", "host": "10.0.0.5", "port": 12128, "account": "1A2B"}
    data["alarm_receivers"] = [{**receiver, "account": "12G4"}]
    assert "alarm_receivers.0.account" in error_for(tmp_path, data)
    monkeypatch.setenv("DC09_KEY", "short-secret-key!")
    data["alarm_receivers"] = [{**receiver, "key": "${DC09_KEY}"}]
    message = error_for(tmp_path, data)
    assert "alarm_receivers.0.key" in message and "16, 24 or 32 characters" in message
    assert "short-secret-key!" not in message  # a key is a secret, even a wrong one
    data["alarm_receivers"] = [receiver, {**receiver, "port": 12129}]
    assert "alarm_receivers.1.name: 'police' is taken" in error_for(tmp_path, data)


def test_the_centre_address_needs_the_key_that_signs_what_is_pushed(tmp_path: Path) -> None:
    data = demo()
    data["center"] = {"url": "centre.example:8090"}
    assert "center.url: must start with http:// or https://" in error_for(tmp_path, data)
    data["center"] = {"url": "https://centre.example:8090/"}
    assert "center: needs mqtt.site_key" in error_for(tmp_path, data)
    data["mqtt"] = {"host": "broker", "site_key": "k" * 32}
    path = tmp_path / "ok.yaml"
    path.write_text(yaml.safe_dump(data))
    assert load_config(path).center.url == "https://centre.example:8090"  # type: ignore[union-attr]
