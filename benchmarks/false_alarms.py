"""False entries at night: the development scenes with nobody crossing, filmed for a long night.

A gate camera at night mostly watches an empty gate; every crossing it reports then is a false
"unregistered entry" at the duty desk. The scenes are the development sequences' own backgrounds
(the median of their frames; TUD-Stadtmitte's keeps a man who stands by the door all through the
clip, as still as the door), filmed as:

- `ir`: a draw of `benchmarks/night.py`'s IR look (grey, squeezed contrast, noise, bloom);
- `lowlight`: a draw of its low-light look (dark colour, luma and chroma noise);
- `ir + hazards`: the IR look with what a night gate really shows: a car's headlights sweeping
  across the picture (and the exposure pumping with them), bursts of sensor noise (the camera's
  gain jumping), insects fluttering in the illuminator's light close to the lens, and a branch
  swaying at the edge of the picture.

Everything is seeded and built once into benchmarks/.cache/. Every crossing gatewatch reports on
these videos is false (there is nobody to cross); with the gates closed each would be flagged.
Target (issue 21): at most 1 false flagged entry per camera per 10 hours.

    .venv/bin/python -m benchmarks.false_alarms [--minutes 20]
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterator
from dataclasses import replace

import numpy as np

from benchmarks.data import CACHE, Sequence, clip_frames, encode, load_sequences
from benchmarks.night import ENCODING, Look, degrade, looks
from benchmarks.pipelines import gatewatch
from benchmarks.run import Report, arguments, write_section

SECTION = "## False entries at night"
CONDITIONS = ("ir", "lowlight", "ir + hazards")
HEADLIGHTS_EVERY_S = 45.0  # a car passing the gate
HEADLIGHT_SWEEP_S = 2.5
NOISE_BURST_EVERY_S = 70.0
NOISE_BURST_S = 1.0
INSECT_EVERY_S = 30.0
INSECT_S = 3.0
SEED = 2107
RULE_OF_THREE_H = 30.0  # hours without one false entry that show a rate under 1 per 10 h (95 %)
NOISE_FRAMES = 48  # filmed frames of the empty scene, each with its own noise, played in turn


def _rng(*names: object) -> np.random.Generator:
    return np.random.default_rng([SEED, *(zlib.crc32(str(n).encode()) for n in names)])


def empty_scene(base: Sequence) -> np.ndarray:
    return np.median(np.stack(clip_frames(base.video)), axis=0).astype(np.uint8)


def hazards(image: np.ndarray, index: int, fps: float, rng: np.random.Generator) -> np.ndarray:
    """`image` (a filmed IR frame) with the night's hazards at frame `index`."""
    height, width = image.shape[:2]
    t = index / fps
    xs = np.arange(width, dtype=np.float32)
    # A branch at the left edge, swaying: a dark, soft-edged band moving a few percent of the width.
    edge = width * (0.06 + 0.03 * np.sin(2 * np.pi * t / 3.1))
    out = image.astype(np.float32) * (1 - 0.45 / (1 + np.exp((xs - edge) / 6.0)))[None, :, None]
    headlights, insects = t % HEADLIGHTS_EVERY_S, t % INSECT_EVERY_S
    if headlights < HEADLIGHT_SWEEP_S or insects < INSECT_S:
        ys, grid_xs = np.mgrid[0:height, 0:width].astype(np.float32)
    # Headlights: two bright blobs sweeping across the lower half, the whole picture brightening.
    if headlights < HEADLIGHT_SWEEP_S:
        progress = headlights / HEADLIGHT_SWEEP_S
        cx, cy = (-0.2 + 1.4 * progress) * width, 0.62 * height
        for dx in (-0.05 * width, 0.05 * width):
            beam = np.exp(-(((grid_xs - cx - dx) / (0.09 * width)) ** 2 + ((ys - cy) / (0.05 * height)) ** 2))
            out += 230 * beam[:, :, None]
        out *= 1 + 0.35 * np.sin(np.pi * progress)
    # Insects in the illuminator's light: a few bright specks fluttering near the lens.
    if insects < INSECT_S:
        window = int(t // INSECT_EVERY_S)
        start = _rng("insect", window).uniform([0.2 * width, 0.2 * height], [0.8 * width, 0.8 * height])
        for k in range(3):
            path = _rng("insect", window, k)
            steps = path.normal(0, 0.03, (int(INSECT_S * fps) + 1, 2)) * [width, height]
            x, y = start + np.cumsum(steps, axis=0)[int(insects * fps)]
            size = 4 + 6 * path.random()
            out += 200 * np.exp(-(((grid_xs - x) ** 2 + (ys - y) ** 2) / (2 * size**2)))[:, :, None]
    # The sensor's gain jumping: a second of heavy noise.
    if t % NOISE_BURST_EVERY_S < NOISE_BURST_S:
        out += rng.normal(0, 35, (height, width, 1))
    return np.clip(out, 0, 255).astype(np.uint8)


def night_of(base: Sequence, condition: str, minutes: float) -> Sequence:
    """`minutes` of the empty scene filmed as `condition` (built on first use)."""
    look: Look = looks("lowlight" if condition == "lowlight" else "ir", f"{base.name} empty", 1)[0]
    fps = base.fps
    total = round(minutes * 60 * fps)
    key = zlib.crc32(repr((look, condition, SEED)).encode())
    path = CACHE / f"empty-{base.video.stem}-{condition.replace(' + ', '-')}-{minutes:g}min-{key:08x}-{ENCODING}.mp4"
    if not path.is_file():
        CACHE.mkdir(exist_ok=True)
        scene = empty_scene(base)
        height, width = scene.shape[:2]

        def frames() -> Iterator[np.ndarray]:
            rng = _rng("frames", base.name, condition)
            # The scene does not change: a bank of filmed frames (each with its own noise), played in turn.
            bank = [degrade(scene, look, rng, k) for k in range(NOISE_FRAMES)]
            for index in range(total):
                filmed = bank[index % NOISE_FRAMES]
                yield hazards(filmed, index, fps, rng) if condition == "ir + hazards" else filmed

        encode(path, frames(), (width, height), round(fps), 2_000_000)
    return replace(base, name=f"{base.name}, empty, {condition}", video=path, frames=total, truth=[])


def false_alarm_report(report: Report, real: list[Sequence], minutes: float) -> None:
    report.heading(
        SECTION.removeprefix("## "),
        "Each development scene with nobody crossing, filmed as a night camera sees it (`benchmarks/false_alarms.py`: "
        "IR, low light, and IR with headlight sweeps, noise bursts, insects near the lens and a swaying branch), "
        f"{minutes:g} minutes per scene and condition, analysed by gatewatch with its defaults. Every crossing "
        "reported is false; with the gates closed each would be a flagged entry. Target: at most 1 per camera "
        "per 10 hours.",
    )
    rows = []
    totals: dict[str, tuple[float, int]] = {}
    for condition in CONDITIONS:
        for base in real:
            sequence = night_of(base, condition, minutes)
            print(f"false alarms: {sequence.name} ...", flush=True)
            result = gatewatch(sequence, {})
            hours = sequence.frames / sequence.fps / 3600
            found = len(result.events)
            hours_so_far, found_so_far = totals.get(condition, (0.0, 0))
            totals[condition] = (hours_so_far + hours, found_so_far + found)
            rows.append(
                [base.name, condition, f"{hours:.2f}", str(found), f"{10 * found / hours:.1f}",
                 f"{sequence.frames / result.seconds / sequence.fps:.0f}x"]
            )  # fmt: skip
    for condition, (hours, found) in totals.items():
        rows.append(["**all scenes**", condition, f"{hours:.2f}", str(found), f"**{10 * found / hours:.1f}**", ""])
    report.table(["scene", "condition", "hours", "false crossings", "per 10 h", "x real time"], rows)
    hours = sum(h for h, _ in totals.values())
    found = sum(n for _, n in totals.values())
    report.text(
        f"{found} false crossing(s) in {hours:.1f} h of night footage in all. The headlights sweep across the "
        "frame, so across every line of both scenes; the insects flutter over them. A count is not yet a rate: "
        f"showing at most 1 per 10 h with 95 % confidence takes about {RULE_OF_THREE_H:.0f} h of such footage "
        "with none (the rule of three), `--minutes` 300 or more; this run shows that none of these hazards "
        "triggers gatewatch as a matter of course."
    )


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--minutes", type=float, default=20.0, help="of each scene and condition")
    args = parser.parse_args()
    report = Report()
    started = time.monotonic()
    false_alarm_report(report, load_sequences(args.data), args.minutes)
    command = f"benchmarks.false_alarms --minutes {args.minutes:g}"
    write_section(args.out, report, command, started, "False entries section")
    print(f"\nwritten the false-alarm section of {args.out}")


if __name__ == "__main__":
    main()
