"""`gatewatch analyze` over an NVR export: files given to cameras, strung into continuous
recordings, analysed in parallel, resumable, with bad files reported. Real decoding of real
files (the sample clip cut as recorders cut it), the real model, real SQLite, a real kill -9."""

from __future__ import annotations

import os
import pickle
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.offline.footage import Found, find_videos

from .conftest import REPORT, ROOT
from .live import wait_for
from .nvr import HALF_CUTS, Crossings, batch, crossings, cut, files_of, first_half, stored_any, write_config


def test_an_export_of_two_channels_is_analysed_as_two_continuous_recordings(
    tmp_path: Path, reference: Crossings
) -> None:
    """ch01 cut in three (a cut half a second after a person crossed and one between two people
    crossing close together), channel 2 as a Dahua file in its folder, a channel no camera has:
    each crossing is counted once, with the file it happened in, as in the uncut file."""
    export = tmp_path / "export"
    parts = cut(export / "ch01", [240, 510])
    dahua = export / "D2" / "2026-11-28.22.29.50-2026-11-28.22.30.52[M][0@0][0].dav"
    dahua.parent.mkdir(parents=True)
    shutil.copy(cut(tmp_path / "whole", [])[0], dahua)
    stray = cut(export / "other", [], name="ch09")[0]
    config = write_config(tmp_path, {"north-gate": {"channel": 1}, "dorm": {"files": ["*/D2/*"]}})
    db = tmp_path / "out" / "g.db"

    result = batch(config, export, db=db, extra=("--workers", "2"))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert f"skipped {stray}: no camera's files patterns match it and channel 9 is no camera's" in result.stderr
    assert crossings(db, "north-gate") == reference
    # Same footage on another camera: the same crossings (the registrations are north-gate's)
    assert [c[1:4] for c in crossings(db, "dorm")] == [c[1:4] for c in reference]
    stored = files_of(db)
    assert sorted(stored) == sorted([p.name for p in parts] + [dahua.name])
    assert sum(stored[p.name] for p in parts) == len(reference)
    assert stored[parts[0].name] and stored[parts[1].name] and stored[parts[2].name]
    # The summary per camera
    assert "north-gate" in result.stdout and "dorm" in result.stdout
    flagged = sum(c[4] for c in reference)
    row = next(line for line in result.stdout.splitlines() if "north-gate" in line)
    north = [cell.strip() for cell in row.split("│") if cell.strip()]
    ins = sum(1 for c in reference if c[3] == "in")
    assert north[1:] == ["3", "0.02", str(ins), str(len(reference) - ins), str(flagged), "0", "0"], result.stdout

    # Again: every file was analysed with this config, nothing is redone
    before = sqlite3.connect(db).execute("SELECT video, analysed_at FROM videos ORDER BY video").fetchall()
    again = batch(config, export, db=db)
    assert again.returncode == 0, again.stderr
    assert "0 to analyse" in again.stderr and "4 analysed before" in again.stderr
    assert sqlite3.connect(db).execute("SELECT video, analysed_at FROM videos ORDER BY video").fetchall() == before


def test_force_and_a_changed_config_redo_the_files(tmp_path: Path, half_reference: Crossings) -> None:
    export = tmp_path / "export"
    cut(export, HALF_CUTS, frames=first_half())
    config = write_config(tmp_path, {"north-gate": {"channel": 1}})
    db = tmp_path / "out" / "g.db"
    assert batch(config, export, db=db).returncode == 0
    assert crossings(db) == half_reference
    # --force redoes them, without doubling anything
    forced = batch(config, export, db=db, extra=("--force",))
    assert forced.returncode == 0, forced.stderr
    assert "3 to analyse" in forced.stderr and crossings(db) == half_reference
    # A changed config (a moved line) is a different analysis: the files are done again
    config.write_text(config.read_text().replace("- 420", "- 421"), encoding="utf-8")
    changed = batch(config, export, db=db)
    assert "3 to analyse" in changed.stderr and "0 analysed before" in changed.stderr, changed.stderr


def test_a_gap_between_files_is_reported_and_a_bad_file_does_not_stop_the_batch(tmp_path: Path) -> None:
    export = tmp_path / "export"
    first, middle, last = cut(export, [240, 510])
    middle.unlink()  # 27 s of footage missing
    broken = cut(tmp_path / "x", [], name="ch02")[0]
    data = broken.read_bytes()
    (export / broken.name).write_bytes(data[: len(data) // 3])  # truncated in the copy
    config = write_config(tmp_path, {"north-gate": {"channel": 1}, "dorm": {"channel": 2}})
    db = tmp_path / "out" / "g.db"

    result = batch(config, export, db=db)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert f"north-gate: a gap of 27 s between {first.name} and {last.name}; tracks restart there" in result.stderr
    assert f"failed {export / broken.name}:" in result.stdout and "truncated or corrupt" in result.stdout
    assert "1 file(s) failed; the rest are stored" in result.stdout
    assert sorted(files_of(db)) == sorted([first.name, last.name])


@pytest.mark.parametrize(("stop", "workers"), [(signal.SIGKILL, "1"), (signal.SIGINT, "2")], ids=["kill-9", "ctrl-c"])
def test_a_batch_stopped_midway_is_finished_by_the_next_run(
    tmp_path: Path, half_reference: Crossings, stop: signal.Signals, workers: str
) -> None:
    """kill -9 (one worker, in the process) or Ctrl-C (worker processes) once the first files are
    stored: they stay, the next run does only the rest, and the end result is the same as an
    uninterrupted run's."""
    export = tmp_path / "export"
    for channel in (1, 2, 3):
        cut(export, HALF_CUTS, name=f"ch{channel:02d}", frames=first_half())
    config = write_config(tmp_path, {"a": {"channel": 1}, "b": {"channel": 2}, "c": {"channel": 3}})
    db = tmp_path / "out" / "g.db"
    command = [sys.executable, "-m", "pipeline", "analyze", str(export), "--config", str(config), "--db", str(db)]
    command += ["--snapshots", str(db.parent / "snapshots"), "--workers", workers]
    # Its own process group, as a terminal's foreground job: Ctrl-C reaches the workers too.
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        wait_for(lambda: stored_any(db) or process.poll() is not None, 120, "the first files stored")
        assert process.poll() is None, process.communicate()
    finally:
        if process.poll() is None:  # else the assertion above says why it ended
            os.killpg(process.pid, stop)
        _, stderr = process.communicate(timeout=60)
    if stop == signal.SIGINT:
        assert process.returncode == 130 and "Traceback" not in stderr, stderr
        assert "interrupted; every file finished before is stored" in stderr
    done_before = files_of(db)
    assert 0 < len(done_before) < 9

    result = batch(config, export, db=db)
    assert result.returncode == 0, result.stderr
    assert f"{len(done_before)} analysed before" in result.stderr
    assert len(files_of(db)) == 9
    for camera in "abc":
        assert [c[1:4] for c in crossings(db, camera)] == [c[1:4] for c in half_reference]


def test_workers_end_when_the_batch_s_main_process_is_killed(tmp_path: Path) -> None:
    """Issue 24.6: kill -9 of the main process alone (not its group) used to leave both workers
    (about 320 MB each) and multiprocessing's resource tracker running for good."""
    export = tmp_path / "export"
    for channel in (1, 2):
        cut(export, HALF_CUTS, name=f"ch{channel:02d}", frames=first_half())
    config = write_config(tmp_path, {"a": {"channel": 1}, "b": {"channel": 2}})
    db = tmp_path / "out" / "g.db"
    command = [sys.executable, "-m", "pipeline", "analyze", str(export), "--config", str(config), "--db", str(db)]
    command += ["--snapshots", str(db.parent / "snapshots"), "--workers", "2"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        children = wait_for(lambda: started(process.pid), 120, "two workers and the resource tracker")
    finally:
        process.kill()
        process.wait(30)
    killed = time.monotonic()
    wait_for(lambda: not [pid for pid in children if alive(pid)], 60, "the workers and the tracker to end")
    REPORT.append(
        f"batch main process kill -9: its {len(children)} child processes gone {time.monotonic() - killed:.1f} s later"
    )


def started(pid: int) -> list[int]:
    found = children_of(pid)
    return found if len(found) >= 3 else []


def children_of(pid: int) -> list[int]:
    """The processes whose parent is `pid` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def odd_export(root: Path, short_sample: Path) -> Path:
    """An export with one real file and what used to be passed over in silence or hang a glob:
    a symlink loop, a link to nothing, a FIFO and a link to /dev/zero, all named as footage."""
    export = root / "L"
    export.mkdir()
    shutil.copy(short_sample, export / "ch01_20261128222950.mp4")
    (export / "self").symlink_to("../L")  # L/self -> L: a loop
    (export / "ch01_20261128230000.mp4").symlink_to(root / "gone.mp4")
    os.mkfifo(export / "ch01_20261128233000.mp4")
    (export / "ch01_20261129000000.mp4").symlink_to("/dev/zero")
    return export


@pytest.mark.parametrize("form", ["glob", "folder"])
def test_odd_entries_are_reported_and_a_symlink_loop_does_not_hang(
    tmp_path: Path, short_sample: Path, form: str
) -> None:
    """Issue 24.7 and 24.8: `L/**/ch01_*.mp4` through `L/self -> ../L` ran at 100 % CPU for over
    9 minutes; a dangling link, a FIFO and a link to /dev/zero were skipped without a word and the
    batch exited 0. Each is now named, the real file is analysed, and the exit code is 1."""
    export = odd_export(tmp_path, short_sample)
    config = write_config(tmp_path, {"north-gate": {"channel": 1}})
    db = tmp_path / "out" / "g.db"
    target = export if form == "folder" else Path(f"{export}/**/ch01_*.mp4")
    result = batch(config, target, db=db)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert f"failed {export / 'ch01_20261128230000.mp4'}: a link to nothing" in result.stdout
    assert f"failed {export / 'ch01_20261128233000.mp4'}: not a file but a FIFO" in result.stdout
    assert f"failed {export / 'ch01_20261129000000.mp4'}: not a file but a device" in result.stdout
    assert f"failed {export / 'self'}: a link to a folder, not followed" in result.stdout
    assert list(files_of(db)) == ["ch01_20261128222950.mp4"]  # the real one is analysed and stored


def test_thousands_of_failed_files_are_counted_by_reason_and_listed_in_a_file(tmp_path: Path) -> None:
    export = tmp_path / "export"
    export.mkdir()
    for n in range(300):
        (export / f"ch01_20261128{n:06d}.mp4").symlink_to(tmp_path / f"gone{n}.mp4")
    config = write_config(tmp_path, {"north-gate": {"channel": 1}})
    db = tmp_path / "out" / "g.db"
    result = batch(config, export, db=db)
    assert result.returncode == 1, result.stderr
    assert "failed 300 file(s): a link to nothing (its target is gone)" in result.stdout
    assert f"failed {export}" not in result.stdout  # not 300 lines, one per file
    listing = next(db.parent.glob("failed-*.txt"))
    assert len(listing.read_text().splitlines()) == 300
    assert str(listing) in result.stdout.replace("\n", "")


def test_a_folder_that_cannot_be_read_is_reported() -> None:
    """Issue 24.8: an unreadable sub-folder was passed over without a word. Root reads every folder,
    so as root the search runs in a forked child that has become `nobody` (in a folder everyone
    may enter)."""
    base = Path(tempfile.mkdtemp(prefix="gatewatch-unreadable-"))
    locked = base / "D2"
    try:
        base.chmod(0o755)
        (base / "D1").mkdir()
        (base / "D1" / "ch01_20261128230000.mp4").write_bytes(b"")
        locked.mkdir()
        (locked / "ch02_20261128230000.mp4").write_bytes(b"")
        locked.chmod(0)
        found = _as_nobody(lambda: find_videos([str(base)]))
        assert [path.name for path in found.files] == ["ch01_20261128230000.mp4"]
        assert found.skipped == [(locked, "cannot read this folder (Permission denied)")]
    finally:
        locked.chmod(0o755)
        shutil.rmtree(base)


def _as_nobody(work: Callable[[], Found]) -> Found:
    """`work()` in a forked child that gave up root first (as anyone else, just `work()`)."""
    if os.geteuid() != 0:
        return work()
    read, write = os.pipe()
    child = os.fork()
    if child == 0:
        try:
            os.close(read)
            os.setgid(65534)
            os.setuid(65534)
            os.write(write, pickle.dumps(work()))
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as answer:
        data = answer.read()
    os.waitpid(child, 0)
    return pickle.loads(data)
