"""Batch throughput: one NVR export analysed with one worker, with the default workers, and on a
two-node Ray cluster on this machine; hours of video per hour, scaling, peak memory, and whether
all three stored the same crossings.

    .venv/bin/python -m benchmarks.batch [--channels 8] [--files 3] [--minutes 2]

The export: the ten-minute idle 720p video of `data.py` (H.264, 2 s GOP, as an NVR writes it)
cut at keyframes, without re-encoding, into `--files` files of `--minutes` minutes, the same
files for each of `--channels` channels (`ch01_20261128230000.mp4`, ...). Peak memory is the
largest sum, sampled every 0.2 s, of the resident memory of every process taking part (the
`analyze` process and its workers; with Ray, also every process of both nodes).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import av
import yaml

from benchmarks.data import CACHE, load_sequences, long_video
from benchmarks.run import machine, replace_section

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = CACHE / "batch-one-worker.json"  # wall time and crossings of the last 1-worker run
START = datetime.fromisoformat("2026-11-28T23:00:00+08:00")
SECTION = "## Batch (NVR export)"
INTRO = (
    "One NVR export analysed with `gatewatch analyze FOLDER`: one worker, the default workers (one per "
    "core), and a two-node Ray cluster on this machine (`ray start` head + worker, one CPU each). "
    "Clips and snapshots on, as in production. *video h per h*: hours of video analysed per hour of "
    "wall time; *scaling efficiency*: speed-up over the workers (or nodes) used; *peak RSS*: the "
    "largest sum of every process taking part (with Ray, all its daemons on both nodes); *same as 1 "
    "worker*: the stored crossings (camera, time, line, direction) identical."
)
READING = (
    "How to read it: one worker is given every core's onnxruntime and OpenCV threads (workers split "
    "them), so the 1-worker run already uses part of the second core and the speed-up understates "
    "what more workers bring on more cores. The Ray run shares this machine's two cores with Ray's "
    "own daemons (GCS, two raylets, object stores: most of its peak memory), and its tasks have one "
    "thread each."
)
ONE, RAY = "1 worker", "Ray, 2 nodes x 1 CPU"
SCHOOLS, CAMERAS, NIGHT_HOURS = 200, 8, 10
NODE_CORES, EFFICIENCY = 16, 0.85


def cut(video: Path, folder: Path, files: int, minutes: float) -> list[Path]:
    """Remux packets into files of `minutes`, each starting at a keyframe (NVRs cut at keyframes)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    with av.open(str(video)) as source:
        stream = source.streams.video[0]
        output = None
        out_stream = None
        for packet in source.demux(stream):
            if packet.pts is None:
                continue
            seconds = float(packet.pts * stream.time_base)
            if packet.is_keyframe and seconds >= len(paths) * minutes * 60:
                if len(paths) == files:
                    break
                if output is not None:
                    output.close()
                path = folder / f"part{len(paths)}.mp4"
                output = av.open(str(path), "w")
                out_stream = output.add_stream_from_template(stream)
                paths.append(path)
                first = packet.pts
            assert output is not None and out_stream is not None
            packet.pts -= first
            packet.dts -= first
            packet.stream = out_stream
            output.mux(packet)
        if output is not None:
            output.close()
    return paths


def export(parts: list[Path], folder: Path, channels: int, minutes: float) -> None:
    for channel in range(1, channels + 1):
        for index, part in enumerate(parts):
            start = START + timedelta(minutes=index * minutes)
            target = folder / f"ch{channel:02d}_{start:%Y%m%d%H%M%S}.mp4"
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                os.link(part, target)


def config(folder: Path, lines: list[dict], channels: int) -> Path:
    cameras = {
        f"cam{n}": {"source": f"rtsp://nvr/{n}", "channel": n, "lines": {line["id"]: line for line in lines}}
        for n in range(1, channels + 1)
    }
    for camera in cameras.values():
        for line in camera["lines"].values():
            line.pop("id", None)
    rules = [
        {"camera": name, "line": line_id, "schedule": "night", "require_registration": True}
        for name in cameras
        for line_id in cameras[name]["lines"]
    ]
    path = folder / "batch.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "timezone": "Asia/Shanghai",
                "cameras": cameras,
                "schedules": {"night": {"closed": ["22:00-06:00"]}},
                "rules": rules,
            }
        )
    )
    return path


class MemorySampler:
    """Peak of the summed RSS of the processes `select` picks, sampled from /proc."""

    def __init__(self, select) -> None:  # type: ignore[no-untyped-def]
        self.select = select
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            total = 0
            for pid, parent, command in processes():
                if self.select(pid, parent, command):
                    total += rss(pid)
            self.peak = max(self.peak, total)


def processes() -> list[tuple[int, int, str]]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        found.append((int(entry.name), parent, command))
    return found


def rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def descendants(root: int) -> set[int]:
    tree = processes()
    found = {root}
    grew = True
    while grew:
        grew = False
        for pid, parent, _ in tree:
            if parent in found and pid not in found:
                found.add(pid)
                grew = True
    return found


def run(folder: Path, cfg: Path, name: str, extra: list[str]) -> tuple[float, int, list[tuple]]:
    db = folder / f"{name}.db"
    command = [sys.executable, "-m", "pipeline", "analyze", str(folder / "export"), "--config", str(cfg)]
    command += ["--db", str(db), "--snapshots", str(folder / f"{name}-snapshots"), *extra]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ray_nodes = "--ray" in extra
    with MemorySampler(
        # Ray's own processes run from its package folder; its task workers are named ray::...
        lambda pid, parent, command: (
            pid in descendants(process.pid) or (ray_nodes and ("/ray/" in command or command.startswith("ray::")))
        )
    ) as memory:
        stdout, stderr = process.communicate()
    elapsed = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"{name}: exit {process.returncode}\n{stderr}\n{stdout}")
    connection = sqlite3.connect(db)
    crossings = connection.execute("SELECT camera, ts, line, direction FROM crossings ORDER BY 1, 2, 3, 4").fetchall()
    connection.close()
    return elapsed, memory.peak, crossings


def start_cluster(folder: Path) -> tuple[str, list[subprocess.Popen]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ray = str(Path(sys.executable).with_name("ray"))
    node = ["--node-ip-address", "127.0.0.1", "--num-cpus", "1", "--disable-usage-stats", "--block"]
    node += ["--object-store-memory", "200000000"]
    head = subprocess.Popen(
        [ray, "start", "--head", "--port", str(port), "--include-dashboard", "false", *node],
        stdout=(folder / "head.log").open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    worker = subprocess.Popen(
        [ray, "start", "--address", f"127.0.0.1:{port}", *node],
        stdout=(folder / "worker.log").open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    address = f"127.0.0.1:{port}"
    wait_for_nodes(address, 2, deadline=time.monotonic() + 120)
    return address, [worker, head]


def wait_for_nodes(address: str, count: int, deadline: float) -> None:
    """Until `count` nodes are alive: a run on a half-started cluster would measure one node."""
    probe = (
        f"import ray; ray.init(address={address!r}, log_to_driver=False); print(sum(n['Alive'] for n in ray.nodes()))"
    )
    while time.monotonic() < deadline:
        answer = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
        if answer.returncode == 0 and answer.stdout.strip().splitlines()[-1:] == [str(count)]:
            return
        time.sleep(1)
    raise SystemExit(f"the local Ray cluster did not reach {count} nodes; see its logs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--files", type=int, default=3)
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--runs", default="one,default,ray", help="which runs, of one,default,ray")
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md", help="written when all three ran")
    args = parser.parse_args()
    runs = args.runs.split(",")
    base = next(s for s in load_sequences(ROOT.parent / "shared" / "data") if s.name == "TUD-Stadtmitte")
    source = long_video(base, 720)
    cores = len(os.sched_getaffinity(0))
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="gatewatch-batch-") as scratch:
        folder = Path(scratch)
        parts = cut(source.video, folder / "parts", args.files, args.minutes)
        export(parts, folder / "export", args.channels, args.minutes)
        cfg = config(folder, source.lines, args.channels)
        hours = args.channels * sum(av.open(str(p)).duration / 1e6 for p in parts) / 3600
        results = {}
        if "one" in runs:
            results[ONE] = run(folder, cfg, "one", ["--workers", "1"])
            REFERENCE.write_text(json.dumps([results[ONE][0], results[ONE][2]]))
        if "default" in runs:
            results[f"{cores} workers (default)"] = run(folder, cfg, "default", [])
        if "ray" in runs:
            address, nodes = start_cluster(folder)
            try:
                results[RAY] = run(folder, cfg, "ray", ["--ray", address])
            finally:
                for node in nodes:
                    os.killpg(node.pid, signal.SIGKILL)
    # The 1-worker run of an earlier invocation (same inputs) is the reference when not run now.
    single, reference = json.loads(REFERENCE.read_text()) if REFERENCE.is_file() else (None, None)
    lines = [
        f"{args.channels} channels x {args.files} files x {args.minutes:g} min of 720p H.264 (25 fps) = "
        f"{hours:.2f} h of video; {cores} cores.",
        "",
        "| run | wall s | video h per h | speed-up | scaling efficiency | peak RSS, all processes | crossings "
        "| same as 1 worker |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, (elapsed, peak, crossings) in results.items():
        parallel = 1 if name == ONE else 2 if name == RAY else cores
        speedup = f"{single / elapsed:.2f}x | {single / elapsed / parallel:.0%}" if single else "- | -"
        same = "-" if reference is None else "yes" if [list(c) for c in crossings] == reference else "NO"
        lines.append(
            f"| {name} | {elapsed:.0f} | {hours * 3600 / elapsed:.1f} | {speedup} | "
            f"{peak / 2**20:.0f} MB | {len(crossings)} | {same} |"
        )
    lines += ["", READING]
    default = next((result for name, result in results.items() if name not in (ONE, RAY)), None)
    if default is not None:
        elapsed, peak, _ = default
        lines += ["", *estimate(hours * 3600 / elapsed / cores, peak / cores)]
    print("\n".join(lines))
    if set(runs) >= {"one", "default", "ray"}:
        stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        note = (
            f"_Generated by `.venv/bin/python -m benchmarks.batch` on {stamp} ({time.monotonic() - started:.0f} s). "
            f"Machine: {machine()}._"
        )
        replace_section(args.out, "\n\n".join([SECTION, note, INTRO, "\n".join(lines)]) + "\n")
        print(f"\nwritten the batch section of {args.out}")


def estimate(per_core: float, memory_per_core: float) -> list[str]:
    """Nodes for one night of a district, from the measured rate of one core."""
    camera_hours = SCHOOLS * CAMERAS * NIGHT_HOURS
    lines = [
        f"**A district's night** ({SCHOOLS} schools x {CAMERAS} cameras x {NIGHT_HOURS} h = {camera_hours:,} "
        f"camera-hours), from the default run: {per_core:.1f} h of video per hour per core, "
        f"{memory_per_core / 2**20:.0f} MB per core (every core busy, so the contention between them is "
        f"counted), of which {EFFICIENCY:.0%} is assumed on {NODE_CORES}-core Ray nodes for scheduling and "
        "results sent back (the Ray run here is no guide to that: its daemons share the same two cores as the "
        "work).",
        "",
        "| when the results are needed | video h per h needed | cores | nodes of 16 cores | memory per node |",
        "|---|---|---|---|---|",
    ]
    for when, rate in (
        ("keeping pace through the night (each file analysed as the NVR closes it)", SCHOOLS * CAMERAS),
        ("6 h after the night ends", camera_hours / 6),
        ("2 h after the night ends", camera_hours / 2),
    ):
        cores = rate / per_core / EFFICIENCY
        nodes = math.ceil(cores / NODE_CORES)
        lines.append(
            f"| {when} | {rate:,.0f} | {cores:,.0f} | {nodes} | {NODE_CORES * memory_per_core / 2**30:.1f} GB |"
        )
    lines += [
        "",
        "With `sampling.skim_idle` (keyframes only while nothing moves; see *Speed against decode-only*: "
        "3.5x faster on the idle 720p video, measured without clips) a mostly empty night needs up to "
        "that many times fewer nodes.",
    ]
    return lines


if __name__ == "__main__":
    main()
