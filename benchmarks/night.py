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
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from benchmarks.data import CACHE, Sequence, clip_frames, encode

CONDITIONS = ("ir", "lowlight", "shutter")
VARIANTS = 3  # parameter draws per condition and sequence
SEED = 2026
ENCODING = "x264st"  # in cached names: single-threaded x264, the same bytes on every run


@dataclass(frozen=True)
class Look:
    """One draw of a condition's parameters; `describe()` goes into the benchmark tables."""

    condition: str
    contrast: float = 1.0  # IR: spread around the mid-grey, as a fraction of the original
    mid: float = 128.0  # IR: the grey everything is squeezed toward
    gamma: float = 1.0  # darkening: out = gain * in ** gamma (on 0..1)
    gain: float = 1.0
    noise: float = 0.0  # luma noise sigma (0..255)
    chroma_noise: float = 0.0  # per-channel noise sigma
    blur: float = 0.0  # Gaussian sigma (soft focus)
    bloom: float = 0.0  # IR: extra brightness at the bottom centre, as a fraction
    motion: int = 0  # shutter: motion-blur length in pixels
    glare: float = 0.0  # shutter: peak of a moving headlight spot (0..255)

    def describe(self) -> str:
        if self.condition == "ir":
            return (
                f"contrast {self.contrast:.2f} around {self.mid:.0f}, noise {self.noise:.0f}, "
                f"blur {self.blur:.1f}, bloom {self.bloom:.2f}"
            )
        if self.condition == "lowlight":
            return f"gamma {self.gamma:.1f}, gain {self.gain:.2f}, noise {self.noise:.0f}+{self.chroma_noise:.0f}"
        return (
            f"motion {self.motion} px, gamma {self.gamma:.1f}, gain {self.gain:.2f}, noise {self.noise:.0f}, "
            f"glare {self.glare:.0f}"
        )


def _rng(*names: object) -> np.random.Generator:
    return np.random.default_rng([SEED, *(zlib.crc32(str(n).encode()) for n in names)])


def draw(condition: str, rng: np.random.Generator) -> Look:
    """A look of `condition` with parameters drawn from its range."""
    u = rng.uniform
    if condition == "ir":
        return Look(
            "ir",
            contrast=u(0.3, 0.6),
            mid=u(95, 140),
            noise=u(4, 10),
            blur=u(0.5, 1.4),
            bloom=u(0.0, 0.45),
        )
    if condition == "lowlight":
        return Look("lowlight", gamma=u(1.8, 2.6), gain=u(0.5, 0.8), noise=u(3, 7), chroma_noise=u(4, 9))
    if condition == "shutter":
        return Look(
            "shutter",
            motion=int(rng.integers(5, 12)),
            gamma=u(1.3, 1.9),
            gain=u(0.6, 0.85),
            noise=u(3, 7),
            glare=u(150, 255),
        )
    raise ValueError(f"unknown night condition {condition!r}; known: {', '.join(CONDITIONS)}")


def looks(condition: str, sequence: str, count: int = VARIANTS) -> list[Look]:
    rng = _rng(condition, sequence)
    return [draw(condition, rng) for _ in range(count)]


def _darken(image: np.ndarray, gamma: float, gain: float) -> np.ndarray:
    return gain * np.power(image / 255.0, gamma) * 255.0


def degrade(image: np.ndarray, look: Look, rng: np.random.Generator, index: int = 0) -> np.ndarray:
    """`image` (BGR uint8) as the camera of `look` would deliver it; `index` moves the glare."""
    height, width = image.shape[:2]
    if look.condition == "ir":
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
        if look.blur:
            grey = cv2.GaussianBlur(grey, (0, 0), look.blur)
        grey = look.mid + (grey - grey.mean()) * look.contrast
        if look.bloom:
            ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
            distance = np.hypot((xs - width / 2) / width, (ys - height) / height)
            grey = grey * (1 + look.bloom * np.exp(-((distance / 0.45) ** 2)))
        grey = grey + rng.normal(0, look.noise, grey.shape)
        out = np.repeat(grey[:, :, None], 3, axis=2)
    else:
        out = image.astype(np.float32)
        if look.motion:
            kernel = np.zeros((look.motion, look.motion), np.float32)
            kernel[look.motion // 2, :] = 1.0 / look.motion  # walkers move mostly sideways
            out = cv2.filter2D(out, -1, kernel)
        out = _darken(out, look.gamma, look.gain)
        if look.glare:
            cx = (0.15 + 0.7 * ((index / 90.0) % 1.0)) * width
            cy = 0.55 * height
            ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
            spot = look.glare * np.exp(-(((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * (0.08 * width) ** 2)))
            out = out + spot[:, :, None] * np.array([0.85, 0.95, 1.0], np.float32)
        out = out + rng.normal(0, look.noise, (height, width, 1))
        if look.chroma_noise:
            out = out + rng.normal(0, look.chroma_noise, out.shape)
    return np.clip(out, 0, 255).astype(np.uint8)


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
