"""The night benchmark: the development sequences by day and in each night condition.

    .venv/bin/python -m benchmarks.night_tables [--data ../shared/data] [--out BENCHMARKS.md]

For every sequence and condition, each of the condition's looks (parameter draws, see
`benchmarks/night.py`) is analysed by gatewatch with the shipped model, by gatewatch with the
original (day-only) model, and by the naive peer; a condition's row pools the looks' matches.
The ten-minute idle video gets an IR version too. With `--out` the "Night" section of that
file is replaced (or appended), leaving the rest of BENCHMARKS.md as the full run wrote it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.data import LONG_SOURCE, THERMAL_HELD_OUT, Sequence, load_sequences, load_thermal, long_video
from benchmarks.night import CONDITIONS, Look, degrade, looks, night_sequences
from benchmarks.pipelines import gatewatch, naive
from benchmarks.run import ROOT, Report, arguments, scored, write_section
from pipeline.evaluation import Score

ORIGINAL_MODEL = ROOT / "models" / "ssdlite_person_voc.onnx"
ORIGINAL = {"detector": {"model": str(ORIGINAL_MODEL)}}
# name -> config overrides for gatewatch, or None for the naive peer
PIPELINES: dict[str, dict | None] = {
    "gatewatch": {},
    "gatewatch, original model": ORIGINAL,
    "naive peer": None,
}
IDLE_PIPELINES: dict[str, dict | None] = {
    "gatewatch": {},
    "gatewatch, original model": ORIGINAL,
    "original model, whole frame (before)": {"detector": {**ORIGINAL["detector"], "tiles": "off"}},
}
IDLE_NOTE = (
    "Where the idle video lost its crossings (recall 0.56 before, even by day): the 16:9 frame squashed "
    "into the network's square input makes people a quarter narrower than in any photo it learnt from; "
    "4:3 tiles brought the original model to 0.79. Not the cause, for the original model: motion gating "
    "(F1 0.709 without it, 0.711 with it, in the run before this work). Tried and dropped: handing the "
    "crossing counter each track's first detection (the tracker confirms a track on its second frame, so "
    "its first 1/5 s is unseen): no crossing recovered on TUD-Stadtmitte, two false ones. What remains: "
    "each burst starts mid-walk (the video cuts from the empty scene into the clip), so crossings in its "
    "first half-second have no side to come from; with tiles, 6 of the original model's 10 misses are "
    "those (`short_context` in the ground truth). The shipped model (with thermal pairs) leads the original "
    "on this daylight video (0.842 against 0.804; the night model before it trailed, 0.776 against 0.854 in "
    "that run's build of the video) and in IR (0.768 against 0.658)."
)
REVERSE = "reverse check: trained on PETS09-S2L1"
THERMAL_CONDITION = "thermal (real footage)"


@dataclass
class Pooled:
    score: Score
    f1s: list[float]
    seconds: float
    analysed: int

    @property
    def ms_per_frame(self) -> float:
        return 1000 * self.seconds / self.analysed if self.analysed else 0.0


def pooled(overrides: dict | None, sequences: list[Sequence]) -> Pooled:
    total = Pooled(Score(), [], 0.0, 0)
    for sequence in sequences:
        result = naive(sequence) if overrides is None else gatewatch(sequence, overrides)
        found = scored(sequence, result)
        total.score.true_positives += found.true_positives
        total.score.false_positives += found.false_positives
        total.score.false_negatives += found.false_negatives
        total.f1s.append(found.f1)
        total.seconds += result.seconds
        total.analysed += result.analysed or 0
    return total


def _versus_day(results: dict[tuple[str, str, str], Pooled], condition: str, name: str, pipeline: str) -> str:
    if condition == "day" or pipeline == "naive peer" or ("day", name, pipeline) not in results:
        return ""
    return f"{results[(condition, name, pipeline)].score.f1 - results[('day', name, pipeline)].score.f1:+.3f}"


def ir_filming(look: Look):
    def film(frames: list[np.ndarray]) -> list[np.ndarray]:
        rng = np.random.default_rng(11)
        return [degrade(image, look, rng, k) for k, image in enumerate(frames)]

    return film


def night_report(report: Report, real: list[Sequence], with_idle: bool = True, reverse: Path | None = None) -> None:
    """`reverse`: a model made by the same recipe trained on PETS09-S2L1 instead (never shipped),
    for the other direction of the held-out check: its TUD-Stadtmitte figures are the held-out ones."""
    pipelines = dict(PIPELINES)
    if reverse is not None:
        pipelines[REVERSE] = {"detector": {"model": str(reverse)}}
    conditions: dict[str, dict[str, list[Sequence]]] = {"day": {s.name: [s] for s in real}}
    descriptions: list[str] = []
    for condition in CONDITIONS:
        conditions[condition] = {}
        for base in real:
            made = night_sequences(base, condition)
            conditions[condition][base.name] = [s for _, s in made]
            descriptions += [f"- {s.name}: {look.describe()}" for look, s in made]
    conditions[THERMAL_CONDITION] = {
        "M3SVD thermal (3 clips)": load_thermal(),
        "M3SVD thermal, held out (1 clip)": load_thermal(THERMAL_HELD_OUT),
    }
    results: dict[tuple[str, str, str], Pooled] = {}
    for condition, by_sequence in conditions.items():
        for name, sequences in by_sequence.items():
            print(f"night: {name} {condition} ...", flush=True)
            for pipeline, overrides in pipelines.items():
                results[(condition, name, pipeline)] = pooled(overrides, sequences)

    report.heading(
        "Night",
        "Night versions of the development sequences, made by `benchmarks/night.py` (fixed seeds; three "
        "parameter draws per condition and sequence, pooled: *F1 range* is the lowest and highest single draw). "
        "*gatewatch*: the shipped model (fine-tuned for night, `models/README.md`) with the defaults; "
        "*original model*: the same pipeline with the day-only model it replaced; *naive peer*: the shipped "
        "model on every frame, ByteTrack, supervision `LineZone`. The shipped model never saw PETS09-S2L1 "
        "(trained on TUD-Stadtmitte, the bundled sample clip and three M3SVD visible/thermal pairs), so "
        "PETS09-S2L1 is the held-out check; "
        "TUD-Stadtmitte's figures are on footage it was trained on (its frames, other degradation draws); "
        "the *reverse check* row, where present, is the same recipe trained on PETS09-S2L1 (never shipped), "
        "held out from TUD-Stadtmitte. "
        "*thermal (real footage)*: three clips of M3SVD's thermal-infrared campus footage (people glow "
        "white), crossings annotated by hand (`benchmarks/footage/`), pooled; no model was trained on them, "
        "but the night thresholds (`detector.night`) were chosen on them and on the synthetic night "
        "versions, so these are development figures; *held out*: a fourth clip (`0115_1829`, 4 crossings) "
        "annotated after the thresholds were chosen and used for nothing else. "
        "*ms / frame*: time per analysed frame (decode, detection, tracking, counting), same run.\n\n"
        "**At dusk, and when a camera flips between colour and IR**: by default one model runs in every light "
        "(by day it is at least as good as the original model on every day sequence below), and no track "
        "breaks at the flip; a camera with a night model of its own (`cameras.X.night_model`, written by "
        "`gatewatch adapt`: see the Adapt section) switches to it on the frames called night and back by day. "
        "What the light changes is what counts as evidence: on frames `lighting.py` calls infrared "
        "or low light, people the network scores under the day's thresholds (down to "
        "`detector.night.confidence` 0.15 to start, 0.05 to continue), away from everyone the day thresholds "
        "already track and of a person's height where their feet are (within 2.5x of what the camera's "
        "confident detections showed, once they were enough and spread out: `stature.py`), "
        "are tracked on a second tracker of their own; their crossings count when they were "
        "detected on 1.6 s of frames within the last 3.2 s (`detector.night.evidence_s`: a noise burst, an "
        "insect, a glint or a box that jumped from one thing to another is not), moved at least half their "
        "height within 10 s of appearing (someone standing on a line, their box jittering across it, has "
        "not), and no tracked person crossed the same line the same way within 2 s. By day none of "
        "it runs (the day rows are exactly the day pipeline's); the lighting is sampled every 25th analysed "
        "frame, so the switch follows the camera within 5 s at 5 fps. Each camera shows its current "
        "lighting, and `analyze`'s summary the share of each, so a school can see which of these tables its "
        "nights resemble.",
    )
    for condition in conditions:
        rows = []
        for name in conditions[condition]:
            for pipeline in pipelines:
                r = results[(condition, name, pipeline)]
                rows.append(
                    [
                        name,
                        pipeline,
                        f"{r.score.precision:.3f}",
                        f"{r.score.recall:.3f}",
                        f"**{r.score.f1:.3f}**" if pipeline == "gatewatch" else f"{r.score.f1:.3f}",
                        f"{min(r.f1s):.3f}-{max(r.f1s):.3f}",
                        _versus_day(results, condition, name, pipeline),
                        f"{r.ms_per_frame:.1f}",
                    ]
                )
        report.text(f"\n### {condition}\n")
        report.table(["sequence", "pipeline", "P", "R", "F1", "F1 range", "vs day", "ms / frame"], rows)

    cost = [
        results[(c, n, "gatewatch")].seconds / results[(c, n, "gatewatch, original model")].seconds
        for c in conditions
        for n in conditions[c]
    ]
    report.text(
        f"Cost of the shipped model against the original, per analysed frame, same run: "
        f"{min(cost):.2f}x-{max(cost):.2f}x (target <= 1.5x)."
    )

    if with_idle:
        base = next(s for s in real if s.name == LONG_SOURCE)
        look = looks("ir", "idle")[0]
        # Cached as idle-720p-ir.mp4: delete it after changing the IR looks in benchmarks/night.py.
        idle = [long_video(base, 720), long_video(base, 720, ir_filming(look), "ir")]
        rows = []
        for sequence in idle:
            print(f"night: {sequence.name} ...", flush=True)
            for pipeline, overrides in IDLE_PIPELINES.items():
                r = pooled(overrides, [sequence])
                rows.append(
                    [
                        sequence.name,
                        pipeline,
                        f"{r.score.precision:.3f}",
                        f"{r.score.recall:.3f}",
                        f"{r.score.f1:.3f}",
                        f"{r.ms_per_frame:.1f}",
                    ]
                )
        report.text(f"\n### Idle video, by day and in IR ({look.describe()})\n")
        report.table(["sequence", "pipeline", "P", "R", "F1", "ms / frame"], rows)
        report.text(IDLE_NOTE)
    report.text("\nThe looks:\n" + "\n".join(descriptions))


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--no-idle", action="store_true", help="leave out the ten-minute idle videos")
    parser.add_argument("--reverse", type=Path, help="the recipe's model trained on PETS09-S2L1 (not shipped)")
    args = parser.parse_args()
    report = Report()
    started = time.monotonic()
    night_report(report, load_sequences(args.data), with_idle=not args.no_idle, reverse=args.reverse)
    command = f"benchmarks.night_tables{' --no-idle' if args.no_idle else ''}"
    command += f" --reverse {args.reverse}" if args.reverse else ""
    write_section(args.out, report, command, started, "Night section")
    print(f"\nwritten the night section of {args.out}")


if __name__ == "__main__":
    main()
