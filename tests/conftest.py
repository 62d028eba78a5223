from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
SAMPLE = ROOT / "sample_videos" / "north-gate_20261128222950.mp4"
DEMO_CONFIG = ROOT / "configs" / "demo.yaml"


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    """The demo config, its registrations and the sample clip in a scratch folder we may edit."""
    (tmp_path / "configs").mkdir()
    (tmp_path / "sample_videos").mkdir()
    shutil.copy(DEMO_CONFIG, tmp_path / "configs" / "demo.yaml")
    shutil.copy(ROOT / "configs" / "registrations.csv", tmp_path / "configs" / "registrations.csv")
    shutil.copy(SAMPLE, tmp_path / "sample_videos" / SAMPLE.name)
    return tmp_path


def chromium_path() -> str:
    path = os.environ.get("GATEWATCH_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("Chromium is needed for the browser tests: apt-get install chromium (scripts/install.sh test does)")
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's Chromium, headless, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        instance = driver.chromium.launch(
            executable_path=chromium_path(), args=["--autoplay-policy=no-user-gesture-required"]
        )
        yield instance
        instance.close()


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
    browser = getattr(item, "funcargs", {}).get("browser")
    if report.when == "call" and report.failed and browser is not None:
        for n, page in enumerate(page for context in browser.contexts for page in context.pages):
            try:
                saved = save_screenshot(page, f"failed-{item.name}-{n}")
            except Exception as exc:  # a crashed page: the failure itself still counts
                saved = f"no screenshot ({exc})"
            report.sections.append(("screenshots", str(saved)))
    return report


def gatewatch(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def analyze(tmp: Path, video: Path = SAMPLE, *extra: str, db: Path | None = None, snapshots: Path | None = None):
    return gatewatch(
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


def assert_user_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("gatewatch: error: ")
    for needle in needles:
        assert needle in lines[0]


# Numbers worth seeing on every run (accuracy per sequence), printed after the test summary.
REPORT: list[str] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if REPORT:
        terminalreporter.section("gatewatch measurements")
        for line in REPORT:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, str, str, str, int]]:
    """Crossings of the sample analysed as one (losslessly re-encoded) file: see tests/nvr.py."""
    from .nvr import analysed_whole

    return analysed_whole(tmp_path_factory.mktemp("reference"))
