"""Scoring against ground truth: one-to-one matching, double counts and direction errors."""

from __future__ import annotations

from pipeline.evaluation import Event, score


def test_one_to_one_matching_within_tolerance() -> None:
    truth = [Event("L1", "in", 10), Event("L1", "in", 50)]
    result = score([Event("L1", "in", 12), Event("L1", "in", 80)], truth, tolerance_frames=5)
    assert (result.true_positives, result.false_positives, result.false_negatives) == (1, 1, 1)
    assert result.by_group[("L1", "in")] == (1, 1, 1)


def test_second_report_of_one_crossing_is_a_double_count() -> None:
    result = score([Event("L1", "in", 10), Event("L1", "in", 12)], [Event("L1", "in", 11)], tolerance_frames=5)
    assert (result.true_positives, result.false_positives, result.double_counts) == (1, 1, 1)
    assert result.direction_errors == 0


def test_crossing_reported_the_wrong_way_is_a_direction_error() -> None:
    result = score([Event("L1", "out", 10)], [Event("L1", "in", 11)], tolerance_frames=5)
    assert (result.false_positives, result.false_negatives, result.direction_errors) == (1, 1, 1)
    assert result.double_counts == 0
    assert score([Event("L2", "out", 10)], [Event("L1", "in", 11)], tolerance_frames=5).direction_errors == 0
