"""The whole configuration file: its sections, and the checks that tie them together (a rule's
camera, line and schedule exist; a group names real cameras; one line, one anchor)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, PrivateAttr, model_validator

from pipeline.config.base import Section, Zone, names
from pipeline.config.cameras import CameraConfig, Places
from pipeline.config.detection import (
    ClipConfig,
    CrossingConfig,
    DetectorConfig,
    MotionConfig,
    SamplingConfig,
    TrackerConfig,
)
from pipeline.config.patrols import PatrolConfig
from pipeline.config.rules import RegistrationsConfig, RuleConfig
from pipeline.config.schedules import ScheduleConfig
from pipeline.config.service import (
    AlarmReceiverConfig,
    AlertsConfig,
    CenterLinkConfig,
    LiveConfig,
    MqttConfig,
    ServerConfig,
    SiteConfig,
    WebhookConfig,
)
from pipeline.errors import InvalidInput
from pipeline.vocabulary import Anchor
from pipeline.wording import Language, language_of_zone


class Config(Section):
    timezone: Zone = Field(description="IANA time zone of the site, e.g. Asia/Shanghai")
    site: SiteConfig = Field(default_factory=SiteConfig)
    detector: DetectorConfig = Field(default_factory=DetectorConfig)
    sampling: SamplingConfig = Field(default_factory=SamplingConfig)
    motion: MotionConfig = Field(default_factory=MotionConfig)
    tracker: TrackerConfig = Field(default_factory=TrackerConfig)
    crossing: CrossingConfig = Field(default_factory=CrossingConfig)
    clips: ClipConfig = Field(default_factory=ClipConfig)
    cameras: dict[str, CameraConfig] = Field(min_length=1)
    groups: dict[str, list[str]] = Field(
        default_factory=dict, description="named sets of cameras (e.g. both cameras of one gate) for registrations"
    )
    schedules: dict[str, ScheduleConfig] = Field(default_factory=dict)
    rules: list[RuleConfig] = Field(default_factory=list)
    registrations: RegistrationsConfig = Field(default_factory=RegistrationsConfig)
    live: LiveConfig = Field(default_factory=LiveConfig)
    server: ServerConfig = Field(default_factory=ServerConfig)
    mqtt: MqttConfig | None = None
    webhooks: list[WebhookConfig] = Field(default_factory=list)
    alarm_receivers: list[AlarmReceiverConfig] = Field(
        default_factory=list, description="alarm receiving centres (SIA DC-09) that get every alarm"
    )
    patrols: PatrolConfig | None = Field(None, description="checkpoints and when rounds are due (24-hour duty)")
    center: CenterLinkConfig | None = Field(None, description="where this school's evidence goes (the district centre)")
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)

    _base_dir: Path = PrivateAttr(default=Path("."))

    @model_validator(mode="after")
    def _receivers_named_once(self) -> Config:
        seen: set[str] = set()
        for index, receiver in enumerate(self.alarm_receivers):
            if receiver.name in seen:
                raise ValueError(f"alarm_receivers.{index}.name: {receiver.name!r} is taken; each needs its own")
            seen.add(receiver.name)
        return self

    @model_validator(mode="after")
    def _center_needs_key(self) -> Config:
        if self.center is not None and (self.mqtt is None or self.mqtt.site_key is None):
            raise ValueError("center: needs mqtt.site_key, the key shared with the centre, which signs what is pushed")
        return self

    @model_validator(mode="after")
    def _skim_needs_motion(self) -> Config:
        if self.sampling.skim_idle and not self.motion.enabled:
            raise ValueError("sampling.skim_idle: needs motion.enabled, which tells when the scene is idle")
        return self

    @model_validator(mode="after")
    def _channels_unique(self) -> Config:
        seen: dict[int, str] = {}
        for name, camera in self.cameras.items():
            if camera.channel is not None:
                other = seen.setdefault(camera.channel, name)
                if other != name:
                    raise ValueError(f"cameras.{name}.channel: channel {camera.channel} is camera {other!r}'s already")
        return self

    @model_validator(mode="after")
    def _names_resolve(self) -> Config:
        for group, members in self.groups.items():
            if group in self.cameras:
                raise ValueError(f"groups.{group}: a camera has the same name; pick another group name")
            for index, member in enumerate(members):
                if member not in self.cameras:
                    raise ValueError(f"groups.{group}.{index}: unknown camera {member!r} (have: {names(self.cameras)})")
        anchors: dict[tuple[str, str], tuple[int, Anchor]] = {}
        for index, rule in enumerate(self.rules):
            where = f"rules.{index}"
            if rule.camera not in self.cameras:
                raise ValueError(f"{where}.camera: unknown camera {rule.camera!r} (have: {names(self.cameras)})")
            camera = self.cameras[rule.camera]
            kind, shapes = ("line", camera.lines) if rule.line is not None else ("zone", camera.zones)
            if rule.target not in shapes:
                raise ValueError(
                    f"{where}.{kind}: camera {rule.camera!r} has no {kind} {rule.target!r} (have: {names(shapes)})"
                )
            if rule.schedule not in self.schedules:
                raise ValueError(
                    f"{where}.schedule: unknown schedule {rule.schedule!r} (have: {names(self.schedules)})"
                )
            anchor = rule.anchor or self.crossing.anchor
            other = anchors.setdefault((rule.camera, rule.target), (index, anchor))
            if other[1] != anchor:
                raise ValueError(
                    f"{where}.anchor: '{anchor}' differs from rules.{other[0]} ('{other[1]}') on the same "
                    f"{kind}; one passage must be counted once, so rules on one {kind} share the anchor"
                )
        return self

    def anchor_of(self, camera: str, target: str) -> Anchor:
        """The anchor point used for a line or zone: the one its rules ask for, else the default."""
        for rule in self.rules:
            if (rule.camera, rule.target) == (camera, target) and rule.anchor:
                return rule.anchor
        return self.crossing.anchor

    def escalations(self) -> dict[tuple[str, str], float]:
        """(camera, line or zone) -> seconds an alert may stay unhandled before it is escalated."""
        found: dict[tuple[str, str], float] = {}
        for rule in self.rules:
            if rule.escalation is not None:
                key = (rule.camera, rule.target)
                found[key] = min(found.get(key, rule.escalation.after_s), rule.escalation.after_s)
        return found

    def registration_window(self, camera: str, target: str) -> float:
        """How far (s) from a registration an entry on this line or zone may be and still be covered."""
        windows = [r.window for r in self.rules if (r.camera, r.target) == (camera, target) and r.require_registration]
        return max(windows, default=0.0)

    @cached_property
    def places(self) -> Places:
        """Built once: the config is frozen, and every flagged crossing's snapshot and clip read it."""
        return Places.of(self.cameras)

    def scopes(self) -> set[str]:
        """What a registration may name: a camera or a group of cameras."""
        return set(self.cameras) | set(self.groups)

    def registration_scopes(self) -> set[str]:
        """The cameras a rule of which uses registrations, and the groups holding one: where a
        visitor written down at the gate can explain an entry (a dormitory camera whose rule
        flags every entry cannot)."""
        cameras = {rule.camera for rule in self.rules if rule.require_registration}
        return cameras | {group for group, members in self.groups.items() if cameras & set(members)}

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def language(self) -> Language:
        """What the site reads when nobody chose: its own setting, else from where it is."""
        return self.site.language or language_of_zone(self.timezone)

    @property
    def base_dir(self) -> Path:
        return self._base_dir

    def resolve(self, path: str | Path) -> Path:
        """Paths in the config are relative to the config file, not to wherever gatewatch runs."""
        candidate = Path(path).expanduser()
        return candidate if candidate.is_absolute() else self._base_dir / candidate

    def mqtt_resolved(self) -> MqttConfig | None:
        """`mqtt` with its CA file found relative to this config file."""
        if self.mqtt is None or self.mqtt.ca_file is None:
            return self.mqtt
        return self.mqtt.model_copy(update={"ca_file": self.resolve(self.mqtt.ca_file)})

    def center_resolved(self) -> CenterLinkConfig | None:
        """`center` with its CA file found relative to this config file."""
        if self.center is None or self.center.ca_file is None:
            return self.center
        return self.center.model_copy(update={"ca_file": self.resolve(self.center.ca_file)})

    def camera_for(self, camera_id: str | None) -> str:
        if camera_id is None:
            if len(self.cameras) == 1:
                return next(iter(self.cameras))
            raise InvalidInput(
                "camera", f"the config has several cameras ({names(self.cameras)}); say which one the video is from"
            )
        if camera_id not in self.cameras:
            raise InvalidInput("camera", f"no such camera in the config (have: {names(self.cameras)})", camera_id)
        return camera_id
