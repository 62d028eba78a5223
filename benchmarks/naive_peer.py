"""gatewatch against a naive peer pipeline, same machine, same run.

    .venv/bin/python benchmarks/naive_peer.py [--data ../shared/data]

The naive peer is what one writes first with off-the-shelf parts: the same bundled SSDLite
model on every frame, Roboflow `trackers` ByteTrack, and supervision's `LineZone` triggered by
the foot point (bottom-centre). gatewatch runs `analyze` with its defaults. Both are scored
against each sequence's `crossings.json` (one-to-one, same line and direction, within 2 s).
Prints one row per pipeline and sequence and the speed ratio.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import supervision as sv
from trackers import ByteTrackTracker

from pipeline.analyze import analyze
from pipeline.config import Config, DetectorConfig
from pipeline.detectors import load_detector
from pipeline.evaluation import Event, score
from pipeline.geometry import Segment

SEQUENCES = {
    "PETS09-S2L1": "PETS09-S2L1_f001-300_7fps.mp4",
    "TUD-Stadtmitte": "TUD-Stadtmitte_25fps.mp4",
}


def naive(video: Path, lines: list[dict]) -> tuple[list[Event], float, int]:
    detector = load_detector(DetectorConfig(confidence=0.4, low_confidence=0.4), Path)
    capture = cv2.VideoCapture(str(video))
    fps = capture.get(cv2.CAP_PROP_FPS)
    tracker = ByteTrackTracker(frame_rate=fps)
    zones = {
        line["id"]: (
            sv.LineZone(
                start=sv.Point(*line["points"][0]),
                end=sv.Point(*line["points"][1]),
                triggering_anchors=[sv.Position.BOTTOM_CENTER],
            ),
            Segment(tuple(line["points"][0]), tuple(line["points"][1]), tuple(line["inside"])),
        )
        for line in lines
    }
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
        for name, (zone, segment) in zones.items():
            crossed_in, crossed_out = zone.trigger(tracked)
            for i in np.flatnonzero(crossed_in | crossed_out):
                # Direction by gatewatch's own inside side, so only the counting logic differs.
                direction = "in" if segment.signed_distance(tuple(feet[i])) > 0 else "out"
                events.append(Event(name, direction, index))
        index += 1
    return events, time.perf_counter() - started, index


def gatewatch(video: Path, lines: list[dict]) -> tuple[list[Event], float, int]:
    config = Config.model_validate(
        {
            "timezone": "UTC",
            "cameras": {
                "cam": {
                    "source": str(video),
                    "lines": {line["id"]: {"points": line["points"], "inside": line["inside"]} for line in lines},
                }
            },
        }
    )
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        summary = analyze(
            config,
            video,
            start="2026-01-01T12:00:00+00:00",
            db_path=Path(scratch) / "g.db",
            snapshot_dir=Path(scratch) / "snapshots",
            analysed_at=datetime.now(UTC),
        )
        elapsed = time.perf_counter() - started
    events = [Event(d.crossing.line, d.crossing.direction, d.crossing.frame) for d in summary.decisions]
    return events, elapsed, summary.frames_decoded


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    args = parser.parse_args()
    print(f"{'sequence':16} {'pipeline':10} {'P':>6} {'R':>6} {'F1':>6} {'x real time':>12}")
    for sequence, file_name in SEQUENCES.items():
        folder = args.data / sequence
        lines = json.loads((folder / "lines.json").read_text())["lines"]
        truth = json.loads((folder / "crossings.json").read_text())
        expected = [Event(e["line_id"], e["inout"], e["video_frame"]) for e in truth["events"]]
        speeds = {}
        for name, run in (("naive", naive), ("gatewatch", gatewatch)):
            events, elapsed, frames = run(folder / file_name, lines)
            result = score(events, expected, tolerance_frames=round(2 * truth["fps"]))
            speeds[name] = frames / truth["fps"] / elapsed
            print(
                f"{sequence:16} {name:10} {result.precision:6.3f} {result.recall:6.3f} {result.f1:6.3f} "
                f"{speeds[name]:11.1f}x"
            )
        print(f"{sequence:16} gatewatch / naive speed: {speeds['gatewatch'] / speeds['naive']:.1f}x")


if __name__ == "__main__":
    main()
