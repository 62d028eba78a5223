"""Clips cut from a camera's own H.264 packets (issue 25): the real sample's packets through the
ring as a live camera would send them (one every 1/10 s), cut around a crossing and muxed to an
MP4 that decodes at the camera's full rate; the ring's bounds in time and bytes; a recorded
file's clip cut from the file, as `analyze` stores it."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av

from pipeline.packets import PacketRing, cut_file, mux_copy

from .conftest import DEMO_CONFIG, SAMPLE, gatewatch

T0 = datetime(2026, 12, 5, 22, 0, tzinfo=UTC)


def fill(ring: PacketRing, loops: int = 1) -> tuple[int, float]:
    """The sample's packets, `loops` times (each a new connection), 1/fps apart; (packets, fps)."""
    count = 0
    with av.open(str(SAMPLE)) as source:
        stream = source.streams.video[0]
        fps = float(stream.average_rate)
        packets = [p for p in source.demux(stream) if p.size]
        for _ in range(loops):
            ring.restart(stream)
            for packet in packets:
                ring.add(packet, T0 + timedelta(seconds=count / fps))
                count += 1
    return count, fps


def test_a_clip_is_the_cameras_own_frames_from_a_keyframe() -> None:
    ring = PacketRing(keep_s=120)
    _, fps = fill(ring)
    crossing = T0 + timedelta(seconds=30)
    cut = ring.cut(crossing - timedelta(seconds=5), crossing + timedelta(seconds=5), crossing)
    assert cut is not None and cut.packets[0].keyframe and cut.start <= crossing - timedelta(seconds=5)
    assert cut.packets[-1].at <= crossing + timedelta(seconds=5)
    with av.open(io.BytesIO(mux_copy(cut))) as clip:
        video = clip.streams.video[0]
        frames = sum(1 for _ in clip.decode(video))
        assert video.codec_context.name == "h264" and (video.width, video.height) == (640, 480)
    assert frames == len(cut.packets)  # every frame the camera sent, none encoded
    assert frames >= 10 * fps  # at least the 10 s asked for, at the camera's own rate
    assert ring.cut(T0 - timedelta(seconds=60), T0 - timedelta(seconds=50), T0 - timedelta(seconds=55)) is None


def test_the_ring_keeps_whole_keyframe_intervals_within_its_time_and_bytes() -> None:
    by_time = PacketRing(keep_s=5)
    fill(by_time, loops=3)
    kept = list(by_time._packets)
    assert kept[0].keyframe and {p.segment for p in kept} == {3}  # older connections gone...
    assert list(by_time._headers) == [3]  # ...and their codec parameters
    assert kept[-1].at - kept[0].at < timedelta(seconds=5) + timedelta(seconds=30)  # at most one interval more
    by_bytes = PacketRing(keep_s=1000, max_bytes=400_000)
    fill(by_bytes, loops=3)
    kept = list(by_bytes._packets)
    intervals = sum(p.keyframe for p in kept)
    # Over the limit only while the interval being filled is the only one left
    assert kept[0].keyframe and (by_bytes._bytes <= 400_000 or intervals == 1)


def test_a_crossing_just_after_a_reconnection_starts_at_its_first_keyframe() -> None:
    ring = PacketRing(keep_s=1000)
    count, fps = fill(ring, loops=2)
    second = T0 + timedelta(seconds=count / 2 / fps)  # the second connection's first packet
    crossing = second + timedelta(seconds=2)
    cut = ring.cut(crossing - timedelta(seconds=5), crossing + timedelta(seconds=5), crossing)
    assert cut is not None and cut.start == second and {p.segment for p in cut.packets} == {2}


def test_a_recorded_files_clip_is_cut_from_its_own_packets(tmp_path: Path) -> None:
    data = cut_file(SAMPLE, 25, 35)
    assert data is not None
    with av.open(io.BytesIO(data)) as clip:
        video = clip.streams.video[0]
        frames, seconds = sum(1 for _ in clip.decode(video)), clip.duration / 1e6
    assert seconds >= 10 and frames >= 9.5 * seconds  # from the keyframe before 25 s, at the file's 10 fps
    # `analyze` stores such a clip beside each flagged event's snapshots
    result = gatewatch("analyze", SAMPLE, "--config", DEMO_CONFIG, "--db", tmp_path / "g.db",
                       "--snapshots", tmp_path / "snaps")  # fmt: skip
    assert result.returncode == 0, result.stderr
    clips = sorted((tmp_path / "snaps").rglob("*.mp4"))
    assert len(clips) == 2  # the two flagged entries
    for path in clips:
        with av.open(str(path)) as clip:
            frames, seconds = sum(1 for _ in clip.decode(video=0)), clip.duration / 1e6
        assert frames >= 9.5 * seconds, (path.name, frames, seconds)  # not the 5 analysed frames a second


def test_a_file_in_a_codec_browsers_do_not_play_has_its_clip_decoded_from_the_file(tmp_path: Path) -> None:
    """MPEG-4 Part 2 (what many NVR exports and the annotated sequences hold): `analyze` keeps no
    JPEG per analysed frame; each flagged event's clip is decoded from the file and encoded to
    H.264, every frame of the file's (not the 5 analysed a second), captioned."""
    export = tmp_path / "north-gate_20261128222950.mp4"  # the sample's name: its clock and camera
    with av.open(str(SAMPLE)) as source, av.open(str(export), "w") as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 640, 480, "yuv420p"
        stream.options = {"qscale": "4"}
        for frame in source.decode(video=0):
            picture = av.VideoFrame.from_ndarray(frame.to_ndarray(format="bgr24"), format="bgr24")
            out.mux(stream.encode(picture))
        out.mux(stream.encode(None))
    assert cut_file(export, 25, 35) is None  # not copyable: an MP4 of it would not play in a browser
    result = gatewatch("analyze", export, "--config", DEMO_CONFIG, "--db", tmp_path / "g.db",
                       "--snapshots", tmp_path / "snaps")  # fmt: skip
    assert result.returncode == 0, result.stderr
    clips = sorted((tmp_path / "snaps").rglob("*.mp4"))
    assert len(clips) == 2  # the two flagged entries, as from the H.264 original
    for path in clips:
        with av.open(str(path)) as clip:
            video = clip.streams.video[0]
            frames, seconds = sum(1 for _ in clip.decode(video)), clip.duration / 1e6
            assert video.codec_context.name == "h264"
        assert 8 <= seconds <= 10.5 and frames >= 9.5 * seconds, (path.name, frames, seconds)  # (the last: file ends)
