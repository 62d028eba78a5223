"""Busy footage against the naive peer (issue 25.4), without the rest of the harness: the annotated
sequences of `../shared/data` (people in view all the time), the naive peer (the same model on
every frame, ByteTrack, supervision's LineZone) then gatewatch with its defaults, each in a fresh
process, one after the other on this machine.

    .venv/bin/python -m benchmarks.busy [--data ../shared/data]

Per sequence: real-time factors, the speed ratio against the >= 3x target, F1 of both, the frames
gatewatch ran its detector on, and the detector's cost per frame for each (run time over frames
detected: most of both runs); put in BENCHMARKS.md's "Busy footage against the naive peer".
"""

from __future__ import annotations

import time

from benchmarks.data import load_sequences
from benchmarks.pipelines import gatewatch, measured, naive
from benchmarks.run import Report, arguments, scored, speed, write_section


def main() -> None:
    parser = arguments(__doc__)
    args = parser.parse_args()
    started = time.monotonic()
    rows = []
    for sequence in load_sequences(args.data):
        peer, ours = measured(naive, sequence), measured(gatewatch, sequence, {})
        frames = round(sequence.seconds * sequence.fps)
        rows.append(
            [
                sequence.name,
                f"{speed(sequence, peer):.1f}x",
                f"{speed(sequence, ours):.1f}x",
                f"**{peer.seconds / ours.seconds:.2f}x**",
                f"{scored(sequence, peer).f1:.3f}",
                f"{scored(sequence, ours).f1:.3f}",
                f"{ours.detected} of {ours.analysed} ({frames} in the video)",
                f"{peer.seconds / frames * 1000:.0f} / {ours.seconds / max(1, ours.detected or 0) * 1000:.0f} ms",
            ]
        )
        print(rows[-1], flush=True)
    report = Report()
    report.heading(
        "Busy footage against the naive peer",
        "Issue 25.4's target: gatewatch >= 3x the naive peer's speed on every busy sequence at equal or better F1. "
        "Each run in a fresh process, one after the other, same machine. *Per frame*: run time over the frames "
        "each ran its detector on (the naive peer: every frame).",
    )
    report.table(
        ["sequence", "naive x RT", "gatewatch x RT", "gatewatch vs naive", "naive F1", "gatewatch F1",
         "frames detected (gatewatch)", "per frame, naive / gatewatch"],
        rows,
    )  # fmt: skip
    print("\n".join(report.parts))
    write_section(args.out, report, "benchmarks.busy", started, "Busy footage section")


if __name__ == "__main__":
    main()
