"""What gatewatch says to people, in Chinese and English, worded when it is shown.

Reasons, automatic review notes, alarm reasons and camera problems are made where the facts are
(the rules, review, the stream reader), long before anyone reads them, and read in either
language: a guard in Chinese, an installer or auditor in English. So they travel and are stored
as a `Message` (a code and its values) and are worded here, at display time, by the web page,
the report and the snapshot caption alike. The English wording is also stored as plain text,
for logs, exports and API clients that only want a sentence.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from pipeline.vocabulary import CameraState, MessageCode

Language = Literal["zh", "en"]
LANGUAGES: tuple[Language, ...] = ("zh", "en")

# Time zones of places whose schools read Chinese: their sites default to Chinese.
CHINESE_ZONES = frozenset(
    {
        "Asia/Shanghai",
        "Asia/Chongqing",
        "Asia/Chungking",
        "Asia/Harbin",
        "Asia/Urumqi",
        "Asia/Kashgar",
        "Asia/Hong_Kong",
        "Asia/Macau",
        "Asia/Taipei",
        "PRC",
        "ROC",
        "Hongkong",
    }
)


def language_of_zone(timezone: str) -> Language:
    return "zh" if timezone in CHINESE_ZONES else "en"


# Zones on Beijing time (UTC+8, no DST) that a mainland reader names 北京时间 rather than "GMT+8".
BEIJING_TIME_ZONES = frozenset({"Asia/Shanghai", "Asia/Chongqing", "Asia/Chungking", "Asia/Harbin", "PRC"})


def zone_word(timezone: str, language: Language) -> str | None:
    """What a reader calls the site's zone, where that is a word (北京时间); else None (say the offset)."""
    return "北京时间" if language == "zh" and timezone in BEIJING_TIME_ZONES else None


TEMPLATES: dict[MessageCode, dict[Language, str]] = {
    # Why the rules decided as they did.
    MessageCode.NO_RULE: {"en": "no rule for this line and direction", "zh": "该警戒线和方向没有规则"},
    MessageCode.TRACK_YOUNG: {
        "en": "track seen for {age} s, rule needs {need} s",
        "zh": "轨迹仅出现 {age} 秒，规则要求 {need} 秒",
    },
    MessageCode.SHORT_MOVE: {
        "en": "moved {px} px, rule needs {need} px",
        "zh": "仅移动 {px} 像素，规则要求 {need} 像素",
    },
    MessageCode.SCHEDULE_OPEN: {"en": "schedule '{schedule}' open", "zh": "时间表“{schedule}”处于开放时段"},
    MessageCode.CLOSED: {"en": "closed ({closed})", "zh": "封闭时段（{closed}）"},
    MessageCode.COVERED: {
        "en": "closed ({closed}), covered by registration #{id} ({who}, {count} at {scope})",
        "zh": "封闭时段（{closed}），已有登记 #{id}（{who}，{count} 人，{scope}）",
    },
    MessageCode.UNREGISTERED: {
        "en": "closed ({closed}), no registration within {window} s",
        "zh": "封闭时段（{closed}），前后 {window} 秒内无登记",
    },
    # Review steps gatewatch takes itself.
    MessageCode.ENTERED_AFTER_ALERT: {
        "en": "registration #{id} ({who}, {count} at {scope}) entered after the alert",
        "zh": "登记 #{id}（{who}，{count} 人，{scope}）在告警后补录",
    },
    MessageCode.UNDONE: {
        "en": "acknowledgement undone {seconds} s after it was given",
        "zh": "确认后 {seconds} 秒内撤销",
    },
    MessageCode.REGISTERED_AT_GATE: {
        "en": "registration #{id} ({who}, {count} at {scope}) registered at the gate",
        "zh": "登记 #{id}（{who}，{count} 人，{scope}）在门岗登记",
    },
    # Alarms raised by escalation.
    MessageCode.UNHANDLED: {
        "en": "alert #{event} at {camera}/{line} not handled within {after} s",
        "zh": "告警 #{event}（{camera}/{line}）{after} 秒内无人处理",
    },
    # Why a camera is down (the stream reader's findings).
    MessageCode.AUTH_FAILED: {
        "en": "authorization failed (401): check the camera's user name and password",
        "zh": "认证失败（401）：请检查摄像机用户名和密码",
    },
    MessageCode.FORBIDDEN: {
        "en": "access forbidden (403): this user may not view the stream",
        "zh": "禁止访问（403）：该用户无权查看视频流",
    },
    MessageCode.NOT_FOUND: {
        "en": "stream not found (404): check the path of the URL",
        "zh": "找不到视频流（404）：请检查地址路径",
    },
    MessageCode.NO_DATA: {
        "en": "no data for {seconds} s (stalled or unreachable)",
        "zh": "{seconds} 秒无数据（卡住或无法连接）",
    },
    MessageCode.REFUSED: {
        "en": "connection refused: camera or NVR not listening on that port",
        "zh": "连接被拒绝：摄像机或录像机未在该端口监听",
    },
    MessageCode.UNKNOWN_HOST: {
        "en": "no such host {host}: check the camera's address (name or IP) in the config, or the box's DNS",
        "zh": "找不到主机 {host}：请检查配置中摄像机的地址（名称或 IP）或本机的 DNS",
    },
    MessageCode.NOT_RTSP: {
        "en": "{host} answers, but not as a camera stream: check the port and the URL's scheme (rtsp://)",
        "zh": "{host} 有应答，但不是视频流服务：请检查端口和地址协议（rtsp://）",
    },
    MessageCode.WAITING: {
        "en": "waiting for the camera to answer (gives up after {seconds} s)",
        "zh": "正在等待摄像机应答（{seconds} 秒后放弃）",
    },
    MessageCode.NO_FRAME: {
        "en": "the stream opened but no frame could be decoded",
        "zh": "视频流已打开，但无法解码任何画面",
    },
    MessageCode.NO_VIDEO: {"en": "no video in this stream", "zh": "该视频流中没有视频"},
    MessageCode.STALLED: {"en": "no frame for {seconds} s (stalled)", "zh": "{seconds} 秒没有画面（卡住）"},
    MessageCode.ENDED_STREAM: {"en": "the camera ended the stream", "zh": "摄像机结束了视频流"},
    MessageCode.FILE_ENDED: {"en": "the video file has been played to the end", "zh": "视频文件已播放完毕"},
    MessageCode.RETRYING: {"en": "retrying in {delay} s", "zh": "{delay} 秒后重试"},
    MessageCode.OUTSIDE_PICTURE: {
        "en": "cameras.{camera}.{key}.points: {problem} ({size})",
        "zh": "配置错误：cameras.{camera}.{key} 的端点超出 {size} 画面",
    },
    MessageCode.ERROR: {"en": "{text}", "zh": "错误：{text}"},
}

# Names of things, for captions, the report and the pages.
NAMES: dict[str, dict[Language, str]] = {
    "unregistered_entry": {"en": "Unregistered entry", "zh": "未登记进入"},
    "unregistered_exit": {"en": "Unregistered exit", "zh": "未登记离开"},
    "closed_hours_entry": {"en": "Closed-hours entry", "zh": "封闭时段进入"},
    "closed_hours_exit": {"en": "Closed-hours exit", "zh": "封闭时段离开"},
    "new": {"en": "New", "zh": "新告警"},
    "acknowledged": {"en": "Acknowledged", "zh": "已确认"},
    "false_alarm": {"en": "False alarm", "zh": "误报"},
    "authorized": {"en": "Authorized", "zh": "已放行"},
    "in": {"en": "in", "zh": "进"},
    "out": {"en": "out", "zh": "出"},
    "guard": {"en": "Guard", "zh": "门卫"},
    "admin": {"en": "Admin", "zh": "管理员"},
    "one_click": {"en": "One-click alarm", "zh": "一键报警"},
    "escalation": {"en": "Escalated alert", "zh": "告警上报"},
    "automatic": {"en": "Unhandled alert, escalated automatically", "zh": "告警超时自动上报"},
    "open": {"en": "Open", "zh": "待确认"},
    "unnamed": {"en": "unnamed", "zh": "未具名"},
}


# A camera's state, on the cameras page and its problem cards.
CAMERA_STATES: dict[CameraState, dict[Language, str]] = {
    CameraState.STARTING: {"en": "Starting", "zh": "启动中"},
    CameraState.CONNECTING: {"en": "Connecting", "zh": "连接中"},
    CameraState.LIVE: {"en": "Live", "zh": "在线"},
    CameraState.DOWN: {"en": "Down", "zh": "离线"},
    CameraState.ENDED: {"en": "Ended", "zh": "已结束"},
    CameraState.STOPPED: {"en": "Stopped", "zh": "已停止"},
    CameraState.MISCONFIGURED: {"en": "Misconfigured", "zh": "配置错误"},
}


@dataclass(frozen=True)
class Message:
    """Something to tell a person, not yet worded: a code of `TEMPLATES` and its values (already
    formatted as text, so both languages show the same numbers)."""

    code: MessageCode
    values: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "code", MessageCode(self.code))  # an unknown code is an error, not a blank

    def text(self, language: Language = "en") -> str:
        return TEMPLATES[self.code][language].format_map(_Values(self.values))

    def to_json(self) -> str:
        return json.dumps({"code": self.code, "values": dict(self.values)}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | None) -> Message | None:
        if not text:
            return None
        data = json.loads(text)
        return cls(MessageCode(data["code"]), {str(k): str(v) for k, v in data.get("values", {}).items()})


class _Values(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"


def stored(value: str | Message) -> tuple[str, str | None]:
    """How a reason or note is stored: its English text, and the message itself (None for text a
    person typed, which is shown as typed)."""
    return (value.text(), value.to_json()) if isinstance(value, Message) else (value, None)


def say(message: Message | None, plain: str | None, language: Language) -> str:
    """A stored message in the reader's language; rows from before messages have plain text only,
    as do notes a person typed."""
    return message.text(language) if message is not None else plain or ""


def name(key: str, language: Language = "en") -> str:
    """The word for a kind, status, direction or role; the key itself when there is none."""
    return NAMES.get(key, {}).get(language, key)


def number(value: float) -> str:
    return f"{value:g}" if value == round(value, 1) else f"{value:.1f}"


def templates(language: Language) -> dict[str, str]:
    """The templates in one language, for the pages' script (it words messages the same way)."""
    return {code: words[language] for code, words in TEMPLATES.items()}


def names(language: Language) -> dict[str, str]:
    return {key: words[language] for key, words in NAMES.items()}
