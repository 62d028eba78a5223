"""The daily / monthly safety report: one self-contained HTML file (images embedded) plus CSVs.

Everything is counted from the database in the site's time zone, so "entries on 28 November"
means that day on the school's clock. A period without data gives an honest empty report that
says so (and how much footage was analysed), not an error.
"""

from __future__ import annotations

import base64
import io
import re
import statistics
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import cv2
import jinja2

from pipeline.db import Event, EventFilter, Store
from pipeline.errors import InvalidInput
from pipeline.files import atomic_write, ensure_writable_dir
from pipeline.review import events_csv, list_events
from pipeline.spreadsheet import csv_text
from pipeline.vocabulary import Direction, EventStatus

THUMB_HEIGHT = 110
FRAME_THUMB_WIDTH = 220


@dataclass(frozen=True)
class Period:
    label: str  # "2026-11" or "2026-11-28"
    title: str  # "November 2026"
    first: date
    last: date  # inclusive
    tz: ZoneInfo

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(0), self.tz)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(0), self.tz)

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


def month_period(text: str, tz: ZoneInfo) -> Period:
    match = re.fullmatch(r"(\d{4})-(\d{1,2})", text.strip())
    if not match or not 1 <= int(match[2]) <= 12:
        raise InvalidInput("month", "write the month as YYYY-MM, e.g. 2026-11", text)
    first = date(int(match[1]), int(match[2]), 1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return Period(f"{first:%Y-%m}", f"{first:%B %Y}", first, following - timedelta(days=1), tz)


def day_period(text: str, tz: ZoneInfo) -> Period:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput("day", "write the day as YYYY-MM-DD, e.g. 2026-11-28", text) from None
    return Period(f"{day}", f"{day:%A %d %B %Y}", day, day, tz)


@dataclass
class DayRow:
    day: date
    camera: str
    line: str
    entries: int = 0
    exits: int = 0
    closed_entries: int = 0
    flagged: int = 0
    registered: int = 0
    authorized: int = 0
    false_alarms: int = 0


@dataclass
class ReportData:
    site: str
    period: Period
    generated_at: datetime
    rows: list[DayRow] = field(default_factory=list)
    hourly: list[int] = field(default_factory=lambda: [0] * 24)
    events: list[dict[str, Any]] = field(default_factory=list)
    footage: list[dict[str, Any]] = field(default_factory=list)
    stored: list[Event] = field(default_factory=list)  # the events behind `events`, for the CSV
    statuses: Counter[str] = field(default_factory=Counter)

    @property
    def totals(self) -> DayRow:
        total = DayRow(self.period.first, "", "")
        for row in self.rows:
            for name in ("entries", "exits", "closed_entries", "flagged", "registered", "authorized", "false_alarms"):
                setattr(total, name, getattr(total, name) + getattr(row, name))
        return total

    @property
    def response_times_s(self) -> list[float]:
        return [e["response_s"] for e in self.events if e["response_s"] is not None]

    @property
    def median_response(self) -> str:
        times = self.response_times_s
        return _duration(statistics.median(times)) if times else "n/a"

    @property
    def longest_response(self) -> str:
        times = self.response_times_s
        return _duration(max(times)) if times else "n/a"


def collect(store: Store, period: Period, site: str, generated_at: datetime) -> ReportData:
    data = ReportData(site, period, generated_at)
    tz = period.tz
    rows: dict[tuple[date, str, str], DayRow] = {}

    def row_for(ts: datetime, camera: str, line: str) -> DayRow:
        day = ts.astimezone(tz).date()
        return rows.setdefault((day, camera, line), DayRow(day, camera, line))

    for c in store.events.crossings_between(period.start, period.end):
        row = row_for(c.ts, c.camera, c.line)
        if c.direction == Direction.IN:
            row.entries += 1
            if c.closed:
                row.closed_entries += 1
                data.hourly[c.ts.astimezone(tz).hour] += 1
        else:
            row.exits += 1
        if c.registration_id is not None and c.event_id is None:
            row.registered += 1  # covered when analysed; entries authorized after an alert count as events

    for event in list_events(store, EventFilter(since=period.start, until=period.end)):
        row = row_for(event.ts, event.camera, event.line)
        row.flagged += 1
        row.authorized += event.status == EventStatus.AUTHORIZED
        row.false_alarms += event.status == EventStatus.FALSE_ALARM
        data.statuses[event.status] += 1
        data.stored.append(event)
        data.events.append(_event_view(event, tz))

    data.rows = sorted(rows.values(), key=lambda r: (r.day, r.camera, r.line))
    for f in store.events.footage_between(period.start, period.end):
        data.footage.append({**asdict(f), "duration": _duration(f.hours * 3600)})
    return data


def _event_view(event: Event, tz: ZoneInfo) -> dict[str, Any]:
    view = event.row()
    view["local_ts"] = event.ts.astimezone(tz)
    view["response_s"] = None
    if event.first_review_at and event.created_at:
        view["response_s"] = max(0.0, (event.first_review_at - event.created_at).total_seconds())
    view["response"] = _duration(view["response_s"]) if view["response_s"] is not None else "not reviewed"
    view["crop_uri"] = None if event.pruned_at else _thumbnail(event.crop_path, height=THUMB_HEIGHT)
    view["frame_uri"] = None if event.pruned_at else _thumbnail(event.snapshot_path, width=FRAME_THUMB_WIDTH)
    return view


def _thumbnail(path: str | None, *, height: int | None = None, width: int | None = None) -> str | None:
    """A small JPEG as a data: URI, so the report is one file that can be mailed and archived."""
    image = cv2.imread(path) if path and Path(path).is_file() else None
    if image is None:
        return None
    h, w = image.shape[:2]
    scale = (height / h) if height else (width / w if width else 1.0)
    small = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 80])
    return "data:image/jpeg;base64," + base64.b64encode(data.tobytes()).decode("ascii") if ok else None


def hourly_chart(hourly: list[int]) -> str:
    """Closed-hour entries by hour of day, as an embedded PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, axes = plt.subplots(figsize=(7.5, 2.4), dpi=110)
    try:
        axes.bar(range(24), hourly, color="#b3261e", width=0.8)
        axes.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)])
        axes.set_xlim(-0.6, 23.6)
        axes.set_xlabel("hour of day (site time)")
        axes.set_ylabel("entries")
        axes.yaxis.get_major_locator().set_params(integer=True)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    finally:
        plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def render_html(data: ReportData) -> str:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("pipeline", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )
    chart = hourly_chart(data.hourly) if any(data.hourly) else None
    return environment.get_template("report.html").render(data=data, chart=chart, totals=data.totals)


DAILY_COLUMNS = (
    "entries",
    "exits",
    "closed_entries",
    "flagged",
    "registered",
    "authorized",
    "false_alarms",
)


def daily_csv(data: ReportData) -> str:
    return csv_text(
        ["date", "camera", "line", *DAILY_COLUMNS],
        ([r.day, r.camera, r.line, *(getattr(r, name) for name in DAILY_COLUMNS)] for r in data.rows),
    )


def write_report(data: ReportData, folder: Path) -> list[Path]:
    """Render everything first, then write; each file appears whole (atomic rename) or not at all."""
    ensure_writable_dir(folder)
    stem = f"gatewatch-report-{data.period.label}"
    files = {
        folder / f"{stem}-daily.csv": daily_csv(data).encode("utf-8-sig"),  # BOM: Excel opens Chinese text right
        folder / f"{stem}-events.csv": events_csv(data.stored).encode("utf-8-sig"),
        folder / f"{stem}.html": render_html(data).encode("utf-8"),
    }
    for path, content in files.items():
        atomic_write(path, content)
    return list(files)
