"""The `gatewatch` command. Errors the user can fix (`GatewatchError`) print one line and exit with
code 2; typer's own usage errors also exit 2. Tracebacks are for bugs only.

    app.py            the Typer app, consoles, options and time parsing the commands share
    analyze.py        analyze, check-config            schedule.py   schedule
    registrations.py  register, registrations          events.py     events, prune
    report.py         report                           serve.py      serve, users, center
    adapt.py          adapt
"""

from __future__ import annotations

import os

# FFmpeg would print its own decoder complaints for damaged files; gatewatch reports those
# itself, on one line. Must be set before OpenCV is first imported.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")

import sys

from pipeline.cli import adapt, analyze, events, registrations, report, schedule, serve
from pipeline.cli.app import app, err
from pipeline.errors import GatewatchError, InvalidInput

EXIT_USER_ERROR = 2
# Domain fields whose flag is not simply --field-with-dashes.
FLAGS = {"registration_id": "--registration", "username": "user name", "password": "password"}
__all__ = ["adapt", "analyze", "app", "events", "main", "registrations", "report", "schedule", "serve"]


def main(argv: list[str] | None = None) -> None:
    """`argv`: the arguments after the command's name (the process's own when None); the tests
    run commands in process through here, exactly as the console script does."""
    try:
        app(args=argv, prog_name="gatewatch")
    except GatewatchError as exc:
        message = exc.worded(flag_for(exc.field)) if isinstance(exc, InvalidInput) else str(exc)
        err.print(f"gatewatch: error: {message}", soft_wrap=True)
        sys.exit(EXIT_USER_ERROR)
    except KeyboardInterrupt:
        err.print("gatewatch: interrupted; nothing from this run was stored")
        sys.exit(130)


def flag_for(field: str) -> str:
    """How this command line names a domain field: `registration_id` is `--registration`."""
    return FLAGS.get(field, "--" + field.replace("_", "-"))
