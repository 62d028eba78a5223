"""The district centre's enrolment file: which schools it hears, and the key each shares with it.

    timezone: Asia/Shanghai           # the district's clock (default), for a school that sent no time yet
    sites:
      No1-Middle-School:              # the school's site topic level (its site name, spaces as -)
        key: ${NO1_KEY}               # its mqtt.site_key; at least 32 characters
        name: 第一中学                 # optional: how the officer reads it before the school sends its own
      No2-School:
        key: ${NO2_KEY}

A message on a topic of a school not listed here, or not signed with that school's key, is
refused and logged: a school can speak only for itself, and nobody else for it.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from pipeline.config.base import Section, Zone
from pipeline.signing import MIN_KEY_CHARS


class EnrolledSite(Section):
    key: str = Field(min_length=MIN_KEY_CHARS, repr=False, description="the school's mqtt.site_key (`${VAR}`)")
    name: str | None = Field(None, max_length=200, description="the school's name, until its messages give it")


class CenterSites(Section):
    timezone: Zone = Field(
        "Asia/Shanghai", description="the district's IANA zone: the centre's own times (a school went offline) in it"
    )
    sites: dict[str, EnrolledSite] = Field(min_length=1)

    @field_validator("sites")
    @classmethod
    def _topic_levels(cls, sites: dict[str, EnrolledSite]) -> dict[str, EnrolledSite]:
        for name in sites:
            if not name or any(c in name for c in "/+# "):
                raise ValueError(f"{name!r}: a site topic level has no spaces, /, + or #")
        return sites

    def key(self, site_topic: str) -> str | None:
        site = self.sites.get(site_topic)
        return site.key if site else None
