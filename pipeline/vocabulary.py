"""The closed sets of words gatewatch stores, sends and shows: one enum each, defined here once.

They are `StrEnum`s so the value *is* the text the database, the JSON API, MQTT payloads and
the UI's translations already use: `EventStatus.NEW == "new"`, and a stored row reads back as
the same member. A typo becomes an error where it is written instead of a silently unmatched
string (an unknown anchor used to fall back to the foot).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar


class Direction(StrEnum):
    """Which way a crossing went: `in` is toward a line's inside, or into a zone."""

    IN = "in"
    OUT = "out"


class Anchor(StrEnum):
    """The point of a person's box that must cross a line."""

    FOOT = "foot"  # bottom centre: where the person stands, right for lines on the ground
    CENTER = "center"  # box centre: for cameras that see people cut off at the knees


class EventKind(StrEnum):
    """What a flagged crossing was."""

    UNREGISTERED_ENTRY = "unregistered_entry"
    UNREGISTERED_EXIT = "unregistered_exit"
    CLOSED_HOURS_ENTRY = "closed_hours_entry"
    CLOSED_HOURS_EXIT = "closed_hours_exit"

    @classmethod
    def of(cls, direction: Direction, *, needs_registration: bool) -> EventKind:
        what = "entry" if direction == Direction.IN else "exit"
        return cls(f"{'unregistered' if needs_registration else 'closed_hours'}_{what}")


class EventStatus(StrEnum):
    """Where an event stands in review:

    new -> acknowledged | false_alarm | authorized;  acknowledged -> false_alarm | authorized
    """

    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    FALSE_ALARM = "false_alarm"
    AUTHORIZED = "authorized"

    @property
    def next(self) -> frozenset[EventStatus]:
        """The statuses this one may move to; none once it is final."""
        return _NEXT.get(self, frozenset())

    @property
    def open(self) -> bool:
        """Still asks for a guard's attention (and may still be authorized by a late registration)."""
        return self in (EventStatus.NEW, EventStatus.ACKNOWLEDGED)


_NEXT = {
    EventStatus.NEW: frozenset({EventStatus.ACKNOWLEDGED, EventStatus.FALSE_ALARM, EventStatus.AUTHORIZED}),
    EventStatus.ACKNOWLEDGED: frozenset({EventStatus.FALSE_ALARM, EventStatus.AUTHORIZED}),
}


class Urgency(StrEnum):
    """Why a frame goes through the detector: what a box with more cameras than cores serves first."""

    CROSSING = "crossing"  # someone crossed a line and the crossing waits to hold: this frame may alert
    TRACKED = "tracked"  # someone who is moving is in the watched area: a crossing may be under way
    CHANGED = "changed"  # something moved there (or the camera just started)
    ROUTINE = "routine"  # nothing moved: the periodic look that keeps still people's tracks alive


class CameraState(StrEnum):
    """A live stream's state, as the camera page and MQTT show it."""

    STARTING = "starting"  # the worker exists, the first connection has not been tried
    CONNECTING = "connecting"
    LIVE = "live"
    DOWN = "down"  # lost or refused; reconnecting with back-off
    ENDED = "ended"  # a video file (not looped) played to its end
    STOPPED = "stopped"  # the service is shutting down
    MISCONFIGURED = "misconfigured"  # its lines or zones do not fit the frames it sends; not analysed


class Availability(StrEnum):
    """Retained MQTT availability of a site or a camera (Home Assistant's convention)."""

    ONLINE = "online"
    OFFLINE = "offline"


class DeliveryStatus(StrEnum):
    """An alert's delivery to one target (MQTT, a webhook)."""

    PENDING = "pending"  # waiting for its next attempt
    SENT = "sent"
    FAILED = "failed"  # gave up after alerts.max_attempts; the row stays


class EvidencePiece(StrEnum):
    """A flagged event's evidence files, as they travel to the district centre."""

    SNAPSHOT = "snapshot"  # the annotated frame
    CROP = "crop"  # the person
    CLIP = "clip"  # seconds around the crossing


class EvidenceState(StrEnum):
    """What the district centre can say of one piece of a school's evidence."""

    VERIFIED = "verified"  # here, and its SHA-256 is the one the school signed
    ALTERED = "altered"  # here, but not what the school signed
    MISSING = "missing"  # announced by the school, not (yet) here


class AlarmKind(StrEnum):
    """How an alarm to the police and the district centre was raised (一键报警)."""

    ONE_CLICK = "one_click"  # a person pressed the alarm button
    ESCALATION = "escalation"  # a person escalated an alert
    AUTOMATIC = "automatic"  # an alert was left unhandled past its rule's escalation.after_s
    DRILL = "drill"  # a test of the whole chain (演练): sent everywhere marked as a test, confirmed like a real one


class AlarmStatus(StrEnum):
    OPEN = "open"  # raised; the district centre has not yet confirmed it
    ACKNOWLEDGED = "acknowledged"  # the district centre confirmed it


class Role(StrEnum):
    """What a web user may do."""

    GUARD = "guard"  # sees alerts and cameras, reviews events, registers visitors
    ADMIN = "admin"  # also manages users and imports registration exports


class MessageCode(StrEnum):
    """What a reason, a review note, an alarm's reason or a camera problem says, before it is put
    into words (`wording.TEMPLATES` has each in Chinese and English)."""

    # Why the rules decided as they did.
    NO_RULE = "no_rule"
    TRACK_YOUNG = "track_young"
    SHORT_MOVE = "short_move"
    SCHEDULE_OPEN = "schedule_open"
    CLOSED = "closed"
    COVERED = "covered"
    UNREGISTERED = "unregistered"
    # Review steps gatewatch takes itself.
    ENTERED_AFTER_ALERT = "entered_after_alert"
    REGISTERED_AT_GATE = "registered_at_gate"
    UNDONE = "undone"
    # Alarms raised by escalation.
    UNHANDLED = "unhandled"
    # Chat group messages (WeCom, DingTalk webhooks), in markdown.
    CHAT_EVENT = "chat_event"
    CHAT_ALARM = "chat_alarm"
    CHAT_LINK = "chat_link"
    # Why a camera is down or not analysed.
    AUTH_FAILED = "auth_failed"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    NO_DATA = "no_data"
    REFUSED = "refused"
    UNKNOWN_HOST = "unknown_host"
    NOT_RTSP = "not_rtsp"
    WAITING = "waiting"
    NO_FRAME = "no_frame"
    NO_VIDEO = "no_video"
    STALLED = "stalled"
    ENDED_STREAM = "ended_stream"
    FILE_ENDED = "file_ended"
    RETRYING = "retrying"
    OUTSIDE_PICTURE = "outside_picture"
    ERROR = "error"
    # Why the console refused a request (answered as codes, worded in the reader's language).
    USER_EXISTS = "user_exists"
    USER_CASE = "user_case"
    NO_USER = "no_user"
    SELF_DISABLE = "self_disable"
    LAST_ADMIN = "last_admin"
    BAD_USERNAME = "bad_username"
    SHORT_PASSWORD = "short_password"
    NO_EVENT = "no_event"
    NOT_UNDOABLE = "not_undoable"
    UNDO_OTHERS = "undo_others"
    UNDO_LATE = "undo_late"
    HANDLED = "handled"
    NO_REGISTRATION = "no_registration"
    REGISTRATION_USED = "registration_used"
    TOO_MANY_CHOSEN = "too_many_chosen"
    NOT_EXPLAINED = "not_explained"
    NO_ALARM = "no_alarm"
    NOT_YOUR_ALARM = "not_your_alarm"
    HAS_REASON = "has_reason"
    NO_PATROL_PLAN = "no_patrol_plan"
    NO_CHECKPOINT = "no_checkpoint"
    NO_ROUND = "no_round"
    NOT_YOUR_ROUND = "not_your_round"
    NOT_A_PICTURE = "not_a_picture"
    BAD_MONTH = "bad_month"
    BAD_DAY = "bad_day"
    TIME_RANGE = "time_range"
    LONG_WINDOW = "long_window"
    NO_SCOPE = "no_scope"
    SCOPE_UNREGISTERED = "scope_unregistered"
    FIELD_MISSING = "field_missing"
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    TOO_SMALL = "too_small"
    TOO_LARGE = "too_large"
    NOT_A_NUMBER = "not_a_number"
    FIELD_INVALID = "field_invalid"


class RegistrationSource(StrEnum):
    """Where a registration came from."""

    VISITOR_BOOK = "visitor_book"
    CARD_SWIPE = "card_swipe"
    GUARD = "guard"


E = TypeVar("E", bound=StrEnum)


def member(values: type[E], text: str) -> E | None:
    """The member spelt `text`, or None (Python 3.11's `in` on an enum class refuses plain text)."""
    try:
        return values(text)
    except ValueError:
        return None


def choices(values: type[StrEnum]) -> str:
    """The allowed words, for messages and help texts: 'guard, admin'."""
    return ", ".join(values)
