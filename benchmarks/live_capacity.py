"""Live capacity (issue 25): `gatewatch serve` with N cameras over RTSP on this machine, a mix of
scenes per camera, for N = 4, 8, 16, 32 in one run.

    .venv/bin/python -m benchmarks.live_capacity [--cameras 4 8 16 32] [--seconds 120] [--only SCENE]

The mix, one in three cameras each (all H.264 640x480 at 10 fps, GStreamer's RTSP server, one
session for the whole run, its 10 s clip repeated):

    gate by day      the sample's first 10 s: people in view most of the time, one entry each loop
    gate at night    the same seconds as an infrared camera shows them (`night_looks`, ir): grey,
                     noise, bloom; the same entry
    corridor         the gate with nobody there, in IR, sensor noise only: what most cameras show
                     most of the night

Per N: analysed frames per second per camera (mean and lowest against the 5 asked for), sampled
frames dropped (the analysis was behind) on the cameras with people and on the empty ones, alert
latency (crossing frame -> MQTT, p50/p95), the serve process's CPU (cores) and peak resident
memory; printed and put in BENCHMARKS.md's "Live capacity" section.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import datetime
from pathlib import Path

import av
import numpy as np

from benchmarks.live_latency import percentile
from benchmarks.run import ROOT, Report, write_section
from pipeline.night_looks import degrade, draw
from tests.live import Broker, RtspServer, Serve, Subscriber, cut_clip, looped, write_config

SCENES = ("day gate", "night gate", "corridor")
TARGET_FPS = 5.0


def night_clip(source: Path, path: Path, empty: bool) -> Path:
    """The clip in an IR look (one look for the whole clip, as one camera); `empty`: its first
    frame held (before anyone enters) with fresh sensor noise each frame."""
    rng = np.random.default_rng(25)  # fixed: the same footage every run
    look = draw("ir", rng)
    with av.open(str(source)) as clip, av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 640, 480, "yuv420p"
        stream.options = {"g": "20", "bf": "0", "preset": "veryfast"}  # a keyframe each 2 s, as cameras send
        first = None
        for index, frame in enumerate(clip.decode(video=0)):
            image = frame.to_ndarray(format="bgr24")
            first = image if first is None else first
            shown = degrade(first if empty else image, look, rng, index)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(shown), format="bgr24")))
        out.mux(stream.encode(None))
    return path


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks of 1/100 s


def run(cameras: int, seconds: float, clips: dict[str, Path], folder: Path, only: str | None) -> dict[str, object]:
    broker = Broker(folder).start()
    subscriber = Subscriber(broker.port)
    scenes = [only or SCENES[i % len(SCENES)] for i in range(cameras)]
    servers = [RtspServer(clips[scene], folder / f"rtsp{i}.log").start() for i, scene in enumerate(scenes)]
    config = write_config(
        folder,
        {f"cam-{i + 1:02d}": {"source": s.url()} for i, s in enumerate(servers)},
        mqtt={"host": "127.0.0.1", "port": broker.port},
    )
    serve = Serve(folder, config).start()
    try:
        time.sleep(5)  # connected, models warm
        client = serve.client()
        before = {c["name"]: c for c in client.get("/api/cameras").json()}
        cpu0, wall0 = cpu_seconds(serve.proc.pid), time.monotonic()
        time.sleep(seconds)
        elapsed = time.monotonic() - wall0
        cores = (cpu_seconds(serve.proc.pid) - cpu0) / elapsed
        health = {c["name"]: c for c in client.get("/api/cameras").json()}
        status = Path(f"/proc/{serve.proc.pid}/status").read_text()
        peak_mb = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))) / 1024
    finally:
        serve.stop()
        for server in servers:
            server.kill()
        broker.stop()
    latency = []
    for arrived, _topic, payload, _retained in subscriber.on("/events"):
        event = json.loads(payload)
        latency.append(arrived - datetime.fromisoformat(event["time"]).timestamp())
    subscriber.close()
    delta = {
        name: {key: camera[key] - before[name][key] for key in ("frames_analysed", "frames_sampled", "frames_dropped")}
        for name, camera in health.items()
    }
    by_scene: dict[str, list[dict[str, int]]] = {scene: [] for scene in SCENES}
    for index, scene in enumerate(scenes):
        by_scene[scene].append(delta[f"cam-{index + 1:02d}"])
    fps = [d["frames_analysed"] / elapsed for d in delta.values()]

    def dropped(scene_names: tuple[str, ...]) -> float:
        chosen = [d for name in scene_names for d in by_scene[name]]
        sampled = sum(d["frames_sampled"] for d in chosen)
        return sum(d["frames_dropped"] for d in chosen) / sampled if sampled else 0.0

    return {
        "cameras": cameras,
        "fps_mean": sum(fps) / len(fps),
        "fps_min": min(fps),
        "dropped_people": dropped(("day gate", "night gate")),
        "dropped_empty": dropped(("corridor",)),
        "p50": percentile(latency, 0.5) if latency else float("nan"),
        "p95": percentile(latency, 0.95) if latency else float("nan"),
        "events": len(latency),
        "cores": cores,
        "peak_mb": peak_mb,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, nargs="+", default=[4, 8, 16, 32])
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--only", choices=SCENES, help="every camera this scene (no mix); prints, writes nothing")
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()
    started = time.monotonic()
    rows = []
    with tempfile.TemporaryDirectory(prefix="gatewatch-capacity-") as tmp:
        folder = Path(tmp)
        day = looped(cut_clip(folder / "ten.mp4", 10), folder / "day.mp4", args.seconds + 30)
        clips = {
            "day gate": day,
            "night gate": night_clip(day, folder / "night.mp4", empty=False),
            "corridor": night_clip(day, folder / "corridor.mp4", empty=True),
        }
        for cameras in args.cameras:
            run_folder = folder / f"n{cameras}"
            run_folder.mkdir()
            rows.append(run(cameras, args.seconds, clips, run_folder, args.only))
            print(rows[-1], flush=True)
    if args.only:
        return
    report = Report()
    report.heading(
        "Live capacity",
        f"`gatewatch serve` with N cameras over RTSP (GStreamer, 640x480 H.264 at 10 fps, analysed at "
        f"{TARGET_FPS:g} fps), a third each: a gate by day (people in view most of the time), the same gate in "
        f"infrared, an empty corridor in infrared (noise only); {args.seconds:g} s per N after 5 s to connect. "
        "Dropped: sampled frames the analysis had no time for (the camera's queue overflowed), on the cameras "
        "with people and on the empty ones. Latency: crossing frame to the MQTT message. CPU: the serve process "
        "(the RTSP servers run beside it and share the 2 cores).",
    )
    report.table(
        ["cameras", "fps per camera (mean / lowest)", "dropped, people", "dropped, empty", "alert p50 / p95",
         "events", "CPU (cores)", "peak RSS"],
        [
            [
                str(r["cameras"]),
                f"{r['fps_mean']:.1f} / {r['fps_min']:.1f}",
                f"{r['dropped_people']:.0%}",
                f"{r['dropped_empty']:.0%}",
                f"{r['p50'] * 1000:.0f} / {r['p95'] * 1000:.0f} ms",
                str(r["events"]),
                f"{r['cores']:.2f}",
                f"{r['peak_mb']:.0f} MB",
            ]
            for r in rows
        ],
    )  # fmt: skip
    for r in rows:
        full = r["dropped_people"] > 0 or r["dropped_empty"] > 0
        report.text(
            f"{r['cameras']} cameras: "
            + (
                f"the analysis fell behind (serve used {r['cores']:.2f} of the 2 cores, the RTSP servers the rest): "
                "frames were dropped, oldest first, and counted per camera (`frames_dropped` in /api/cameras, "
                "on the Cameras tab)."
                if full
                else f"every sampled frame analysed; serve used {r['cores']:.2f} cores."
            )
        )
    print("\n".join(report.parts))
    write_section(args.out, report, "benchmarks.live_capacity", started, "Live capacity section")


if __name__ == "__main__":
    main()
