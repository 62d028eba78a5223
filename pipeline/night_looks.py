"""Night looks: a day frame as an IR, low-light or slow-shutter camera would deliver it.

Shared by `gatewatch adapt` (a camera's own day footage made to look like its night, so that its
night is learnt from people the model sees well by day) and the benchmarks (night versions of the
annotated sequences). Three conditions, each a family of looks whose parameters are drawn from a
range, so that nothing learns or is measured on one exact degradation:

- `ir`: the IR-cut filter out, the illuminator on: grey, contrast squeezed toward mid-grey,
  sensor noise, soft focus, a bloom where the illuminator lights the near field;
- `lowlight`: a colour camera left in colour at night: gamma darkening, low gain, luma and
  chroma noise;
- `shutter`: a slow shutter in a dim scene: motion blur along the walking direction, darkening,
  noise, a passing headlight glare spot.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

CONDITIONS = ("ir", "lowlight", "shutter")


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
