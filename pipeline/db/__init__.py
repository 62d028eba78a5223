"""Everything gatewatch keeps in SQLite, and the only place that writes SQL.

    schema.py         tables, indexes, upgrades of older databases
    store.py          `Store`: one connection, write transactions, site facts, the repositories
    base.py           `Repository`: what every repository holds
    events.py         `store.events`: analysis results, events, their review trail, report queries
    registrations.py  `store.registrations`: stored registrations and what each still covers
    deliveries.py     `store.deliveries`: the alert outbox
    users.py          `store.users`: web users and sessions
    center.py         `store.center`: the district centre's copy of every school's events and alarms
    alarms.py         `store.alarms`: one-click and escalated alarms, and the centre's confirmation
    outages.py        `store.outages`: when each live camera was down (the report's availability)
    patrols.py        `store.patrols`: patrol rounds guards recorded

Repositories return dataclasses and take typed values; callers never pass SQL text.
"""

from pipeline.db.alarms import Alarm
from pipeline.db.deliveries import Due
from pipeline.db.events import Event, EventFilter, EventReview, Footage, StoredCrossing, VideoRun
from pipeline.db.outages import Outage, Trouble
from pipeline.db.patrols import PatrolRound
from pipeline.db.registrations import Added
from pipeline.db.store import Store, ThreadStores
from pipeline.db.users import User

__all__ = [
    "Added",
    "Alarm",
    "Due",
    "Event",
    "EventFilter",
    "EventReview",
    "Footage",
    "Outage",
    "PatrolRound",
    "Store",
    "StoredCrossing",
    "ThreadStores",
    "Trouble",
    "User",
    "VideoRun",
]
