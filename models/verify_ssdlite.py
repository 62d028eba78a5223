"""Check the converted ONNX model against TensorFlow running the original frozen graph.

Run in the conversion venv (see convert_ssdlite.py; add `opencv-python-headless==4.10.0.84
pydantic pyyaml` there) from the repository root:

    /tmp/convenv/bin/python models/verify_ssdlite.py VIDEO [VIDEO ...]

Two comparisons on real frames, 10 evenly spaced frames per video:
1. the network alone: TF and ONNX on the same 300x300 input (max absolute score/box difference);
2. end to end: the original graph (its own resize, its own NMS) against gatewatch's
   SSDLiteDetector (OpenCV resize, OpenCV NMS) at confidence 0.4, boxes matched at IoU >= 0.5.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort
import tensorflow as tf

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]
from convert_ssdlite import frozen_graph_path  # noqa: E402

from pipeline.config import DetectorConfig  # noqa: E402
from pipeline.detectors.ssdlite import SSDLiteDetector  # noqa: E402

CONFIDENCE = 0.4
MODEL = Path(__file__).resolve().parent / "ssdlite_person_voc.onnx"  # the conversion (the night model grew from it)


def frames(video: str, count: int = 10) -> list[np.ndarray]:
    cap = cv2.VideoCapture(video)
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    out = []
    for index in np.linspace(0, total - 1, count).astype(int):
        cap.set(cv2.CAP_PROP_POS_FRAMES, int(index))
        ok, image = cap.read()
        if ok:
            out.append(image)
    return out


def iou(a: np.ndarray, b: np.ndarray) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def main() -> None:
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(frozen_graph_path().read_bytes())
    graph = tf.Graph()
    with graph.as_default():
        tf.import_graph_def(graph_def, name="")
    session = tf.compat.v1.Session(graph=graph)
    onnx = ort.InferenceSession(str(MODEL), providers=["CPUExecutionProvider"])
    detector = SSDLiteDetector(MODEL, DetectorConfig(confidence=CONFIDENCE, low_confidence=CONFIDENCE))

    max_score_diff = max_box_diff = 0.0
    tf_total = matched = onnx_total = 0
    ious: list[float] = []
    for video in sys.argv[1:]:
        for image in frames(video):
            rgb300 = cv2.cvtColor(cv2.resize(image, (300, 300)), cv2.COLOR_BGR2RGB)
            tf_boxes, tf_scores = session.run(
                ["Postprocessor/raw_box_locations:0", "Postprocessor/raw_box_scores:0"],
                {"image_tensor:0": rgb300[None]},
            )
            ox_boxes, ox_scores = onnx.run(["boxes", "scores"], {"image": rgb300[None]})
            max_score_diff = max(max_score_diff, float(np.abs(tf_scores[0, :, 1] - ox_scores[0]).max()))
            max_box_diff = max(max_box_diff, float(np.abs(tf_boxes[0] - ox_boxes[0]).max()))

            h, w = image.shape[:2]
            boxes, scores, n = session.run(
                ["detection_boxes:0", "detection_scores:0", "num_detections:0"],
                {"image_tensor:0": cv2.cvtColor(image, cv2.COLOR_BGR2RGB)[None]},
            )
            keep = scores[0, : int(n[0])] >= CONFIDENCE
            reference = boxes[0, : int(n[0])][keep][:, [1, 0, 3, 2]] * [w, h, w, h]
            ours = detector.detect(image)
            tf_total += len(reference)
            onnx_total += len(ours)
            for box in reference:
                best = max((iou(box, other) for other in ours.xyxy), default=0.0)
                if best >= 0.5:
                    matched += 1
                    ious.append(best)
    print(f"network on identical input: max |score diff| {max_score_diff:.2e}, max |box diff| {max_box_diff:.2e}")
    print(
        f"end to end at confidence {CONFIDENCE}: TF {tf_total} boxes, gatewatch {onnx_total} boxes, "
        f"{matched}/{tf_total} TF boxes matched (IoU >= 0.5), mean IoU of matches {np.mean(ious):.3f}"
    )


if __name__ == "__main__":
    main()
