"""The pipelines the harness times: decode only (the floor), a naive peer, and gatewatch.

Each run happens in a fresh process, so its peak memory (RSS) is its own and no run warms the
caches of the next.
"""

from __future__ import annotations

import multiprocessing
import resource
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from benchmarks.data import Sequence
from pipeline.evaluation import Event


@dataclass
class RunResult:
    events: list[Event]
    seconds: float
    frames: int
    peak_rss_mb: float = 0.0
    detected: int | None = None  # frames the detector ran on
    analysed: int | None = None
    frame_times: list[tuple[int, float]] = field(default_factory=list)  # (frame index, seconds) per analysed frame


def isolated(function: Callable[..., Any], *args: Any) -> Any:
    """`function(*args)` in a fresh process."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def measured(function: Callable[..., RunResult], *args: Any) -> RunResult:
    return isolated(_with_peak_rss, function, *args)


def _with_peak_rss(function: Callable[..., RunResult], *args: Any) -> RunResult:
    result = function(*args)
    result.peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def decode_only(sequence: Sequence) -> RunResult:
    """Demux and decode every frame, as gatewatch's reader does, and nothing else: the floor."""
    capture = cv2.VideoCapture(str(sequence.video), cv2.CAP_FFMPEG)
    started = time.perf_counter()
    frames = 0
    while capture.grab():
        frames += 1
    elapsed = time.perf_counter() - started
    capture.release()
    return RunResult([], elapsed, frames)


def naive(sequence: Sequence) -> RunResult:
    """What one writes first with off-the-shelf parts: the same bundled model on every frame at
    full rate, Roboflow `trackers` ByteTrack, supervision's `LineZone` on the foot point."""
    import supervision as sv
    from trackers import ByteTrackTracker

    from pipeline.config import DetectorConfig
    from pipeline.detectors import load_detector
    from pipeline.geometry import Segment

    night = {"confidence": 0.4, "low_confidence": 0.4}  # the day thresholds in every light, as one writes first
    detector = load_detector(DetectorConfig(confidence=0.4, low_confidence=0.4, night=night), Path)
    capture = cv2.VideoCapture(str(sequence.video), cv2.CAP_FFMPEG)
    tracker = ByteTrackTracker(frame_rate=sequence.fps)
    zones = [
        (
            line["id"],
            sv.LineZone(
                start=sv.Point(*line["points"][0]),
                end=sv.Point(*line["points"][1]),
                triggering_anchors=[sv.Position.BOTTOM_CENTER],
            ),
            Segment(tuple(line["points"][0]), tuple(line["points"][1]), tuple(line["inside"])),
        )
        for line in sequence.lines
    ]
    events: list[Event] = []
    started = time.perf_counter()
    index = 0
    while True:
        ok, image = capture.read()
        if not ok:
            break
        found = detector.detect(image)
        detections = sv.Detections(xyxy=found.xyxy, confidence=found.confidence, class_id=np.zeros(len(found), int))
        tracked = tracker.update(detections)
        tracked = tracked[tracked.tracker_id >= 0]
        feet = tracked.get_anchors_coordinates(sv.Position.BOTTOM_CENTER)
        for name, zone, segment in zones:
            crossed_in, crossed_out = zone.trigger(tracked)
            for i in np.flatnonzero(crossed_in | crossed_out):
                # Direction by the line's inside side, so only the counting logic differs from gatewatch.
                direction = "in" if segment.signed_distance(tuple(feet[i])) > 0 else "out"
                events.append(Event(name, direction, index))
        index += 1
    return RunResult(events, time.perf_counter() - started, index, detected=index, analysed=index)


def gatewatch(
    sequence: Sequence, overrides: dict[str, Any], detector: str = "default", camera: dict[str, Any] | None = None
) -> RunResult:
    """`analyze` with its defaults, changed only by `overrides` (config sections) and `camera` (keys
    of the camera's own section, e.g. its `night_model`). `detector="nanodet"` swaps in the candidate
    model (this process only) to compare it inside the same pipeline."""
    from pipeline.config import Config
    from pipeline.detectors import Detector
    from pipeline.offline.analyze import analyze

    candidate: Detector | None = None

    raw: dict[str, Any] = {
        "timezone": "UTC",
        "cameras": {
            "cam": {
                "source": str(sequence.video),
                "lines": {line["id"]: {"points": line["points"], "inside": line["inside"]} for line in sequence.lines},
                **(camera or {}),
            }
        },
    }
    for section, values in overrides.items():
        raw[section] = values
    config = Config.model_validate(raw)
    if detector == "nanodet":
        from benchmarks.nanodet import NanoDetDetector

        candidate = NanoDetDetector(confidence=config.detector.low_confidence)
    frame_times: list[tuple[int, float]] = []
    last = [time.perf_counter()]

    def tick(done: int, _total: int, _crossings: int) -> None:
        now = time.perf_counter()
        frame_times.append((done - 1, now - last[0]))
        last[0] = now

    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        last[0] = started
        summary = analyze(
            config,
            sequence.video,
            start="2026-01-01T00:00:00+00:00",
            db_path=Path(scratch) / "g.db",
            snapshot_dir=Path(scratch) / "snapshots",
            analysed_at=datetime.now(UTC),
            progress=tick,
            detector=candidate,
        )
        elapsed = time.perf_counter() - started
    events = [Event(d.crossing.line, d.crossing.direction, d.crossing.frame) for d in summary.decisions]
    return RunResult(
        events,
        elapsed,
        summary.frames_decoded,
        detected=summary.frames_detected,
        analysed=summary.frames_analysed,
        frame_times=frame_times,
    )


def detector_latency(batch: int, threads: int | None, optimisation: str, repeats: int = 40) -> float:
    """Milliseconds per frame of the bundled model alone, for the onnxruntime levers."""
    import onnxruntime as ort

    from pipeline.detectors.onnx import bundled_model_path

    options = ort.SessionOptions()
    options.graph_optimization_level = getattr(ort.GraphOptimizationLevel, optimisation)
    if threads:
        options.intra_op_num_threads = threads
    session = ort.InferenceSession(str(bundled_model_path()), options, providers=["CPUExecutionProvider"])
    blob = np.random.default_rng(0).integers(0, 255, (batch, 300, 300, 3), dtype=np.uint8)
    name = session.get_inputs()[0].name
    session.run(None, {name: blob})
    started = time.perf_counter()
    for _ in range(repeats):
        session.run(None, {name: blob})
    return (time.perf_counter() - started) / repeats / batch * 1000
