"""CSV that staff open in Excel or WPS: text cannot run as a formula.

A visitor's name, a reviewer or a note beginning with `=`, `+`, `-` or `@` (or a tab or carriage
return) is a formula to a spreadsheet, which may fetch URLs or run commands when the file is
opened. As OWASP recommends, such text cells get a leading apostrophe: shown, never evaluated.
Numbers are left alone (a negative count is not a formula).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([safe_cell(v) for v in row] for row in rows)
    return buffer.getvalue()
