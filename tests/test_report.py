"""The monthly safety report: numbers from the real analysis of the sample clip, rendered in a real
headless Chromium (Debian's package, driven by Playwright) to prove it shows what it should."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from .conftest import analyze, assert_user_error, gatewatch


@pytest.fixture
def analysed(demo_copy: Path) -> Path:
    result = analyze(demo_copy)
    assert result.returncode == 0, result.stderr
    return demo_copy


def report(folder: Path, *args: str) -> Path:
    result = gatewatch("report", *args, "--db", folder / "out" / "gatewatch.db", "--out", folder / "reports")
    assert result.returncode == 0, result.stderr
    return folder / "reports"


def open_page(browser: object, html: Path) -> tuple[object, list[str]]:
    page = browser.new_page(viewport={"width": 1100, "height": 900})  # type: ignore[attr-defined]
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(html.as_uri())
    page.wait_for_load_state("load")
    return page, requests


def screenshot_has_content(page: object, path: Path) -> None:
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    image = cv2.imread(str(path))
    assert image is not None and image.shape[0] >= 900
    assert float(np.std(image)) > 10  # not a blank page


def test_monthly_report_renders_with_the_right_numbers(analysed: Path, browser: object, tmp_path: Path) -> None:
    db = ["--db", analysed / "out" / "gatewatch.db"]
    assert gatewatch("events", "ack", "1", "--by", "Guard Sun", *db).returncode == 0
    folder = report(analysed, "--month", "2026-11", "--config", str(analysed / "configs" / "demo.yaml"))
    html = folder / "gatewatch-report-2026-11.html"

    page, requests = open_page(browser, html)
    screenshot_has_content(page, tmp_path / "report.png")
    numbers = {
        key: page.inner_text(f"#total-{key}")  # type: ignore[attr-defined]
        for key in ("entries", "exits", "closed", "flagged", "registered", "authorized", "false", "open")
    }
    # 6 entries (one before closing time), 1 exit, 2 flagged (one acknowledged), 3 covered by registrations.
    assert numbers == {
        "entries": "6",
        "exits": "1",
        "closed": "5",
        "flagged": "2",
        "registered": "3",
        "authorized": "0",
        "false": "0",
        "open": "1",
    }
    text = page.inner_text("body")  # type: ignore[attr-defined]
    assert "November 2026" in text and "Asia/Shanghai" in text and "Head teacher" in text
    assert page.locator("#events tbody tr").count() == 2  # type: ignore[attr-defined]
    assert "Guard Sun" in page.inner_text("#events")  # type: ignore[attr-defined]
    # Every image (the hourly chart and the event thumbnails) is embedded and decodes.
    sizes = page.eval_on_selector_all("img", "images => images.map(i => [i.src.slice(0, 11), i.naturalWidth])")  # type: ignore[attr-defined]
    assert len(sizes) == 5 and all(src == "data:image/" and width > 0 for src, width in sizes)
    assert requests == [html.as_uri()]  # self-contained: nothing else is fetched
    page.close()  # type: ignore[attr-defined]

    daily = (folder / "gatewatch-report-2026-11-daily.csv").read_text(encoding="utf-8-sig").splitlines()
    assert daily == [
        "date,camera,line,entries,exits,closed_entries,flagged,registered,authorized,false_alarms",
        "2026-11-28,north-gate,gate,6,1,5,2,3,0,0",
    ]
    events = (folder / "gatewatch-report-2026-11-events.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(events) == 3 and ",acknowledged,Guard Sun," in events[1]


def test_empty_month_is_an_honest_empty_report(analysed: Path, browser: object, tmp_path: Path) -> None:
    folder = report(analysed, "--month", "2026-10")
    page, _ = open_page(browser, folder / "gatewatch-report-2026-10.html")
    screenshot_has_content(page, tmp_path / "empty.png")
    assert page.inner_text("#total-entries") == "0"  # type: ignore[attr-defined]
    text = page.inner_text("body")  # type: ignore[attr-defined]
    assert "No crossings or events were recorded in this period" in text
    assert "No footage from this period has been analysed" in text
    page.close()  # type: ignore[attr-defined]


def test_daily_report_counts_in_the_site_time_zone(analysed: Path) -> None:
    """The clip is 22:29-22:31 in Shanghai (14:29 UTC): it belongs to the 28th there."""
    folder = report(analysed, "--day", "2026-11-28")
    assert "2026-11-28,north-gate,gate,6,1,5,2,3,0,0" in (folder / "gatewatch-report-2026-11-28-daily.csv").read_text(
        encoding="utf-8-sig"
    )
    folder = report(analysed, "--day", "2026-11-29")
    assert len((folder / "gatewatch-report-2026-11-29-daily.csv").read_text().splitlines()) == 1


def test_report_after_prune_says_the_images_were_removed(analysed: Path, browser: object) -> None:
    assert gatewatch("prune", "--older-than", "0d", "--db", analysed / "out" / "gatewatch.db").returncode == 0
    folder = report(analysed, "--month", "2026-11")
    page, _ = open_page(browser, folder / "gatewatch-report-2026-11.html")
    assert page.inner_text("#events").count("removed by retention") == 2  # type: ignore[attr-defined]
    page.close()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--month", "2026-13"], "--month '2026-13': write the month as YYYY-MM"),
        (["--day", "28.11.2026"], "--day '28.11.2026': write the day as YYYY-MM-DD"),
        ([], "give --month YYYY-MM or --day YYYY-MM-DD"),
        (["--month", "2026-11", "--day", "2026-11-28"], "give --month YYYY-MM or --day YYYY-MM-DD"),
    ],
)
def test_bad_report_periods(analysed: Path, args: list[str], message: str) -> None:
    result = gatewatch("report", *args, "--db", analysed / "out" / "gatewatch.db", "--out", analysed / "reports")
    assert_user_error(result, message)
    assert not (analysed / "reports").exists()
