"""Benchmark inputs: the annotated real sequences in ../shared/data, and longer videos built from them.

The long videos imitate a gate camera at night: 25 fps, 720p or 1080p, ten minutes of the empty
scene (the per-pixel median of the sequence, which removes the passers-by) with sensor noise,
and four short bursts of the real activity (TUD-Stadtmitte, played forward and backward in
turn), encoded like an NVR stream (H.264, no B-frames, 2 s GOP, camera-like bitrate). Their
ground truth is the sequence's, shifted to each burst (and mirrored for backward bursts). Built
once into benchmarks/.cache/.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import av
import cv2
import numpy as np

from pipeline.evaluation import Event

Filming = Callable[[list[np.ndarray]], list[np.ndarray]]  # films a list of frames another way

CACHE = Path(__file__).resolve().parent / ".cache"
# Real thermal night footage annotated for gatewatch (footage/README.md); committed, MIT-licensed.
THERMAL = Path(__file__).resolve().parent / "footage" / "M3SVD"
# Annotated after the night thresholds were chosen, and never used to choose anything.
THERMAL_HELD_OUT = THERMAL.with_name("M3SVD-held-out")
VIDEOS = {"PETS09-S2L1": "PETS09-S2L1_f001-300_7fps.mp4", "TUD-Stadtmitte": "TUD-Stadtmitte_25fps.mp4"}
LONG_SOURCE = "TUD-Stadtmitte"
LONG_SECONDS = 600
BURSTS_AT_S = (60, 210, 360, 510)
BITRATES = {720: 2_000_000, 1080: 4_000_000}
NOISE_SIGMA = 2.0


@dataclass(frozen=True)
class Sequence:
    name: str
    video: Path
    fps: float
    frames: int
    lines: list[dict]  # as in lines.json: id, points, inside
    truth: list[Event]
    people: dict[int, int]  # ground-truth people per video frame (for the scaling table); may be empty

    @property
    def seconds(self) -> float:
        return self.frames / self.fps


def truth_boxes(folder: Path) -> dict[int, np.ndarray]:
    """A sequence's ground-truth people per 0-based video frame, xyxy pixels (gt.csv is 1-based xywh)."""
    boxes: dict[int, list[list[float]]] = {}
    for row in (folder / "gt.csv").read_text().splitlines():
        if not row[:1].isdigit():
            continue  # header
        frame, _track, x, y, w, h = (float(v) for v in row.split(",")[:6])
        boxes.setdefault(int(frame) - 1, []).append([x, y, x + w, y + h])
    return {k: np.array(v, np.float32) for k, v in boxes.items()}


def load_sequences(data: Path) -> list[Sequence]:
    found = []
    for name, video in VIDEOS.items():
        folder = data / name
        if not folder.is_dir():
            raise SystemExit(f"benchmarks: {folder} is missing (annotated footage is expected in ../shared/data)")
        truth = json.loads((folder / "crossings.json").read_text())
        people = {frame: len(boxes) for frame, boxes in truth_boxes(folder).items()}
        found.append(
            Sequence(
                name,
                folder / video,
                float(truth["fps"]),
                int(truth["num_frames"]),
                json.loads((folder / "lines.json").read_text())["lines"],
                [Event(e["line_id"], e["inout"], e["video_frame"]) for e in truth["events"]],
                people,
            )
        )
    return found


def clip_frames(video: Path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(video))
    frames = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        frames.append(image)
    capture.release()
    return frames


def encode(path: Path, frames: object, size: tuple[int, int], fps: int, bitrate: int) -> None:
    """H.264 as an NVR writes it: no B-frames, 2 s GOP, capped bitrate, reproducible to the byte.
    Written beside, then renamed."""
    partial = path.with_suffix(".partial.mp4")
    container = av.open(str(partial), "w")
    stream = container.add_stream("libx264", rate=fps)
    stream.width, stream.height = size
    stream.pix_fmt = "yuv420p"
    stream.bit_rate = bitrate
    stream.options = {
        "preset": "veryfast",
        "g": str(2 * fps),
        "bf": "0",
        "maxrate": str(bitrate),
        "bufsize": str(bitrate),
        # One thread: threaded x264 gave a different file on each run (three at once, three files), so
        # each machine tested another noise realisation; one thread gives the same bytes every time.
        "threads": "1",
    }
    for image in frames:  # type: ignore[attr-defined]
        for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    partial.rename(path)


def long_video(base: Sequence, height: int, look: Filming | None = None, tag: str = "") -> Sequence:
    """The ten-minute mostly idle video at `height` (720 or 1080), built on first use. With `look`
    (e.g. a night look of benchmarks/night.py, named `tag`), the clip and the empty scene are
    filmed that way first."""
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"idle-{height}p{'-' + tag if tag else ''}.mp4"
    clip = clip_frames(base.video)
    empty_scene = np.median(np.stack(clip), axis=0).astype(np.uint8)
    if look is not None:
        empty_scene, *clip = look([empty_scene, *clip])
    scale = height / clip[0].shape[0]
    scaled_width = round(clip[0].shape[1] * scale)
    width = round(height * 16 / 9)
    offset_x = (width - scaled_width) // 2  # pillarboxed, as a 4:3 camera in a 16:9 stream
    fps = round(base.fps)
    total = LONG_SECONDS * fps
    starts = [s * fps for s in BURSTS_AT_S]

    def frames():
        rng = np.random.default_rng(7)
        noise = [rng.normal(0, NOISE_SIGMA, (height, width, 3)).astype(np.int16) for _ in range(16)]
        canvas = np.zeros((height, width, 3), np.uint8)
        for index in range(total):
            burst = next((k for k, s in enumerate(starts) if s <= index < s + len(clip)), None)
            if burst is None:
                image = empty_scene
            else:
                step = index - starts[burst]
                image = clip[step if burst % 2 == 0 else len(clip) - 1 - step]
            canvas[:, offset_x : offset_x + scaled_width] = cv2.resize(image, (scaled_width, height))
            yield np.clip(canvas.astype(np.int16) + noise[index % len(noise)], 0, 255).astype(np.uint8)

    if not path.is_file():
        encode(path, frames(), (width, height), fps, BITRATES[height])
    truth = []
    for burst, start in enumerate(starts):
        for event in base.truth:
            if burst % 2 == 0:
                truth.append(replace(event, frame=start + event.frame))
            else:  # played backward: the same passage in the other direction
                flipped = "out" if event.direction == "in" else "in"
                truth.append(Event(event.line, flipped, start + len(clip) - event.frame))
    lines = [
        {
            "id": line["id"],
            "points": [[x * scale + offset_x, y * scale] for x, y in line["points"]],
            "inside": [line["inside"][0] * scale + offset_x, line["inside"][1] * scale],
        }
        for line in base.lines
    ]
    return Sequence(f"idle {height}p, 10 min{' ' + tag if tag else ''}", path, float(fps), total, lines, truth, {})


def repeated(base: Sequence, times: int) -> Sequence:
    """The clip played forward and backward `times` times in a row (no jumps), for the length scaling."""
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"{base.video.stem}-x{times}.mp4"
    clip = clip_frames(base.video)
    if not path.is_file():
        played = (image for k in range(times) for image in (clip if k % 2 == 0 else clip[::-1]))
        height, width = clip[0].shape[:2]
        encode(path, played, (width, height), round(base.fps), 1_500_000)
    return Sequence(f"{base.name} x{times}", path, base.fps, times * len(clip), base.lines, [], {})


def load_thermal(folder: Path = THERMAL) -> list[Sequence]:
    """The annotated thermal clips (each in a folder of its own: the video, lines.json, crossings.json)."""
    found = []
    for clip in sorted(p for p in folder.iterdir() if p.is_dir()):
        truth = json.loads((clip / "crossings.json").read_text())
        found.append(
            Sequence(
                f"M3SVD {clip.name}",
                clip / f"{clip.name}.mp4",
                float(truth["fps"]),
                int(truth["num_frames"]),
                json.loads((clip / "lines.json").read_text())["lines"],
                [Event(e["line_id"], e["inout"], e["video_frame"]) for e in truth["events"]],
                {},
            )
        )
    return found
