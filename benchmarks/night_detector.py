"""The detector alone at night: which model and which input handling find the people.

    .venv/bin/python -m benchmarks.night_detector [--data ../shared/data] [--every 4]

Every `--every`-th frame of each development sequence, by day and in two looks of each night
condition, goes through each candidate; its boxes (score >= 0.4, as a track starts) are matched
one-to-one to the ground-truth boxes (`gt.csv`) at IoU >= 0.5. Candidates:

- the original (day-only) model as gatewatch fed it before (bilinear resize), with area resize,
  and with automatic levels (a percentile stretch of the grey levels, then a gamma that brings a
  dark frame's mean up), the "normalise exposure and contrast" option;
- the original model quantised to INT8 (onnxruntime static quantisation, calibrated on frames of
  TUD-Stadtmitte and the sample clip, never PETS09-S2L1);
- the shipped night model, plain and with automatic levels.

Prints recall, precision and milliseconds per frame per candidate, condition and sequence.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from benchmarks.data import clip_frames, load_sequences, truth_boxes
from benchmarks.night import CONDITIONS, degraded_frames, looks
from benchmarks.night_tables import ORIGINAL_MODEL
from benchmarks.run import ROOT
from pipeline.config import DetectorConfig
from pipeline.detectors.onnx import bundled_model_path
from pipeline.detectors.ssdlite import SSDLiteDetector, network_input

Prepare = Callable[[np.ndarray], np.ndarray]
CALIBRATION = ("TUD-Stadtmitte",)
IOU = 0.5


def bilinear(image: np.ndarray) -> np.ndarray:
    return network_input(image, cv2.INTER_LINEAR)


def auto_levels(image: np.ndarray) -> np.ndarray:
    """Stretch the 1st-99.5th percentile of grey to 0-255; lift a dark result's mean toward 0.42."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    low, high = np.percentile(grey, (1, 99.5))
    if high - low < 1:
        return image
    out = np.clip((image.astype(np.float32) - low) * (255.0 / (high - low)), 0, 255) / 255.0
    mean = float(out.mean())
    if mean < 0.35:
        out = np.power(out, np.log(0.42) / np.log(max(mean, 1e-3)))
    return (out * 255).astype(np.uint8)


def levelled(image: np.ndarray) -> np.ndarray:
    return network_input(auto_levels(image))


@dataclass
class Candidate:
    name: str
    detector: SSDLiteDetector
    prepare: Prepare

    def detect(self, image: np.ndarray) -> np.ndarray:
        blob = self.prepare(image)[None]
        boxes, scores = self.detector.session.run(["boxes", "scores"], {self.detector.input_name: blob})
        found = self.detector._decode(boxes[0], scores[0], image.shape[:2])
        return found.xyxy[found.confidence >= 0.4]


def matched(truth: np.ndarray, found: np.ndarray) -> int:
    """Greedy one-to-one matches at IoU >= 0.5, best overlaps first."""
    if not len(truth) or not len(found):
        return 0
    x1 = np.maximum(truth[:, None, 0], found[None, :, 0])
    y1 = np.maximum(truth[:, None, 1], found[None, :, 1])
    x2 = np.minimum(truth[:, None, 2], found[None, :, 2])
    y2 = np.minimum(truth[:, None, 3], found[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = lambda b: (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])  # noqa: E731
    iou = inter / (area(truth)[:, None] + area(found)[None] - inter)
    pairs = 0
    while iou.size and iou.max() >= IOU:
        i, j = np.unravel_index(int(iou.argmax()), iou.shape)
        iou[i, :], iou[:, j] = 0, 0
        pairs += 1
    return pairs


def quantised(model: Path, calibration: list[np.ndarray], folder: Path) -> Path:
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Frames(CalibrationDataReader):
        def __init__(self) -> None:
            self.left = iter(calibration)

        def get_next(self) -> dict[str, np.ndarray] | None:
            image = next(self.left, None)
            return None if image is None else {"image": network_input(image)[None]}

    out = folder / "int8.onnx"
    quantize_static(
        str(model),
        str(out),
        Frames(),
        quant_format=QuantFormat.QDQ,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        per_channel=True,
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--every", type=int, default=4)
    args = parser.parse_args()
    sequences = load_sequences(args.data)
    config = DetectorConfig()
    original = SSDLiteDetector(ORIGINAL_MODEL, config)
    night = SSDLiteDetector(bundled_model_path(), config)
    with tempfile.TemporaryDirectory() as scratch:
        calibration = [f for s in sequences if s.name in CALIBRATION for f in clip_frames(s.video)[::6]]
        calibration += clip_frames(ROOT / "sample_videos" / "north-gate_20261128222950.mp4")[::30]
        int8 = SSDLiteDetector(quantised(ORIGINAL_MODEL, calibration, Path(scratch)), config)
        candidates = [
            Candidate("original, bilinear resize (before)", original, bilinear),
            Candidate("original, area resize", original, network_input),
            Candidate("original, area resize + auto levels", original, levelled),
            Candidate("original INT8, area resize", int8, network_input),
            Candidate("night model (shipped)", night, network_input),
            Candidate("night model + auto levels", night, levelled),
        ]
        print("| sequence | condition | candidate | recall | precision | ms / frame |")
        print("|---|---|---|---|---|---|")
        for sequence in sequences:
            truth = truth_boxes(sequence.video.parent)
            frames = clip_frames(sequence.video)[:: args.every]
            indices = range(0, sequence.frames, args.every)
            for condition in ("day", *CONDITIONS):
                views = (
                    [frames]
                    if condition == "day"
                    else [
                        list(degraded_frames(frames, look, sequence.name))
                        for look in looks(condition, sequence.name, 2)
                    ]
                )
                for candidate in candidates:
                    hits = found_total = true_total = 0
                    started = time.perf_counter()
                    for view in views:
                        for index, image in zip(indices, view, strict=False):
                            found = candidate.detect(image)
                            want = truth.get(index, np.zeros((0, 4), np.float32))
                            hits += matched(want, found)
                            found_total += len(found)
                            true_total += len(want)
                    ms = 1000 * (time.perf_counter() - started) / sum(len(v) for v in views)
                    print(
                        f"| {sequence.name} | {condition} | {candidate.name} | {hits / max(true_total, 1):.3f} | "
                        f"{hits / max(found_total, 1):.3f} | {ms:.1f} |",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
