"""Patrols of 24-hour gate duty (issue 23.4): the plan's due rounds, rounds recorded in the
console (checkpoints, note, photo), the reminder when one is overdue, and the monthly report's
rounds planned against done; the real app over a real database, Chromium for the page."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import cv2
import numpy as np
import pytest
import yaml

from pipeline.config import PatrolConfig
from pipeline.db import Store
from pipeline.patrols import PatrolPlan
from pipeline.report import collect, month_period

from .box import WebBox, replay, web_box
from .conftest import SAMPLE
from .live import log_in

SHANGHAI = ZoneInfo("Asia/Shanghai")
CHECKPOINTS = ["north gate", "dormitory A", "east wall"]


def plan(**given: object) -> PatrolPlan:
    fields = {"checkpoints": CHECKPOINTS, "every_h": 2, "from": "22:00", "until": "06:00", **given}
    return PatrolPlan(PatrolConfig.model_validate(fields), SHANGHAI)


def test_rounds_due_on_a_night_and_which_were_done() -> None:
    night = plan()
    assert [t.strftime("%d %H:%M") for t in night.due(date(2026, 12, 5))] == [
        "05 22:00",
        "06 00:00",
        "06 02:00",
        "06 04:00",
    ]
    assert night.night_of(datetime(2026, 12, 6, 3, 0, tzinfo=SHANGHAI)) == date(2026, 12, 5)
    assert night.night_of(datetime(2026, 12, 6, 22, 5, tzinfo=SHANGHAI)) == date(2026, 12, 6)
    walked = [(1, datetime(2026, 12, 5, 22, 20, tzinfo=SHANGHAI)), (2, datetime(2026, 12, 5, 22, 50, tzinfo=SHANGHAI)),
              (3, datetime(2026, 12, 6, 2, 40, tzinfo=SHANGHAI))]  # fmt: skip
    due = night.rounds_due(date(2026, 12, 5), walked, datetime(2026, 12, 6, 3, 0, tzinfo=SHANGHAI))
    # Two rounds in one slot do one due round; the midnight round was missed; 04:00 has not come
    assert [(d.done_by, d.overdue) for d in due] == [(1, False), (None, True), (3, False), (None, False)]
    assert [t.hour for t in plan(**{"from": "12:00", "until": "14:00", "every_h": 1}).due(date(2026, 12, 5))] == [
        12,
        13,
    ]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"from": 1320}, "1320 is not a time of day in quotes"),  # YAML's unquoted 22:00
        ({"from": "22:00", "until": "22:00"}, "the same as `from`"),
        ({"checkpoints": ["gate", "gate"]}, "'gate' is listed twice"),
        ({"checkpoints": []}, "at least 1 item"),
    ],
)
def test_a_patrol_plan_that_cannot_work_is_refused_by_key(given: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PatrolConfig.model_validate({"checkpoints": ["gate"], **given})


@pytest.fixture
def box(analysed: Path) -> WebBox:
    """The demo box with a patrol plan whose rounds came due 80 and 20 minutes ago (hourly)."""
    config = analysed / "configs" / "demo.yaml"
    settings = yaml.safe_load(config.read_text())
    now = datetime.now(SHANGHAI).replace(second=0, microsecond=0)
    start, until = now - timedelta(minutes=80), now + timedelta(hours=3)
    settings["patrols"] = {"checkpoints": CHECKPOINTS, "every_h": 1, "from": f"{start:%H:%M}",
                           "until": f"{until:%H:%M}", "grace_min": 15}  # fmt: skip
    config.write_text(yaml.safe_dump(settings))
    return web_box(config, analysed / "out" / "gatewatch.db", analysed / "out" / "snapshots",
                   frames={"north-gate": replay(SAMPLE, 1)})  # fmt: skip


def test_a_guard_records_rounds_and_overdue_ones_are_said(box: WebBox) -> None:
    guard = box.client()
    night = guard.get("/api/patrols").json()
    assert night["checkpoints"] == CHECKPOINTS
    assert [d["overdue"] for d in night["due"][:3]] == [True, True, False]  # 80 and 20 min ago; 40 min ahead
    # Walked 75 minutes ago, entered now; and one walked now with a note
    late = datetime.now(UTC) - timedelta(minutes=75)
    first = guard.post("/api/patrols", json={"checkpoints": CHECKPOINTS, "at": late.isoformat()})
    assert first.status_code == 201, first.text
    now = guard.post("/api/patrols", json={"checkpoints": CHECKPOINTS[:2], "note": "东墙外有人逗留"})
    assert now.status_code == 201 and now.json()["by"] == "guard" and now.json()["at"].endswith("+08:00")
    night = guard.get("/api/patrols").json()
    assert [d["done_by"] for d in night["due"][:2]] == [first.json()["id"], now.json()["id"]]
    assert not any(d["overdue"] for d in night["due"])
    # Checkpoints are the plan's; a round is entered when walked or within a day
    wrong = guard.post("/api/patrols", json={"checkpoints": ["roof"]})
    assert wrong.status_code == 422 and "checkpoints.0" in wrong.text and "roof" in wrong.text
    old = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    assert guard.post("/api/patrols", json={"checkpoints": CHECKPOINTS, "at": old}).status_code == 422
    # The photo from the phone: kept at most 1600 px wide; not a picture: refused
    picture = cv2.imencode(".jpg", np.full((1500, 3000, 3), 120, np.uint8))[1].tobytes()
    photo_url = f"/api/patrols/{now.json()['id']}/photo"
    octet = {"Content-Type": "application/octet-stream"}
    added = guard.put(photo_url, content=picture, headers=octet)
    assert added.status_code == 200 and added.json()["photo_url"] == photo_url, added.text
    kept = cv2.imdecode(np.frombuffer(guard.get(photo_url).content, np.uint8), cv2.IMREAD_COLOR)
    assert kept.shape[:2] == (800, 1600)
    assert guard.put(photo_url, content=b"not a picture", headers=octet).status_code == 422
    assert guard.put("/api/patrols/999/photo", content=picture, headers=octet).status_code == 404
    assert box.client(None).get("/api/patrols").status_code == 401


def test_the_console_reminds_of_an_overdue_round_until_it_is_recorded(box: WebBox, browser: Any) -> None:
    with box.served() as url:
        page = browser.new_page(locale="zh-CN")
        log_in(page, url, "guard")
        page.wait_for_selector("#patrol-overdue:not([hidden])")
        assert "巡逻逾期" in page.inner_text("#patrol-overdue")
        page.uncheck("#patrol-checkpoints input[value='east wall']")
        page.fill("#patrol-form [name=note]", "一切正常")
        page.click("#patrol-form button[type=submit]")
        page.wait_for_selector("#patrol-due [data-state=done]")
        assert "已记录" in page.inner_text("#patrol-result")
        page.close()
    with Store(box.db) as store:
        walked = store.patrols.between(datetime.now(UTC) - timedelta(hours=1), datetime.now(UTC) + timedelta(minutes=1))
    assert [(r.by, r.checkpoints, r.note) for r in walked] == [("guard", CHECKPOINTS[:2], "一切正常")]


def test_the_monthly_report_counts_rounds_planned_and_done_per_night(tmp_path: Path) -> None:
    night = plan()
    with Store(tmp_path / "gatewatch.db") as store:
        for day, hours in ((1, (22, 0, 2, 4)), (2, (22, 2))):  # all four rounds, then two of four
            for hour in hours:
                walked = datetime(2026, 11, day + (hour < 12), hour, 10, tzinfo=SHANGHAI)
                store.patrols.record(walked, "guard", CHECKPOINTS, "", walked)
        generated = datetime(2026, 11, 3, 23, 0, tzinfo=SHANGHAI)  # the night of the 3rd has begun
        data = collect(store, month_period("2026-11", SHANGHAI), "No1", generated, "zh", patrols=night)
    assert data.patrols is not None
    assert [(p.night.day, p.due, p.done) for p in data.patrols] == [(1, 4, 4), (2, 4, 2), (3, 4, 0)]  # none yet to come
