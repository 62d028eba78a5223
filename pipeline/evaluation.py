"""Scoring crossings against ground truth: one-to-one matches by line and direction within a tolerance.

Used by the accuracy tests and benchmarks on annotated footage; kept in the package so anyone
with their own annotated clips can score gatewatch the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from scipy.optimize import linear_sum_assignment

from pipeline.vocabulary import Direction


@dataclass(frozen=True)
class Event:
    line: str
    direction: str
    frame: int


@dataclass
class Score:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    by_group: dict[tuple[str, str], tuple[int, int, int]] = field(default_factory=dict)
    double_counts: int = 0  # extra predictions next to a true crossing that another prediction matched
    direction_errors: int = 0  # predictions next to a missed true crossing of the same line, other direction

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        actual = self.true_positives + self.false_negatives
        return self.true_positives / actual if actual else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score(predicted: Iterable[Event], truth: Iterable[Event], tolerance_frames: int) -> Score:
    """Optimal one-to-one matching per (line, direction), so one crossing can't excuse two."""
    predicted, truth = list(predicted), list(truth)
    result = Score()
    unmatched_predicted: list[Event] = []
    matched_truth: list[Event] = []
    unmatched_truth: list[Event] = []
    groups = {(e.line, e.direction) for e in predicted + truth}
    for group in sorted(groups):
        p = [e for e in predicted if (e.line, e.direction) == group]
        t = [e for e in truth if (e.line, e.direction) == group]
        pairs: set[tuple[int, int]] = set()
        if p and t:
            cost = [
                [abs(a.frame - b.frame) if abs(a.frame - b.frame) <= tolerance_frames else 10**9 for b in t] for a in p
            ]
            rows, cols = linear_sum_assignment(cost)
            pairs = {(r, c) for r, c in zip(rows, cols, strict=True) if cost[r][c] <= tolerance_frames}
        used_p, used_t = {r for r, _ in pairs}, {c for _, c in pairs}
        unmatched_predicted += [e for i, e in enumerate(p) if i not in used_p]
        matched_truth += [e for i, e in enumerate(t) if i in used_t]
        unmatched_truth += [e for i, e in enumerate(t) if i not in used_t]
        tp, fp, fn = len(pairs), len(p) - len(pairs), len(t) - len(pairs)
        result.by_group[group] = (tp, fp, fn)
        result.true_positives += tp
        result.false_positives += fp
        result.false_negatives += fn

    def near(event: Event, candidates: list[Event], direction: str) -> bool:
        return any(
            c.line == event.line and c.direction == direction and abs(c.frame - event.frame) <= tolerance_frames
            for c in candidates
        )

    for event in unmatched_predicted:
        opposite = Direction.OUT if event.direction == Direction.IN else Direction.IN
        if near(event, unmatched_truth, opposite):
            result.direction_errors += 1
        elif near(event, matched_truth, event.direction):
            result.double_counts += 1
    return result
