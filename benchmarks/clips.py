"""An event clip's cost and size (issue 25): cut from the camera's own H.264 packets (stream
copy) against encoded from the analysed frames (libx264, what every clip was before), on the
bundled sample, the same 10 seconds around a moment, in one run.

    .venv/bin/python -m benchmarks.clips [--repeat 5] [--out BENCHMARKS.md]

Prints CPU milliseconds and kilobytes per clip, frames and frame rate, and the ratios, and puts
them in BENCHMARKS.md's "Event clips" section."""

from __future__ import annotations

import argparse
import io
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av

from benchmarks.run import ROOT, Report, write_section
from pipeline.clips import Clip, _jpeg, encode_mp4
from pipeline.config import ClipConfig
from pipeline.packets import PacketRing, mux_copy
from pipeline.snapshots import clip_stamp
from tests.conftest import SAMPLE

T0 = datetime(2026, 12, 5, 22, 0, tzinfo=UTC)
ANALYSED_FPS = 5.0


def inputs() -> tuple[PacketRing, list[tuple[datetime, bytes]], float]:
    """The sample as a live camera gives it: every packet into the ring, every 5th-of-a-second
    frame as the analysis keeps it (JPEG, at the clip width)."""
    ring, frames, width = PacketRing(keep_s=1000), [], ClipConfig().width
    with av.open(str(SAMPLE)) as source:
        stream = source.streams.video[0]
        fps = float(stream.average_rate)
        ring.restart(stream)
        shown = 0
        for packet in source.demux(stream):
            at = T0 + timedelta(seconds=shown / fps)
            ring.add(packet, at)
            for frame in packet.decode():
                if shown % round(fps / ANALYSED_FPS) == 0:
                    frames.append((at, _jpeg(frame.to_ndarray(format="bgr24"), width)))
                shown += 1
    return ring, frames, fps


def measure(make: object, repeat: int) -> tuple[float, bytes]:
    times, data = [], b""
    for _ in range(repeat):
        started = time.process_time()
        data = make()  # type: ignore[operator]
        times.append((time.process_time() - started) * 1000)
    return statistics.median(times), data


def described(data: bytes) -> tuple[int, float]:
    with av.open(io.BytesIO(data)) as clip:
        frames = sum(1 for _ in clip.decode(video=0))
        return frames, frames / (clip.duration / 1e6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()
    started = time.monotonic()
    ring, frames, fps = inputs()
    crossing = T0 + timedelta(seconds=30)
    start, end = crossing - timedelta(seconds=5), crossing + timedelta(seconds=5)
    cut = ring.cut(start, end, crossing)
    assert cut is not None
    wanted = [(t, f) for t, f in frames if start <= t <= end]
    encoded_ms, encoded = measure(lambda: encode_mp4(Clip("b", wanted), clip_stamp("north-gate")), args.repeat)
    copied_ms, copied = measure(lambda: mux_copy(cut), args.repeat)
    report = Report()
    report.heading(
        "Event clips",
        f"One clip of the bundled sample ({fps:g} fps, 640x480), 5 s before to 5 s after a moment, made both ways "
        f"in one run (median of {args.repeat}; CPU of every thread): encoded with libx264 from the frames the "
        f"analysis kept ({ANALYSED_FPS:g} fps), as every clip was before, and cut from the camera's own packets, "
        "as a live H.264/H.265 camera's clip is now.",
    )
    rows = []
    for name, ms, data in (("encoded (libx264, analysed frames)", encoded_ms, encoded),
                           ("stream copy (the camera's packets)", copied_ms, copied)):  # fmt: skip
        count, rate = described(data)
        rows.append([name, f"{ms:.0f} ms", f"{len(data) / 1000:.0f} kB", str(count), f"{rate:.1f}"])
    report.table(["clip", "CPU per clip", "size", "frames", "frames per second"], rows)
    cpu, size = copied_ms / encoded_ms, len(copied) / len(encoded)
    report.text(f"Stream copy against encoding: **{cpu:.3f}x the CPU**, {size:.2f}x the size (twice the frames).")
    print("\n".join(report.parts))
    write_section(args.out, report, "benchmarks.clips", started, "Event clips section")


if __name__ == "__main__":
    main()
