"""Scoring crossings against ground truth: one-to-one matches by line and direction within a tolerance.

Used by the accuracy tests and benchmarks on annotated footage; kept in the package so anyone
with their own annotated clips can score gatewatch the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from scipy.optimize import linear_sum_assignment


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
    groups = {(e.line, e.direction) for e in predicted + truth}
    for group in sorted(groups):
        p = [e.frame for e in predicted if (e.line, e.direction) == group]
        t = [e.frame for e in truth if (e.line, e.direction) == group]
        matched = 0
        if p and t:
            cost = [[abs(a - b) if abs(a - b) <= tolerance_frames else 10**9 for b in t] for a in p]
            rows, cols = linear_sum_assignment(cost)
            matched = sum(1 for r, c in zip(rows, cols, strict=True) if cost[r][c] <= tolerance_frames)
        tp, fp, fn = matched, len(p) - matched, len(t) - matched
        result.by_group[group] = (tp, fp, fn)
        result.true_positives += tp
        result.false_positives += fp
        result.false_negatives += fn
    return result
