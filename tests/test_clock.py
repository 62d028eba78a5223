"""When a recording started: --start, NVR file names, container metadata, or a clear refusal."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import av
import numpy as np
import pytest

from pipeline.clock import recording_start, start_from_filename
from pipeline.errors import GatewatchError

TZ = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    "name",
    [
        "ch01_20261128230000.mp4",  # Hikvision export
        "north-gate_20261128230000_20261128233000.mp4",
        "2026-11-28.23.00.00-2026-11-28.23.30.00[M][0@0][0].dav",  # Dahua
        "cam1_20261128_230000.mp4",
        "cam1_2026-11-28T23-00-00.mkv",
    ],
)
def test_nvr_file_names(name: str) -> None:
    assert start_from_filename(Path(name), TZ) == datetime(2026, 11, 28, 23, 0, tzinfo=TZ)


def test_digits_that_are_no_time_are_ignored() -> None:
    assert start_from_filename(Path("clip_20261399999999.mp4"), TZ) is None
    assert start_from_filename(Path("gate.mp4"), TZ) is None


def test_start_flag_wins_and_naive_start_is_local(tmp_path: Path) -> None:
    video = tmp_path / "ch01_20261128230000.mp4"
    start, source = recording_start(video, "2026-11-28T15:00:00+00:00", TZ)
    assert (start, source) == (datetime(2026, 11, 28, 23, 0, tzinfo=TZ), "--start")
    assert start.utcoffset().total_seconds() == 8 * 3600
    start, _ = recording_start(video, "2026-11-28T22:00:00", TZ)
    assert start == datetime(2026, 11, 28, 22, 0, tzinfo=TZ)


def test_bad_start_flag() -> None:
    with pytest.raises(GatewatchError, match="start 'late at night': not an ISO 8601 time"):
        recording_start(Path("x.mp4"), "late at night", TZ)


def write_clip(path: Path, creation_time: str | None) -> None:
    with av.open(str(path), "w") as container:
        if creation_time:
            container.metadata["creation_time"] = creation_time
        stream = container.add_stream("mpeg4", rate=5)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for _ in range(5):
            frame = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="bgr24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def test_container_creation_time(tmp_path: Path) -> None:
    video = tmp_path / "clip.mp4"
    write_clip(video, "2026-11-28T15:00:00.000000Z")
    start, source = recording_start(video, None, TZ)
    assert source == "container metadata"
    assert start == datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
    assert start.utcoffset().total_seconds() == 8 * 3600  # shown in the site's zone


def test_no_time_anywhere_asks_for_start(tmp_path: Path) -> None:
    video = tmp_path / "clip.mp4"
    write_clip(video, None)
    with pytest.raises(GatewatchError, match="pass --start"):
        recording_start(video, None, TZ)
