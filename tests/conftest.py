"""What the tests share: the sample and its demo config, `gatewatch` commands run in process (and a
few as real processes), the sample analysed once per session and copied for each test that
reads it, one Chromium per session, and the markers that tell the fast loop from the rest.

    pytest -m "not slow"     the fast loop (no browser, live servers, batches, cluster, accuracy runs or root)
    pytest                   everything, as CI runs it (README: Tests)
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pipeline.cli import main

from .live import Broker, Servers

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
SAMPLE = ROOT / "sample_videos" / "north-gate_20261128222950.mp4"
DEMO_CONFIG = ROOT / "configs" / "demo.yaml"

# A test is slow when it uses one of these fixtures; it gets that marker, and `slow`.
SLOW_FIXTURES = {
    "browser": "browser",  # Debian's Chromium
    "live": "live",  # gatewatch serve / center, mosquitto, the RTSP server as processes
    "broker": "live",
    "serve": "live",  # a module's own `gatewatch serve`
    "district": "live",  # a school, the centre and a broker
    "cluster": "cluster",  # a two-node Ray cluster
    "reference": "batch",  # NVR exports of the sample analysed as batches, against one analysis of it
    "half_reference": "batch",
    "accuracy_data": "accuracy",  # annotated footage of ../shared/data, analysed in full
    "night_films": "accuracy",  # the demo filmed at night, analysed in full
    "thermal_footage": "accuracy",  # real thermal clips (benchmarks/footage), analysed in full
    "small_disk": "needs_root",  # tmpfs mounts
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        used = [SLOW_FIXTURES[name] for name in getattr(item, "fixturenames", ()) if name in SLOW_FIXTURES]
        for marker in dict.fromkeys(used):
            item.add_marker(marker)
        if used:
            item.add_marker("slow")


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    """The demo config, its registrations and the sample clip in a scratch folder we may edit."""
    copy_demo(tmp_path)
    return tmp_path


def copy_demo(folder: Path) -> None:
    (folder / "configs").mkdir(parents=True)
    (folder / "sample_videos").mkdir()
    shutil.copy(DEMO_CONFIG, folder / "configs" / "demo.yaml")
    shutil.copy(ROOT / "configs" / "registrations.csv", folder / "configs" / "registrations.csv")
    shutil.copy(SAMPLE, folder / "sample_videos" / SAMPLE.name)


# --- commands ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ran:
    """How a command ended and what it printed (the fields of `subprocess.CompletedProcess`)."""

    returncode: int
    stdout: str
    stderr: str


def gatewatch(*args: str | Path, cwd: Path = ROOT, input: str | None = None, env: dict[str, str] | None = None) -> Ran:
    """A `gatewatch` command in this process, through the same `main` as the console script: its
    exit code, its stdout and its stderr. A traceback (a bug) is raised here, failing the test."""
    runner = CliRunner()
    with contextlib.chdir(cwd), runner.isolation(input=input, env=env) as (out, err, _):
        try:
            main([str(arg) for arg in args])
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else int(exit_.code is not None)
        sys.stdout.flush()  # what was written past the console (an export to stdout), as a process's exit does
        sys.stderr.flush()
    return Ran(code, out.getvalue().decode(), err.getvalue().decode())


def gatewatch_process(
    *args: str | Path, cwd: Path = ROOT, input: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """A `gatewatch` command as its own process, as a user runs it: for exit codes and what a
    process prints when it fails (no traceback), where running in process would prove less."""
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *map(str, args)],
        cwd=cwd,
        input=input,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def analyze(
    tmp: Path,
    video: Path = SAMPLE,
    *extra: str,
    db: Path | None = None,
    snapshots: Path | None = None,
    process: bool = False,
) -> Ran | subprocess.CompletedProcess[str]:
    """`gatewatch analyze` with the demo config of `tmp`, in process (`process`: as a process)."""
    return (gatewatch_process if process else gatewatch)(
        "analyze",
        video,
        "--config",
        tmp / "configs" / "demo.yaml",
        "--db",
        db or tmp / "out" / "gatewatch.db",
        "--snapshots",
        snapshots or tmp / "out" / "snapshots",
        "--jsonl",
        tmp / "out" / "crossings.jsonl",
        *extra,
    )


def rows(db: Path, table: str) -> list[sqlite3.Row]:
    connection = sqlite3.connect(db)
    connection.row_factory = sqlite3.Row
    try:
        return connection.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
    finally:
        connection.close()


def assert_user_error(result: Ran | subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("gatewatch: error: ")
    for needle in needles:
        assert needle in lines[0]


# --- the sample, analysed once ----------------------------------------------------------------


@dataclass(frozen=True)
class Analysed:
    """The demo folder after `gatewatch analyze` of the sample: configs, database, snapshots and
    clips under out/, the JSONL, and what the command printed."""

    folder: Path
    result: Ran

    def copy_to(self, target: Path) -> Analysed:
        """A copy that is the target's own: every path the database, the JSONL and the printout
        hold to a file of the folder names the copy's file instead, so a test may prune, edit the
        config's CSV or re-run without touching the original or another test's copy."""
        shutil.copytree(self.folder, target, dirs_exist_ok=True)
        old, new = str(self.folder), str(target)
        connection = sqlite3.connect(target / "out" / "gatewatch.db")
        try:
            with connection:
                tables = [t for (t,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
                for table in tables:
                    for column in connection.execute(f"PRAGMA table_info({table})").fetchall():
                        if column[2].upper() == "TEXT":
                            connection.execute(
                                f'UPDATE {table} SET "{column[1]}" = replace("{column[1]}", ?, ?)', [old, new]
                            )
        finally:
            connection.close()
        jsonl = target / "out" / "crossings.jsonl"
        jsonl.write_text(jsonl.read_text().replace(old, new))
        moved = Ran(self.result.returncode, self.result.stdout.replace(old, new), self.result.stderr.replace(old, new))
        return Analysed(target, moved)


@pytest.fixture(scope="session")
def demo_analysis(tmp_path_factory: pytest.TempPathFactory) -> Analysed:
    """The one analysis of the sample with the demo config that many tests start from. Read it
    through `analysed_demo` (a copy per test); this original must stay as it was made."""
    folder = tmp_path_factory.mktemp("demo-analysis")
    copy_demo(folder)
    result = analyze(folder)
    assert result.returncode == 0, result.stderr
    return Analysed(folder, result)


@pytest.fixture
def analysed_demo(demo_analysis: Analysed, tmp_path: Path) -> Analysed:
    return demo_analysis.copy_to(tmp_path)


@pytest.fixture
def analysed(analysed_demo: Analysed) -> Path:
    """The demo clip analysed into a scratch database (this test's copy); returns the folder."""
    return analysed_demo.folder


@pytest.fixture(scope="session")
def half_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample's first 30 s, named as the sample (so dated the same): persons A (before closing
    time), B (whom Li Wei's registration covers) and C (flagged) walk in."""
    from .live import cut_clip

    return cut_clip(tmp_path_factory.mktemp("half") / "north-gate_20261128222950-half.mp4", 30)


@pytest.fixture(scope="session")
def short_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample's first 3 s (nobody crosses yet), named as the sample: for tests of what a run
    does around the analysis (syncing registrations), where analysing 62 s would prove no more."""
    from .live import cut_clip

    return cut_clip(tmp_path_factory.mktemp("short") / "north-gate_20261128222950-3s.mp4", 3)


# --- real servers -------------------------------------------------------------------------------


@pytest.fixture
def live() -> Iterator[Servers]:
    """Starts the real servers a test needs (`live(Serve(...))`) and stops what is left after it."""
    servers = Servers()
    yield servers
    servers.stop_all()


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """Debian's mosquitto, one for the session; each test talks under its own `topic_prefix`."""
    started = Broker(tmp_path_factory.mktemp("mosquitto")).start()
    yield started
    started.stop()


@pytest.fixture
def topic_prefix(request: pytest.FixtureRequest) -> str:
    """This test's own topics on the session's broker: no retained message of another test reaches it."""
    return "t" + hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:12]


# --- Chromium ---------------------------------------------------------------------------------


def chromium_path() -> str:
    path = os.environ.get("GATEWATCH_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("Chromium is needed for the browser tests: apt-get install chromium (scripts/install.sh test does)")
    return path


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright: started once for the session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        instance = driver.chromium.launch(
            executable_path=chromium_path(), args=["--autoplay-policy=no-user-gesture-required"]
        )
        yield instance
        instance.close()


@pytest.fixture
def browser(chromium: Any) -> Iterator[Any]:
    """The session's Chromium for one test: the pages and contexts the test opens are closed
    after it (after a failure's screenshots are taken), so no test sees another's."""
    yield chromium
    for context in list(chromium.contexts):
        context.close()


# Screenshots of every page a failed browser test left open, to see what the test saw (CI keeps
# the folder); GATEWATCH_ARTIFACTS moves it.
ARTIFACTS = Path(os.environ.get("GATEWATCH_ARTIFACTS", ROOT / "test-artifacts"))


def save_screenshot(page: Any, name: str) -> Path:
    path = ARTIFACTS.joinpath(*(re.sub(r"[^A-Za-z0-9_.-]+", "-", part) for part in name.split("/"))).with_suffix(".png")
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    report = yield
    if report.when == "call":
        report.user_properties += [("measurement", line) for line in REPORT]  # reaches xdist's controller too
        REPORT.clear()
    browser = getattr(item, "funcargs", {}).get("browser")
    if report.when == "call" and report.failed and browser is not None:
        for n, page in enumerate(page for context in browser.contexts for page in context.pages):
            try:
                saved = save_screenshot(page, f"failed-{item.name}-{n}")
            except Exception as exc:  # a crashed page: the failure itself still counts
                saved = f"no screenshot ({exc})"
            report.sections.append(("screenshots", str(saved)))
    return report


# Numbers worth seeing on every run (accuracy per sequence): a test appends them here, and they are
# printed after the test summary, in the order the tests ran.
REPORT: list[str] = []
MEASURED: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    MEASURED.extend(value for key, value in report.user_properties if key == "measurement")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if MEASURED:
        terminalreporter.section("gatewatch measurements")
        for line in MEASURED:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, str, str, str, int]]:
    """Crossings of the sample analysed as one (losslessly re-encoded) file: see tests/nvr.py."""
    from .nvr import analysed_whole

    return analysed_whole(tmp_path_factory.mktemp("reference"))


@pytest.fixture(scope="session")
def half_reference(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, str, str, str, int]]:
    """The same for the sample's first half (tests/nvr.py: first_half)."""
    from .nvr import analysed_whole, first_half

    return analysed_whole(tmp_path_factory.mktemp("half-reference"), first_half())
