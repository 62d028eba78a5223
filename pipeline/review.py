"""Event review: the lifecycle guards and staff move events through, with an audit trail.

    new -> acknowledged | false_alarm | authorized;  acknowledged -> false_alarm | authorized

Every change is a row in `event_reviews` (who, when, from, to, note); review never deletes
anything. Retention (`prune`) removes snapshot files of old events but marks their rows first,
so no row ever points at a missing file without saying so.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple

from pipeline.config import Config
from pipeline.db import Added, Event, EventFilter, EventReview, Store
from pipeline.errors import Conflict, InvalidInput, NotFound
from pipeline.records import seconds_between
from pipeline.registrations import OpenAlert, Registration, RegistrationBook, RegistrationLeft
from pipeline.spreadsheet import csv_text
from pipeline.vocabulary import EventStatus, MessageCode
from pipeline.wording import Message

EXPORT_COLUMNS = (
    "id",
    "kind",
    "camera",
    "line",
    "direction",
    "ts",
    "status",
    "reviewed_by",
    "first_review_at",
    "review_note",
    "registration_id",
    "reason",
    "video",
    "frame",
    "track_id",
    "confidence",
    "snapshot_path",
    "crop_path",
    "pruned_at",
    "created_at",
)


def list_events(
    store: Store, filters: EventFilter, *, newest_first: bool = False, limit: int = -1, offset: int = 0
) -> list[Event]:
    """Events with their first review time (for response times) and last reviewer."""
    return store.events.list(filters, newest_first=newest_first, limit=limit, offset=offset)


def get_event(store: Store, event_id: int) -> Event:
    event = store.events.get(event_id)
    if event is None:
        raise NotFound(Message(MessageCode.NO_EVENT, {"id": str(event_id)}))
    return event


def history(store: Store, event_id: int) -> list[EventReview]:
    return store.events.history(event_id)


def change_status(
    store: Store,
    event_id: int,
    to: EventStatus,
    *,
    by: str,
    at: datetime,
    note: str = "",
    registration_id: int | None = None,
) -> Event:
    """Move one event on, in one transaction with its audit row; returns the updated event."""
    if not by.strip():
        raise InvalidInput("by", "say who is reviewing (a name or badge number); the audit trail needs it")
    with store.write():
        _move(store, get_event(store, event_id), to, by=by, at=at, note=note, registration_id=registration_id)
    return get_event(store, event_id)


UNDO_S = 30.0  # how long a guard may take back an acknowledgement (a batch pressed by mistake)


def undo_acknowledgement(store: Store, event_id: int, *, by: str, at: datetime) -> Event:
    """Take back an acknowledgement just given: the alert is new again, with an audit row saying
    so. Only the one who acknowledged it, within `UNDO_S`, and only if nothing happened since."""
    with store.write():
        event = get_event(store, event_id)
        steps = history(store, event_id)
        if event.status != EventStatus.ACKNOWLEDGED or not steps or steps[-1].to_status != EventStatus.ACKNOWLEDGED:
            raise Conflict(Message(MessageCode.NOT_UNDOABLE, {"id": str(event_id), "status": event.status}))
        last = steps[-1]
        if last.by != by:
            raise Conflict(Message(MessageCode.UNDO_OTHERS, {"id": str(event_id), "by": last.by}))
        after = seconds_between(at, last.at)
        if after > UNDO_S:
            late = {"id": str(event_id), "after": f"{after:.0f}", "limit": f"{UNDO_S:.0f}"}
            raise Conflict(Message(MessageCode.UNDO_LATE, late))
        note = Message(MessageCode.UNDONE, {"seconds": f"{after:.0f}"})
        store.events.review(event, EventStatus.NEW, by=by, at=at, note=note, registration_id=None)
    return get_event(store, event_id)


def _move(
    store: Store,
    event: Event,
    to: EventStatus,
    *,
    by: str,
    at: datetime,
    note: str | Message,
    registration_id: int | None,
) -> None:
    if to not in event.status.next:
        last = history(store, event.id)
        by = f"{last[-1].by} at {last[-1].at.isoformat()}" if last else "?"
        allowed = ", ".join(sorted(event.status.next)) or "none"
        handled = {"id": str(event.id), "status": event.status, "by": by, "allowed": allowed}
        raise Conflict(Message(MessageCode.HANDLED, handled))
    if registration_id is not None:
        if to != EventStatus.AUTHORIZED:
            raise InvalidInput("registration_id", "goes with authorize only")
        found = store.registrations.get(registration_id)
        if found is None:
            raise NotFound(Message(MessageCode.NO_REGISTRATION, {"id": str(registration_id)}))
        registration, left = found
        if left < 1:
            used = {"id": str(registration_id), "count": str(registration.count)}
            raise Conflict(Message(MessageCode.REGISTRATION_USED, used))
    store.events.review(event, to, by=by, at=at, note=note, registration_id=registration_id)


def authorize_late(
    store: Store,
    added: Added,
    groups: Mapping[str, Iterable[str]],
    window_for: Callable[[str, str], float],
    at: datetime,
) -> list[tuple[int, Registration]]:
    """Registrations entered after the alert (the guard let a late visitor in, then wrote it down)
    authorize the open unregistered entries they cover (`RegistrationBook.claim`).

    `window_for(camera, line)` is the rule's registration window for that line."""
    if not added.count:
        return []
    with store.write():
        open_events = store.events.open_unregistered()
        if not open_events:
            return []
        alerts = [OpenAlert(e.id, e.camera, e.ts, window_for(e.camera, e.line)) for e in open_events]
        # Only new registrations valid near an open alert can authorize one: asked of the index,
        # so importing a million card swipes does not read each of them, nor compare it with
        # every alert.
        widest = timedelta(seconds=max(alert.window_s for alert in alerts))
        near: dict[int, RegistrationLeft] = {}
        for alert in alerts:
            span = (alert.ts - widest, alert.ts + widest)
            near.update(
                (r.id, RegistrationLeft(r, left))
                for r, left in store.registrations.valid(overlapping=span, first_id=added.first_id)
            )
        by_id = {e.id: e for e in open_events}
        done: list[tuple[int, Registration]] = []
        for alert, registration in RegistrationBook(near.values(), groups).claim(alerts):
            _move(
                store,
                by_id[alert.event_id],
                EventStatus.AUTHORIZED,
                by=registration.created_by or "gatewatch",
                at=at,
                note=registration.message(MessageCode.ENTERED_AFTER_ALERT),
                registration_id=registration.id,
            )
            done.append((alert.event_id, registration))
    return done


FUTURE_SLACK_S = 60.0  # a visit time this far ahead of the box's clock is a visit still to come


def still_to_come(visit: datetime | None, now: datetime) -> bool:
    """A visit written down before the visitor arrives explains no alert of the past (which
    would take its count): it waits for the visitor's own entry."""
    return visit is not None and seconds_between(visit, now) > FUTURE_SLACK_S


class Fit(NamedTuple):
    """An open alert a registration would explain."""

    event: Event
    gap_s: float  # from the alert to the registration's valid period (0: inside it)
    from_visit_s: float  # from the visit's own time to the alert (negative: the alert came before)


def explainable(store: Store, config: Config, registration: Registration) -> list[Fit]:
    """The open unregistered alerts a registration fits (its camera or group, within the rule's
    window), nearest to the visit's time first: what a guard chooses from before a visitor
    written down at the gate authorizes anything. (Inside the window every alert is 0 s from
    it; the one 7 s from the visit, not the oldest, is the visitor.)"""
    book = RegistrationBook([(registration, registration.count)], config.groups)
    visit = registration.valid_from + (registration.valid_until - registration.valid_from) / 2
    fits = []
    for event in store.events.open_unregistered():
        gap = book.gap(registration, event.camera, event.ts, config.registration_window(event.camera, event.line))
        if gap is not None:
            fits.append(Fit(event, gap, seconds_between(event.ts, visit)))
    return sorted(fits, key=lambda fit: (fit.gap_s, abs(fit.from_visit_s), fit.event.id))


def register_and_authorize(
    store: Store, config: Config, registration: Registration, chosen: list[int], at: datetime
) -> tuple[Added, list[tuple[int, Registration]]]:
    """Store one registration and authorize exactly the open alerts the guard chose, after checking
    that it explains each (camera, time) and covers that many people; all or nothing."""
    if len(set(chosen)) > registration.count:
        counts = {"chosen": str(len(set(chosen))), "count": str(registration.count)}
        problem = f"{counts['chosen']} alerts, but the registration is for {registration.count}"
        raise InvalidInput("authorize", problem, message=Message(MessageCode.TOO_MANY_CHOSEN, counts))
    with store.write():
        fitting = {fit.event.id: fit.event for fit in explainable(store, config, registration)}
        wrong = [event_id for event_id in chosen if event_id not in fitting]
        if wrong:
            raise Conflict(Message(MessageCode.NOT_EXPLAINED, {"ids": ", ".join(f"#{i}" for i in wrong)}))
        store.set_meta({"timezone": config.timezone, "site": config.site.name})
        added = store.registrations.add([registration], at)
        registration_id = store.registrations.id_of(registration)
        stored = replace(registration, id=registration_id)
        for event_id in dict.fromkeys(chosen):
            _move(
                store,
                fitting[event_id],
                EventStatus.AUTHORIZED,
                by=registration.created_by or "gatewatch",
                at=at,
                note=stored.message(MessageCode.REGISTERED_AT_GATE),
                registration_id=registration_id,
            )
    return added, [(event_id, stored) for event_id in dict.fromkeys(chosen)]


def record_registrations(
    store: Store, config: Config, registrations: Iterable[Registration], at: datetime
) -> tuple[Added, list[tuple[int, Registration]]]:
    """Store registrations (skipping ones already stored) and let them authorize the open alerts
    they cover. Returns what was added and [(event id, registration) authorized]."""
    store.set_meta({"timezone": config.timezone, "site": config.site.name})
    added = store.registrations.add(registrations, at)
    return added, authorize_late(store, added, config.groups, config.registration_window, at)


@dataclass(frozen=True)
class PruneResult:
    events: int
    files_removed: int
    bytes_freed: int
    failures: list[str]
    registrations: int = 0  # expired ones that excused no entry, removed


def prune(store: Store, older_than: timedelta, now: datetime, dry_run: bool = False) -> PruneResult:
    """Remove snapshot files of events older than the cut-off. Rows are marked (`pruned_at`) and
    committed before any file goes, so a crash midway leaves stray files, never silent gaps."""
    cutoff = now - older_than
    events = store.events.unpruned_before(cutoff)
    paths = [Path(p) for event in events for p in event.evidence]
    if dry_run:
        present = [p for p in paths if p.is_file()]
        return PruneResult(len(events), len(present), sum(p.stat().st_size for p in present), [])
    store.events.mark_pruned((event.id for event in events), now)
    expired = store.registrations.prune(cutoff)
    removed, freed, failures = 0, 0, []
    for path in paths:
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            failures.append(f"{path}: {exc.strerror}")
            continue
        removed += 1
        freed += size
    return PruneResult(len(events), removed, freed, failures, expired)


def evidence_state(event: Event) -> str:
    """How the event's snapshot stands, said plainly: present, pruned (when), or missing."""
    if event.pruned_at:
        return f"pruned {event.pruned_at.isoformat()} (retention)"
    missing = [p for p in event.evidence if not Path(p).is_file()]
    if not event.evidence:
        return "none recorded"
    return f"MISSING: {', '.join(missing)}" if missing else "present"


def events_csv(events: list[Event]) -> str:
    rows = (event.row() for event in events)
    return csv_text(EXPORT_COLUMNS, ([row.get(column) for column in EXPORT_COLUMNS] for row in rows))


def events_json(events: list[Event]) -> str:
    rows = [{k: event.row().get(k) for k in EXPORT_COLUMNS} for event in events]
    return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
