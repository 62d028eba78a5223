"""What leaves a box and what a district centre receives: one pydantic model per message.

    EventMessage   a flagged event, and again on each status change   MQTT `<site>/events`, webhooks
    AlarmMessage   an alarm to the police and the district centre       MQTT `<site>/alarms`, webhooks
    AlarmAck       the centre's confirmation of an alarm                MQTT `<site>/alarms/<id>/ack`
    CameraTrouble  a camera down long enough to matter, or back         DC-09 alarm receivers
    CameraStatus   a camera's health                                    MQTT `<site>/cameras/<c>/state`, the API

The box builds them from its records (`of`) and dumps them; the web API's views extend them; the
centre validates what arrives with the same models, so a field added here reaches every side or
fails a test, and a message that is not what gatewatch sends is refused field by field.
(`wording.Message` is something else: a reason or problem not yet put into words.)
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, ValidationError

from pipeline.lighting import Lighting
from pipeline.pieces import THUMBNAIL_BYTES, files_of, sha256_of, thumbnail
from pipeline.vocabulary import (
    AlarmKind,
    AlarmStatus,
    CameraState,
    Direction,
    EventKind,
    EventStatus,
    EvidencePiece,
    MessageCode,
)
from pipeline.wording import Message

if TYPE_CHECKING:  # the stored records `of` reads; the database's modules do not import this one
    from pipeline.db import Alarm, Event

MAX_ID = 2**63 - 1  # SQLite's integers
TEXT = 1000  # a reason, a note, a name: longer is not something gatewatch sent


def _aware_time(text: str) -> str:
    """ISO 8601 with its zone, kept as sent (the site's offset is part of what a reader sees)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("not an ISO 8601 time") from None  # not repeated: the text may be anything
    if moment.tzinfo is None:
        raise ValueError("an ISO 8601 time without its time zone")
    return text


def _jpeg_thumbnail(text: str) -> str:
    try:
        data = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise ValueError("not base64") from None
    if len(data) > THUMBNAIL_BYTES or not data.startswith(b"\xff\xd8"):
        raise ValueError(f"not a JPEG of at most {THUMBNAIL_BYTES} bytes")
    return text


IsoTime = Annotated[str, Field(max_length=40), AfterValidator(_aware_time)]
Thumbnail = Annotated[
    str | None,
    Field(None, max_length=THUMBNAIL_BYTES * 4 // 3 + 4, description="base64 JPEG of the snapshot, small"),
    AfterValidator(lambda text: _jpeg_thumbnail(text) if text is not None else None),
]
Signature = Annotated[
    str | None, Field(None, pattern="^[0-9a-f]{64}$", description="HMAC-SHA256 with the site's key (`signing`)")
]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Text = Annotated[str, Field(max_length=TEXT)]


class MessageView(BaseModel):
    """A reason or problem to be worded in the reader's language (`wording.TEMPLATES`)."""

    code: MessageCode
    values: dict[str, Annotated[str, Field(max_length=TEXT)]]

    @classmethod
    def of(cls, message: Message | None) -> MessageView | None:
        return cls(code=message.code, values=dict(message.values)) if message else None


class EvidenceRef(BaseModel):
    """One evidence file the school holds and pushes to its centre, by the SHA-256 the centre
    checks it against (signed with the rest of the message)."""

    piece: EvidencePiece
    sha256: str = Field(pattern="^[0-9a-f]{64}$")
    size: int = Field(ge=0, le=2**40, description="bytes")


def _evidence(snapshot: str | None, crop: str | None, clip: str | None) -> dict[str, object]:
    """The thumbnail and the files' digests, for a message that leaves the box (not for the web's
    views, which link the files themselves)."""
    files = files_of(snapshot, crop, clip)
    picture = files.get(EvidencePiece.SNAPSHOT)
    return {
        "thumbnail": thumbnail(picture) if picture else None,
        "evidence": [EvidenceRef(piece=p, sha256=sha256_of(f), size=f.stat().st_size) for p, f in files.items()],
    }


class EventMessage(BaseModel):
    """A flagged event as the box sends it. Times are ISO 8601 text in the site's zone, exactly as
    stored; snapshot links go through the box's API (by id, behind its login), never as paths."""

    type: Literal["event"] = "event"
    id: Id
    site: Text
    kind: EventKind
    camera: Text
    camera_name: Text | None = Field(None, description="as people name it (北门), where the config names it")
    line: Text
    direction: Direction | None
    time: IsoTime
    status: EventStatus
    reason: Text | None
    closed: Text | None
    snapshot_url: Text
    crop_url: Text
    reviewed_by: Text | None = Field(None, description="who handled it last at the school")
    reviewed_at: IsoTime | None = Field(None, description="when they did")
    review_note: Text | None = Field(None, description="what they wrote")
    thumbnail: Thumbnail = None
    evidence: list[EvidenceRef] = Field(default_factory=list, max_length=len(EvidencePiece))
    signature: Signature = None

    @classmethod
    def fields_of(cls, event: Event, site: str, base_url: str) -> dict[str, object]:
        """The message's fields for a stored event (for the models that extend this one)."""
        base = base_url.rstrip("/")
        return {
            "id": event.id,
            "site": site,
            "kind": event.kind,
            "camera": event.camera,
            "line": event.line,
            "direction": event.direction,
            "time": event.ts.isoformat(),
            "status": event.status,
            "reason": event.reason,
            "closed": event.closed,
            "snapshot_url": f"{base}/api/events/{event.id}/snapshot",
            "crop_url": f"{base}/api/events/{event.id}/crop",
            "reviewed_by": event.reviewed_by,
            # in the event's clock, as `time` (reviews are stored in UTC)
            "reviewed_at": event.reviewed_at.astimezone(event.ts.tzinfo).isoformat() if event.reviewed_at else None,
            "review_note": event.review_note,
        }

    @classmethod
    def of(cls, event: Event, site: str, base_url: str, camera_name: str | None = None) -> EventMessage:
        """The message as it leaves the box: with the camera's name, the thumbnail and the
        evidence's digests."""
        fields = {**cls.fields_of(event, site, base_url), "camera_name": camera_name}
        return cls.model_validate({**fields, **_evidence(event.snapshot_path, event.crop_path, event.clip_path)})


class AlarmMessage(BaseModel):
    """An alarm for the police and the district centre: who, when, why, and the alert behind it."""

    type: Literal["alarm"] = "alarm"
    id: Id
    site: Text
    kind: AlarmKind
    camera: Text | None = None
    camera_name: Text | None = Field(None, description="as people name it (北门), where the config names it")
    event_id: Id | None = None
    reason: Text
    reason_message: MessageView | None = Field(None, description="an automatic escalation's reason, to be worded")
    raised_by: Text
    time: IsoTime
    status: AlarmStatus = AlarmStatus.OPEN
    snapshot_url: Text | None = None
    thumbnail: Thumbnail = None
    evidence: list[EvidenceRef] = Field(
        default_factory=list, max_length=len(EvidencePiece), description="of the event it escalates"
    )
    signature: Signature = None

    @classmethod
    def of(
        cls, alarm: Alarm, site: str, base_url: str, event: Event | None = None, camera_name: str | None = None
    ) -> AlarmMessage:
        """`event`: the alert it escalates, whose thumbnail and evidence go with it (leaving the box)."""
        base = base_url.rstrip("/")
        evidence = _evidence(event.snapshot_path, event.crop_path, event.clip_path) if event else {}
        return cls(
            id=alarm.id,
            site=site,
            kind=alarm.kind,
            camera=alarm.camera,
            camera_name=camera_name,
            event_id=alarm.event_id,
            reason=alarm.reason,
            reason_message=MessageView.of(alarm.reason_message),
            raised_by=alarm.raised_by,
            time=alarm.raised_at.isoformat(),
            status=alarm.status,
            snapshot_url=f"{base}/api/events/{alarm.event_id}/snapshot" if alarm.event_id else None,
            **evidence,
        )


class AlarmAck(BaseModel):
    """The district centre's confirmation of one alarm (retained, so a school offline then reads
    it later), signed with the school's key over the alarm, the school and the time."""

    alarm_id: Id
    site: Text = Field(description="the school's site topic level")
    by: Text
    at: IsoTime
    signature: Signature = None


class CameraTrouble(BaseModel):
    """A camera that stayed down past `alerts.camera_trouble_after_s`, or its return: an alarm
    receiving centre logs it as a zone trouble (the school's gate is not watched)."""

    type: Literal["camera_trouble"] = "camera_trouble"
    site: Text
    camera: Text
    since: IsoTime = Field(description="when it went down, site time")
    restored: bool = Field(False, description="it is back")


Outgoing = EventMessage | AlarmMessage | CameraTrouble  # what the outbox sends


class CameraStatus(BaseModel):
    """What a guard needs to trust a camera: is it live, and if not, why (in words to act on)."""

    name: Text
    source: Text = Field(description="the camera's address, password removed")
    state: CameraState
    since: IsoTime | None
    detail: Text
    messages: list[MessageView] = Field(default_factory=list, description="the detail, for the page to word")
    last_frame_at: IsoTime | None
    frames_in: int
    frames_sampled: int
    frames_dropped: int = Field(description="sampled but overtaken by newer ones before analysis took them")
    frames_dropped_moving: int = Field(0, description="of them, while someone was moving in the watched area")
    frames_skimmed: int = Field(0, description="keyframes looked at for a change while the scene was idle")
    skimming: bool = Field(False, description="idle: decoding keyframes only until something moves")
    reconnects: int
    fps_in: float
    width: int
    height: int
    fps_analysed: float
    frames_analysed: int
    frames_detected: int
    detector_ms: float
    lighting: Lighting | None


def topic_level(name: str) -> str:
    """A site or camera name as one topic level: no wildcards or separators (the centre files a
    school's messages and evidence under it)."""
    return re.sub(r"[\s/+#]+", "-", name).strip("-") or "x"


def validation_summary(exc: ValueError) -> str:
    """Why a message was refused, for a log line: each bad field and what is wrong, without the
    values it held (a forged message's text is not worth repeating)."""
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'message'}: {e['msg']}" for e in exc.errors())
    return str(exc)
