"""Video input: opens a file, decodes it and samples frames down to the configured rate.

Frames that are not analysed are only `grab()`bed (demuxed and decoded, but never converted to
BGR or copied into Python), which is most of the cost saved by sampling. Times come from the
frame index and the stream's frame rate, so a frame's time never depends on how fast it is read.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2

from pipeline.errors import GatewatchError
from pipeline.records import Frame

# A file that decodes to fewer frames than its index promises by more than this is truncated.
TRUNCATION_TOLERANCE = 0.02


class VideoFile:
    def __init__(self, path: Path, target_fps: float, start: datetime) -> None:
        self.path = path
        if not path.exists():
            raise GatewatchError(f"{path}: video file not found")
        if not path.is_file() or not os.access(path, os.R_OK):
            raise GatewatchError(f"{path}: not a readable file")
        self.capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
        if not self.capture.isOpened():
            raise GatewatchError(f"{path}: cannot be opened as a video (unsupported format, truncated or corrupt)")
        self.fps = self.capture.get(cv2.CAP_PROP_FPS)
        if not math.isfinite(self.fps) or self.fps <= 0:
            raise GatewatchError(f"{path}: the video has no usable frame rate")
        self.frame_count = int(self.capture.get(cv2.CAP_PROP_FRAME_COUNT))
        self.width = int(self.capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        self.height = int(self.capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        self.sample_ratio = min(1.0, target_fps / self.fps)
        self.start = start
        self._start_utc = start.astimezone(UTC)
        self.decoded = 0

    @property
    def duration_s(self) -> float:
        return self.frame_count / self.fps if self.frame_count > 0 else 0.0

    @property
    def analysed_fps(self) -> float:
        return self.fps * self.sample_ratio

    def is_sampled(self, index: int) -> bool:
        """Even spacing at any ratio: take a frame whenever the sample slot number moves on."""
        return index == 0 or math.floor(index * self.sample_ratio) > math.floor((index - 1) * self.sample_ratio)

    def frames(self) -> Iterator[Frame]:
        index = 0
        while self.capture.grab():
            if self.is_sampled(index):
                ok, image = self.capture.retrieve()
                if not ok:
                    break
                pts = index / self.fps
                # Add in UTC: aware-datetime arithmetic in a zone is wall-clock and breaks across DST.
                ts = (self._start_utc + timedelta(seconds=pts)).astimezone(self.start.tzinfo)
                yield Frame(index=index, pts=pts, ts=ts, image=image)
            index += 1
        self.decoded = index
        self.capture.release()
        if index == 0:
            raise GatewatchError(f"{self.path}: no frame could be decoded (corrupt or not a video)")
        if self.frame_count > 0 and index < self.frame_count * (1 - TRUNCATION_TOLERANCE):
            raise GatewatchError(
                f"{self.path}: decoding stopped at frame {index} of {self.frame_count}; "
                "the file is truncated or corrupt"
            )
