"""The patrol plan (24-hour gate duty with regular patrols): the checkpoints a round passes and
when rounds are due, e.g. every 2 hours from 22:00 to 06:00.

    patrols:
      checkpoints: [north gate, dormitory A, east wall]
      every_h: 2
      from: "22:00"
      until: "06:00"
      grace_min: 30
"""

from __future__ import annotations

import re
from datetime import time
from typing import Annotated

from pydantic import BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator

from pipeline.config.base import Section


def _clock(value: object) -> time:
    """ "22:00" only: YAML reads an unquoted 22:00 as the number 1320, which must not become 00:22."""
    if isinstance(value, time):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"\d{1,2}:\d{2}", value.strip()):
        raise ValueError(f'{value!r} is not a time of day in quotes, like "22:00"')
    hour, minute = (int(part) for part in value.strip().split(":"))
    if hour > 23 or minute > 59:
        raise ValueError(f"{value!r} is not a time of day")
    return time(hour, minute)


Clock = Annotated[time, BeforeValidator(_clock)]


class PatrolConfig(Section):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, populate_by_name=True)

    checkpoints: list[str] = Field(min_length=1, max_length=50, description="the places a round passes, in order")
    every_h: float = Field(2, ge=0.25, le=24, description="a round is due this often")
    start: Clock = Field(time(22, 0), alias="from", description="the first round of a night, site time (HH:MM)")
    until: Clock = Field(time(6, 0), description="no round is due from then on (the next morning if before `from`)")
    grace_min: float = Field(
        30, ge=1, le=24 * 60, description="a due round not recorded this long after it is overdue (the page reminds)"
    )

    @field_validator("until")
    @classmethod
    def _not_from(cls, until: time, info: ValidationInfo) -> time:
        if until == info.data.get("start"):
            raise ValueError("the same as `from`: give the time the last round is due by")
        return until

    @field_validator("checkpoints")
    @classmethod
    def _named_once(cls, checkpoints: list[str]) -> list[str]:
        for index, name in enumerate(checkpoints):
            if not name.strip() or len(name) > 100:
                raise ValueError(f"{index}: a checkpoint needs a name of 1 to 100 characters")
            if name in checkpoints[:index]:
                raise ValueError(f"{index}: {name!r} is listed twice")
        return checkpoints
