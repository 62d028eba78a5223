"""The daily / monthly safety report: one self-contained HTML file (images embedded) plus CSVs.

The HTML is laid out for A4 (what a head teacher signs and stamps and the district files): one
to two pages of summary (figures, how alerts were handled, alarms, each camera's coverage, the
days, the hours), then a compact appendix of the events with thumbnails, page numbers and the
report number on every page. Chinese or English from the same template (`report_words.py`).

Everything is counted from the database in the site's time zone, so "entries on 28 November"
means that day on the school's clock. A period without data gives an honest empty report that
says so (and how much footage was analysed), not an error.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import math
import re
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import cv2
import jinja2

from pipeline.config import Places
from pipeline.db import Alarm, Event, EventFilter, Footage, Store
from pipeline.errors import GatewatchError, InvalidInput
from pipeline.files import atomic_write, ensure_writable_dir
from pipeline.fonts import cjk_font
from pipeline.patrols import PatrolPlan
from pipeline.records import seconds_between
from pipeline.report_words import REPORT
from pipeline.review import events_csv, list_events
from pipeline.spreadsheet import csv_text
from pipeline.vocabulary import AlarmKind, AlarmStatus, Direction, EventStatus, MessageCode
from pipeline.wording import Language, Message, names, say, zone_word

FRAME_THUMB_WIDTH = 280  # pixels: sharp at the appendix's 5 columns of A4 when printed
QUICK_RESPONSE_S = 300  # "handled within 5 minutes", the figure a district asks about


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
    if not match or not 1 <= int(match[2]) <= 12 or not 1 <= int(match[1]) < date.max.year:
        bad = Message(MessageCode.BAD_MONTH, {"value": text})
        raise InvalidInput("month", "write the month as YYYY-MM, e.g. 2026-11", text, bad)
    first = date(int(match[1]), int(match[2]), 1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return Period(f"{first:%Y-%m}", f"{first:%B %Y}", first, following - timedelta(days=1), tz)


def day_period(text: str, tz: ZoneInfo) -> Period:
    try:
        day = date.fromisoformat(text.strip())
        if day.year == date.max.year:
            raise ValueError("the day after it is past date.max")
    except ValueError:
        bad = Message(MessageCode.BAD_DAY, {"value": text})
        raise InvalidInput("day", "write the day as YYYY-MM-DD, e.g. 2026-11-28", text, bad) from None
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

    def add(self, other: DayRow) -> None:
        for name in DAILY_COLUMNS:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True)
class Coverage:
    """How much of the period one camera was watched: the city's "100 % coverage", per camera."""

    camera: str
    hours: float  # video analysed
    share: float  # of the period's hours so far, 0-1
    outages: int
    down_hours: float


@dataclass(frozen=True)
class PatrolNight:
    """One night's patrol rounds: due by the plan, and done (recorded within their slot)."""

    night: date
    due: int
    done: int


@dataclass(frozen=True)
class AlarmLine:
    kind: AlarmKind
    count: int
    confirmed: int


@dataclass
class ReportData:
    site: str
    period: Period
    generated_at: datetime
    language: Language = "en"
    places: Places = field(default_factory=Places)
    rows: list[DayRow] = field(default_factory=list)
    hourly: list[int] = field(default_factory=lambda: [0] * 24)
    events: list[dict[str, Any]] = field(default_factory=list)
    footage: list[dict[str, Any]] = field(default_factory=list)
    stored: list[Event] = field(default_factory=list)  # the events behind `events`, for the CSV
    statuses: Counter[str] = field(default_factory=Counter)
    coverage: list[Coverage] = field(default_factory=list)
    alarms: list[Alarm] = field(default_factory=list)
    patrols: list[PatrolNight] | None = None  # None: the site has no patrol plan
    unit: str | None = None  # the reporting unit (填报单位), when not the site itself
    contact: str | None = None  # whom the district calls about it
    note: str | None = None  # 情况说明: what the school explains; an empty box to write in when None

    @property
    def number(self) -> str:
        """The same site and period always get the same number: a reprint is recognisably the same."""
        digest = hashlib.sha256(f"{self.site}\x1f{self.period.label}".encode()).hexdigest()[:6].upper()
        return f"GW-{self.period.label.replace('-', '')}-{digest}"

    @property
    def title(self) -> str:
        first = self.period.first
        if self.language != "zh":
            return self.period.title
        if first == self.period.last:
            return f"{first.year} 年 {first.month} 月 {first.day} 日"
        return f"{first.year} 年 {first.month} 月"

    @property
    def totals(self) -> DayRow:
        total = DayRow(self.period.first, "", "")
        for row in self.rows:
            total.add(row)
        return total

    def patrol_night(self, day: date) -> PatrolNight | None:
        return next((p for p in self.patrols or [] if p.night == day), None)

    @property
    def zone(self) -> str:
        """The report's clock as its reader names it: 北京时间, else the zone's name."""
        key = self.period.tz.key
        return zone_word(key, self.language) or f"{REPORT[self.language]['time_zone']} {key}"

    @property
    def days(self) -> list[DayRow]:
        """One line per day of the period that has come, all cameras and lines together (the
        per-camera detail is in the daily CSV): a month fits half a page."""
        today = self.generated_at.astimezone(self.period.tz).date()
        by_day = {day: DayRow(day, "", "") for day in self.period.days if day <= today}
        for row in self.rows:
            by_day[row.day].add(row)
        return list(by_day.values())

    @property
    def response_times_s(self) -> list[float]:
        return [e["response_s"] for e in self.events if e["response_s"] is not None]

    def response(self, which: str) -> str:
        times = sorted(self.response_times_s)
        if not times:
            return REPORT[self.language]["none_reviewed"]
        if which == "median":
            return duration(statistics.median(times), self.language)
        if which == "p90":
            return duration(times[max(0, math.ceil(0.9 * len(times)) - 1)], self.language)
        if which == "within":
            quick = sum(t <= QUICK_RESPONSE_S for t in times)
            return f"{quick} / {len(times)} ({quick / len(times):.0%})"
        return duration(times[-1], self.language)

    @property
    def alarm_lines(self) -> list[AlarmLine]:
        """Real alarms by kind; drills are counted apart (`drill_line`), never as alarms."""
        return [self._line(kind) for kind in AlarmKind if kind != AlarmKind.DRILL]

    @property
    def drill_line(self) -> AlarmLine:
        return self._line(AlarmKind.DRILL)

    def _line(self, kind: AlarmKind) -> AlarmLine:
        of_kind = [a for a in self.alarms if a.kind == kind]
        return AlarmLine(kind, len(of_kind), sum(a.status == AlarmStatus.ACKNOWLEDGED for a in of_kind))

    @property
    def confirm_time(self) -> str:
        return self._median_confirmation([a for a in self.alarms if a.kind != AlarmKind.DRILL])

    @property
    def drill_confirm_time(self) -> str:
        """How fast the centre confirmed the drills: what a drill is held to find out."""
        return self._median_confirmation([a for a in self.alarms if a.kind == AlarmKind.DRILL])

    def _median_confirmation(self, alarms: list[Alarm]) -> str:
        waits = [seconds_between(a.acknowledged_at, a.raised_at) for a in alarms if a.acknowledged_at]
        return duration(statistics.median(waits), self.language) if waits else "—"


def collect(
    store: Store,
    period: Period,
    site: str,
    generated_at: datetime,
    language: Language = "en",
    places: Places | None = None,
    patrols: PatrolPlan | None = None,
) -> ReportData:
    """`places`: the configured cameras, so a camera that recorded nothing shows as 0 % covered,
    and each camera and line by the name people read; `patrols`: the plan rounds are counted against."""
    places = places or Places()
    data = ReportData(site, period, generated_at, language, places)
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

    shown = store.users.names()
    for event in list_events(store, EventFilter(since=period.start, until=period.end)):
        row = row_for(event.ts, event.camera, event.line)
        row.flagged += 1
        row.authorized += event.status == EventStatus.AUTHORIZED
        row.false_alarms += event.status == EventStatus.FALSE_ALARM
        data.statuses[event.status] += 1
        data.stored.append(event)
        data.events.append(_event_view(event, tz, language, shown))

    data.rows = sorted(rows.values(), key=lambda r: (r.day, r.camera, r.line))
    footage = store.events.footage_between(period.start, period.end)
    for f in footage:
        data.footage.append({**asdict(f), "duration": duration(f.hours * 3600, language)})
    data.coverage = _coverage(store, period, generated_at, footage, places.cameras)
    data.alarms = store.alarms.between(period.start, period.end)
    if patrols is not None:
        data.patrols = _patrol_nights(store, period, generated_at, patrols)
    return data


def _patrol_nights(store: Store, period: Period, generated_at: datetime, plan: PatrolPlan) -> list[PatrolNight]:
    """Each night of the period whose first round has come, with rounds due and done."""
    nights = [day for day in period.days if plan.due(day) and plan.due(day)[0] <= generated_at]
    if not nights:
        return []
    recorded = [(r.id, r.at) for r in store.patrols.between(plan.span(nights[0])[0], plan.span(nights[-1])[1])]
    found = []
    for night in nights:
        due = plan.rounds_due(night, recorded, generated_at)
        found.append(PatrolNight(night, len(due), sum(d.done_by is not None for d in due)))
    return found


def _coverage(
    store: Store, period: Period, generated_at: datetime, footage: list[Footage], cameras: Iterable[str]
) -> list[Coverage]:
    """Video analysed against the period so far, and each live camera's outages."""
    until = min(period.end, max(period.start, generated_at))
    period_hours = seconds_between(until, period.start) / 3600
    hours = {f.camera: f.hours for f in footage}
    outages = store.outages.between(period.start, until)
    found = []
    for camera in sorted({*cameras, *hours, *(o.camera for o in outages)}):
        own = [o for o in outages if o.camera == camera]
        down = sum(seconds_between(o.ended_at or until, o.started_at) for o in own) / 3600
        share = min(1.0, hours.get(camera, 0.0) / period_hours) if period_hours > 0 else 0.0
        found.append(Coverage(camera, hours.get(camera, 0.0), share, len(own), down))
    return found


def _event_view(event: Event, tz: ZoneInfo, language: Language, shown: dict[str, str]) -> dict[str, Any]:
    view = event.row()
    view["local_ts"] = event.ts.astimezone(tz)
    view["response_s"] = None
    if event.first_review_at and event.created_at:
        view["response_s"] = max(0.0, (event.first_review_at - event.created_at).total_seconds())
    view["response"] = duration(view["response_s"], language) if view["response_s"] is not None else "—"
    reviewer = event.reviewed_by
    view["reviewer"] = shown.get(reviewer, reviewer) if reviewer else REPORT[language]["not_reviewed"]
    view["reason_text"] = say(event.reason_message, event.reason, language)
    view["note_text"] = say(event.review_note_message, event.review_note, language)
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


def hourly_chart(hourly: list[int], language: Language) -> str:
    """Closed-hour entries by hour of day, as an embedded PNG, labelled in the report's language."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib import pyplot as plt

    words = REPORT[language]
    font = cjk_font() if language == "zh" else None
    if language == "zh" and font is None:
        words = REPORT["en"]  # no Chinese glyphs to draw with: English labels, not empty boxes
    properties = font_manager.FontProperties(fname=str(font)) if font else None
    figure, axes = plt.subplots(figsize=(7.0, 1.9), dpi=130)
    try:
        axes.bar(range(24), hourly, color="#b3261e", width=0.8)
        axes.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)])
        axes.set_xlim(-0.6, 23.6)
        axes.set_xlabel(words["hour_axis"], fontproperties=properties)
        axes.set_ylabel(words["entries_axis"], fontproperties=properties)
        axes.yaxis.get_major_locator().set_params(integer=True)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
    finally:
        plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def duration(seconds: float, language: Language = "en") -> str:
    seconds = round(seconds)
    units = ("秒", "分", "小时") if language == "zh" else (" s", " min", " h")
    if seconds < 60:
        return f"{seconds}{units[0]}"
    if seconds < 3600:
        return f"{seconds // 60}{units[1]} {seconds % 60:02d}{units[0]}"
    return f"{seconds // 3600}{units[2]} {seconds % 3600 // 60:02d}{units[1]}"


def render_pdf(data: ReportData) -> bytes:
    """The same A4 report as a PDF, laid out on the box (WeasyPrint; no browser needed)."""
    try:
        import weasyprint  # its import loads Pango: only for a PDF
    except OSError as exc:
        raise GatewatchError(
            f"cannot write a PDF: the Pango library is missing ({exc}); on Debian run: "
            "sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0"
        ) from None
    logging.getLogger("fontTools").setLevel(logging.WARNING)  # its subsetting chatter is not the user's
    return bytes(weasyprint.HTML(string=render_html(data)).write_pdf())


def render_html(data: ReportData) -> str:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("pipeline", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )
    chart = hourly_chart(data.hourly, data.language) if any(data.hourly) else None
    return environment.get_template("report.html").render(
        data=data,
        chart=chart,
        totals=data.totals,
        w=REPORT[data.language],
        n=names(data.language),
        hours=lambda value: f"{value:.1f} {REPORT[data.language]['hours_unit']}",
    )


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


def write_report(data: ReportData, folder: Path, pdf: bool = False) -> list[Path]:
    """Render everything first, then write; each file appears whole (atomic rename) or not at all."""
    ensure_writable_dir(folder)
    stem = f"gatewatch-report-{data.period.label}"
    files = {
        folder / f"{stem}-daily.csv": daily_csv(data).encode("utf-8-sig"),  # BOM: Excel opens Chinese text right
        folder / f"{stem}-events.csv": events_csv(data.stored).encode("utf-8-sig"),
        folder / f"{stem}.html": render_html(data).encode("utf-8"),
    }
    if pdf:
        files[folder / f"{stem}.pdf"] = render_pdf(data)
    for path, content in files.items():
        atomic_write(path, content)
    return list(files)
