"""Alert latency of `gatewatch serve`: from the frame a person crosses the line in to the MQTT
message reaching a subscriber, with N cameras streaming over RTSP at once.

    .venv/bin/python -m benchmarks.live_latency [--cameras 4] [--seconds 90]

Each camera is a separate RTSP session on GStreamer's server (the tests' `rtsp_server.py`),
streaming the first 10 s of the sample clip (one entry, person A) and then ending, so gatewatch
reconnects and sees the entry again: one flagged event per camera every ~12 s. Times:

    crossing frame -> stored     confirmation (crossing.confirm_s of tracking on the new side),
                                 detector queue, rules, snapshot JPEGs, SQLite commit (fsync)
    stored -> MQTT received      outbox wake-up, publish, broker, subscriber

The event's `time` is the wall-clock time gatewatch received the crossing frame, so the first
span is measured on one clock; the subscriber runs on the same machine.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path

from tests.live import Broker, RtspServer, Serve, Subscriber, cut_clip, write_config


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def row(name: str, values: list[float]) -> str:
    if not values:
        return f"| {name} | - | - | - | - |"
    ms = [v * 1000 for v in values]
    return f"| {name} | {statistics.median(ms):.0f} | {percentile(ms, 0.95):.0f} | {max(ms):.0f} | {len(ms)} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=90)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        clip = cut_clip(folder / "clip.mp4", 10)
        broker = Broker(folder).start()
        subscriber = Subscriber(broker.port)
        servers = [RtspServer(clip, folder / f"rtsp{i}.log").start() for i in range(args.cameras)]
        cameras = {f"gate-{i + 1}": {"source": s.url()} for i, s in enumerate(servers)}
        config = write_config(folder, cameras, mqtt={"host": "127.0.0.1", "port": broker.port})
        serve = Serve(folder, config).start()
        try:
            time.sleep(args.seconds)
            health = serve.client().get("/api/cameras").json()
            status = Path(f"/proc/{serve.proc.pid}/status").read_text()
            peak_rss = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))
        finally:
            serve.stop()
            for server in servers:
                server.kill()
            broker.stop()
        connection = sqlite3.connect(serve.db)
        stored = {
            row[0]: datetime.fromisoformat(row[1]) for row in connection.execute("SELECT id, created_at FROM events")
        }
        connection.close()
        to_store, to_mqtt, total = [], [], []
        for arrived, _topic, payload, _retained in subscriber.on("/events"):
            event = json.loads(payload)
            crossed = datetime.fromisoformat(event["time"]).timestamp()
            committed = stored[event["id"]].timestamp()
            to_store.append(committed - crossed)
            to_mqtt.append(arrived - committed)
            total.append(arrived - crossed)
        subscriber.close()
    print(f"\n{args.cameras} cameras over RTSP (640x480, 10 fps, analysed at 5 fps), {args.seconds:g} s\n")
    print("| span | median ms | p95 ms | max ms | events |")
    print("|---|---|---|---|---|")
    print(row("crossing frame -> stored (row + snapshots)", to_store))
    print(row("stored -> MQTT received", to_mqtt))
    print(row("crossing frame -> MQTT received", total))
    print(f"\nserve process peak RSS: {int(peak_rss) / 1024:.0f} MB")
    print("\n| camera | fps in | frames analysed | dropped | detector ms |")
    print("|---|---|---|---|---|")
    for camera in health:
        print(
            f"| {camera['name']} | {camera['fps_in']:.1f} | {camera['frames_analysed']} | {camera['frames_dropped']} "
            f"| {camera['detector_ms']} |"
        )


if __name__ == "__main__":
    main()
