"""What a crash, a full or read-only disk, a held lock and a run from another folder do to stored
results: found by fault drills (README: What goes wrong, and what gatewatch does). Real analysis
of the sample clip, a real kill -9 of a real process, real SQLite on real (small, full or
read-only) filesystems; the other commands run in process (see conftest)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import pytest

from pipeline.db import Store
from pipeline.db import store as store_module
from pipeline.errors import GatewatchError
from pipeline.registrations import Registration

from . import disks
from .conftest import ROOT, SAMPLE, analyze, assert_user_error, gatewatch, rows
from .disks import fill, read_only


@pytest.fixture
def small_disk() -> Iterator[Callable[..., AbstractContextManager[Path]]]:
    """Mounts real small disks (tmpfs): root only. Without root the test is skipped, and the
    summary says why (these tests are marked `needs_root`; CI runs as root)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small disk needs root: run as root, or deselect with -m 'not needs_root'")

    @contextmanager
    def mount(path: Path, size: str = "1m") -> Iterator[Path]:
        try:
            with disks.small_disk(path, size) as disk:
                yield disk
        except disks.CannotMount as exc:  # root in a container without the right to mount
            pytest.skip(str(exc))

    yield mount


SmallDisk = Callable[..., AbstractContextManager[Path]]


def jpegs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in (".jpg", ".tmp"))


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


# --- evidence paths -------------------------------------------------------------------------------


def test_evidence_found_from_any_folder(demo_copy: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Relative --db and --snapshots, given from the project folder; then read, pruned and served
    from elsewhere."""
    result = gatewatch(
        "analyze", SAMPLE, "--config", "configs/demo.yaml", "--db", "out/g.db", "--snapshots", "out/snaps",
        cwd=demo_copy,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    db = demo_copy / "out" / "g.db"
    events = rows(db, "events")
    assert all(Path(e["snapshot_path"]).is_absolute() and Path(e["snapshot_path"]).is_file() for e in events)
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    assert "evidence    present" in ok(gatewatch("events", "show", "1", "--db", db, cwd=elsewhere))
    assert "removed 6 file(s)" in ok(gatewatch("prune", "--older-than", "0d", "--db", db, cwd=elsewhere))
    assert not [*(demo_copy / "out" / "snaps").rglob("*.jpg"), *(demo_copy / "out" / "snaps").rglob("*.mp4")]


def test_relative_evidence_paths_of_an_old_database_are_made_absolute(analysed: Path) -> None:
    demo_copy = analysed
    db = demo_copy / "out" / "gatewatch.db"
    connection = sqlite3.connect(db)
    with connection:  # as schema 3 stored them: relative to the folder analyze ran in
        for event_id, full, crop in connection.execute("SELECT id, snapshot_path, crop_path FROM events").fetchall():
            relative = [str(Path(p).relative_to(demo_copy)) for p in (full, crop)]
            connection.execute("UPDATE events SET snapshot_path = ?, crop_path = ? WHERE id = ?", [*relative, event_id])
        connection.execute("PRAGMA user_version = 3")
    connection.close()
    assert "evidence    present" in ok(gatewatch("events", "show", "2", "--db", db, cwd=ROOT))
    assert all(Path(e["snapshot_path"]).is_file() and Path(e["crop_path"]).is_file() for e in rows(db, "events"))
    assert str(rows(db, "events")[0]["snapshot_path"]).startswith(str(demo_copy / "out" / "snapshots"))


# --- kill -9 --------------------------------------------------------------------------------------

KILL_AT = """
import os, signal, sys
import pipeline.files, pipeline.db.events
point, count = sys.argv[1], int(sys.argv[2])
calls = []
def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
if point == "commit":
    pipeline.db.events.Events.save_run = die
else:  # the n-th snapshot file, between writing its temporary file and renaming it
    real_replace = os.replace
    def replace(src, dst):
        calls.append(dst)
        if len(calls) == count:
            die()
        real_replace(src, dst)
    pipeline.files.os.replace = replace
from pipeline.cli import main
sys.argv = ["gatewatch", *sys.argv[3:]]
main()
"""


@pytest.mark.parametrize(("point", "count"), [("commit", 0), ("snapshot", 2)])
def test_kill_9_leaves_nothing_a_rerun_does_not_clean(
    demo_copy: Path, half_sample: Path, point: str, count: int
) -> None:
    """The first half of the sample (one flagged entry, C): killed as it commits, or between writing
    C's crop and renaming it into place."""
    snaps, db = demo_copy / "out" / "snapshots", demo_copy / "out" / "gatewatch.db"
    args = ["analyze", half_sample, "--config", demo_copy / "configs" / "demo.yaml", "--db", db, "--snapshots", snaps]
    killed = subprocess.run(
        [sys.executable, "-c", KILL_AT, point, str(count), *map(str, args)], capture_output=True, text=True, cwd=ROOT
    )
    assert killed.returncode == -9, killed.stderr
    left = jpegs(snaps)
    assert left, "the drill must leave something behind to clean"
    assert any(p.suffix == ".tmp" for p in left) == (point == "snapshot")
    assert analyze(demo_copy, half_sample).returncode == 0
    referenced = {p for e in rows(db, "events") for p in (e["snapshot_path"], e["crop_path"])}
    assert {str(p) for p in jpegs(snaps)} == referenced and len(referenced) == 2


def test_sweep_spares_a_run_in_progress_and_other_videos(analysed: Path) -> None:
    """A second run of the same camera must not remove files a running one has not committed yet,
    nor snapshots of the camera's other videos."""
    import fcntl

    demo_copy = analysed
    snaps = demo_copy / "out" / "snapshots"
    day = next(p for p in (snaps / "north-gate").iterdir() if p.is_dir())
    stray = day / "223015_north-gate_20261128222950_f1_t1_gate.jpg"
    stray.write_bytes(b"not committed yet")
    other = day / "223015_other-clip_f1_t1_gate.jpg"
    other.write_bytes(b"another video's")
    with (snaps / "north-gate" / ".writers.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_SH)  # a run in progress
        assert analyze(demo_copy).returncode == 0
        assert stray.exists()
    assert analyze(demo_copy).returncode == 0
    assert not stray.exists() and other.exists()


# --- SQLite at start: locks, read-only and full disks ---------------------------------------------


def test_write_lock_held_past_the_busy_timeout_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "g.db"
    Store(db).close()
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_MS", 200)
    holder = sqlite3.connect(db)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with Store(db) as store, pytest.raises(GatewatchError, match=r"g\.db: could not write to the database \("):
            store.set_meta({"site": "x"})
    finally:
        holder.rollback()
        holder.close()


def test_full_disk_at_database_creation_leaves_no_empty_database(demo_copy: Path, small_disk: SmallDisk) -> None:
    with small_disk(demo_copy / "disk") as disk:
        fill(disk)
        result = analyze(demo_copy, db=disk / "g.db", snapshots=demo_copy / "snaps")
        assert_user_error(result, "g.db: ")
        assert sorted(p.name for p in disk.iterdir()) == ["filler"]


def test_full_disk_and_read_only_database_at_start(demo_copy: Path, small_disk: SmallDisk) -> None:
    with small_disk(demo_copy / "disk", "2m") as disk:
        db = disk / "g.db"
        assert analyze(demo_copy, db=db).returncode == 0
        before = rows(db, "events")
        fill(disk)
        assert_user_error(analyze(demo_copy, db=db), "g.db: ", "full")
        (disk / "filler").unlink()
        read_only(disk)
        assert_user_error(analyze(demo_copy, db=db), "disk: cannot write here (Read-only file system)")
        # Reading needs no write access.
        assert "2 event(s)" in ok(gatewatch("events", "list", "--db", db))
        assert "Event #1" in ok(gatewatch("events", "show", "1", "--db", db))
        assert rows(db, "events") == before


def test_full_jsonl_disk_says_what_was_stored(demo_copy: Path, small_disk: SmallDisk) -> None:
    with small_disk(demo_copy / "disk", "64k") as disk:
        fill(disk)
        result = analyze(demo_copy, SAMPLE, "--jsonl", disk / "crossings.jsonl")
        assert_user_error(result, "crossings.jsonl: cannot write", "IS stored: ", "2 flagged event(s)")
    assert len(rows(demo_copy / "out" / "gatewatch.db", "events")) == 2


# --- registrations at scale -----------------------------------------------------------------------


def swipes(count: int, start: datetime, origin: str) -> list[Registration]:
    return [
        Registration(
            "north-gate", start + timedelta(seconds=i), start + timedelta(seconds=i), 1, ref=f"C{i}", origin=origin
        )
        for i in range(count)
    ]


def test_config_csv_sync_is_set_based(tmp_path: Path) -> None:
    """One SQL variable per key used to break at ~250,000 rows ('too many SQL variables', SQLite's
    limit on this build). The limit is lowered to 1,000 here, so 5,000 rows prove the same."""
    start = datetime(2026, 11, 1, tzinfo=UTC)
    origin = "config /site/registrations.csv"
    many = [
        Registration(**{**r.__dict__, "origin": f"{origin} row {i + 2}"})
        for i, r in enumerate(swipes(5_000, start, origin))
    ]
    with Store(tmp_path / "g.db") as store:
        store.db.conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 1_000)
        store.registrations.sync(origin, many, start)
        store.registrations.sync(origin, many[:-5], start)  # five rows removed from the file
        assert store.db.execute("SELECT count(*) FROM registrations").fetchone()[0] == 4_995
        assert len(store.registrations.valid(overlapping=(start, start + timedelta(seconds=9)))) == 10
        plan = " ".join(
            str(row[-1])
            for row in store.db.execute(
                "EXPLAIN QUERY PLAN SELECT id FROM registrations r WHERE julianday(r.valid_until) >= julianday(?)"
                " AND julianday(r.valid_from) <= julianday(?)",
                [start.isoformat(), start.isoformat()],
            )
        )
        assert "USING INDEX registrations_valid" in plan


def test_unchanged_config_csv_is_not_synced_again(analysed: Path, short_sample: Path) -> None:
    db = analysed / "out" / "gatewatch.db"
    connection = sqlite3.connect(db)
    with connection:  # a row only a re-sync would put back
        connection.execute("DELETE FROM registrations WHERE id = (SELECT max(id) FROM registrations)")
    connection.close()
    # Analysing another recording syncs the config's CSV when it changed, and only then.
    assert analyze(analysed, short_sample).returncode == 0
    assert len(rows(db, "registrations")) == 1
    csv = analysed / "configs" / "registrations.csv"
    csv.write_text(csv.read_text() + "\n")  # same rows, another file: synced again
    assert analyze(analysed, short_sample).returncode == 0
    assert len(rows(db, "registrations")) == 2


def test_prune_removes_expired_registrations_that_excused_nobody(analysed: Path) -> None:
    demo_copy = analysed
    db = demo_copy / "out" / "gatewatch.db"
    used = {c["registration_id"] for c in rows(db, "crossings") if c["registration_id"]}
    ok(gatewatch("register", "--camera", "north-gate", "--at", "2026-11-28 03:00", "--by", "Sun",
                 "--config", demo_copy / "configs" / "demo.yaml", "--db", db))  # fmt: skip
    printed = ok(gatewatch("prune", "--older-than", "0d", "--db", db))
    assert f"{3 - len(used)} expired registration(s) that excused no entry removed" in printed
    assert {r["id"] for r in rows(db, "registrations")} == used


def test_image_is_not_a_video(demo_copy: Path) -> None:
    capture = cv2.VideoCapture(str(SAMPLE))
    ok_, frame = capture.read()
    capture.release()
    assert ok_
    for name in ("still.jpg", "still.png"):
        cv2.imwrite(str(demo_copy / name), frame)
        result = analyze(demo_copy, demo_copy / name, "--start", "2026-11-28T22:29:50+08:00")
        assert_user_error(result, name, "a still image (", "not a video")
    assert not (demo_copy / "out" / "gatewatch.db").exists()
