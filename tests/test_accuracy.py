"""Crossing accuracy of the whole pipeline on real annotated footage (../shared/data).

Each sequence runs through `analyze` with its own lines; crossings are matched one-to-one to the
ground truth by line and direction within 2 s. The floors are what gatewatch honestly reaches
with its defaults (measured: PETS09-S2L1 F1 0.945, TUD-Stadtmitte F1 0.857); the naive reference
pipeline (same model on every frame, ByteTrack, supervision LineZone) reaches 0.66 and 0.80.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.analyze import analyze
from pipeline.config import Config
from pipeline.evaluation import Event, score

from .conftest import REPORT, SHARED_DATA

SEQUENCES = [
    ("PETS09-S2L1", "PETS09-S2L1_f001-300_7fps.mp4", 0.90),
    ("TUD-Stadtmitte", "TUD-Stadtmitte_25fps.mp4", 0.80),
]


@pytest.mark.parametrize(("sequence", "video", "floor"), SEQUENCES)
def test_crossing_f1_on_real_footage(tmp_path: Path, sequence: str, video: str, floor: float) -> None:
    folder = SHARED_DATA / sequence
    assert folder.is_dir(), f"{folder} missing: the accuracy tests need ../shared/data beside the checkout"
    lines = json.loads((folder / "lines.json").read_text())["lines"]
    truth = json.loads((folder / "crossings.json").read_text())
    config = Config.model_validate(
        {
            "timezone": "UTC",
            "cameras": {
                "cam": {
                    "source": str(folder / video),
                    "lines": {line["id"]: {"points": line["points"], "inside": line["inside"]} for line in lines},
                }
            },
        }
    )
    summary = analyze(
        config,
        folder / video,
        start="2026-01-01T12:00:00+00:00",
        db_path=tmp_path / "g.db",
        snapshot_dir=tmp_path / "snapshots",
        analysed_at=datetime.now(UTC),
    )
    predicted = [Event(d.crossing.line, d.crossing.direction, d.crossing.frame) for d in summary.decisions]
    expected = [Event(e["line_id"], e["inout"], e["video_frame"]) for e in truth["events"]]
    result = score(predicted, expected, tolerance_frames=round(2 * truth["fps"]))
    REPORT.append(
        f"{sequence}: crossings P {result.precision:.3f} R {result.recall:.3f} F1 {result.f1:.3f} "
        f"(tp {result.true_positives}, fp {result.false_positives}, fn {result.false_negatives}); "
        f"{summary.speed:.1f}x real time"
    )
    assert result.f1 >= floor, REPORT[-1]
