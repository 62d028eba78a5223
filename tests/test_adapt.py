"""`gatewatch adapt` and per-camera models: real thermal footage (benchmarks/footage), real
decoding, the real bundled ONNX model and the model adapt writes, loaded by the real pipeline."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort
import pytest

from benchmarks.data import THERMAL, encode
from pipeline.adapt import METADATA
from pipeline.adapt.head import ScoreHead
from pipeline.config import load_config
from pipeline.detectors import CameraDetectors
from pipeline.detectors.onnx import bundled_model_path

from .conftest import assert_user_error, gatewatch, rows

CLIP = THERMAL / "0112_1732" / "0112_1732.mp4"  # a woman, then two pairs cross a plaza at night
START = ("--start", "2026-12-05T22:10:00+08:00")


def _config(folder: Path, video: Path, night_model: str | None = None) -> Path:
    own = f"\n    night_model: {night_model}" if night_model else ""
    path = folder / "site.yaml"
    path.write_text(
        "timezone: Asia/Shanghai\n"
        "cameras:\n"
        f"  plaza:\n    source: {video}{own}\n"
        "    lines:\n      walk: {points: [[320, 240], [320, 479]], inside: [420, 380]}\n"
    )
    return path


def _scores(model: Path, blob: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    return session.run(["scores"], {"image": blob})[0]


def test_the_score_layer_is_read_and_written_anchor_by_anchor(tmp_path: Path) -> None:
    """Moving one anchor's person bias moves that anchor's logit by exactly that much and no other:
    the mapping from the 1x1 convolutions to the graph's 1917 scores is the graph's own."""
    head = ScoreHead(bundled_model_path())
    capture = cv2.VideoCapture(str(CLIP))
    ok, image = capture.read()
    capture.release()
    assert ok
    blob = cv2.resize(image, (300, 300), interpolation=cv2.INTER_AREA)[None, :, :, ::-1].copy()
    readout = head.read(blob)
    layer = head.layers[1]
    changes = [(np.zeros_like(x.weight), np.zeros_like(x.bias)) for x in head.layers]
    changes[1][1][2] = 1.0  # map 1, the third anchor of every cell
    head.save(changes, tmp_path / "moved.onnx", {METADATA: "test"})
    moved = _scores(tmp_path / "moved.onnx", blob)[0]

    def logit(p: np.ndarray) -> np.ndarray:
        return np.log(p / (1 - p))

    shifted = np.zeros(moved.shape, bool)
    shifted[layer.offset + 2 : layer.offset + layer.cells * layer.per_cell : layer.per_cell] = True
    np.testing.assert_allclose(logit(moved[shifted]) - logit(readout.scores[0][shifted]), 1.0, atol=2e-3)
    np.testing.assert_allclose(moved[~shifted], readout.scores[0][~shifted], atol=1e-6)


def test_adapt_writes_a_camera_model_that_analyze_uses(tmp_path: Path) -> None:
    config = _config(tmp_path, CLIP)
    model = tmp_path / "models" / "plaza.onnx"
    result = gatewatch("adapt", CLIP, "--config", config, "--camera", "plaza", "--out", model)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "people found by evidence" in result.stdout and "infrared" in result.stdout
    assert f"night_model: {model}" in result.stdout  # says how to use it
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    assert "0112_1732.mp4" in session.get_modelmeta().custom_metadata_map[METADATA]
    assert not list(model.parent.glob(".*")), "no temporary file left beside the model"

    used = _config(tmp_path, CLIP, str(model))
    detectors = CameraDetectors(load_config(used))
    assert detectors.night("plaza") is detectors.night("plaza")  # loaded once
    assert detectors.night("plaza") is not detectors.get("plaza")  # by day: the bundled model
    ran = gatewatch("analyze", CLIP, "--config", used, *START, "--db", tmp_path / "g.db", "--snapshots", tmp_path / "s")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert len(rows(tmp_path / "g.db", "crossings")) >= 1


def test_adapt_refuses_footage_it_cannot_check(tmp_path: Path) -> None:
    """Nobody walks through this recording: nothing to learn or check with, so no model is written
    and the exit code says so."""
    still = tmp_path / "empty-gate.mp4"
    capture = cv2.VideoCapture(str(CLIP))
    ok, image = capture.read()
    capture.release()
    assert ok
    blank = cv2.GaussianBlur(image, (0, 0), 25)  # the scene's light, nobody in it
    encode(still, (blank for _ in range(150)), (640, 480), 30, 500_000)
    model = tmp_path / "plaza.onnx"
    result = gatewatch("adapt", still, "--config", _config(tmp_path, CLIP), "--camera", "plaza", "--out", model)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "not written" in result.stdout and "too few people" in result.stdout
    assert not model.exists()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--camera", "nosuch", "--out", "m.onnx"), "--camera 'nosuch'"),
        (("--camera", "plaza", "--out", "m.pt"), "name it *.onnx"),
    ],
)
def test_adapt_says_what_is_wrong(tmp_path: Path, args: tuple[str, ...], needle: str) -> None:
    assert_user_error(gatewatch("adapt", CLIP, "--config", _config(tmp_path, CLIP), *args, cwd=tmp_path), needle)


def test_a_missing_camera_model_is_named_by_its_key(tmp_path: Path) -> None:
    night = _config(tmp_path, CLIP, "models/nosuch.onnx")
    day = tmp_path / "day.yaml"
    day.write_text(night.read_text().replace("night_model:", "model:"))
    for config, key in ((night, "cameras.plaza.night_model"), (day, "cameras.plaza.model")):
        result = gatewatch(
            "analyze", CLIP, "--config", config, *START, "--db", tmp_path / "g.db", "--snapshots", tmp_path / "s"
        )
        assert_user_error(result, key, "nosuch.onnx", "not found")


STAIRS = THERMAL / "0112_1722" / "0112_1722.mp4"  # two people go up the stairs in its last quarter


def _stairs(folder: Path) -> Path:
    path = folder / "stairs.yaml"
    path.write_text(
        "timezone: Asia/Shanghai\ncameras:\n  stairs:\n"
        f"    source: {STAIRS}\n"
        "    lines:\n      stairs: {points: [[300, 300], [639, 300]], inside: [470, 200]}\n"
    )
    return path


def test_adapt_compares_crossings_where_a_person_counted_them(tmp_path: Path) -> None:
    """--truth: the two people who go up the stairs in the held-back minutes (counted by hand,
    benchmarks/footage/README.md), and one crossing outside them that must not count."""
    truth = tmp_path / "truth.json"
    counted = [("in", 610), ("in", 638), ("out", 186)]
    entries = [{"video": STAIRS.name, "line": "stairs", "direction": d, "at_s": f / 30} for d, f in counted]
    truth.write_text(json.dumps({"crossings": entries}))
    model = tmp_path / "stairs.onnx"
    result = gatewatch(
        "adapt", STAIRS, "--config", _stairs(tmp_path), "--camera", "stairs", "--out", model, "--truth", truth
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("crossings on the held-back minutes")]
    assert len(lines) == 2, result.stdout + result.stderr
    found_missed = [re.search(r"\((\d+) found, (\d+) missed", line).groups() for line in lines]  # type: ignore[union-attr]
    assert all(int(found) + int(missed) == 2 for found, missed in found_missed)  # the out at 6 s is not held back
    assert result.returncode == (0 if model.exists() else 1)


@pytest.mark.parametrize(
    ("entry", "needle"),
    [
        ({"video": "other.mp4", "line": "stairs", "direction": "in", "at_s": 1}, "crossings.0.video"),
        ({"video": STAIRS.name, "line": "door", "direction": "in", "at_s": 1}, "crossings.0.line"),
        ({"video": STAIRS.name, "line": "stairs", "direction": "up", "at_s": 1}, "crossings.0.direction"),
    ],
)
def test_a_wrong_truth_file_is_refused_before_any_work(tmp_path: Path, entry: dict, needle: str) -> None:
    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps({"crossings": [entry]}))
    result = gatewatch(
        "adapt", STAIRS, "--config", _stairs(tmp_path), "--camera", "stairs", "--out", tmp_path / "m.onnx",
        "--truth", truth,
    )  # fmt: skip
    assert_user_error(result, "--truth", needle)


def test_without_the_onnx_package_adapt_says_which_extra_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The edge install has no `onnx` (only onnxruntime): adapt says so at once, before reading
    any footage."""
    monkeypatch.setitem(sys.modules, "onnx", None)  # `import onnx` raises ImportError, as where it is absent
    result = gatewatch(
        "adapt", CLIP, "--config", _config(tmp_path, CLIP), "--camera", "plaza", "--out", tmp_path / "m.onnx"
    )
    assert_user_error(result, "pip install 'gatewatch[adapt]'")
