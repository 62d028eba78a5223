"""The commands around the live service: users, and the errors `serve` gives before it starts (in
process; the secrets test also as a real process with its environment)."""

from __future__ import annotations

import socket
from pathlib import Path

from .conftest import Ran, assert_user_error, gatewatch, gatewatch_process
from .live import LINE, PASSWORD, write_config


def users(*args: str, password: str | None = None) -> Ran:
    return gatewatch("users", *args, input=None if password is None else password + "\n")


def test_users_add_list_passwd_remove(tmp_path: Path) -> None:
    db = str(tmp_path / "gw.db")
    added = users("add", "zhang.wei", "--role", "admin", "--db", db, "--password-stdin", password=PASSWORD)
    assert added.returncode == 0, added.stderr
    assert users("add", "li.na", "--db", db, "--password-stdin", password=PASSWORD).returncode == 0
    listed = [line.split()[:2] for line in users("list", "--db", db).stdout.splitlines()]
    assert listed == [["li.na", "guard"], ["zhang.wei", "admin"]]
    assert_user_error(users("add", "li.na", "--db", db, "--password-stdin", password=PASSWORD), "already exists")
    assert_user_error(users("add", "wang", "--db", db, "--password-stdin", password="short"), "at least 8")
    assert_user_error(
        users("add", "wang", "--role", "boss", "--db", db, "--password-stdin", password=PASSWORD),
        "--role 'boss': use guard, admin",
    )
    assert_user_error(users("add", "a b", "--db", db, "--password-stdin", password=PASSWORD), "user name 'a b'")
    assert users("passwd", "li.na", "--db", db, "--password-stdin", password="another-pass").returncode == 0
    assert users("disable", "li.na", "--db", db).returncode == 0
    assert "li.na                    guard  " in users("list", "--db", db).stdout
    assert "disabled" in next(line for line in users("list", "--db", db).stdout.splitlines() if "li.na" in line)
    assert_user_error(users("disable", "zhang.wei", "--db", db), "last enabled admin")
    assert users("enable", "li.na", "--db", db).returncode == 0
    assert "disabled" not in users("list", "--db", db).stdout
    assert users("remove", "li.na", "--db", db).returncode == 0
    assert "li.na" not in users("list", "--db", db).stdout
    assert_user_error(users("remove", "li.na", "--db", db), "no such user")
    assert_user_error(users("list", "--db", str(tmp_path / "typo.db")), "no gatewatch database here")


def test_serve_refuses_a_port_in_use(tmp_path: Path) -> None:
    config = write_config(tmp_path, {"gate": {"source": "rtsp://127.0.0.1:9/x"}})
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = gatewatch("serve", "--config", config, "--db", tmp_path / "gw.db", "--port", str(port))
    assert_user_error(result, f"--port {port}: cannot listen there")


def test_secrets_come_from_the_environment_and_a_missing_one_is_named(tmp_path: Path) -> None:
    config = tmp_path / "gate.yaml"
    config.write_text(
        "timezone: Asia/Shanghai\n"
        "cameras:\n"
        "  gate:\n"
        "    source: rtsp://admin:${GATE_PASSWORD_UNSET}@10.0.0.5/stream\n"
        f"    lines: {{gate: {{points: {LINE['points']}, inside: {LINE['inside']}}}}}\n"
    )
    result = gatewatch("check-config", config)
    assert_user_error(result, f"{config}:4: cameras.gate.source: environment variable GATE_PASSWORD_UNSET is not set")
    env_result = gatewatch_process("check-config", config, env={"GATE_PASSWORD_UNSET": "S3cret-pw"})
    assert env_result.returncode == 0, env_result.stderr
    assert "rtsp://***@10.0.0.5/stream" in env_result.stdout and "S3cret-pw" not in env_result.stdout


def test_bad_live_settings_point_at_the_key(tmp_path: Path) -> None:
    camera = {"gate": {"source": "rtsp://127.0.0.1:9/x"}}
    config = write_config(tmp_path, camera, live={"reconnect_min_s": 5, "reconnect_max_s": 1})
    assert_user_error(gatewatch("check-config", config), "live.reconnect_max_s: must not be below reconnect_min_s")
    config = write_config(tmp_path, camera, mqtt={"host": "127.0.0.1", "topic_prefix": "a/#"})
    assert_user_error(gatewatch("check-config", config), "mqtt.topic_prefix")
    config = write_config(tmp_path, {"gate": {"source": "x"}}, webhooks=[{"url": "ftp://x"}])
    assert_user_error(gatewatch("check-config", config), "webhooks.0.url: must start with http:// or https://")
