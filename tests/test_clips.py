"""The clip around a flagged crossing: the right seconds, real H.264 a browser plays, written whole."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import av
import numpy as np

from pipeline.clips import Clip, ClipCollector, write_clip
from pipeline.config import ClipConfig
from pipeline.records import Evidence, Frame
from pipeline.snapshots import SnapshotWriter

START = datetime(2026, 11, 28, 23, 0, tzinfo=timezone(timedelta(hours=8)))


def frame(n: int, fps: float = 5.0, width: int = 1280) -> Frame:
    image = np.full((width * 3 // 4, width, 3), n % 250, np.uint8)
    image[:, : (n * 7) % width] = 255  # something moves, so every frame differs
    return Frame(n, n / fps, START + timedelta(seconds=n / fps), image)


def test_the_clip_runs_from_before_to_after_the_crossing() -> None:
    collector = ClipCollector(ClipConfig(before_s=5, after_s=5), late_s=4)
    done: list[Clip] = []
    for n in range(120):  # 24 s at 5 frames a second
        done += collector.offer(frame(n))
        if n == 60:  # confirmed 2 s after the crossing at 10 s
            collector.want("event", START + timedelta(seconds=10))
    assert [clip.key for clip in done] == ["event"]
    times = [(ts - START).total_seconds() for ts, _ in done[0].frames]
    assert times[0] == 5.0 and times[-1] == 15.0 and len(times) == 51


def test_frames_are_kept_only_as_long_as_a_clip_may_still_ask_for_them() -> None:
    collector = ClipCollector(ClipConfig(before_s=5, after_s=5), late_s=4)
    for n in range(1000):
        collector.offer(frame(n, width=640))
    collector.want("late", START + timedelta(seconds=10))  # long gone: what is kept, not 200 s of video
    clip = collector.finish()[0]
    assert len(clip.frames) <= (5 + 4) * 5 + 1


def test_footage_ending_early_still_gives_its_clip() -> None:
    collector = ClipCollector(ClipConfig(), late_s=1)
    for n in range(20):
        collector.offer(frame(n))
    collector.want(1, START + timedelta(seconds=3.8))
    assert collector.finish()[0].frames[-1][0] == START + timedelta(seconds=3.8)


def test_the_clip_is_h264_at_real_speed_scaled_down_and_written_whole(tmp_path: Path) -> None:
    collector = ClipCollector(ClipConfig(width=640), late_s=1)
    clips: list[Clip] = []
    for n in range(80):
        clips += collector.offer(frame(n))
        if n == 30:
            collector.want(1, START + timedelta(seconds=6))
    path = tmp_path / "clip.mp4"
    write_clip(path, clips[0])
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]  # no temporary file left
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        assert video.codec_context.name == "h264" and video.codec_context.pix_fmt == "yuv420p"
        assert (video.width, video.height) == (640, 480)
        assert 9.9 <= container.duration / 1e6 <= 10.5  # 10 s of footage plays in 10 s
        assert sum(1 for _ in container.decode(video)) == len(clips[0].frames)
        assert container.format.name.startswith("mov,mp4")


def test_a_killed_runs_clip_is_swept_and_a_stored_one_kept(tmp_path: Path) -> None:
    writer = SnapshotWriter(tmp_path)
    folder = tmp_path / "gate" / "2026-11-28"
    folder.mkdir(parents=True)
    kept, orphan = folder / "230000_night_f10_t1_gate.mp4", folder / "230100_night_f20_t2_gate.mp4"
    half = folder / ".230200_night_f30_t3_gate.mp4.ab12.tmp"
    for path in (kept, orphan, half):
        path.write_bytes(b"x")
    removed = writer.sweep("gate", "night", {str(kept)})
    assert sorted(removed) == sorted([orphan, half]) and kept.exists()
    writer.close()


def test_the_clip_goes_beside_its_snapshots_captioned_with_camera_and_time(tmp_path: Path) -> None:
    """Issue 22.9: each frame of a clip says which camera and when, as the snapshot does."""
    writer = SnapshotWriter(tmp_path)
    collector = ClipCollector(ClipConfig(), late_s=1)
    for n in range(10):
        collector.offer(frame(n, width=320))
    collector.want(1, START)
    clip = collector.finish()[0]
    snapshot = tmp_path / "gate" / "2026-11-28" / "230000_night_f0_t1_gate.jpg"
    path = writer.write_clip(Evidence(snapshot, snapshot.with_name("x_crop.jpg")), clip, "north-gate")
    assert path == snapshot.with_suffix(".mp4") and path.is_file() and writer.created == [path]
    writer.close()
    plain = tmp_path / "plain.mp4"
    write_clip(plain, clip)
    with av.open(str(path)) as stamped, av.open(str(plain)) as bare:
        captioned = next(stamped.decode(video=0)).to_ndarray(format="gray")
        original = next(bare.decode(video=0)).to_ndarray(format="gray")
    band = slice(0, 20)
    assert (original[band] > 200).sum() == 0  # the first frame is black all over
    assert (captioned[band, :200] > 200).sum() > 30  # the caption's white letters, top left
    assert abs(captioned[40:].astype(int) - original[40:].astype(int)).mean() < 3  # the picture itself untouched
