"""Writing files so that readers never see half of one, and failing early when we cannot write."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from pipeline.errors import GatewatchError

_UMASK = os.umask(0o022)
os.umask(_UMASK)


def ensure_writable_dir(folder: Path) -> None:
    """Create `folder` if needed and prove we can write there, before any work is done."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-"):
            pass
    except OSError as exc:
        blocking = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None)
        reason = f"{blocking} is a file, not a folder" if blocking else exc.strerror
        raise GatewatchError(f"{folder}: cannot write here ({reason})") from None


def atomic_write(path: Path, data: bytes) -> None:
    """Temporary file in the same folder, fsync, rename, fsync the folder: after a crash the file
    is either the old one or the complete new one."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file the mode open() would
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    except OSError as exc:
        raise GatewatchError(f"{path}: cannot write ({exc.strerror})") from None
