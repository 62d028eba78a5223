"""The monthly safety report: numbers from the real analysis of the sample clip (the session's one,
copied), rendered in a real headless Chromium (Debian's package, driven by Playwright, one per
session) to prove it shows what it should."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import cv2
import numpy as np
import pytest

from pipeline.db import EventFilter, Store, VideoRun
from pipeline.records import Crossing, Decision, Evidence, Outcome
from pipeline.review import change_status
from pipeline.users import add_user
from pipeline.vocabulary import AlarmKind, Direction, EventKind, EventStatus, MessageCode, Role
from pipeline.wording import Message

from .conftest import SAMPLE, assert_user_error, gatewatch


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
    config = str(analysed / "configs" / "demo.yaml")
    folder = report(analysed, "--month", "2026-11", "--config", config, "--lang", "en")  # a Chinese site, in English
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
    assert page.locator("#events .event").count() == 2  # type: ignore[attr-defined]
    assert "Guard Sun" in page.inner_text("#events")  # type: ignore[attr-defined]
    # Every image (the hourly chart and the event thumbnails) is embedded and decodes.
    sizes = page.eval_on_selector_all("img", "images => images.map(i => [i.src.slice(0, 11), i.naturalWidth])")  # type: ignore[attr-defined]
    assert len(sizes) == 3 and all(src == "data:image/" and width > 0 for src, width in sizes)
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
    folder = report(analysed, "--month", "2026-10", "--lang", "en")
    page, _ = open_page(browser, folder / "gatewatch-report-2026-10.html")
    screenshot_has_content(page, tmp_path / "empty.png")
    assert page.inner_text("#total-entries") == "0"  # type: ignore[attr-defined]
    text = page.inner_text("body")  # type: ignore[attr-defined]
    assert "No crossings or events were recorded in this period" in text
    assert "No camera footage was analysed in this period" in text
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
    folder = report(analysed, "--month", "2026-11", "--lang", "en")
    page, _ = open_page(browser, folder / "gatewatch-report-2026-11.html")
    assert page.inner_text("#events").count("image removed by retention") == 2  # type: ignore[attr-defined]
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


NOVEMBER = ZoneInfo("Asia/Shanghai")
EVENTS = 200


def busy_month(folder: Path) -> Path:
    """A month of a busy school as the database holds it: 200 flagged entries over the nights of
    November at two gates (snapshots are real frames of the sample), reviewed by guards known by
    their names, alarms of every kind, a camera outage and the footage analysed."""
    db = folder / "gatewatch.db"
    capture = cv2.VideoCapture(str(SAMPLE))
    frames = []
    while len(frames) < 8:
        ok, image = capture.read()
        assert ok
        if int(capture.get(cv2.CAP_PROP_POS_FRAMES)) % 60 == 0:
            frames.append(image)
    capture.release()
    start = datetime(2026, 11, 1, 22, 0, tzinfo=NOVEMBER)
    with Store(db) as store:
        store.set_meta({"timezone": "Asia/Shanghai", "site": "第一中学"})
        for username, name in (("guard.wang", "王伟"), ("guard.li", "Li Na")):
            add_user(store, username, "a-long-password", Role.GUARD, start, name)
        for camera in ("north-gate", "dorm-a"):
            outcomes = []
            for n in range(EVENTS // 2):
                ts = start + timedelta(days=n * 29 // 100, minutes=37 * (n % 11), seconds=n)
                full, crop = folder / f"{camera}-{n}.jpg", folder / f"{camera}-{n}_crop.jpg"
                image = frames[n % len(frames)]
                cv2.imwrite(str(full), image)
                cv2.imwrite(str(crop), image[100:400, 250:400])
                crossing = Crossing(camera, "gate", Direction.IN, n, n * 10, ts, (250, 100, 400, 400), 0.8)
                reason = Message(MessageCode.UNREGISTERED, {"closed": "22:00-06:00", "window": "120"})
                decision = Decision(crossing, True, EventKind.UNREGISTERED_ENTRY, reason, closed="22:00-06:00")
                outcomes.append(Outcome(decision, Evidence(full, crop)))
            # The gate's camera was analysed all month round the clock, the dormitory's half of it
            hours = 720 if camera == "north-gate" else 360
            store.events.save_run(VideoRun(camera, f"{camera}.mp4", start, 5.0, hours * 3600 * 5, start), outcomes)
        events = store.events.list(EventFilter())
        for event in events[: EVENTS * 3 // 4]:
            action = [EventStatus.ACKNOWLEDGED, EventStatus.FALSE_ALARM, EventStatus.AUTHORIZED][event.id % 3]
            by = "guard.wang" if event.id % 2 else "guard.li"
            change_status(store, event.id, action, by=by, at=event.ts + timedelta(seconds=30 + event.id * 7))
        for kind, event_id in ((AlarmKind.ONE_CLICK, None), (AlarmKind.ESCALATION, 5), (AlarmKind.AUTOMATIC, 190)):
            alarm = store.alarms.raise_(
                kind, reason="翻越围墙", by="guard.wang", at=start, targets=[], event_id=event_id
            )
            if kind != AlarmKind.AUTOMATIC:
                store.alarms.acknowledge(alarm.id, "district", start + timedelta(minutes=2))
        for day, minutes in ((7, 1), (21, 3)):  # two drills, confirmed after 1 and 3 minutes
            drill = store.alarms.raise_(
                AlarmKind.DRILL, reason="", by="guard.li", at=start + timedelta(days=day), targets=[]
            )
            store.alarms.acknowledge(drill.id, "district", start + timedelta(days=day, minutes=minutes))
        store.outages.begin("north-gate", start + timedelta(days=3), "connection refused")
        store.outages.end(start + timedelta(days=3, hours=2), "north-gate")
    return db


def print_pdf(browser: Any, html: Path, *, without: str | None = None) -> bytes:
    page = browser.new_page()
    page.goto(html.as_uri())
    if without:
        page.evaluate(f"document.querySelector({without!r}).remove()")
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    page.close()
    return pdf


def pages_of(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b", pdf))


def clipped(browser: Any, html: Path) -> list[str]:
    """Elements reaching past the printed page's right edge (A4 less the margins: 186 mm)."""
    page = browser.new_page(viewport={"width": 703, "height": 1000})
    page.emulate_media(media="print")
    page.goto(html.as_uri())
    found = page.evaluate(
        """() => { const edge = document.documentElement.clientWidth + 0.5;
          return [...document.body.querySelectorAll('*')].filter((e) => e.getBoundingClientRect().right > edge)
            .map((e) => e.tagName + (e.id ? '#' + e.id : '') + ' ' + e.getBoundingClientRect().right); }"""
    )
    page.close()
    return found


@pytest.mark.parametrize("language", ["zh", "en"])
def test_a_busy_month_prints_on_a4_in_the_sites_language(tmp_path: Path, browser: Any, language: str) -> None:
    db = busy_month(tmp_path)
    args = ("--month", "2026-11", "--db", db, "--out", tmp_path / "reports")
    result = gatewatch("report", *args, *(("--lang", "en") if language == "en" else ()))  # a Chinese site: zh
    assert result.returncode == 0, result.stderr
    html = tmp_path / "reports" / "gatewatch-report-2026-11.html"

    whole = pages_of(print_pdf(browser, html))
    summary = pages_of(print_pdf(browser, html, without="#appendix"))
    assert summary <= 2, summary
    assert whole <= 10, f"{EVENTS} events take {whole} pages"  # 36 before the compact appendix
    assert clipped(browser, html) == []

    page = browser.new_page()
    page.goto(html.as_uri())
    text = page.inner_text("body")
    if language == "zh":
        for words in (
            "校园出入口安全报告",
            "告警处置情况",
            "摄像机在线情况",
            "校长（姓名、签字、日期）",  # noqa: RUF001
            "学校盖章",
            "王伟",
        ):
            assert words in text, words
        for english in ("Head teacher", "Summary", "Reviewed by", "Unregistered entry"):
            assert english not in text, english
    else:
        for words in ("Gate safety report", "How alerts were handled", "Head teacher", "School seal", "Li Na"):
            assert words in text, words
    assert "guard.wang" not in text  # reviewers by their names, not their logins
    assert page.inner_text("#report-number").startswith("GW-202611-")
    # The figures: outcomes, alarms, coverage (the gate 100 %, the dormitory half the month)
    assert page.inner_text("#outcome-new") == str(EVENTS // 4)
    assert page.inner_text("#alarms-one_click") == "1" and page.inner_text("#alarms-automatic") == "1"
    assert page.locator("#alarms-drill").count() == 0  # drills are not alarms: counted apart
    assert (page.inner_text("#drills-held"), page.inner_text("#drills-confirmed")) == ("2", "2")
    assert page.inner_text("#drills-confirm-time") in ("2 min 00 s", "2分 00秒")  # the median of 1 and 3 minutes
    gate, dorm = page.inner_text("[data-camera=north-gate]"), page.inner_text("[data-camera=dorm-a]")
    assert "100.0 %" in gate and "50.0 %" in dorm and "\t1\t" in gate  # one outage at the gate
    # The appendix: every event, in time order (then id), each with its thumbnail
    shown = [int(x) for x in page.eval_on_selector_all("#events .event", "es => es.map(e => e.dataset.event)")]
    with Store(db) as store:
        ordered = sorted(store.events.list(EventFilter()), key=lambda e: (e.ts, e.id))
    assert shown == [e.id for e in ordered]
    assert page.locator("#events .event img").count() == EVENTS
    page.close()


def test_the_monthly_report_as_a_pdf_written_on_the_box(analysed: Path) -> None:
    """Issue 23.4: `report --pdf` lays the A4 report out itself (WeasyPrint: no browser), with the
    reporting unit and contact, 北京时间, the 情况说明 box, and the drills and patrols sections."""
    import pypdf
    import yaml

    config = analysed / "configs" / "demo.yaml"
    settings = yaml.safe_load(config.read_text())
    settings["site"] = {**settings.get("site", {}), "unit": "第一中学保卫处", "contact": "王老师 010-6543 2100"}
    settings["patrols"] = {"checkpoints": ["北门", "宿舍A"], "every_h": 2, "from": "22:00", "until": "06:00"}
    config.write_text(yaml.safe_dump(settings, allow_unicode=True))
    note = "11月28日22:30北门两人未登记进入, 已核实为晚归学生"
    folder = report(analysed, "--month", "2026-11", "--config", str(config), "--lang", "zh", "--pdf", "--note", note)
    pdf = pypdf.PdfReader(folder / "gatewatch-report-2026-11.pdf")
    assert pdf.pages[0].mediabox.width == pytest.approx(595, abs=1)  # A4 portrait, in points
    assert pdf.pages[0].mediabox.height == pytest.approx(842, abs=1)
    text = re.sub(r"\s+", "", "".join(page.extract_text() for page in pdf.pages))
    wanted = ["北京时间", "填报单位:第一中学保卫处", "联系人:王老师010-65432100", "情况说明", re.sub(r"\s", "", note)]
    for words in [*wanted, "报警演练", "当晚巡逻", "0/4", "2026-11-30", "校长"]:
        assert words in text, words


def test_a_month_in_progress_has_no_rows_for_days_to_come(analysed: Path) -> None:
    from pipeline.report import collect, month_period

    shanghai = ZoneInfo("Asia/Shanghai")
    with Store(analysed / "out" / "gatewatch.db") as store:
        data = collect(store, month_period("2026-11", shanghai), "No1", datetime(2026, 11, 28, 23, 0, tzinfo=shanghai))
    assert [row.day.day for row in data.days][-1] == 28 and len(data.days) == 28
