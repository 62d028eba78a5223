"""The bundled detector's person score, opened up as the linear layer it ends in.

SSDLite scores each anchor with a 1x1 convolution over the features of its cell. `gatewatch
adapt` refits that layer's person rows only, on one camera's own footage: it runs on the edge
box's CPU with numpy (no training framework), it cannot forget what the backbone learnt from
millions of photos, and the graph, its inputs, outputs and speed stay exactly the bundled ones
(only the numbers in six small weight tensors change). Needs the `onnx` package to rewrite them
(the `adapt` extra).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from pipeline.errors import GatewatchError
from pipeline.files import atomic_write

MAPS = 6  # SSDLite's feature maps, 19x19 down to 1x1
FEATURES = "ssd/BoxPredictor_{}/ClassPredictor_depthwise/Relu6:0"  # each cell's features, NCHW
PREDICTOR = "ssd/BoxPredictor_{}/ClassPredictor/BiasAdd"  # the 1x1 conv: (anchors x [background, person])


@dataclass(frozen=True)
class Readout:
    """One batch through the graph: its answer and what the person score was computed from."""

    boxes: np.ndarray  # (n, anchors, 4): ymin, xmin, ymax, xmax, 0..1
    scores: np.ndarray  # (n, anchors): person score
    features: list[np.ndarray]  # per map (n, cells, channels); anchor = offset + cell * per_cell + a


@dataclass(frozen=True)
class Layer:
    """One map's person rows: logit of anchor a in a cell = features . weight[a] + bias[a]."""

    weight: np.ndarray  # (per_cell, channels)
    bias: np.ndarray  # (per_cell,)
    offset: int  # the map's first anchor
    cells: int

    @property
    def per_cell(self) -> int:
        return len(self.bias)


class ScoreHead:
    def __init__(self, path: Path) -> None:
        try:
            import onnx
        except ImportError as exc:
            raise GatewatchError(
                "gatewatch adapt needs the onnx package to write a model: pip install 'gatewatch[adapt]'"
            ) from exc
        self.path = path
        self.model = onnx.load(str(path))
        nodes = {node.name: node for node in self.model.graph.node}
        self._initializers = {i.name: i for i in self.model.graph.initializer}
        if any(PREDICTOR.format(k) not in nodes for k in range(MAPS)):
            raise GatewatchError(f"{path}: not the bundled SSDLite graph; gatewatch adapt refits that model only")
        self._tensors = [tuple(nodes[PREDICTOR.format(k)].input[1:3]) for k in range(MAPS)]
        probe = onnx.ModelProto()
        probe.CopyFrom(self.model)
        for k in range(MAPS):
            feature = onnx.helper.make_tensor_value_info(FEATURES.format(k), onnx.TensorProto.FLOAT, None)
            probe.graph.output.append(feature)
        self.session = ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name
        self.layers = self._layers()

    def _layers(self) -> list[Layer]:
        from onnx import numpy_helper

        blank = np.zeros((1, 300, 300, 3), np.uint8)
        features = self.session.run([FEATURES.format(k) for k in range(MAPS)], {self.input_name: blank})
        layers, offset = [], 0
        for (weight_name, bias_name), feature in zip(self._tensors, features, strict=True):
            weight = numpy_helper.to_array(self._initializers[weight_name])[:, :, 0, 0]
            bias = numpy_helper.to_array(self._initializers[bias_name])
            cells = feature.shape[2] * feature.shape[3]
            layers.append(Layer(weight[1::2].copy(), bias[1::2].copy(), offset, cells))
            offset += cells * len(bias) // 2
        return layers

    def read(self, blob: np.ndarray) -> Readout:
        names = ["boxes", "scores", *(FEATURES.format(k) for k in range(MAPS))]
        boxes, scores, *features = self.session.run(names, {self.input_name: blob})
        flat = [f.reshape(f.shape[0], f.shape[1], -1).transpose(0, 2, 1) for f in features]
        return Readout(boxes, scores, flat)

    def save(self, changes: list[tuple[np.ndarray, np.ndarray]], out: Path, properties: dict[str, str]) -> None:
        """Write the model with each map's person rows moved by `changes` ((per_cell, channels), (per_cell,))."""
        import onnx
        from onnx import numpy_helper

        adapted = onnx.ModelProto()
        adapted.CopyFrom(self.model)
        initializers = {i.name: i for i in adapted.graph.initializer}
        for (weight_name, bias_name), (d_weight, d_bias) in zip(self._tensors, changes, strict=True):
            weight = numpy_helper.to_array(initializers[weight_name]).copy()
            bias = numpy_helper.to_array(initializers[bias_name]).copy()
            weight[1::2, :, 0, 0] += d_weight.astype(weight.dtype)
            bias[1::2] += d_bias.astype(bias.dtype)
            initializers[weight_name].CopyFrom(numpy_helper.from_array(weight, weight_name))
            initializers[bias_name].CopyFrom(numpy_helper.from_array(bias, bias_name))
        kept = {p.key: p.value for p in adapted.metadata_props}
        onnx.helper.set_model_props(adapted, {**kept, **properties})
        atomic_write(out, adapted.SerializeToString())
