from __future__ import annotations

import shutil
from pathlib import Path

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


# Numbers worth seeing on every run (accuracy per sequence), printed after the test summary.
REPORT: list[str] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if REPORT:
        terminalreporter.section("gatewatch measurements")
        for line in REPORT:
            terminalreporter.write_line(line)
