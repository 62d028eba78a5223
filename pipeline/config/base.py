"""What every config section shares: unknown keys and non-finite numbers are errors, values are frozen."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict


class Section(BaseModel):
    """A misspelt key silently ignored is a gate nobody watches, hence `extra="forbid"`."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def names(mapping: dict[str, object]) -> str:
    """The names a key may take, for "unknown camera 'x' (have: ...)" messages."""
    return ", ".join(mapping) or "none"


def _known_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}; use an IANA name such as 'Asia/Shanghai'") from None
    return value


Zone = Annotated[str, AfterValidator(_known_zone)]
