"""Rules: which line or zone, in which direction, under which schedule, needs a registration."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from pipeline.config.base import Section
from pipeline.vocabulary import Anchor, Direction


class EscalationConfig(Section):
    after_s: float = Field(
        ge=10,
        le=7 * 86400,
        description="an alert of this rule still `new` (nobody acknowledged it) this long raises an alarm to "
        "the police and the district centre, as the one-click alarm does",
    )


class RuleConfig(Section):
    camera: str
    line: str | None = Field(None, description="line whose crossings the rule judges (give `line` or `zone`)")
    zone: str | None = Field(None, description="zone whose entries (`in`) or exits (`out`) the rule judges")
    schedule: str
    require_registration: bool = Field(
        True, description="flag only entries no registration covers; false flags every closed-hours entry"
    )
    window: float = Field(
        120, ge=0, le=7 * 86400, description="seconds either side of a registration's time it still covers"
    )
    directions: list[Direction] = Field(default_factory=lambda: [Direction.IN], min_length=1)
    min_track_age_s: float = Field(
        0, ge=0, le=60, description="ignore crossings by tracks seen for less than this (flicker, reflections)"
    )
    min_displacement_px: float = Field(
        0, ge=0, le=10_000, description="ignore crossings by people who moved less than this since first seen"
    )
    anchor: Anchor | None = Field(None, description="point of the box that must cross; default: crossing.anchor")
    escalation: EscalationConfig | None = Field(None, description="escalate unhandled alerts (default: never)")

    @model_validator(mode="after")
    def _line_or_zone(self) -> RuleConfig:
        if (self.line is None) == (self.zone is None):
            raise ValueError("give either `line` or `zone`")
        return self

    @property
    def target(self) -> str:
        """The line or zone name (unique within a camera)."""
        return self.line or self.zone  # type: ignore[return-value]


class RegistrationsConfig(Section):
    csv: Path | None = Field(
        None, description="CSV with columns time (or from, until), camera, count, name, ref, reason, source"
    )
