"""Fault and abuse drills: what a crash, a camera outage, a full disk and a flood of requests do.
Prints a Markdown section for README ("What goes wrong, and what gatewatch does").

    .venv/bin/python -m benchmarks.drills [--kills 10] [--flood-s 20]

Real components throughout: `gatewatch analyze` killed with SIGKILL at seeded random moments,
GStreamer's RTSP server killed and restarted, tmpfs disks that fill up (needs root to mount),
`gatewatch serve` with two looping cameras flooded over HTTP. Needs the test install
(scripts/install.sh test), not `../shared`.
"""

from __future__ import annotations

import argparse
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from pipeline.config import CameraConfig, LiveConfig
from pipeline.live.stream import LiveStream
from tests.disks import CannotMount, fill, small_disk
from tests.live import ROOT, SAMPLE, RtspServer, Serve, cut_clip, wait_for, write_config

DEMO = ROOT / "configs" / "demo.yaml"


def gatewatch(*args: object, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipeline", *map(str, args)], capture_output=True, text=True, **kwargs)


def unreferenced(db: Path, snaps: Path) -> list[Path]:
    referenced: set[str] = set()
    if db.exists():
        connection = sqlite3.connect(db)
        referenced = {p for row in connection.execute("SELECT snapshot_path, crop_path FROM events") for p in row}
        connection.close()
    return [p for p in snaps.rglob("*") if p.suffix in (".jpg", ".tmp") and str(p) not in referenced]


def crash_drill(kills: int, folder: Path) -> list[str]:
    """kill -9 at random moments of `analyze`, then a re-run into the same database and folder."""
    rng = random.Random(13)
    args = ["analyze", SAMPLE, "--config", DEMO]
    clean = folder / "clean"
    started = time.monotonic()
    gatewatch(*args, "--db", clean / "g.db", "--snapshots", clean / "snaps")
    length = time.monotonic() - started
    events_clean = sqlite3.connect(clean / "g.db").execute("SELECT count(*) FROM events").fetchone()[0]
    left_after_kill, left_after_rerun, consistent = [], [], 0
    for trial in range(kills):
        run = folder / f"kill{trial}"
        db, snaps = run / "g.db", run / "snaps"
        command = [sys.executable, "-m", "pipeline", *map(str, args), "--db", db, "--snapshots", snaps]
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, length * 0.95))
        proc.send_signal(signal.SIGKILL)
        if proc.wait() != -signal.SIGKILL:
            continue  # it had finished: not a kill
        left_after_kill.append(len(unreferenced(db, snaps)))
        rerun = gatewatch(*args, "--db", db, "--snapshots", snaps)
        left_after_rerun.append(len(unreferenced(db, snaps)))
        connection = sqlite3.connect(db)
        ok = connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        events = connection.execute("SELECT count(*) FROM events").fetchone()[0]
        connection.close()
        consistent += rerun.returncode == 0 and ok and events == events_clean
    killed = len(left_after_kill)
    return [
        f"- **kill -9 during `analyze`** ({killed} kills at random moments of a {length:.0f} s run): "
        f"{sum(n > 0 for n in left_after_kill)} left files no row points at (up to {max(left_after_kill)}); "
        f"the re-runs left {sum(left_after_rerun)}, and {consistent} of {killed} databases passed SQLite's "
        f"integrity check holding exactly the clean run's {events_clean} events.",
    ]


def outage_drill(folder: Path) -> list[str]:
    """A camera that goes away for a while and comes back, with the backoff near its 30 s cap."""
    clip = cut_clip(folder / "clip.mp4", 10)
    return [_outage(clip, folder, away) for away in (5.0, 40.0)]


def _outage(clip: Path, folder: Path, away: float) -> str:
    server = RtspServer(clip, folder / "rtsp.log").start()
    live = LiveConfig(reconnect_min_s=1, reconnect_max_s=30, stall_timeout_s=5, open_timeout_s=5)
    stream = LiveStream("gate", CameraConfig(source=server.url()), live, 5, ZoneInfo("UTC"), Path)
    stream.start()
    try:
        wait_for(lambda: stream.health.frames_in > 10, 20, "frames")
        server.kill()
        time.sleep(away)
        waiting = stream.health.detail
        before = stream.health.frames_in
        server = RtspServer(clip, folder / "rtsp.log", port=server.port).start()
        back = time.monotonic()
        wait_for(lambda: stream.health.frames_in > before, 60, "frames again")
        took = time.monotonic() - back
    finally:
        stream.stop()
        stream.join(10)
        server.kill()
    return (
        f'- **camera away {away:.0f} s** (state then: "{waiting}"): frames again {took:.1f} s after its server was back'
    )


def full_disk_drill(folder: Path) -> list[str]:
    args = ["analyze", SAMPLE, "--config", DEMO, "--snapshots", folder / "snaps"]
    lines = []
    try:
        with small_disk(folder / "disk", "2m") as disk:
            fill(disk)
            new = gatewatch(*args, "--db", disk / "new.db")
            left = sorted(p.name for p in disk.iterdir() if p.name != "filler") or "none"
            lines.append(
                f"- **full disk, new database**: exit {new.returncode}, `{new.stderr.strip()[:160]}`; "
                f"files left on that disk: {left}"
            )
            (disk / "filler").unlink()
            gatewatch(*args, "--db", disk / "g.db")
            fill(disk)
            full = gatewatch(*args, "--db", disk / "g.db")
            lines.append(f"- **full disk, existing database**: exit {full.returncode}, `{full.stderr.strip()[:160]}`")
        with small_disk(folder / "jsonl", "64k") as disk:
            fill(disk)
            jsonl = gatewatch(*args, "--db", folder / "j.db", "--jsonl", disk / "c.jsonl")
            lines.append(f"- **full disk for `--jsonl`**: exit {jsonl.returncode}, `{jsonl.stderr.strip()[:230]}...`")
    except CannotMount:
        lines.append("- full disk: not measured (mounting a small tmpfs needs root)")
    return lines


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def flood_drill(folder: Path, seconds: float) -> list[str]:
    clip = cut_clip(folder / "clip.mp4", 10)
    cameras = {f"gate-{i}": {"source": str(clip), "loop": True} for i in (1, 2)}
    serve = Serve(folder, write_config(folder, cameras)).start()
    lines = []
    try:
        api = serve.client("guard")
        token = api.post("/api/login", json={"username": "guard", "password": "guard-pass-1"}).json()["token"]
        wait_for(lambda: all(c["state"] == "live" for c in api.get("/api/cameras").json()), 30, "cameras live")

        def dropped() -> tuple[int, int]:
            cams = api.get("/api/cameras").json()
            return sum(c["frames_dropped"] for c in cams), sum(c["frames_sampled"] for c in cams)

        d0, s0 = dropped()
        time.sleep(seconds)
        d1, s1 = dropped()
        statuses: list[int] = []
        latencies: list[float] = []
        lock = threading.Lock()
        stop = time.monotonic() + seconds

        def hammer() -> None:
            with httpx.Client(base_url=serve.url, headers={"Authorization": f"Bearer {token}"}, timeout=120) as c:
                while time.monotonic() < stop:
                    started = time.monotonic()
                    try:
                        code = c.get("/api/events", params={"limit": 200}).status_code
                    except httpx.HTTPError:
                        code = 0
                    with lock:
                        statuses.append(code)
                        latencies.append(time.monotonic() - started)

        with ThreadPoolExecutor(64) as pool:
            for _ in range(64):
                pool.submit(hammer)
        d2, s2 = dropped()
        health = httpx.get(f"{serve.url}/api/health", timeout=30)
        ms = sorted(v * 1000 for v in latencies)
        served = statuses.count(200)
        lines.append(
            f"- **flood of `/api/events`** (64 clients as fast as they can, {seconds:.0f} s): "
            f"{len(statuses)} requests, {served / seconds:.0f}/s served, {statuses.count(503)} answered 503 at once, "
            f"{sum(c not in (200, 503) for c in statuses)} other; latency p50 {statistics.median(ms):.0f} ms, "
            f"p99 {ms[int(len(ms) * 0.99) - 1]:.0f} ms. Frames dropped by the two cameras: "
            f"{(d1 - d0) / max(1, s1 - s0):.1%} before, {(d2 - d1) / max(1, s2 - s1):.1%} during; "
            f"health answered {health.status_code}"
        )

        wrong = [
            httpx.post(f"{serve.url}/api/login", json={"username": "admin", "password": "x" * 10}).status_code
            for _ in range(10)
        ]
        before = peak_rss_mb(serve.proc.pid)
        started = time.monotonic()

        def guess(n: int) -> int:
            body = {"username": f"nobody-{n}", "password": "guess-guess"}
            return httpx.post(f"{serve.url}/api/login", json=body, timeout=120).status_code

        with ThreadPoolExecutor(40) as pool:
            codes = list(pool.map(guess, range(40)))
        took = time.monotonic() - started
        answers = ", ".join(f"{codes.count(c)} x {c}" for c in sorted(set(codes)))
        lines.append(
            f"- **10 wrong passwords in a row for one user**: {' '.join(map(str, wrong))}. **40 concurrent logins "
            f"as unknown users**: peak memory of `serve` {before:.0f} -> {peak_rss_mb(serve.proc.pid):.0f} MB, "
            f"all answered within {took:.1f} s ({answers})"
        )
    finally:
        serve.stop()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--flood-s", type=float, default=20)
    args = parser.parse_args()
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name in ("crash", "outage", "disk", "flood"):
            (folder / name).mkdir()
        for drill in (
            lambda: crash_drill(args.kills, folder / "crash"),
            lambda: outage_drill(folder / "outage"),
            lambda: full_disk_drill(folder / "disk"),
            lambda: flood_drill(folder / "flood", args.flood_s),
        ):
            lines += drill()
            print(lines[-1], flush=True)
    print()
    print("\n".join(lines))


if __name__ == "__main__":
    main()
