"""Crossing accuracy of the whole pipeline on real annotated footage (../shared/data).

Each sequence runs through `analyze` with its own lines; crossings are matched one-to-one to the
ground truth by line and direction within 2 s. The floors are what gatewatch honestly reaches
with its defaults (the figures each floor sits under are in BENCHMARKS.md, Night, and in this
suite's printed measurements); the naive reference pipeline (same model on every frame,
ByteTrack, supervision LineZone) reaches less.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from benchmarks.data import THERMAL, THERMAL_HELD_OUT, load_sequences
from benchmarks.night import looks, night_sequence
from pipeline.config import Config
from pipeline.evaluation import Event, Score, score
from pipeline.offline.analyze import analyze

from .conftest import REPORT, SHARED_DATA

# By day the shipped model must stay at least as good as the original day model (0.945, 0.857).
SEQUENCES = [
    ("PETS09-S2L1", "PETS09-S2L1_f001-300_7fps.mp4", 0.945),
    ("TUD-Stadtmitte", "TUD-Stadtmitte_25fps.mp4", 0.80),
]
# Night versions (benchmarks/night.py, the first draw of each condition; the videos are the same
# bytes on every machine). Floors about 0.1 under what gatewatch measured on exactly these videos
# (IR: PETS09-S2L1 0.808 since weak tracks count at night, 0.735 before; TUD-Stadtmitte 0.909;
# the model before thermal training reached 0.513 on PETS09-S2L1). The shipped model never saw
# PETS09-S2L1; it was trained on TUD-Stadtmitte's frames (other draws). One TUD-Stadtmitte
# crossing is worth about 0.05 F1 (12 in all). The original day model scored 0.129-0.421 in IR
# on these sequences (BENCHMARKS.md, Night).
NIGHT_FLOORS = {
    ("PETS09-S2L1", "ir"): 0.70,
    ("PETS09-S2L1", "lowlight"): 0.78,
    ("PETS09-S2L1", "shutter"): 0.68,
    ("TUD-Stadtmitte", "ir"): 0.80,
    ("TUD-Stadtmitte", "lowlight"): 0.62,
    ("TUD-Stadtmitte", "shutter"): 0.75,
}


@pytest.fixture(scope="session")
def accuracy_data() -> Path:
    """../shared/data: annotated footage beside the checkout (CI has it too)."""
    assert SHARED_DATA.is_dir(), f"{SHARED_DATA} missing: the accuracy tests need ../shared/data beside the checkout"
    return SHARED_DATA


def crossing_score(tmp_path: Path, sequence: str, video: Path, label: str, folder: Path | None = None) -> Score:
    folder = folder or SHARED_DATA / sequence
    lines = json.loads((folder / "lines.json").read_text())["lines"]
    truth = json.loads((folder / "crossings.json").read_text())
    config = Config.model_validate(
        {
            "timezone": "UTC",
            "cameras": {
                "cam": {
                    "source": str(video),
                    "lines": {line["id"]: {"points": line["points"], "inside": line["inside"]} for line in lines},
                }
            },
        }
    )
    summary = analyze(
        config,
        video,
        start="2026-01-01T12:00:00+00:00",
        db_path=tmp_path / "g.db",
        snapshot_dir=tmp_path / "snapshots",
        analysed_at=datetime.now(UTC),
    )
    predicted = [Event(d.crossing.line, d.crossing.direction, d.crossing.frame) for d in summary.decisions]
    expected = [Event(e["line_id"], e["inout"], e["video_frame"]) for e in truth["events"]]
    result = score(predicted, expected, tolerance_frames=round(2 * truth["fps"]))
    REPORT.append(
        f"{label}: crossings P {result.precision:.3f} R {result.recall:.3f} F1 {result.f1:.3f} "
        f"(tp {result.true_positives}, fp {result.false_positives}, fn {result.false_negatives}); "
        f"{summary.speed:.1f}x real time"
    )
    return result


@pytest.mark.parametrize(("sequence", "video", "floor"), SEQUENCES)
def test_crossing_f1_on_real_footage(
    accuracy_data: Path, tmp_path: Path, sequence: str, video: str, floor: float
) -> None:
    result = crossing_score(tmp_path, sequence, accuracy_data / sequence / video, sequence)
    assert result.f1 >= floor, REPORT[-1]


@pytest.fixture(scope="module")
def night_videos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("night")


@pytest.mark.parametrize(("sequence", "condition"), sorted(NIGHT_FLOORS))
def test_crossing_f1_at_night(
    accuracy_data: Path, tmp_path: Path, night_videos: Path, sequence: str, condition: str
) -> None:
    base = next(s for s in load_sequences(accuracy_data) if s.name == sequence)
    filmed = night_sequence(base, looks(condition, sequence)[0], 0, folder=night_videos)
    result = crossing_score(tmp_path, sequence, filmed.video, filmed.name)
    assert result.f1 >= NIGHT_FLOORS[(sequence, condition)], REPORT[-1]


# Real thermal night footage (benchmarks/footage/M3SVD: three clips annotated by hand, never trained
# on; the night thresholds were chosen on them and on the night versions above). Pooled: recall
# 0.636, F1 0.778, P 1.0 with weak tracks at night (0.545 and 0.706 without; the model before
# thermal training 0.364 and 0.533). The floors keep that from getting worse; BENCHMARKS.md's
# Night section has the figures.
THERMAL_FLOORS = {"recall": 0.55, "f1": 0.70}


@pytest.fixture(scope="session")
def thermal_footage() -> Path:
    return THERMAL


def test_crossings_on_real_thermal_footage(thermal_footage: Path, tmp_path: Path) -> None:
    total = Score()
    for clip in sorted(p for p in thermal_footage.iterdir() if p.is_dir()):
        found = crossing_score(
            tmp_path / clip.name, clip.name, clip / f"{clip.name}.mp4", f"M3SVD {clip.name} (thermal)", clip
        )
        total.true_positives += found.true_positives
        total.false_positives += found.false_positives
        total.false_negatives += found.false_negatives
    REPORT.append(f"M3SVD thermal, pooled: P {total.precision:.3f} R {total.recall:.3f} F1 {total.f1:.3f}")
    assert total.recall >= THERMAL_FLOORS["recall"] and total.f1 >= THERMAL_FLOORS["f1"], REPORT[-1]


def test_crossings_on_held_out_thermal_footage(tmp_path: Path) -> None:
    """A fourth thermal clip, annotated after the night thresholds were chosen and used for nothing
    else: 4 crossings, so one is 0.25 recall. R 0.50 (2 of 4, no false one) before weak tracks at
    night and with them: a looser variant found a third, but let a false entry through on the
    false-alarm footage, and was dropped. The floor is what it had before."""
    clip = THERMAL_HELD_OUT / "0115_1829"
    found = crossing_score(
        tmp_path, clip.name, clip / f"{clip.name}.mp4", f"M3SVD {clip.name} (thermal, held out)", clip
    )
    assert found.recall >= 0.5, REPORT[-1]
