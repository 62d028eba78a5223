"""`gatewatch adapt`: the bundled detector refitted to one camera from that camera's own footage.

    footage.py  views of the footage, people found by evidence along tracks, held-back minutes
    head.py     the person-score layer of the graph, read and rewritten
    refit.py     targets and the refit (numpy, SciPy)
    check.py    the adapted model against the bundled one on the held-back minutes
    truth.py    ...and crossing by crossing, where a person counted them (--truth)

No labels are needed and no training framework: the edge box adapts its own cameras. A model that
does not beat the bundled one on the minutes it never saw is not written.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from pipeline.adapt.check import Comparison, compare
from pipeline.adapt.footage import Footage, held_back_people, read_footage
from pipeline.adapt.head import ScoreHead
from pipeline.adapt.refit import collect, fit
from pipeline.adapt.truth import crossing_scores, load_truth
from pipeline.config import Config
from pipeline.detectors.onnx import bundled_model_path
from pipeline.detectors.ssdlite import SSDLiteDetector
from pipeline.evaluation import Score

MAX_FRAMES = 600  # frames kept as views (a wide one is two), at most: about 0.5 MB each in memory
STEPS = 200
L2 = 1e-3
SEED = 0
METADATA = "gatewatch_adapted"


@dataclass(frozen=True)
class Progress:
    """Callbacks for the command's progress bar: reading (seconds of footage), learning (views
    done, of how many), checking (seconds of the held-back footage read again with the adapted
    model; it is `held_back` of the footage)."""

    read: Callable[[float], None]
    learnt: Callable[[int, int], None]
    checked: Callable[[float], None]


@dataclass(frozen=True)
class Result:
    footage: Footage
    comparisons: list[Comparison]
    crossings: tuple[Score, Score] | None  # against --truth on the held-back minutes: (bundled, adapted)
    written: bool

    @property
    def lost(self) -> list[str]:
        """What the adapted model lost on: kinds of views, and crossings."""
        kinds = [c.kind for c in self.comparisons if c.lost]
        if self.crossings is not None and self.crossings[1].f1 < self.crossings[0].f1:
            kinds.append("crossings")
        return kinds


def adapt(
    videos: list[Path],
    config: Config,
    camera: str,
    out: Path,
    held_back: float,
    progress: Progress,
    truth: Path | None = None,
    refused: Path | None = None,
) -> Result:
    """`truth`: a file of crossings counted by a person (truth.py); `refused`: where a model that
    lost is written instead of being dropped (the benchmark measures both kinds)."""
    head = ScoreHead(bundled_model_path())  # first: without the onnx package, say so before any work
    counted = load_truth(truth, videos, config, camera) if truth else None
    bundled = SSDLiteDetector(bundled_model_path(), config.detector)
    footage = read_footage(
        videos, config, bundled, held_back, lambda frames: -(-frames * len(videos) // MAX_FRAMES), progress.read
    )
    rows = collect(head, footage.learning(), SEED, config.detector.confidence, progress.learnt)
    footage.let_go_of_learning()
    changes = fit(rows, STEPS, L2)
    with tempfile.TemporaryDirectory(dir=out.parent) as folder:
        candidate = Path(folder) / out.name
        head.save(changes, candidate, {METADATA: _provenance(videos, footage, held_back)})
        adapted = SSDLiteDetector(candidate, config.detector)
        people = held_back_people(footage, config, adapted, progress.checked)
        comparisons = compare(footage.checking(), people, bundled, adapted, SEED)
        crossings = None
        if counted is not None:
            nights = (bundled.detect, adapted.detect)
            crossings = crossing_scores(counted, videos, footage.held_back_from, config, camera, bundled.detect, nights)
        result = Result(footage, comparisons, crossings, False)
        written = any(c.counts for c in comparisons) and not result.lost
        if written:
            candidate.replace(out)
        elif refused is not None:
            candidate.replace(refused)
    return replace(result, written=written)


def _provenance(videos: list[Path], footage: Footage, held_back: float) -> str:
    names = ", ".join(v.name for v in videos)
    return f"gatewatch adapt on {names}: {footage.seconds:.0f} s, last {held_back:.0%} held back"


__all__ = ["Progress", "Result", "adapt"]
