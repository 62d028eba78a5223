"""Registrations at scale: a config CSV of N rows (a year of card swipes), imported, synced and
matched while the sample clip is analysed.

    .venv/bin/python -m benchmarks.registrations_scale [--rows 1000000]

Prints, for 0 and N rows: the first `analyze` (parses and stores the CSV), a second one (same
file: not parsed again), an `analyze` after one row changed (parsed and synced set-based), and
`registrations import` of a separate N-row export; seconds and peak memory of each, and the
ratios against the run without registrations. The rows lie on the days before the clip, as a
site's history does; a handful fall within the clip, so matching has work to do.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from tests.live import ROOT, SAMPLE

CLIP_START = datetime(2026, 11, 28, 22, 29, 50)


def write_rows(path: Path, rows: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["time", "camera", "count", "name", "ref", "source"])
        for i in range(rows):
            at = CLIP_START - timedelta(seconds=30 * (i + 1))
            writer.writerow([f"{at:%Y-%m-%d %H:%M:%S}", "north-gate", 1, f"swipe {i}", f"C{i:07d}", "card_swipe"])
        for i, second in enumerate((10, 45)):  # two within the clip, as in the demo's CSV
            at = CLIP_START + timedelta(seconds=second)
            writer.writerow([f"{at:%Y-%m-%d %H:%M:%S}", "north-gate", 1, f"visitor {i}", "", "visitor_book"])


def timed(*args: object) -> tuple[float, float, str]:
    """Seconds, peak RSS in MB of the command (its own, from wait4) and its last output line."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, "-m", "pipeline", *map(str, args)], stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        took = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if os.waitstatus_to_exitcode(status) not in (0, 2):
        raise SystemExit(stderr)
    lines = [line for line in stdout.splitlines() if line.strip()]
    return took, usage.ru_maxrss / 1024, lines[-1] if lines else stderr.strip()[:100]


def measure(folder: Path, rows: int) -> dict[str, tuple[float, float, str]]:
    config = folder / "site.yaml"
    csv_path = folder / "registrations.csv"
    shutil.copy(ROOT / "configs" / "demo.yaml", config)
    text = config.read_text().replace("../sample_videos/", f"{SAMPLE.parent}/")
    config.write_text(text)
    write_rows(csv_path, rows)
    db, snaps = folder / "g.db", folder / "snaps"
    analyze = ["analyze", SAMPLE, "--config", config, "--db", db, "--snapshots", snaps]
    out = {"first analyze": timed(*analyze), "same CSV again": timed(*analyze)}
    with csv_path.open("a", encoding="utf-8") as handle:
        handle.write(f"{CLIP_START:%Y-%m-%d} 23:59:00,north-gate,1,late edit,,guard\n")
    out["one row changed"] = timed(*analyze)
    export = folder / "export.csv"
    write_rows(export, rows)
    out["import export"] = timed(
        "registrations", "import", export, "--by", "office", "--config", config, "--db", folder / "import.db"
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    results = {}
    for rows in (0, args.rows):
        with tempfile.TemporaryDirectory() as tmp:
            results[rows] = measure(Path(tmp), rows)
    print(f"| step | {args.rows:,} rows: s | MB | x the run with none | output |")
    print("|---|---|---|---|---|")
    for step, (took, peak, line) in results[args.rows].items():
        base = results[0][step][0]
        print(f"| {step} | {took:.1f} | {peak:.0f} | {took / base:.1f} | {line[:70]} |")


if __name__ == "__main__":
    main()
