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

Per N: analysed frames per second per gate camera (mean and lowest against the 5 asked for; the
corridors are skimmed), sampled frames dropped (the analysis was behind) while someone was moving
in the camera's watched area and otherwise, alert latency (crossing frame -> MQTT, p50/p95), the
serve process's CPU (cores) and peak resident memory. Then each scene alone, skimming idle cameras
and decoding everything: CPU and the entries flagged. Printed and put in BENCHMARKS.md's "Live
capacity" section.
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from datetime import datetime
from pathlib import Path

from benchmarks.live_latency import percentile
from benchmarks.run import ROOT, Report, write_section
from tests.live import Broker, RtspServer, Serve, Subscriber, cut_clip, looped, night_clip, write_config

SCENES = ("day gate", "night gate", "corridor")
SETTLE_S = 5.0  # entries counted up to this long before the end: confirmed and sent by then
LIVE = {"reconnect_min_s": 0.5, "reconnect_max_s": 2, "stall_timeout_s": 3, "open_timeout_s": 3}
TARGET_FPS = 5.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks of 1/100 s


def run(
    cameras: int, seconds: float, clips: dict[str, Path], folder: Path, only: str | None, skim: bool = True
) -> dict[str, object]:
    broker = Broker(folder).start()
    subscriber = Subscriber(broker.port)
    scenes = [only or SCENES[i % len(SCENES)] for i in range(cameras)]
    servers = [RtspServer(clips[scene], folder / f"rtsp{i}.log").start() for i, scene in enumerate(scenes)]
    config = write_config(
        folder,
        {f"cam-{i + 1:02d}": {"source": s.url()} for i, s in enumerate(servers)},
        mqtt={"host": "127.0.0.1", "port": broker.port},
        live={**LIVE, "skim_idle": skim},
    )
    serve = Serve(folder, config).start()
    try:
        time.sleep(5)  # connected, models warm
        client = serve.client()
        before = {c["name"]: c for c in client.get("/api/cameras").json()}
        cpu0, wall0, t0 = cpu_seconds(serve.proc.pid), time.monotonic(), time.time()
        time.sleep(seconds)
        elapsed, t1 = time.monotonic() - wall0, time.time()
        cores = (cpu_seconds(serve.proc.pid) - cpu0) / elapsed
        health = {c["name"]: c for c in client.get("/api/cameras").json()}
        status = Path(f"/proc/{serve.proc.pid}/status").read_text()
        peak_mb = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))) / 1024
    finally:
        serve.stop()
        for server in servers:
            server.kill()
        broker.stop()
    latency, entries = [], 0
    for arrived, _topic, payload, _retained in subscriber.on("/events"):
        crossed = datetime.fromisoformat(json.loads(payload)["time"]).timestamp()
        latency.append(arrived - crossed)
        entries += t0 <= crossed < t1 - SETTLE_S
    subscriber.close()
    counts = ("frames_analysed", "frames_sampled", "frames_dropped", "frames_dropped_moving", "frames_skimmed")
    delta = {name: {key: camera[key] - before[name][key] for key in counts} for name, camera in health.items()}
    by_scene: dict[str, list[dict[str, int]]] = {scene: [] for scene in SCENES}
    for index, scene in enumerate(scenes):
        by_scene[scene].append(delta[f"cam-{index + 1:02d}"])
    people = [d for scene in ("day gate", "night gate") for d in by_scene[scene]] or list(delta.values())
    fps = [d["frames_analysed"] / elapsed for d in people]
    sampled = sum(d["frames_sampled"] for d in delta.values())
    dropped_moving = sum(d["frames_dropped_moving"] for d in delta.values())
    dropped = sum(d["frames_dropped"] for d in delta.values())

    return {
        "cameras": cameras,
        "fps_mean": sum(fps) / len(fps),
        "fps_min": min(fps),
        "dropped_moving": dropped_moving / sampled if sampled else 0.0,
        "dropped_other": (dropped - dropped_moving) / sampled if sampled else 0.0,
        "p50": percentile(latency, 0.5) if latency else float("nan"),
        "p95": percentile(latency, 0.95) if latency else float("nan"),
        "events": len(latency),
        "entries": entries,  # crossings in the window, each confirmed and sent before it closed
        "window_s": t1 - SETTLE_S - t0,
        "skimmed": sum(d["frames_skimmed"] for d in delta.values()),
        "cores": cores,
        "peak_mb": peak_mb,
    }


def _ms(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, nargs="+", default=[4, 8, 16, 32])
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--only", choices=SCENES, help="every camera this scene (no mix); prints, writes nothing")
    parser.add_argument("--no-skim", action="store_true", help="decode every frame of idle cameras too")
    parser.add_argument(
        "--skim-check", type=int, default=8, metavar="N",
        help="then each scene alone on N cameras (the corridor on 4N), skimming and decoding everything; 0: not",
    )  # fmt: skip
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
            rows.append(run(cameras, args.seconds, clips, run_folder, args.only, not args.no_skim))
            print(rows[-1], flush=True)
        compared = []
        for scene in SCENES if args.skim_check and not args.only else ():
            cameras = args.skim_check * (4 if scene == "corridor" else 1)
            pair = []
            for skim in (False, True):
                run_folder = folder / f"{scene}-{skim}".replace(" ", "-")
                run_folder.mkdir()
                pair.append(run(cameras, args.seconds, clips, run_folder, scene, skim))
                print(scene, "skimming" if skim else "decoding all", pair[-1], flush=True)
            compared.append((scene, *pair))
    if args.only:
        return
    report = Report()
    report.heading(
        "Live capacity",
        f"`gatewatch serve` with N cameras over RTSP (GStreamer, 640x480 H.264 at 10 fps, analysed at "
        f"{TARGET_FPS:g} fps), a third each: a gate by day (people in view most of the time), the same gate in "
        f"infrared, an empty corridor in infrared (noise only); {args.seconds:g} s per N after 5 s to connect. "
        "Idle cameras are skimmed (the default). Dropped: sampled frames the analysis had no time for (the camera's "
        "queue overflowed, oldest first), while someone was moving in the camera's watched area and otherwise. "
        "Latency: the crossing frame's arrival to the MQTT message. CPU: the serve process (the RTSP servers run "
        "beside it and share the 2 cores).",
    )
    report.table(
        ["cameras", "fps per gate camera (mean / lowest)", "dropped, someone moving", "dropped, otherwise",
         "alert p50 / p95", "events", "CPU (cores)", "peak RSS"],
        [
            [
                str(r["cameras"]),
                f"{r['fps_mean']:.1f} / {r['fps_min']:.1f}",
                f"{r['dropped_moving']:.1%}",
                f"{r['dropped_other']:.1%}",
                f"{r['p50'] * 1000:.0f} / {r['p95'] * 1000:.0f} ms",
                str(r["events"]),
                f"{r['cores']:.2f}",
                f"{r['peak_mb']:.0f} MB",
            ]
            for r in rows
        ],
    )  # fmt: skip
    for r in rows:
        if r["dropped_moving"] > 0:
            verdict = (
                f"the analysis fell behind (serve used {r['cores']:.2f} of the 2 cores, the RTSP servers the rest): "
                f"{r['dropped_moving']:.1%} of the sampled frames were dropped while someone moved near a line, "
                "counted per camera (`frames_dropped_moving` in /api/cameras)"
            )
        else:
            verdict = f"no frame dropped while someone moved near a line; serve used {r['cores']:.2f} cores"
        report.text(f"{r['cameras']} cameras: {verdict}; {r['entries']} entries flagged in the window.")
    if compared:
        report.text(
            "**Idle cameras skimmed** (`live.skim_idle`, on by default): each scene alone, decoding every frame "
            "against decoding keyframes only while the analysis finds the scene idle (woken by a larger inter "
            "frame, a keyframe that changed, or a guard's live view, and analysed again from the keyframe before). "
            f"Entries: crossings flagged within the {args.seconds:g} s (less the last {SETTLE_S:g} s), one per "
            "camera each 10 s loop in the footage."
        )
        report.table(
            ["scene", "cameras", "CPU, decoding all", "CPU, skimming", "ratio", "entries, all / skimming",
             "keyframes skimmed", "alert p95, all / skimming"],
            [
                [
                    scene,
                    str(full["cameras"]),
                    f"{full['cores']:.2f}",
                    f"{skim['cores']:.2f}",
                    f"{skim['cores'] / full['cores']:.2f}x",
                    f"{full['entries']} / {skim['entries']}",
                    str(skim["skimmed"]),
                    f"{_ms(full['p95'])} / {_ms(skim['p95'])}",
                ]
                for scene, full, skim in compared
            ],
        )  # fmt: skip
    print("\n".join(report.parts))
    write_section(args.out, report, "benchmarks.live_capacity", started, "Live capacity section")


if __name__ == "__main__":
    main()
