"""The store's promises: one transaction per run, and evidence never removed from under a row."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.config import load_config
from pipeline.db import store as store_module
from pipeline.errors import GatewatchError
from pipeline.offline.analyze import analyze

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
