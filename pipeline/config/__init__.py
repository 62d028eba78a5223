"""The configuration file: one pydantic model per section, loaded from YAML.

Unknown keys are errors (a misspelt key silently ignored is a gate nobody watches), and every
error names the file, the key path and, where the YAML has it, the line. A module per part:

    base.py        what every section shares
    detection.py   detector, sampling, motion, tracker, crossing tuning
    cameras.py     cameras, lines, zones (checked with `geometry`)
    schedules.py   closed windows (parsed once), periods, exceptions
    rules.py       rules and the registrations file
    patrols.py     the patrol plan: checkpoints, rounds due every N hours at night
    service.py     live streams, web server, MQTT, webhooks, alarm receivers (DC-09), the centre's address,
                   alert retries
    model.py       `Config`: the sections together, and the checks across them
    loader.py      `load_config`, `load_yaml`: YAML, `${VAR}`, errors with file:line
    sites.py       the district centre's enrolled schools and their keys (a file of its own)
"""

from pipeline.config.cameras import CameraConfig, LineConfig, Places, ZoneConfig
from pipeline.config.detection import (
    BundledModel,
    ClipConfig,
    CrossingConfig,
    DetectorConfig,
    MotionConfig,
    SamplingConfig,
    TrackerConfig,
)
from pipeline.config.loader import load_config, load_yaml
from pipeline.config.model import Config
from pipeline.config.patrols import PatrolConfig
from pipeline.config.rules import EscalationConfig, RegistrationsConfig, RuleConfig
from pipeline.config.schedules import ExceptionConfig, PeriodConfig, ScheduleConfig
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
from pipeline.config.sites import CenterSites, EnrolledSite

__all__ = [
    "AlarmReceiverConfig",
    "AlertsConfig",
    "BundledModel",
    "CameraConfig",
    "CenterLinkConfig",
    "CenterSites",
    "ClipConfig",
    "Config",
    "CrossingConfig",
    "DetectorConfig",
    "EnrolledSite",
    "EscalationConfig",
    "ExceptionConfig",
    "LineConfig",
    "LiveConfig",
    "MotionConfig",
    "MqttConfig",
    "PatrolConfig",
    "PeriodConfig",
    "Places",
    "RegistrationsConfig",
    "RuleConfig",
    "SamplingConfig",
    "ScheduleConfig",
    "ServerConfig",
    "SiteConfig",
    "TrackerConfig",
    "WebhookConfig",
    "ZoneConfig",
    "load_config",
    "load_yaml",
]
