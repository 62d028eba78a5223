"""The live service and where its alerts go: streams, web server, MQTT, webhooks, retries."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from pipeline.config.base import Section
from pipeline.signing import MIN_KEY_CHARS


class SiteConfig(Section):
    name: str = Field("gatewatch", description="school or campus name, printed on reports")
    language: Literal["zh", "en"] | None = Field(
        None,
        description="what guards, reports and snapshot captions read by default; "
        "unset: Chinese for a site in China's time zones, else English",
    )
    unit: str | None = Field(
        None, max_length=200, description="the reporting unit on reports (填报单位); default: `name`"
    )
    contact: str | None = Field(
        None, max_length=200, description="who the district calls about a report, e.g. '王老师 010-6543 2100'"
    )


class LiveConfig(Section):
    """How `serve` keeps streams flowing; defaults suit an NVR on the campus network."""

    queue_frames: int = Field(
        2, ge=1, le=100, description="sampled frames waiting per camera; when full the oldest is dropped"
    )
    open_timeout_s: float = Field(10, gt=0, le=600, description="give up connecting to a camera after this long")
    stall_timeout_s: float = Field(10, gt=0, le=3600, description="no frame for this long: the stream is reopened")
    reconnect_min_s: float = Field(1, gt=0, le=600, description="first wait before reconnecting; doubles each failure")
    reconnect_max_s: float = Field(30, gt=0, le=3600, description="longest wait between reconnection attempts")
    rtsp_transport: Literal["tcp", "udp"] = Field("tcp", description="TCP survives lossy links and firewalls")
    max_batch: int = Field(4, ge=1, le=32, description="frames of different cameras the detector takes at once")
    detector_workers: int | None = Field(
        None,
        ge=1,
        le=64,
        description="detector calls under way at once, each on one core unless `detector.threads` says more; "
        "default: one per core (a model's layers are too small to share a call among cores well)",
    )
    skim_idle: bool = Field(
        True,
        description="an H.264/H.265 camera whose scene is idle is decoded a keyframe at a time; a larger inter "
        "frame, a keyframe that changed or a guard opening its live view decodes everything again from the "
        "keyframe before, so nobody walking in between two keyframes is missed",
    )

    @model_validator(mode="after")
    def _backoff_order(self) -> LiveConfig:
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s: must not be below reconnect_min_s")
        return self


class ServerConfig(Section):
    public_url: str | None = Field(
        None, description="how guards' browsers and the district centre reach this box, for snapshot links in alerts"
    )
    session_hours: float = Field(12, gt=0, le=24 * 31, description="a login lasts this long (one guard shift)")


class MqttConfig(Section):
    host: str = Field(description="broker host name or address")
    port: int = Field(1883, ge=1, le=65535)
    username: str | None = None
    password: str | None = Field(None, description="use `${VAR}` to keep it out of the file")
    tls: bool = False
    ca_file: Path | None = Field(None, description="the district's CA certificate, for a broker with its own CA (tls)")
    topic_prefix: str = Field("gatewatch", description="topics are <prefix>/<site>/events and .../cameras/<name>/...")
    qos: Literal[0, 1, 2] = 1
    site_key: str | None = Field(
        None,
        min_length=MIN_KEY_CHARS,
        description="the key shared with the district centre at enrolment (`${VAR}`): signs this site's events and "
        "alarms, and proves the centre's confirmations; without it, confirmations are not believed",
        repr=False,
    )

    @field_validator("topic_prefix")
    @classmethod
    def _plain_topic(cls, value: str) -> str:
        if not value or any(c in value for c in "+#") or value.startswith("/") or value.endswith("/"):
            raise ValueError("a topic level without +, # or leading/trailing /")
        return value


class WebhookConfig(Section):
    url: str = Field(description="http(s) URL that receives each event as a JSON POST")
    kind: Literal["json", "wecom", "dingtalk"] = Field(
        "json", description="json: gatewatch's own message; wecom, dingtalk: a chat group robot's markdown"
    )
    secret: str | None = Field(None, repr=False, description="DingTalk's signing secret (SEC..., `${VAR}`)")
    headers: dict[str, str] = Field(default_factory=dict, description="e.g. Authorization; `${VAR}` for tokens")
    timeout_s: float = Field(5, gt=0, le=300)

    @model_validator(mode="after")
    def _secret_for_dingtalk(self) -> WebhookConfig:
        if self.secret is not None and self.kind != "dingtalk":
            raise ValueError("secret: only a dingtalk webhook signs its URL")
        return self

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value


class CenterLinkConfig(Section):
    """The district centre's own web address: each flagged event's snapshot, crop and clip are
    pushed there (HTTP PUT, signed with `mqtt.site_key`), retried until the centre has them."""

    url: str = Field(description="the centre's web UI as this box reaches it, e.g. https://centre.example:8090")
    ca_file: Path | None = Field(None, description="the district's CA certificate, for an https URL with its own CA")
    timeout_s: float = Field(60, gt=0, le=3600, description="for one file (a clip is a few megabytes)")

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")


class AlarmReceiverConfig(Section):
    """A professional alarm receiving centre (an alarm service company, the police's alarm
    centre) that takes alarms over SIA DC-09, as its operator gave the connection."""

    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,40}$", description="a label for logs and the alarm's history")
    host: str = Field(min_length=1, max_length=253)
    port: int = Field(ge=1, le=65535)
    protocol: Literal["tcp", "udp"] = "tcp"
    format: Literal["SIA-DCS", "ADM-CID"] = Field("SIA-DCS", description="SIA DCS codes, or Contact ID")
    account: str = Field(pattern=r"^[0-9A-Fa-f]{3,16}$", description="this school's account at the receiver (hex)")
    receiver: str | None = Field(None, pattern=r"^[0-9A-Fa-f]{1,6}$", description="receiver number (hex), if any")
    line: str = Field("0", pattern=r"^[0-9A-Fa-f]{1,6}$", description="line prefix (hex)")
    key: str | None = Field(
        None, repr=False, description="AES key (16, 24 or 32 characters, `${VAR}`): messages encrypted"
    )
    timeout_s: float = Field(10, gt=0, le=120, description="for the receiver's ACK")
    camera_troubles: bool = Field(
        True, description="also a camera down past alerts.camera_trouble_after_s (a zone trouble), and its return"
    )

    @field_validator("key")
    @classmethod
    def _aes_length(cls, value: str | None) -> str | None:
        if value is not None and len(value.encode()) not in (16, 24, 32):
            raise ValueError("an AES key has 16, 24 or 32 characters (as the receiver's operator gave it)")
        return value


class AlertsConfig(Section):
    retry_min_s: float = Field(
        2, gt=0, le=3600, description="first wait before re-sending a failed alert; doubles each time"
    )
    retry_max_s: float = Field(300, gt=0, le=86400)
    max_attempts: int = Field(
        50, ge=1, le=100_000, description="then the delivery is marked failed (it stays in the database)"
    )
    camera_trouble_after_s: float = Field(
        60, ge=0, le=86400, description="a camera down this long is a trouble for alarm receiving centres"
    )
