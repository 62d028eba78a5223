"""Registration exports as access-control systems and visitor books write them: CSV, often
GBK-encoded (Big5 from Hong Kong and Taiwan systems, UTF-16 from Excel's "Unicode text"), with
their own column names (mapped with `--map field=column`)."""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from pipeline.errors import GatewatchError, InvalidInput
from pipeline.registrations.model import Registration
from pipeline.registrations.parsing import FIELDS, parse_registration

# GB18030 is the superset Windows exports really use, CP950 the Big5 they use; Latin-1 for European
# names, asked for by name (any bytes decode as Latin-1, so it is never guessed).
ENCODINGS = {"utf-8": "utf-8-sig", "utf-16": "utf-16", "gbk": "gb18030", "big5": "cp950", "latin-1": "cp1252"}


@dataclass(frozen=True)
class RowError:
    row: int  # as a spreadsheet numbers it: the header is row 1
    message: str


@dataclass(frozen=True)
class CsvRegistrations:
    good: list[Registration]
    bad: list[RowError]
    encoding: str


def read_registrations_csv(
    path: Path,
    tz: ZoneInfo,
    scopes: set[str],
    *,
    mapping: Mapping[str, str] | None = None,
    defaults: Mapping[str, str] | None = None,
    encoding: str = "auto",
    origin: str,
    created_by: str = "",
) -> CsvRegistrations:
    """Parse every row; bad rows are reported with their numbers, not raised, so the caller decides.

    `mapping` maps gatewatch fields to the file's column names (`time=刷卡时间`); unmapped fields
    are looked up under their own name. `defaults` fill fields the file does not have (a card
    reader export names no camera)."""
    mapping = dict(mapping or {})
    for field in mapping:
        if field not in FIELDS:
            raise InvalidInput("map", f"unknown field {field!r}; fields are {', '.join(FIELDS)}", f"{field}=...")
    text, used = _decode(path, encoding)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip() for name in next(reader, [])]
    except csv.Error as exc:
        raise GatewatchError(f"{path}: malformed CSV ({exc})") from None
    column = {field: mapping.get(field, field) for field in FIELDS}
    wanted = [mapping[f] for f in mapping]
    missing = [name for name in wanted if name not in header]
    has_time = column["time"] in header or (column["from"] in header and column["until"] in header)
    if not has_time and not (defaults or {}).get("time"):
        missing.append(column["time"] if "time" in mapping or "from" not in mapping else column["from"])
    if column["camera"] not in header and not (defaults or {}).get("camera"):
        missing.append(column["camera"])
    if missing:
        hint = " (is the encoding right? try --encoding utf-8 or gbk)" if encoding == "auto" else ""
        raise GatewatchError(
            f"{path}: missing column(s) {', '.join(dict.fromkeys(missing))}; the file has {', '.join(header) or 'none'}"
            f"{hint}. Map yours with --map field=column (fields: {', '.join(FIELDS)})"
        )
    if not mapping:
        unknown = [name for name in header if name not in FIELDS]
        if unknown:
            raise GatewatchError(
                f"{path}: unknown column(s) {', '.join(unknown)}; columns are {', '.join(FIELDS)} "
                "(or map others with --map field=column)"
            )
    good: list[Registration] = []
    bad: list[RowError] = []
    # Rows are read one at a time (not listed first): a year of card swipes is a million of them.
    position = {name: index for index, name in enumerate(header)}  # a repeated column: the last, as DictReader
    wanted_at = {field: position.get(column[field]) for field in FIELDS}
    number = 1
    try:
        for number, row in enumerate(reader, start=2):
            if not any(cell.strip() for cell in row):
                continue
            values = {f: row[i] if i is not None and i < len(row) else "" for f, i in wanted_at.items()}
            for field, value in (defaults or {}).items():
                values[field] = values[field] or value
            try:
                registration = parse_registration(
                    values, tz, scopes, origin=f"{origin} row {number}", created_by=created_by
                )
            except ValueError as exc:
                bad.append(RowError(number, str(exc)))
            else:
                good.append(registration)
    except csv.Error as exc:
        raise GatewatchError(f"{path}: malformed CSV after row {number} ({exc})") from None
    return CsvRegistrations(good, bad, used)


def _decode(path: Path, encoding: str) -> tuple[str, str]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise GatewatchError(f"{path}: registrations file not found") from None
    except OSError as exc:
        raise GatewatchError(f"{path}: cannot read ({exc.strerror})") from None
    if encoding != "auto":
        if encoding not in ENCODINGS:
            raise InvalidInput("encoding", f"use auto, {', '.join(ENCODINGS)}", encoding)
        try:
            return _no_nul(path, data.decode(ENCODINGS[encoding])), encoding
        except UnicodeDecodeError as exc:
            raise GatewatchError(
                f"{path}: not {encoding.upper()} text (bad bytes at offset {exc.start}); try --encoding auto"
            ) from None
    return _guess(path, data)


def _guess(path: Path, data: bytes) -> tuple[str, str]:
    """UTF-16 (by its byte-order mark, or its zero bytes between ASCII letters), UTF-8, then
    GBK or Big5, whichever reads as Chinese: Big5 bytes decoded as GBK give kana, box-drawing
    signs and Cyrillic among the characters, and GBK bytes are rarely valid Big5 at all."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _no_nul(path, data.decode("utf-16")), "utf-16"
    for order, zeros in (("utf-16-le", data[1::2]), ("utf-16-be", data[0::2])):  # ASCII with zero bytes beside
        if len(data) >= 4 and zeros.count(0) > len(data) // 4:
            with contextlib.suppress(UnicodeDecodeError):
                return _no_nul(path, data.decode(order)), "utf-16"
    with contextlib.suppress(UnicodeDecodeError):
        return _no_nul(path, data.decode(ENCODINGS["utf-8"])), "utf-8"
    readings = []
    for name in ("gbk", "big5"):
        with contextlib.suppress(UnicodeDecodeError):
            text = data.decode(ENCODINGS[name])
            readings.append((sum(map(_odd_in_chinese, text)), name, text))
    if not readings:
        raise GatewatchError(
            f"{path}: neither UTF-8, UTF-16, GBK nor Big5 text; save the CSV as UTF-8 "
            f"(a Western European export: give --encoding latin-1)"
        )
    _, name, text = min(readings, key=lambda reading: reading[0])  # a tie goes to GBK, listed first
    if name == "gbk":
        _refuse_mojibake(path, text)
    return _no_nul(path, text), name


def _odd_in_chinese(char: str) -> bool:
    """A character a Chinese visitor book would hardly hold: not ASCII, not a CJK ideograph,
    not CJK or full-width punctuation."""
    code = ord(char)
    return not (code < 128 or 0x4E00 <= code <= 0x9FFF or 0x3000 <= code <= 0x303F or 0xFF00 <= code <= 0xFFEF)


def _no_nul(path: Path, text: str) -> str:
    if "\0" in text:
        raise GatewatchError(f"{path}: has NUL bytes, so it is not a CSV text file (a spreadsheet? save it as CSV)")
    return text


def _refuse_mojibake(path: Path, text: str) -> None:
    """GB18030 decodes almost any bytes, so a Latin-1 export ("Müller") would be stored as
    "M黮ler". Chinese text from a Windows export is mostly in GB2312's common characters; text
    mostly outside them was most likely another encoding."""
    wide = [c for c in text if ord(c) > 127]
    rare = [c for c in wide if not _in_gb2312(c)]
    if len(rare) >= 2 and len(rare) > len(wide) / 2:
        sample = next(line for line in text.splitlines() if any(c in rare for c in line)).strip()
        raise GatewatchError(
            f"{path}: as GBK this reads like garbled text ({sample[:40]!r}); say which encoding it is "
            f"with --encoding ({', '.join(ENCODINGS)}), or save it as UTF-8"
        )


def _in_gb2312(char: str) -> bool:
    try:
        char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True
