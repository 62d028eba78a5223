"""The live view's cost against its viewers (issue 25): one camera's motion JPEG watched by 1 and
by 10 pages at once, through the box's real web app (uvicorn) fed with replayed analysed frames.
Each analysed frame is drawn and encoded once for every viewer, so 10 viewers cost the server
about what 1 does; before, each viewer had its own encode of every frame.

    .venv/bin/python -m benchmarks.live_view [--seconds 20] [--out BENCHMARKS.md]

Prints, per number of viewers: frames delivered per viewer, frames encoded, and the server
process's CPU seconds (its threads' encodes included) per second of viewing; then the ratio."""

from __future__ import annotations

import argparse
import shutil
import tempfile
import threading
import time
from pathlib import Path

import httpx

from benchmarks.run import ROOT, Report, write_section
from tests.box import replay, web_box
from tests.conftest import DEMO_CONFIG, SAMPLE
from tests.live import PASSWORD


def watch(url: str, cookies: httpx.Cookies, seconds: float, counts: list[int], index: int) -> None:
    client = httpx.Client(base_url=url, timeout=30, cookies=cookies)
    deadline = time.monotonic() + seconds
    with client.stream("GET", "/api/cameras/north-gate/live.mjpg") as stream:
        for chunk in stream.iter_bytes():
            counts[index] += chunk.count(b"--frame\r\n")
            if time.monotonic() >= deadline:
                break


def run(viewers: int, seconds: float, folder: Path) -> dict[str, float]:
    box = web_box(
        DEMO_CONFIG, folder / f"view-{viewers}.db", folder / "snapshots", frames={"north-gate": replay(SAMPLE, 10)}
    )
    jpegs = box.app.state.live_jpegs
    with box.served() as url:
        guard = httpx.Client(base_url=url, timeout=30)  # one login (logins are hashed one at a time)
        assert guard.post("/api/login", json={"username": "guard", "password": PASSWORD}).is_success
        counts = [0] * viewers
        threads = [
            threading.Thread(target=watch, args=(url, guard.cookies, seconds, counts, n)) for n in range(viewers)
        ]
        cpu, started = time.process_time(), time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed, used = time.monotonic() - started, time.process_time() - cpu
    # the clients run in this process too: their share (parsing the stream) is in `used` as well
    return {
        "viewers": viewers,
        "per_viewer": sum(counts) / viewers,
        "encoded": jpegs.encoded,
        "cpu_per_s": used / elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()
    started = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix="gatewatch-live-view-"))
    try:
        rows = [run(n, args.seconds, folder) for n in (1, 10)]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    report = Report()
    report.heading(
        "Live view: one camera, 1 and 10 viewers",
        f"The box's web app (uvicorn) with one camera replayed at 5 analysed frames a second (640x480), its "
        f"motion JPEG watched by 1, then 10 clients for {args.seconds:g} s each; CPU of the whole process (server "
        "and the clients, which run in it).",
    )
    report.table(
        ["viewers", "frames per viewer", "frames encoded", "CPU s per s"],
        [
            [f"{r['viewers']:.0f}", f"{r['per_viewer']:.0f}", f"{r['encoded']:.0f}", f"{r['cpu_per_s']:.2f}"]
            for r in rows
        ],
    )
    one, ten = rows
    encodes, cpu = ten["encoded"] / max(one["encoded"], 1), ten["cpu_per_s"] / max(one["cpu_per_s"], 1e-9)
    report.text(
        f"10 viewers against 1: **{encodes:.2f}x the encodes** (each frame encoded once for all; one encode per "
        f"viewer per frame before, 10x), {cpu:.2f}x the CPU (the rest is sending and the clients' own reading)."
    )
    print("\n".join(report.parts))
    write_section(args.out, report, "benchmarks.live_view", started, "Live view section")


if __name__ == "__main__":
    main()
