"""A font that has Chinese, for text drawn into snapshots and the report's chart.

OpenCV's built-in fonts have only ASCII: a Chinese caption would be question marks. gatewatch
uses the CJK fonts the system has (Debian: `fonts-noto-cjk`, installed by scripts/install.sh)
rather than shipping 20 MB of font; `GATEWATCH_FONT` names another file.
"""

from __future__ import annotations

import functools
import logging
import os
from pathlib import Path

log = logging.getLogger("gatewatch.fonts")

# Where Debian, Ubuntu, Fedora and Alpine put CJK fonts, best first.
CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)


@functools.cache
def cjk_font() -> Path | None:
    chosen = os.environ.get("GATEWATCH_FONT")
    for candidate in (chosen, *CANDIDATES) if chosen else CANDIDATES:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    log.warning(
        "no font with Chinese characters found: captions and charts fall back to English "
        "(Debian: apt-get install fonts-noto-cjk; or set GATEWATCH_FONT to a .ttf/.ttc/.otf file)"
    )
    return None
