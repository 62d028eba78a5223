"""An event's evidence as it travels to the district centre: a thumbnail small enough to ride
in the message itself (the officer sees the person before anything else arrives), and the
SHA-256 of each file, which the school signs with the message and the centre checks the files
against before it shows them.

Both are computed from the stored files when a message is built, which happens once per
delivery attempt and target: cached per file (path, size, modification time), so a retry or a
second target costs nothing, and a file rewritten since is read again. (`no_wider_than`, the
scaling down of a picture, also serves the box's other small pictures: clip frames, patrol
photos.)
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from pipeline.vocabulary import EvidencePiece

THUMBNAIL_BYTES = 30_000  # the JPEG's size at most: small enough for every message and chat robot
THUMBNAIL_WIDTH = 320
_QUALITIES = (75, 60, 45, 30)  # tried in turn until the JPEG is small enough
_CHUNK = 1 << 20


def no_wider_than(image: np.ndarray, width: int) -> np.ndarray:
    """The picture scaled down to `width` (its proportions kept) if it is wider; else itself."""
    height, original = image.shape[:2]
    if original <= width:
        return image
    return cv2.resize(image, (width, max(1, round(height * width / original))), interpolation=cv2.INTER_AREA)


def files_of(snapshot: str | None, crop: str | None, clip: str | None) -> dict[EvidencePiece, Path]:
    """The pieces an event has on disk now (a clip is written seconds after its snapshots)."""
    named = {EvidencePiece.SNAPSHOT: snapshot, EvidencePiece.CROP: crop, EvidencePiece.CLIP: clip}
    return {piece: Path(path) for piece, path in named.items() if path and Path(path).is_file()}


def sha256_of(path: Path) -> str:
    stat = path.stat()
    return _sha256(str(path), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=512)
def _sha256(path: str, _size: int, _mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def thumbnail(path: Path) -> str | None:
    """The picture at `THUMBNAIL_WIDTH` wide as a base64 JPEG of at most `THUMBNAIL_BYTES`; None if
    the file is gone or not a picture (the message goes without one rather than not at all)."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return _thumbnail(str(path), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=256)
def _thumbnail(path: str, _size: int, _mtime_ns: int) -> str | None:
    image = cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        return None
    image = no_wider_than(image, THUMBNAIL_WIDTH)
    for quality in _QUALITIES:
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if ok and len(data) <= THUMBNAIL_BYTES:
            return base64.b64encode(data.tobytes()).decode("ascii")
    return None
