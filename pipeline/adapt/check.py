"""Is the adapted model better than the bundled one on the minutes it never learnt from?

Both models look at the held-back views (and a night look of each held-back day view); each is
scored by average precision against the people the evidence found there, with either model
(footage.py: a person only the adapted model sees, walking as people do, is a person). Average
precision weighs every threshold at once, so a model that finds more people only by also finding
more things that are not people does not win. The adapted model is a night model, so the night
kinds decide: it is written only if it wins or ties on every night kind of view that has people in
it (day views are shown, not judged: by day the camera keeps the bundled model).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import supervision as sv

from pipeline.adapt.footage import View
from pipeline.detectors.ssdlite import SSDLiteDetector
from pipeline.lighting import Lighting
from pipeline.night_looks import CONDITIONS, degrade, draw

MATCH_IOU = 0.5
NIGHT_LOOK = "night look"  # the kind of a held-back day view made to look like night
ENOUGH = 5  # people in a kind's views for its comparison to count


@dataclass(frozen=True)
class Comparison:
    kind: str  # a Lighting value, or NIGHT_LOOK
    views: int
    people: int
    bundled: float  # average precision
    adapted: float

    @property
    def counts(self) -> bool:
        """Whether this kind decides: a night kind, with people enough to judge."""
        return self.kind != Lighting.DAY and self.people >= ENOUGH

    @property
    def lost(self) -> bool:
        return self.counts and self.adapted < self.bundled


def compare(
    views: list[View], people: list[np.ndarray], bundled: SSDLiteDetector, adapted: SSDLiteDetector, seed: int
) -> list[Comparison]:
    """`people`: per view, the people the evidence found there with either model; a night look of
    a day view is judged against the people found by day (`view.people`), where the bundled model
    sees well."""
    rng = np.random.default_rng(seed)
    kinds: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for k, view in enumerate(views):
        kinds.setdefault(str(view.lighting), []).append((view.image, people[k]))
        if view.lighting == Lighting.DAY:
            look = draw(CONDITIONS[k % len(CONDITIONS)], rng)
            kinds.setdefault(NIGHT_LOOK, []).append((degrade(view.image, look, rng), view.people))
    return [
        Comparison(
            kind,
            len(items),
            sum(len(people) for _, people in items),
            average_precision(bundled, items),
            average_precision(adapted, items),
        )
        for kind, items in kinds.items()
    ]


def average_precision(detector: SSDLiteDetector, items: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """Area under the precision-recall curve (all points, VOC style) over every detection kept."""
    scores, hits, total = [], [], 0
    for image, people in items:
        found = detector.detect(image)
        total += len(people)
        order = np.argsort(-found.confidence)
        free = np.ones(len(people), bool)
        overlaps = sv.box_iou_batch(found.xyxy[order], people) if len(people) and len(found) else None
        for rank, k in enumerate(order):
            hit = False
            if overlaps is not None:
                candidates = np.where(free, overlaps[rank], 0)
                best = int(candidates.argmax())
                if candidates[best] >= MATCH_IOU:
                    free[best] = False
                    hit = True
            scores.append(found.confidence[k])
            hits.append(hit)
    if not total:
        return 1.0
    order = np.argsort(-np.array(scores))
    correct = np.cumsum(np.array(hits)[order])
    precision = correct / np.arange(1, len(order) + 1)
    recall = correct / total
    # Precision made non-increasing, then summed over each step in recall.
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    steps = np.diff(np.concatenate([[0.0], recall]))
    return float((envelope * steps).sum())
