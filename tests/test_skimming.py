"""Idle live cameras decoded a keyframe at a time (issue 25), on real H.264 from libx264 fed to
the skimmer packet by packet as a camera sends them (1/10 s apart): while idle only keyframes are
decoded; a jump in packet sizes, or a skimmed keyframe that changed, decodes again from the
keyframe before, and every frame from the moment looked back to is the very picture full
decoding gives (the decoder's state is right after skipping)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import numpy as np
import pytest

from pipeline.live import skimming
from pipeline.live.skimming import LOOK_BACK_S, Arrival, Decoded, Skimmer

FPS = 10
GOP = 20  # a keyframe every 2 s
FRAMES = 100
ENTERS = 45  # mid-interval: keyframes at 40 and 60
T0 = datetime(2026, 12, 6, 22, 0, tzinfo=UTC)


def scene(path: Path, size: tuple[int, int], gop: int = GOP, noise: bool = False) -> Path:
    """A still, textured scene; from frame ENTERS on, a dark block of `size` moves across it.
    `noise`: fresh sensor noise on every frame (fixed seed), as an infrared camera at night."""
    rng = np.random.default_rng(7)
    background = np.fromfunction(lambda y, x, c: (x * 3 + y * 2 + c * 40) % 256, (240, 320, 3)).astype(np.uint8)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        stream.options = {"g": str(gop), "keyint_min": str(gop), "sc_threshold": "0", "bf": "0", "preset": "veryfast"}
        for index in range(FRAMES):
            image = background.copy()
            if noise:
                image = np.clip(image + rng.normal(0, 6, image.shape), 0, 255).astype(np.uint8)
            if index >= ENTERS:
                x = 20 + (index - ENTERS) * 4
                image[60 : 60 + size[1], x : x + size[0]] = 20
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        out.mux(stream.encode(None))
    return path


def arrival(index: int) -> Arrival:
    return Arrival(index / FPS, T0 + timedelta(seconds=index / FPS))


def full_decode(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as source:
        return [frame.to_ndarray(format="bgr24") for frame in source.decode(video=0)]


def skim(path: Path, wake_on: int | None = None) -> Iterator[tuple[int, Decoded]]:
    """Every packet through a skimmer as a camera sends them, the analysis saying "idle" until it
    wakes, and handing back the frames it ends with; `wake_on`: the skimmed keyframe the motion
    check finds changed (the reader hears of it at the next packet)."""
    with av.open(str(path)) as source:
        stream = source.streams.video[0]
        stream.thread_type = "AUTO"
        skimmer = Skimmer(stream.codec_context)
        changed: float | None = None
        last = 0
        for index, packet in enumerate(p for p in source.demux(stream) if p.size):
            wake = None if changed is None else skimmer.interval_before(changed)
            changed = None
            idle = index == 0 or skimmer.skimming
            for decoded in skimmer.feed(packet, arrival(index), idle=idle, wake=wake):
                last = round(decoded.arrival.mono * FPS)
                if decoded.skimmed and last == wake_on:
                    changed = decoded.arrival.mono
                yield index, decoded
        for frame in stream.codec_context.decode(None):  # the end: what the decoder still holds
            last += 1
            yield FRAMES, Decoded(frame, arrival(last))


@pytest.fixture(scope="module")
def walks_in(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return scene(tmp_path_factory.mktemp("skim") / "walks-in.mp4", (60, 120))


@pytest.fixture(scope="module")
def creeps_in(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return scene(tmp_path_factory.mktemp("skim") / "creeps-in.mp4", (6, 6))


def test_idle_decodes_keyframes_only_and_a_jump_in_sizes_decodes_from_before_it(walks_in: Path) -> None:
    full = full_decode(walks_in)
    out = list(skim(walks_in))
    idle = [d for i, d in out if i < ENTERS]
    assert idle and all(d.skimmed and d.frame.key_frame for d in idle)  # 3 keyframes, not 45 frames
    assert len(idle) == 3
    analysed = [d for _, d in out if not d.skimmed]
    first = analysed[0]
    assert first.replayed and first.arrival.mono <= ENTERS / FPS - LOOK_BACK_S + 1e-6
    indexes = [round(d.arrival.mono * FPS) for d in analysed]
    assert indexes == list(range(indexes[0], FRAMES))  # from before the entry on, every frame, in order
    for decoded, index in zip(analysed, indexes, strict=True):
        assert np.array_equal(decoded.frame.to_ndarray(format="bgr24"), full[index]), index


def test_a_skimmed_keyframe_that_changed_decodes_from_the_keyframe_before(creeps_in: Path) -> None:
    """Too small for the sizes to show: the keyframe at 60 shows it; analysis goes back to 40."""
    out = list(skim(creeps_in, wake_on=3 * GOP))
    skimmed = [round(d.arrival.mono * FPS) for _, d in out if d.skimmed]
    assert skimmed == [0, GOP, 2 * GOP, 3 * GOP]  # no size jump woke it
    analysed = [round(d.arrival.mono * FPS) for _, d in out if not d.skimmed]
    assert analysed == list(range(2 * GOP, FRAMES))  # the block walked in at 45: seen from 40 on
    full = full_decode(creeps_in)
    for _, decoded in out:
        if not decoded.skimmed:
            index = round(decoded.arrival.mono * FPS)
            assert np.array_equal(decoded.frame.to_ndarray(format="bgr24"), full[index]), index


def test_what_is_kept_to_decode_again_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A camera whose keyframes come far apart ("smart codecs": 10 s and more) must not grow the
    kept packets without end: over `KEPT_BYTES` a skimming camera decodes everything from there
    on and keeps nothing more; what it hands out is still the very picture."""
    long_gop = scene(tmp_path / "long-gop.mp4", (6, 6), gop=FRAMES, noise=True)  # one keyframe, noise
    with av.open(str(long_gop)) as source:
        sizes = [p.size for p in source.demux(video=0) if p.size]
    monkeypatch.setattr(skimming, "KEPT_BYTES", sum(sizes[:21]))  # the keyframe and 20 frames after it
    full = full_decode(long_gop)
    kept: list[int] = []
    out = []
    with av.open(str(long_gop)) as source:
        stream = source.streams.video[0]
        skimmer = Skimmer(stream.codec_context)
        for index, packet in enumerate(p for p in source.demux(stream) if p.size):
            idle = index == 0 or skimmer.skimming
            out.extend(skimmer.feed(packet, arrival(index), idle=idle, wake=None))
            kept.append(skimmer._bytes)
    assert max(kept) <= skimming.KEPT_BYTES + max(sizes)
    analysed = [d for d in out if not d.skimmed]
    assert analysed and round(analysed[0].arrival.mono * FPS) == 21  # woken when it could keep no more
    for decoded in analysed:
        index = round(decoded.arrival.mono * FPS)
        assert np.array_equal(decoded.frame.to_ndarray(format="bgr24"), full[index]), index
