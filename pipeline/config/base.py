"""What every config section shares: unknown keys and non-finite numbers are errors, values are frozen."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A misspelt key silently ignored is a gate nobody watches, hence `extra="forbid"`."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def names(mapping: dict[str, object]) -> str:
    """The names a key may take, for "unknown camera 'x' (have: ...)" messages."""
    return ", ".join(mapping) or "none"
