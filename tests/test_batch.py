"""`gatewatch analyze` over an NVR export: files given to cameras, strung into continuous
recordings, analysed in parallel, resumable, with bad files reported. Real decoding of real
files (the sample clip cut as recorders cut it), the real model, real SQLite, a real kill -9."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT
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
