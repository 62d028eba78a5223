"""Refit the person rows of the score layer (head.py) on one camera's night, with numpy.

The result is a night model (`cameras.X.night_model`): day frames keep the bundled model, so
nothing learnt here can cost anything by day. It learns from two kinds of views. The camera's
real night views (infrared, low light): the target of each anchor is the bundled model's own
score, raised where the anchor's box lies on a person the evidence found (footage.py), lowered
where it covers only part of one (so one person does not become two boxes). And its day views
made to look like its night (an IR, low-light or slow-shutter look, night_looks.py), with the
bundled model's answer on the clean day view as the target: the night learnt from people the
model sees well by day. No target is raised past just under the day's threshold (CEILING): what
the night model finds that the bundled one missed goes through the night's weak-track gates.
The change to each weight is held small (an L2 penalty on it), so the layer stays near the one
trained on millions of photos.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import supervision as sv
from scipy.optimize import minimize
from scipy.special import expit

from pipeline.adapt.footage import View
from pipeline.adapt.head import Layer, Readout, ScoreHead
from pipeline.detectors.ssdlite import INPUT_SIZE
from pipeline.lighting import Lighting
from pipeline.night_looks import CONDITIONS, degrade, draw

# New finds are raised to this share of `detector.confidence`, not past it: a person the night model
# finds and the bundled model missed starts a weak track (camera.py), with its gates (seen 1.6 s,
# walked, not loitering), never a day-strength one. A night model that made a figure standing by a
# door day-strong had headlight glare push its box across a line (BENCHMARKS.md, "Adapt").
CEILING = 0.9
ON_PERSON_IOU = 0.75  # an anchor's box overlapping a found person this much is on them
BESIDE_IOU = 0.2  # ...less than ON_PERSON_IOU but this much: a part of them, or them and their surroundings
NOTICED = 0.02  # ...and the bundled model must give it at least this: the anchor looks at them
EASY_CELLS = 8  # cells per view and map kept although nothing is there (the background)
CHUNK = 16_384  # rows turned to float32 at a time in the fit (kept as float16: half the memory)
BATCH = 16


@dataclass
class Rows:
    """One map's training rows: a cell's features and, per anchor of the cell, base logit and target."""

    features: list[np.ndarray] = field(default_factory=list)
    base: list[np.ndarray] = field(default_factory=list)
    target: list[np.ndarray] = field(default_factory=list)

    def stacked(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All rows at once (features stay float16), the lists emptied as they go."""
        features = np.concatenate(self.features)
        self.features.clear()
        return features, np.concatenate(self.base), np.concatenate(self.target)


def targets(readout: Readout, views: list[View], ceiling: float) -> np.ndarray:
    """The bundled model's scores, raised to `ceiling` on the anchors that look at a person found at
    night. By day the bundled model's answer is the target as it is: day is what it does well."""
    wanted = readout.scores.copy()
    for k, view in enumerate(views):
        if view.lighting == Lighting.DAY or not len(view.people):
            continue
        boxes = readout.boxes[k][:, [1, 0, 3, 2]] * INPUT_SIZE  # ymin, xmin.. -> xyxy pixels
        overlap = sv.box_iou_batch(boxes, view.people).max(axis=1)
        on = (overlap >= ON_PERSON_IOU) & (readout.scores[k] >= NOTICED)
        wanted[k, on] = np.maximum(wanted[k, on], ceiling)
        beside = (overlap >= BESIDE_IOU) & (overlap < ON_PERSON_IOU)
        wanted[k, beside] *= 0.5
    return wanted


def collect(
    head: ScoreHead, views: list[View], seed: int, confidence: float, progress: Callable[[int, int], None]
) -> list[Rows]:
    """Training rows from every night view and a night look of every day view, a batch at a time.
    `confidence`: the score that starts a track by day (`detector.confidence`). `progress` gets
    the views done and their number."""
    ceiling = CEILING * confidence
    rng = np.random.default_rng(seed)
    rows = [Rows() for _ in head.layers]
    for start in range(0, len(views), BATCH):
        batch = views[start : start + BATCH]
        clean = head.read(np.stack([_rgb(v.image) for v in batch]))
        wanted = targets(clean, batch, ceiling)
        night = [k for k, v in enumerate(batch) if v.lighting != Lighting.DAY]
        if night:
            _add(rows, head.layers, _rows_of(clean, night), wanted[night], rng)
        day = [k for k, v in enumerate(batch) if v.lighting == Lighting.DAY]
        if day:
            looks = [degrade(batch[k].image, draw(CONDITIONS[k % len(CONDITIONS)], rng), rng) for k in day]
            looked = head.read(np.stack([_rgb(i) for i in looks]))
            # The clean view's answer, but not pushed past the ceiling where the look hid someone.
            clean_wanted = wanted[day]
            raised = np.maximum(looked.scores, ceiling)
            _add(rows, head.layers, looked, np.where(clean_wanted <= ceiling, clean_wanted, raised), rng)
        progress(start + len(batch), len(views))
    return rows


def _rows_of(readout: Readout, keep: list[int]) -> Readout:
    return Readout(readout.boxes[keep], readout.scores[keep], [f[keep] for f in readout.features])


def _rgb(image: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(image[:, :, ::-1])


def _add(rows: list[Rows], layers: list[Layer], readout: Readout, wanted: np.ndarray, rng: np.random.Generator) -> None:
    """The cells worth learning from: every cell where the target or the model sees something (the
    people, the near-misses and what looks like one), and EASY_CELLS others drawn at random (the
    many cells of background)."""
    logits = np.log(np.clip(readout.scores, 1e-6, 1 - 1e-6) / np.clip(1 - readout.scores, 1e-6, 1))
    for into, layer, features in zip(rows, layers, readout.features, strict=True):
        span = slice(layer.offset, layer.offset + layer.cells * layer.per_cell)
        base = logits[:, span].reshape(len(logits), layer.cells, layer.per_cell)
        target = wanted[:, span].reshape(len(wanted), layer.cells, layer.per_cell)
        score = readout.scores[:, span].reshape(len(wanted), layer.cells, layer.per_cell)
        for k in range(len(features)):
            seen = np.maximum(target[k], score[k]).max(axis=1) >= NOTICED
            quiet = rng.permutation(np.flatnonzero(~seen))[:EASY_CELLS]
            chosen = np.concatenate([np.flatnonzero(seen), quiet])
            into.features.append(features[k, chosen].astype(np.float16))
            into.base.append(base[k, chosen])
            into.target.append(target[k, chosen])


def fit(rows: Iterable[Rows], steps: int, l2: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per map, the change to the person rows that minimises weighted cross-entropy (anchors on
    people count five times) plus `l2` times the squared change of the weights; L-BFGS, at most
    `steps` iterations (a smooth, convex problem of a few thousand numbers: no rate to tune)."""
    return [_refit(*layer_rows.stacked(), steps, l2) for layer_rows in rows]


def _refit(
    features: np.ndarray, base: np.ndarray, target: np.ndarray, steps: int, l2: float
) -> tuple[np.ndarray, np.ndarray]:
    anchors, channels = base.shape[1], features.shape[1]
    weight = (1 + 4 * target) / (1 + 4 * target).sum()

    def loss(flat: np.ndarray) -> tuple[float, np.ndarray]:
        d_weight, d_bias = flat[: anchors * channels].reshape(anchors, channels), flat[anchors * channels :]
        value, grad_weight, grad_bias = l2 * (d_weight**2).sum(), 2 * l2 * d_weight, np.zeros(anchors)
        for start in range(0, len(features), CHUNK):
            chunk = features[start : start + CHUNK].astype(np.float32)
            part = slice(start, start + CHUNK)
            logit = base[part] + chunk @ d_weight.T + d_bias
            # Cross-entropy from logits, stable for any sign: log(1 + e^z) - t z.
            value += (weight[part] * (np.logaddexp(0, logit) - target[part] * logit)).sum()
            slope = weight[part] * (expit(logit) - target[part])  # d loss / d logit
            grad_weight += slope.T @ chunk
            grad_bias += slope.sum(axis=0)
        return float(value), np.concatenate([grad_weight.ravel(), grad_bias]).astype(np.float64)

    best = minimize(loss, np.zeros(anchors * (channels + 1)), jac=True, method="L-BFGS-B", options={"maxiter": steps})
    return best.x[: anchors * channels].reshape(anchors, channels), best.x[anchors * channels :]
