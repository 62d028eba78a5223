"""Detectors: the bundled SSDLite model on real pixels, YOLO-ONNX decoding on graphs with known outputs."""

from __future__ import annotations

import importlib.util
import json
import typing
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from pipeline.config import DetectorConfig, load_config
from pipeline.detectors import Detector, kinds, load_detector
from pipeline.detectors.ssdlite import SSDLiteDetector
from pipeline.detectors.yolo_onnx import YoloOnnxDetector
from pipeline.errors import GatewatchError
from pipeline.offline.analyze import analyze
from pipeline.records import Detections

from .conftest import DEMO_CONFIG, ROOT, SAMPLE


def frame_of_sample(index: int) -> np.ndarray:
    capture = cv2.VideoCapture(str(SAMPLE))
    capture.set(cv2.CAP_PROP_POS_FRAMES, index)
    ok, image = capture.read()
    assert ok
    return image


def test_default_model_finds_the_person_in_the_sample() -> None:
    truth = json.loads((ROOT / "sample_videos" / "north-gate.truth.json").read_text())
    walk = next(w for w in truth["walks"] if w["name"] == "A")
    index = 40  # A is walking, 3 s into the clip
    t = index / truth["fps"]
    foot_x = walk["x0"] + (t - walk["t0"]) / (walk["t1"] - walk["t0"]) * (walk["x1"] - walk["x0"])
    detector = load_detector(DetectorConfig(), Path)
    assert isinstance(detector, SSDLiteDetector)
    found = detector.detect(frame_of_sample(index))
    best = int(np.argmax(found.confidence))
    x1, _, x2, y2 = found.xyxy[best]
    assert found.confidence[best] > 0.8
    assert abs((x1 + x2) / 2 - foot_x) < 30
    assert abs(y2 - walk["foot_y"]) < 25


def test_empty_scene_has_no_person() -> None:
    detector = load_detector(DetectorConfig(), Path)
    assert len(detector.detect(np.full((480, 640, 3), 127, np.uint8))) == 0


def yolo_graph(path: Path, output: np.ndarray, size: int = 64) -> Path:
    """A stand-in YOLO export: input [1, 3, size, size], output a constant we choose (plus 0 * input)."""
    const = helper.make_tensor("const", TensorProto.FLOAT, output.shape, output.flatten().tolist())
    nodes = [
        helper.make_node("ReduceSum", ["images"], ["total"], keepdims=0),
        helper.make_node("Mul", ["total", "zero"], ["nothing"]),
        helper.make_node("Add", ["const", "nothing"], ["output0"]),
    ]
    graph = helper.make_graph(
        nodes,
        "yolo-stand-in",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, size, size])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, list(output.shape))],
        initializer=[const, helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def test_yolo_raw_head_is_decoded_letterboxed_and_suppressed(tmp_path: Path) -> None:
    # Columns: cx, cy, w, h, score(person), score(car) in the 64x64 model input.
    anchors = np.array(
        [
            [32, 32, 20, 16, 0.90, 0.10],  # person
            [33, 32, 20, 16, 0.80, 0.10],  # same person again: NMS drops it
            [10, 30, 8, 8, 0.02, 0.95],  # a car, not a person
            [50, 30, 8, 8, 0.04, 0.00],  # too weak even at night (detector.night.low_confidence 0.05)
        ],
        np.float32,
    )
    output = np.zeros((1, 6, 8), np.float32)
    output[0, :, :4] = anchors.T
    path = yolo_graph(tmp_path / "yolo.onnx", output)
    detector = load_detector(DetectorConfig(model=str(path)), Path)
    assert isinstance(detector, YoloOnnxDetector)
    # A 128x64 image is scaled by 0.5 into the 64x64 input and padded by 16 rows at the top.
    found = detector.detect(np.zeros((64, 128, 3), np.uint8))
    assert len(found) == 1
    np.testing.assert_allclose(found.xyxy[0], [44, 16, 84, 48], atol=0.01)
    assert found.confidence[0] == pytest.approx(0.9)


def test_yolo_end_to_end_output_is_read_as_boxes(tmp_path: Path) -> None:
    output = np.zeros((1, 10, 6), np.float32)
    output[0, 0] = [16, 24, 48, 40, 0.85, 0]  # x1, y1, x2, y2, score, class (person)
    output[0, 1] = [0, 16, 8, 24, 0.99, 2]  # a car
    path = yolo_graph(tmp_path / "yolo26.onnx", output)
    found = load_detector(DetectorConfig(model=str(path)), Path).detect(np.zeros((64, 128, 3), np.uint8))
    assert len(found) == 1
    np.testing.assert_allclose(found.xyxy[0], [32, 16, 96, 48], atol=0.01)


def test_missing_and_unsupported_models_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(GatewatchError, match=r"detector\.model: model file .*nope\.onnx not found"):
        load_detector(DetectorConfig(model=str(tmp_path / "nope.onnx")), Path)
    weights = tmp_path / "model.tflite"
    weights.write_bytes(b"x")
    with pytest.raises(GatewatchError, match=r"unsupported model file; use \.onnx or \.pt"):
        load_detector(DetectorConfig(model=str(weights)), Path)
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    with pytest.raises(GatewatchError, match=r"broken\.onnx: not a loadable ONNX model"):
        load_detector(DetectorConfig(model=str(broken)), Path)
    with pytest.raises(GatewatchError, match="does not fit model 'default'"):
        load_detector(DetectorConfig(type="yolo"), Path)


@pytest.mark.skipif(importlib.util.find_spec("ultralytics") is not None, reason="checks the message without the extra")
def test_pt_model_without_the_ultralytics_extra_says_how_to_install(tmp_path: Path) -> None:
    weights = tmp_path / "yolo11n.pt"
    weights.write_bytes(b"x")
    with pytest.raises(GatewatchError, match=r"pip install 'gatewatch\[ultralytics\]'"):
        load_detector(DetectorConfig(model=str(weights)), Path)


def test_ultralytics_pt_model_runs_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only where the optional extra is installed (it brings torch; CI's edge-box install has none)."""
    ultralytics = pytest.importorskip("ultralytics")
    monkeypatch.setenv("YOLO_OFFLINE", "True")
    weights = tmp_path / "tiny.pt"
    ultralytics.YOLO("yolov8n.yaml").save(str(weights))  # architecture from the package, untrained
    detector = load_detector(DetectorConfig(model=str(weights)), Path)
    found = detector.detect(frame_of_sample(40))
    assert found.xyxy.shape == (len(found), 4) and found.xyxy.dtype == np.float32


def test_detection_on_the_watched_area_returns_frame_coordinates() -> None:
    """region: watched crops before detecting; boxes must come back where the person is in the frame."""
    from pipeline.detectors.boxes import crop_detector

    detector = load_detector(DetectorConfig(), Path)
    image = frame_of_sample(40)
    full = detector.detect(image)
    cropped = crop_detector(detector.detect, (100, 60, 600, 480))(image)
    a, b = full.xyxy[int(np.argmax(full.confidence))], cropped.xyxy[int(np.argmax(cropped.confidence))]
    assert np.abs(a - b).max() < 20


def _wide(image: np.ndarray, at: int, width: int) -> np.ndarray:
    """`image` pasted at x=`at` into a wider frame of the same height (the rest plain grey)."""
    canvas = np.full((image.shape[0], width, 3), 110, np.uint8)
    canvas[:, at : at + image.shape[1]] = image
    return canvas


def test_wide_frames_are_cut_into_overlapping_4_3_tiles() -> None:
    detector = load_detector(DetectorConfig(), Path)
    assert isinstance(detector, SSDLiteDetector)
    assert detector.tiles(np.zeros((480, 640, 3), np.uint8)) == [(0, 640)]
    assert detector.tiles(np.zeros((720, 1280, 3), np.uint8)) == [(0, 960), (320, 960)]
    assert detector.tiles(np.zeros((1080, 1920, 3), np.uint8)) == [(0, 1440), (480, 1440)]
    panorama = detector.tiles(np.zeros((480, 2560, 3), np.uint8))
    assert len(panorama) == 7 and panorama[-1] == (1920, 640)
    untiled = load_detector(DetectorConfig(tiles="off"), Path)
    assert untiled.tiles(np.zeros((720, 1280, 3), np.uint8)) == [(0, 1280)]


@pytest.mark.parametrize("at", [0, 250, 640])  # in the first tile, on the seam of both, in the last
def test_a_person_in_a_wide_frame_is_found_once_where_they_are(at: int) -> None:
    """The sample frame (person A walking) placed into a 1280x480 frame, which is cut into three
    tiles: the person comes back once, at the same place as in the 4:3 frame, wherever the seams."""
    detector = load_detector(DetectorConfig(), Path)
    image = frame_of_sample(40)
    alone = detector.detect(image)
    person = alone.xyxy[alone.confidence > 0.6]
    assert len(person) == 1
    found = detector.detect(_wide(image, at, 1280))
    strong = found.xyxy[found.confidence > 0.6]
    assert len(strong) == 1, found
    assert np.abs(strong[0] - (person[0] + [at, 0, at, 0])).max() < 20
    # a batch of wide and plain frames gives each its own answer
    both = detector.detect_batch([_wide(image, at, 1280), image])
    np.testing.assert_allclose(both[0].xyxy, found.xyxy, atol=1e-3)
    np.testing.assert_allclose(both[1].xyxy, alone.xyxy, atol=1e-3)


def test_every_configurable_detector_type_has_a_registered_backend() -> None:
    configurable = set(typing.get_args(DetectorConfig.model_fields["type"].annotation)) - {"auto"}
    assert set(kinds()) == configurable


class _Blind(Detector):
    """Sees nobody: a run with it must not find the people the bundled model finds."""

    name = "blind"

    def __init__(self) -> None:
        self.calls = 0

    def detect(self, image: np.ndarray) -> Detections:
        self.calls += 1
        return Detections.empty()


def test_analyze_uses_the_detector_it_is_given(tmp_path: Path) -> None:
    config = load_config(DEMO_CONFIG)
    blind = _Blind()
    summary = analyze(
        config,
        SAMPLE,
        db_path=tmp_path / "g.db",
        snapshot_dir=tmp_path / "snapshots",
        analysed_at=datetime(2026, 11, 29, tzinfo=UTC),
        detector=blind,
    )
    assert blind.calls > 0 and summary.frames_detected == blind.calls
    assert summary.decisions == []
