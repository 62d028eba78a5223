"""`gatewatch serve` (the live service with its web UI), `gatewatch users` and `gatewatch center`."""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer

from pipeline.cli.app import DEFAULT_DB, ConfigOption, DbOption, app, open_existing_store, out
from pipeline.config import CenterSites, MqttConfig, load_config, load_yaml
from pipeline.db import Store
from pipeline.errors import GatewatchError, InvalidInput
from pipeline.files import ensure_writable_dir
from pipeline.users import add_user, list_users, remove_user, set_disabled, set_password
from pipeline.vocabulary import Role, choices, member

HostOption = Annotated[str, typer.Option(help="address to listen on (0.0.0.0 for the whole network)")]
LogLevel = Annotated[str, typer.Option(help="debug, info, warning or error")]

users_app = typer.Typer(no_args_is_help=True, help="Web UI users: guards and admins.")
app.add_typer(users_app, name="users")


def _logging(level: str) -> None:
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise GatewatchError(f"--log-level {level!r}: use debug, info, warning or error")
    logging.basicConfig(level=numeric, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every request with its full URL, and webhook URLs may carry tokens
    logging.getLogger("httpx").setLevel(max(numeric, logging.WARNING))


def _check_port_free(host: str, port: int) -> None:
    """Uvicorn would log a bind failure and exit; say it plainly before any camera is opened."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise GatewatchError(f"--host {host} --port {port}: cannot listen there ({exc.strerror})") from None


def _run_web(web: object, host: str, port: int, level: str) -> None:
    """Serve until SIGINT or SIGTERM; then uvicorn stops accepting and lets requests finish, and
    this returns so the caller can stop the cameras. (Uvicorn itself would re-raise the signal
    afterwards and kill the process before that; a service manager's stop is not an error.)"""
    import uvicorn

    from pipeline.web.connections import server_config

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    Server(server_config(web, host, port, level)).run()


@app.command()
def serve(
    config: ConfigOption,
    db: DbOption = DEFAULT_DB,
    snapshots: Annotated[Path, typer.Option(help="folder for event snapshots")] = Path("out/snapshots"),
    host: HostOption = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port of the web UI and API")] = 8080,
    log_level: LogLevel = "info",
) -> None:
    """Watch every configured camera live: alerts in the web UI, over MQTT and to webhooks."""
    from pipeline.live.service import Service
    from pipeline.web.app import create_app

    _logging(log_level)
    cfg = load_config(config)
    _check_port_free(host, port)
    public_url = cfg.server.public_url or f"http://{host}:{port}"
    service = Service(cfg, db, snapshots, public_url)
    with Store(db) as store:
        if not list_users(store):
            logging.getLogger("gatewatch.serve").warning(
                "no web UI users yet: create one with `gatewatch users add NAME --role admin --db %s`", db
            )
    web = create_app(cfg, db, snapshots, service)
    service.start()
    try:
        _run_web(web, host, port, log_level)
    finally:
        service.stop()


def _password(username: str, from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return typer.prompt(f"Password for {username}", hide_input=True, confirmation_prompt=True)


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="login name")],
    role: Annotated[str, typer.Option(help=choices(Role))] = Role.GUARD,
    name: Annotated[str, typer.Option(help="the person's name, as reports show it")] = "",
    db: DbOption = DEFAULT_DB,
    password_stdin: Annotated[bool, typer.Option(help="read the password from standard input")] = False,
) -> None:
    """Add a user (asks for the password; it is stored as an argon2 hash)."""
    wanted = member(Role, role)
    if wanted is None:
        raise InvalidInput("role", f"use {choices(Role)}", role)
    password = _password(username, password_stdin)
    with Store(db) as store:
        add_user(store, username, password, wanted, datetime.now(UTC), name)
    out.print(f"Added {role} {username}")


@users_app.command("passwd")
def users_passwd(
    username: Annotated[str, typer.Argument(help="login name")],
    db: DbOption = DEFAULT_DB,
    password_stdin: Annotated[bool, typer.Option(help="read the password from standard input")] = False,
) -> None:
    """Set a new password (logs the user out everywhere)."""
    password = _password(username, password_stdin)
    with open_existing_store(db) as store:
        set_password(store, username, password)
    out.print(f"Password of {username} changed")


@users_app.command("remove")
def users_remove(username: Annotated[str, typer.Argument(help="login name")], db: DbOption = DEFAULT_DB) -> None:
    with open_existing_store(db) as store:
        remove_user(store, username)
    out.print(f"Removed {username}")


@users_app.command("disable")
def users_disable(username: Annotated[str, typer.Argument(help="login name")], db: DbOption = DEFAULT_DB) -> None:
    """Stop a user logging in (their sessions end; their name stays in the audit trail)."""
    with open_existing_store(db) as store:
        set_disabled(store, username, True, datetime.now(UTC))
    out.print(f"Disabled {username}")


@users_app.command("enable")
def users_enable(username: Annotated[str, typer.Argument(help="login name")], db: DbOption = DEFAULT_DB) -> None:
    """Let a disabled user log in again."""
    with open_existing_store(db) as store:
        set_disabled(store, username, False, datetime.now(UTC))
    out.print(f"Enabled {username}")


@users_app.command("list")
def users_list(db: DbOption = DEFAULT_DB) -> None:
    with open_existing_store(db, readonly=True) as store:
        for user in list_users(store):
            state = f"  disabled {user.disabled_at}" if user.disabled_at else ""
            out.print(f"{user.username:<24} {user.role:<6} {user.created_at}{state}")


def _mqtt_url(url: str, username: str | None, password: str | None, prefix: str, ca_file: Path | None) -> MqttConfig:
    parts = urlsplit(url if "://" in url else f"mqtt://{url}")
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise GatewatchError(f"--mqtt {url.split('@')[-1]!r}: give mqtt://HOST[:PORT] or mqtts://HOST[:PORT]")
    try:
        return MqttConfig(
            host=parts.hostname,
            port=parts.port or (8883 if parts.scheme == "mqtts" else 1883),
            username=username or parts.username,
            password=password or parts.password,
            tls=parts.scheme == "mqtts",
            ca_file=ca_file,
            topic_prefix=prefix,
        )
    except ValueError as exc:
        raise GatewatchError(f"--mqtt / --topic-prefix: {exc}") from None


@app.command()
def center(
    mqtt: Annotated[str, typer.Option(help="broker the schools publish to: mqtt://HOST[:PORT]")],
    sites: Annotated[
        Path, typer.Option(help="the enrolled schools and their keys (YAML, `${VAR}` for keys; see README)")
    ],
    db: Annotated[Path, typer.Option(help="the centre's SQLite database")] = Path("out/center.db"),
    evidence: Annotated[
        Path | None, typer.Option(help="where the schools' pushed evidence is kept [default: <db>-evidence beside it]")
    ] = None,
    host: HostOption = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port of the centre's web UI")] = 8090,
    username: Annotated[str | None, typer.Option(envvar="GATEWATCH_MQTT_USER", help="broker user")] = None,
    password: Annotated[
        str | None, typer.Option(envvar="GATEWATCH_MQTT_PASSWORD", help="broker password (env var preferred)")
    ] = None,
    ca_file: Annotated[Path | None, typer.Option(help="the district's CA certificate, for mqtts://")] = None,
    topic_prefix: Annotated[str, typer.Option(help="as the schools' mqtt.topic_prefix")] = "gatewatch",
    log_level: LogLevel = "info",
) -> None:
    """District monitoring centre: collect every school's events from MQTT into one database and list."""
    from pipeline.center import CenterSubscriber, create_tables
    from pipeline.web.center_app import create_center_app

    _logging(log_level)
    broker = _mqtt_url(mqtt, username, password, topic_prefix, ca_file)
    enrolled = load_yaml(sites, CenterSites)
    _check_port_free(host, port)
    with Store(db) as store:
        create_tables(store)
    evidence_dir = evidence or db.with_name(f"{db.stem}-evidence")
    ensure_writable_dir(evidence_dir)
    subscriber = CenterSubscriber(broker, db, enrolled, evidence_dir)
    subscriber.start()
    try:
        _run_web(create_center_app(db, subscriber), host, port, log_level)
    finally:
        subscriber.stop()
