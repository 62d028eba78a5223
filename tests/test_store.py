"""The store's promises: one transaction per run, and evidence never removed from under a row."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.config import load_config
from pipeline.db import Store
from pipeline.db import store as store_module
from pipeline.errors import GatewatchError
from pipeline.offline.analyze import analyze
from pipeline.vocabulary import EventStatus

from .conftest import SAMPLE


def count(db: Path, table: str) -> int:
    connection = sqlite3.connect(db)
    try:
        return connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        connection.close()


def test_failed_rerun_keeps_the_earlier_run_and_its_snapshots(analysed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(analysed / "configs" / "demo.yaml")
    db, snapshots = analysed / "out" / "gatewatch.db", analysed / "out" / "snapshots"
    evidence = sorted(snapshots.rglob("*.jpg"))
    crossings = count(db, "crossings")
    assert count(db, "events") == 2 and len(evidence) == 4

    # Another writer holds the database while the re-run tries to commit (and holds it past the
    # re-run's wait for it, shortened here from the 30 s a real run waits).
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_MS", 200)
    blocker = sqlite3.connect(db)

    def hold_lock(*_: int) -> None:
        if not blocker.in_transaction:
            blocker.execute("BEGIN IMMEDIATE")

    with pytest.raises(GatewatchError, match=r"could not save results .*nothing was written"):
        analyze(config, SAMPLE, db_path=db, snapshot_dir=snapshots, analysed_at=datetime.now(UTC), progress=hold_lock)
    blocker.rollback()
    blocker.close()

    assert sorted(snapshots.rglob("*.jpg")) == evidence
    assert all(path.stat().st_size > 0 for path in evidence)
    assert count(db, "events") == 2 and count(db, "crossings") == crossings


def test_each_delivery_carries_the_change_it_was_queued_for_and_a_key_of_its_own(analysed: Path) -> None:
    """Issue 24.12: deliveries are at least once; a receiver recognises a repeat by its key, and
    two changes sent late (the broker was down through both) are still two different messages."""
    with Store(analysed / "out" / "gatewatch.db") as store:
        event = store.events.get(1)
        assert event is not None and event.status == EventStatus.NEW
        at = datetime.now(UTC)
        store.deliveries.queue(event.id, ["hook"], at)
        with store.write():
            store.events.review(event, EventStatus.ACKNOWLEDGED, by="guard", at=at, note="", registration_id=None)
        store.deliveries.queue(event.id, ["hook"], at)
        due = store.deliveries.due("hook", datetime.now(UTC), 10)
        assert [d.event.status for d in due if d.event] == [EventStatus.NEW, EventStatus.ACKNOWLEDGED]
        assert len({d.key for d in due}) == 2
        again = store.deliveries.due("hook", datetime.now(UTC), 10)  # not sent yet: the same keys come back
        assert [d.key for d in again] == [d.key for d in due]
