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
import numpy as np

from pipeline.errors import GatewatchError
from pipeline.records import Frame

# A file that decodes to fewer frames than its index promises by more than this is truncated.
TRUNCATION_TOLERANCE = 0.02


# How picture files start: FFmpeg opens each as a one-frame "video".
_IMAGE_MAGIC = {
    b"\xff\xd8\xff": "JPEG",
    b"\x89PNG": "PNG",
    b"BM": "BMP",
    b"GIF8": "GIF",
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
}


def _still_image_format(path: Path) -> str | None:
    try:
        with path.open("rb") as handle:
            head = handle.read(12)
    except OSError as exc:
        raise GatewatchError(f"{path}: cannot read ({exc.strerror})") from None
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    return next((name for magic, name in _IMAGE_MAGIC.items() if head.startswith(magic)), None)


class VideoFile:
    def __init__(self, path: Path, target_fps: float, start: datetime) -> None:
        self.path = path
        if not path.exists():
            raise GatewatchError(f"{path}: video file not found")
        if not path.is_file() or not os.access(path, os.R_OK):
            raise GatewatchError(f"{path}: not a readable file")
        still = _still_image_format(path)
        self.capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
        if not self.capture.isOpened():
            raise GatewatchError(f"{path}: cannot be opened as a video (unsupported format, truncated or corrupt)")
        self.fps = self.capture.get(cv2.CAP_PROP_FPS)
        if not math.isfinite(self.fps) or self.fps <= 0:
            raise GatewatchError(f"{path}: the video has no usable frame rate")
        self.frame_count = int(self.capture.get(cv2.CAP_PROP_FRAME_COUNT))
        if still and self.frame_count <= 1:
            # FFmpeg reads a picture as a one-frame video; stored, it would be "footage analysed".
            raise GatewatchError(f"{path}: a still image ({still}), not a video; give the recording itself")
        self.width = int(self.capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        self.height = int(self.capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        self.sample_ratio = min(1.0, target_fps / self.fps)
        self.start = start
        self._start_utc = start.astimezone(UTC)
        self.decoded = 0
        self.missing = 0  # frames the index promised that did not decode (a truncation under the tolerance)

    @property
    def duration_s(self) -> float:
        return self.frame_count / self.fps if self.frame_count > 0 else 0.0

    @property
    def analysed_fps(self) -> float:
        return self.fps * self.sample_ratio

    def is_sampled(self, index: int) -> bool:
        """Even spacing at any ratio: take a frame whenever the sample slot number moves on."""
        return index == 0 or math.floor(index * self.sample_ratio) > math.floor((index - 1) * self.sample_ratio)

    def frames(self, first: int = 0) -> Iterator[Frame]:
        """From frame `first` on (a seek, for the last seconds of a file analysed before)."""
        index = 0
        if first > 0 and self.capture.set(cv2.CAP_PROP_POS_FRAMES, first):
            index = first
        while self.capture.grab():
            if self.is_sampled(index):
                ok, image = self.capture.retrieve()
                if not ok:
                    break
                yield self._frame(index, image)
            index += 1
        self.decoded = index
        self.capture.release()
        self._check_complete(index)

    def _frame(self, index: int, image: np.ndarray, skimmed: bool = False) -> Frame:
        pts = index / self.fps
        # Add in UTC: aware-datetime arithmetic in a zone is wall-clock and breaks across DST.
        ts = (self._start_utc + timedelta(seconds=pts)).astimezone(self.start.tzinfo)
        return Frame(index=index, pts=pts, ts=ts, image=image, skimmed=skimmed)

    def _check_complete(self, frames: int) -> None:
        if frames == 0:
            raise GatewatchError(f"{self.path}: no frame could be decoded (corrupt or not a video)")
        if self.frame_count > 0 and frames < self.frame_count * (1 - TRUNCATION_TOLERANCE):
            raise GatewatchError(
                f"{self.path}: decoding stopped at frame {frames} of {self.frame_count}; "
                "the file is truncated or corrupt"
            )
        # Containers may count a frame more than they hold; anything beyond that is reported.
        self.missing = max(0, self.frame_count - frames) if self.frame_count - frames > 1 else 0


class SkimmingVideoFile(VideoFile):
    """Decodes only keyframes while nothing happens, and every frame again as soon as something does.

    On idle footage this skips almost all decoding, the cost that remains once the detector is
    gated. The consumer sets `idle` after each frame (while it is true, decoding drops to keyframes
    from the next one on; those come with `skimmed=True`, for a motion check only) and calls `rewind()`
    when a skimmed keyframe shows a change: decoding goes back to the keyframe before it and
    delivers every sampled frame not yet delivered, so nothing between the two is lost. What it
    cannot see is someone who enters and leaves entirely between two keyframes (1-4 s apart on
    most NVRs), which is why it is opt-in.
    """

    def __init__(self, path: Path, target_fps: float, start: datetime) -> None:
        super().__init__(path, target_fps, start)
        self.capture.release()
        self.idle = False  # set by the consumer after each frame; skimming starts at a keyframe while idle
        self._want_rewind = False

    def rewind(self) -> None:
        self._want_rewind = True

    def frames(self) -> Iterator[Frame]:
        import av  # only here: loading PyAV's FFmpeg beside OpenCV's slows the usual path a little

        try:
            container = av.open(str(self.path))
        except av.error.FFmpegError as exc:
            raise GatewatchError(f"{self.path}: cannot be opened as a video ({exc})") from None
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        base = stream.start_time or 0
        delivered = -1  # highest index handled in full decoding
        last = -1  # highest index decoded at all
        gop = 1  # widest keyframe spacing met, in frames
        skimming = False
        keys: list[tuple[int, int]] = []  # (pts, index) of the keyframes met so far
        full_until = -1  # after a rewind, decode fully through the keyframe that showed the change
        try:
            while True:
                restart_at = None
                for frame in container.decode(stream):
                    if frame.pts is None:
                        continue
                    index = round(float((frame.pts - base) * stream.time_base) * self.fps)
                    last = max(last, index)
                    if frame.key_frame and (not keys or frame.pts > keys[-1][0]):
                        if keys:
                            gop = max(gop, index - keys[-1][1])
                        keys.append((frame.pts, index))
                        if self.idle and not skimming and frame.pts > full_until:
                            skimming = True
                            stream.codec_context.skip_frame = "NONKEY"
                    if skimming:
                        if not frame.key_frame:
                            continue  # still in the decoder's pipeline when skimming began
                        yield self._frame(index, frame.to_ndarray(format="bgr24"), skimmed=True)
                        if self._want_rewind:
                            restart_at = keys[-2] if len(keys) > 1 else keys[-1]
                            full_until = frame.pts
                            break
                        continue
                    if index <= delivered:
                        continue
                    delivered = index
                    if self.is_sampled(index):
                        yield self._frame(index, frame.to_ndarray(format="bgr24"))
                if restart_at is None:
                    break
                skimming = self.idle = self._want_rewind = False
                stream.codec_context.skip_frame = "DEFAULT"
                container.seek(restart_at[0], stream=stream, backward=True, any_frame=False)
                del keys[keys.index(restart_at) + 1 :]
        except av.error.FFmpegError as exc:
            raise GatewatchError(f"{self.path}: decoding failed ({exc}); the file is truncated or corrupt") from None
        finally:
            container.close()
        # Skimming to the end stops at the last keyframe: the frames after it are there, not decoded.
        ends_in_skim = skimming and self.frame_count > 0 and last + gop >= self.frame_count - 1
        self.decoded = self.frame_count if ends_in_skim else last + 1
        self._check_complete(self.decoded)
