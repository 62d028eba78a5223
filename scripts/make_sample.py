"""Build the bundled demo clip from real photos of people that scikit-image ships.

    pip install scikit-image      # build-time only; gatewatch does not need it
    python scripts/make_sample.py sample_videos/

People: `camera.png` (a photographer, CC0, Lav Varshney) and `astronaut.png` (Eileen Collins,
NASA, public domain), cut out of their photos with OpenCV's GrabCut and walked along known paths
over a gate scene built from scikit-image's brick and gravel textures. A camera beside the gate
looks along the wall: the gate line is vertical in the image, campus to the right.

Output: the H.264 clip (file name carries the recording start the way Hikvision NVRs name
exports) and a ground-truth JSON with every crossing the script made, frame by frame.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np
from skimage import data

WIDTH, HEIGHT, FPS = 640, 480, 10
DURATION_S = 62
START = "2026-11-28T22:29:50+08:00"
FILE_NAME = "north-gate_20261128222950.mp4"
LINE_X = 320
LINE = {"points": [[LINE_X, 250], [LINE_X, 470]], "inside": [420, 380]}
GROUND_Y = 250  # where the wall meets the ground


@dataclass(frozen=True)
class Walk:
    """One person's straight walk: foot point from (x0, foot_y) to (x1, foot_y) between t0 and t1."""

    name: str
    who: str  # "photographer" | "astronaut"
    t0: float
    t1: float
    x0: float
    x1: float
    foot_y: float
    height: int
    turn_back_at: float | None = None  # x where the person stops, waits and walks back


# Times in seconds from the start (22:29:50). Closed hours begin at 22:30:00.
WALKS = [
    Walk("A", "photographer", 1.0, 8.0, 90, 560, 455, 270),  # enters before closing: not flagged
    Walk("B", "astronaut", 11.0, 18.0, 90, 560, 455, 260),  # covered by the 22:30:00 registration
    Walk("C", "photographer", 21.0, 28.0, 90, 560, 455, 270),  # registration used up: flagged
    Walk("D", "astronaut", 30.0, 37.0, 560, 90, 455, 260),  # walks out: an exit, not flagged
    Walk("E", "photographer", 38.0, 46.0, 90, 290, 455, 270, turn_back_at=290),  # turns back before the line
    Walk("G", "photographer", 47.0, 54.0, 90, 560, 455, 270),  # a pair, both covered by a count-2 pass
    Walk("H", "astronaut", 48.8, 55.8, 90, 560, 430, 240),
    Walk("F", "astronaut", 56.0, 61.5, 90, 560, 455, 260),  # flagged
]


def cutout(image: np.ndarray, rect: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The person and a soft alpha mask, from GrabCut seeded with a box around them."""
    mask = np.zeros(image.shape[:2], np.uint8)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.grabCut(image, mask, rect, bgd, fgd, 8, cv2.GC_INIT_WITH_RECT)
    alpha = np.where((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD), 1.0, 0.0).astype(np.float32)
    alpha = cv2.GaussianBlur(alpha, (5, 5), 0)
    x, y, w, h = rect
    return image[y : y + h, x : x + w], alpha[y : y + h, x : x + w]


def people() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    photographer = cv2.cvtColor(data.camera(), cv2.COLOR_GRAY2BGR)
    astronaut = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    return {
        "photographer": cutout(photographer, (20, 40, 300, 471)),
        "astronaut": cutout(astronaut, (5, 20, 370, 491)),
    }


def background() -> np.ndarray:
    wall = cv2.cvtColor(cv2.resize(data.brick(), (WIDTH, GROUND_Y)), cv2.COLOR_GRAY2BGR)
    wall = (wall.astype(np.float32) * np.array([0.55, 0.65, 0.95])).clip(0, 255).astype(np.uint8)
    ground = cv2.cvtColor(cv2.resize(data.gravel(), (WIDTH, HEIGHT - GROUND_Y)), cv2.COLOR_GRAY2BGR)
    scene = np.vstack([wall, ground])
    # The gate: an opening in the wall with two posts, the line runs across it on the ground.
    cv2.rectangle(scene, (LINE_X - 70, 60), (LINE_X + 70, GROUND_Y), (70, 80, 70), -1)
    for x in (LINE_X - 78, LINE_X + 70):
        cv2.rectangle(scene, (x, 40), (x + 8, GROUND_Y + 6), (40, 40, 40), -1)
    return scene


def position(walk: Walk, t: float) -> float | None:
    """Foot x at time t, or None when the person is not in the scene."""
    if not walk.t0 <= t <= walk.t1:
        return None
    u = (t - walk.t0) / (walk.t1 - walk.t0)
    if walk.turn_back_at is None:
        return walk.x0 + u * (walk.x1 - walk.x0)
    # Out to the line in 40 % of the time, wait 20 %, back in 40 %.
    if u < 0.4:
        return walk.x0 + u / 0.4 * (walk.turn_back_at - walk.x0)
    if u < 0.6:
        return walk.turn_back_at
    return walk.turn_back_at + (u - 0.6) / 0.4 * (walk.x0 - walk.turn_back_at)


def paste(
    frame: np.ndarray,
    person: tuple[np.ndarray, np.ndarray],
    foot_x: float,
    foot_y: float,
    height: int,
    mirror: bool,
) -> None:
    image, alpha = person
    scale = height / image.shape[0]
    width = max(1, round(image.shape[1] * scale))
    image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    alpha = cv2.resize(alpha, (width, height), interpolation=cv2.INTER_AREA)
    if mirror:
        image, alpha = image[:, ::-1], alpha[:, ::-1]
    x0, y0 = round(foot_x - width / 2), round(foot_y - height)
    fx0, fy0 = max(0, x0), max(0, y0)
    fx1, fy1 = min(WIDTH, x0 + width), min(HEIGHT, y0 + height)
    if fx1 <= fx0 or fy1 <= fy0:
        return
    part = image[fy0 - y0 : fy1 - y0, fx0 - x0 : fx1 - x0].astype(np.float32)
    a = alpha[fy0 - y0 : fy1 - y0, fx0 - x0 : fx1 - x0, None]
    region = frame[fy0:fy1, fx0:fx1].astype(np.float32)
    frame[fy0:fy1, fx0:fx1] = (a * part + (1 - a) * region).astype(np.uint8)


def crossings(walk: Walk) -> list[dict[str, object]]:
    """Frames where the foot point first lands on the other side of the line."""
    events = []
    previous = None
    for index in range(DURATION_S * FPS):
        x = position(walk, index / FPS)
        if x is None:
            previous = None
            continue
        if previous is not None and (previous - LINE_X) * (x - LINE_X) < 0:
            events.append(
                {
                    "person": walk.name,
                    "line": "gate",
                    "direction": "in" if x > LINE_X else "out",
                    "frame": index,
                    "seconds": index / FPS,
                }
            )
        if x != LINE_X:
            previous = x
    return events


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out_dir", type=Path)
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    video_path = args.out_dir / FILE_NAME
    cutouts = people()
    scene = background()
    rng = np.random.default_rng(7)

    with av.open(str(video_path), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"crf": "26", "preset": "slow"}
        for index in range(DURATION_S * FPS):
            t = index / FPS
            frame = scene.copy()
            # Far people first so nearer ones are drawn over them.
            for walk in sorted(WALKS, key=lambda w: w.foot_y):
                x = position(walk, t)
                if x is None:
                    continue
                ahead = position(walk, min(walk.t1, t + 0.5))
                going_left = ahead is not None and ahead < x
                paste(frame, cutouts[walk.who], x, walk.foot_y, walk.height, mirror=going_left)
            noise = rng.normal(0, 2.0, frame.shape)  # a little sensor noise, as real cameras have
            frame = (frame.astype(np.float32) + noise).clip(0, 255).astype(np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)

    truth = {
        "video": FILE_NAME,
        "start": START,
        "fps": FPS,
        "frames": DURATION_S * FPS,
        "line": LINE,
        "walks": [w.__dict__ for w in WALKS],
        "crossings": sorted((c for w in WALKS for c in crossings(w)), key=lambda c: c["frame"]),
        "expected": {
            "flagged": ["C", "F"],
            "covered_by_registration": ["B", "G", "H"],
            "open_hours": ["A"],
            "exits": ["D"],
            "no_crossing": ["E"],
        },
    }
    (args.out_dir / "north-gate.truth.json").write_text(json.dumps(truth, indent=1) + "\n")
    print(f"wrote {video_path} ({video_path.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
