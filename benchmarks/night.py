"""Night versions of real footage: what gate cameras deliver during closed hours.

Three conditions, each a family of looks whose parameters are drawn from a range (a detector
tuned to one exact degradation would not be robust):

- `ir`: the camera's IR-cut filter is out and its illuminator on. A grey picture (IR carries
  no colour), contrast squeezed toward mid-grey, sensor noise, soft focus, and a bloom where
  the illuminator lights the near field (bottom of the picture).
- `lowlight`: a colour camera left in colour mode at night. Strong gamma darkening, low gain,
  luma and chroma noise.
- `shutter`: the harder case of our choice. A colour camera at a slow shutter (1/12 s or so)
  in a dim scene: motion blur along the walking direction, darkening and noise, plus a passing
  headlight glare spot.

Everything is seeded (crc32 of the names, never `hash()`), so every run and every machine builds
the same frames. The frames are encoded as H.264 like an NVR stream, so compression acts on the
noise as it would on a camera's. Built once into benchmarks/.cache/.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np

from benchmarks.data import CACHE, Sequence, clip_frames, encode
from pipeline.night_looks import CONDITIONS, Look, degrade, draw

__all__ = ["CONDITIONS", "Look", "degrade", "degraded_frames", "draw", "looks", "night_sequence", "night_sequences"]

VARIANTS = 3  # parameter draws per condition and sequence
SEED = 2026
ENCODING = "x264st"  # in cached names: single-threaded x264, the same bytes on every run


def _rng(*names: object) -> np.random.Generator:
    return np.random.default_rng([SEED, *(zlib.crc32(str(n).encode()) for n in names)])


def looks(condition: str, sequence: str, count: int = VARIANTS) -> list[Look]:
    rng = _rng(condition, sequence)
    return [draw(condition, rng) for _ in range(count)]


def degraded_frames(frames: list[np.ndarray], look: Look, seed_name: str) -> Iterator[np.ndarray]:
    rng = _rng("frames", seed_name, look)
    for index, image in enumerate(frames):
        yield degrade(image, look, rng, index)


def night_sequence(base: Sequence, look: Look, variant: int, folder: Path = CACHE) -> Sequence:
    """`base` filmed at night as `look`: same lines and ground truth, another video (built on first use)."""
    folder.mkdir(exist_ok=True)
    key = zlib.crc32(repr(look).encode())
    path = folder / f"{base.video.stem}-{look.condition}{variant}-{key:08x}-{ENCODING}.mp4"
    if not path.is_file():
        frames = clip_frames(base.video)
        height, width = frames[0].shape[:2]
        encode(path, degraded_frames(frames, look, base.name), (width, height), round(base.fps), 2_000_000)
    return replace(base, name=f"{base.name} {look.condition} #{variant + 1}", video=path)


def night_sequences(base: Sequence, condition: str, count: int = VARIANTS) -> list[tuple[Look, Sequence]]:
    return [(look, night_sequence(base, look, k)) for k, look in enumerate(looks(condition, base.name, count))]
