"""The bundled detector: SSDLite-MobileNetV2 fine-tuned on people, converted to ONNX.

See models/README.md for its provenance and models/convert_ssdlite.py for the conversion. The
graph takes uint8 RGB 300x300 and returns decoded boxes and person scores; resizing and NMS
happen here because they are cheap in OpenCV and awkward (TF `while` loops) inside the graph.
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np

from pipeline.config import DetectorConfig
from pipeline.detectors.base import Detector
from pipeline.detectors.boxes import non_max_suppression
from pipeline.detectors.onnx import onnx_session
from pipeline.detectors.registry import Backend, register
from pipeline.errors import GatewatchError
from pipeline.records import Detections

INPUT_SIZE = 300
TILE_ASPECT = 4 / 3  # the shape of the photos the network learnt from
WIDE_MARGIN = 1.2  # frames up to 20 % wider than 4:3 are squashed whole
SEAM_MARGIN = 0.01  # a box this close (fraction of the tile) to an inner seam counts as cut


# ONNX metadata key naming the resize a model was trained with. The night model says `area`:
# area resizing averages the pixels it shrinks, so a night frame's sensor noise is smoothed
# instead of sampled. Models without it (the original day model) were trained on bilinear input
# and lose accuracy on area-resized frames (measured on TUD-Stadtmitte when the night model came), so
# they keep it.
RESIZE_KEY = "gatewatch_resize"
RESIZES = {"area": cv2.INTER_AREA, "bilinear": cv2.INTER_LINEAR}


def network_input(image: np.ndarray, interpolation: int = cv2.INTER_AREA) -> np.ndarray:
    """300x300 RGB; single-channel frames (some IR cameras, grey JPEGs) become three equal channels."""
    if image.ndim == 2 or image.shape[2] == 1:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return cv2.cvtColor(cv2.resize(image, (INPUT_SIZE, INPUT_SIZE), interpolation=interpolation), cv2.COLOR_BGR2RGB)


def _uncut(found: Detections, x: int, tile: int, width: int) -> Detections:
    """Drop boxes cut by a seam inside the frame (the overlapping tile holds that person whole)."""
    margin = SEAM_MARGIN * tile
    cut = np.zeros(len(found), bool)
    if x > 0:
        cut |= found.xyxy[:, 0] <= margin
    if x + tile < width:
        cut |= found.xyxy[:, 2] >= tile - 1 - margin
    return found.where(~cut) if cut.any() else found


class SSDLiteDetector(Detector):
    name = "ssdlite"
    concurrent = True

    def __init__(self, path: Path, config: DetectorConfig) -> None:
        self.session = onnx_session(path, config.threads)
        inputs = self.session.get_inputs()
        outputs = {o.name for o in self.session.get_outputs()}
        if len(inputs) != 1 or not {"boxes", "scores"} <= outputs:
            raise GatewatchError(
                f"{path}: not an SSDLite model as gatewatch converts them (input `image`, outputs `boxes`, `scores`)"
            )
        self.input_name = inputs[0].name
        resize = self.session.get_modelmeta().custom_metadata_map.get(RESIZE_KEY, "bilinear")
        if resize not in RESIZES:
            raise GatewatchError(f"{path}: unknown {RESIZE_KEY} {resize!r} in the model's metadata")
        self.interpolation = RESIZES[resize]
        self.confidence = config.floor
        self.nms_iou = config.nms_iou
        self.tiling = config.tiles == "auto"

    def detect(self, image: np.ndarray) -> Detections:
        return self.detect_batch([image])[0]

    def detect_batch(self, images: list[np.ndarray]) -> list[Detections]:
        """The graph takes a batch of any size; every image (or tile of a wide one) is resized to the
        same input anyway, so all tiles of all images go through in one call."""
        tiles = [(k, x, w) for k, image in enumerate(images) for x, w in self.tiles(image)]
        blob = np.stack([network_input(images[k][:, x : x + w], self.interpolation) for k, x, w in tiles])
        boxes, scores = self.session.run(["boxes", "scores"], {self.input_name: blob})
        found: list[list[tuple[Detections, int]]] = [[] for _ in images]
        for (k, x, w), b, s in zip(tiles, boxes, scores, strict=True):
            height, width = images[k].shape[:2]
            detections = self._decode(b, s, (height, w))
            found[k].append((_uncut(detections, x, w, width), x))
        return [self._merge(parts) for parts in found]

    def tiles(self, image: np.ndarray) -> list[tuple[int, int]]:
        """(x, width) of the tiles to detect on. The network squashes its input to a square, which a
        4:3 picture survives (it was trained on such photos) but a 16:9 one does not: people come out
        25 % narrower than any it learnt (BENCHMARKS.md, Night: Idle video, has what tiles bring on the
        ten-minute 720p benchmark video). A frame wider than `TILE_ASPECT` is cut
        into 4:3 tiles (two for 16:9), overlapping by at least half a tile so everyone is whole in one."""
        height, width = image.shape[:2]
        tile = round(height * TILE_ASPECT)
        if not self.tiling or width <= tile * WIDE_MARGIN:
            return [(0, width)]
        count = math.ceil((width - tile) / (tile / 2)) + 1
        return [(round(x), tile) for x in np.linspace(0, width - tile, count)]

    def _merge(self, parts: list[tuple[Detections, int]]) -> Detections:
        if len(parts) == 1:
            return parts[0][0]
        xyxy = np.concatenate([d.xyxy + np.array([x, 0, x, 0], np.float32) for d, x in parts])
        return non_max_suppression(xyxy, np.concatenate([d.confidence for d, _ in parts]), self.nms_iou)

    def _decode(self, boxes: np.ndarray, scores: np.ndarray, shape: tuple[int, ...]) -> Detections:
        height, width = shape[:2]
        keep = scores >= self.confidence
        ymin, xmin, ymax, xmax = (boxes[keep, i] for i in range(4))
        xyxy = np.stack([xmin * width, ymin * height, xmax * width, ymax * height], axis=1)
        xyxy = np.clip(xyxy, 0, [width - 1, height - 1, width - 1, height - 1])
        return non_max_suppression(xyxy, scores[keep], self.nms_iou)


register(Backend("ssdlite", (".onnx",), SSDLiteDetector))
