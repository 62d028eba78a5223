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
    # Chat group messages: a title line, the facts, and the link to the box's page.
    MessageCode.CHAT_EVENT: {
        "en": "### {kind} · {site}\n- Where: {camera} / {line}\n- When: {time}\n- Status: {status}\n\n{link}",
        "zh": "### {kind} · {site}\n- 位置：{camera} / {line}\n- 时间：{time}\n- 状态：{status}\n\n{link}",
    },
    MessageCode.CHAT_ALARM: {
        "en": "### {kind} #{id} · {site}\n- When: {time}\n- Raised by: {by}\n- Why: {reason}\n\n{link}",
        "zh": "### {kind} #{id} · {site}\n- 时间：{time}\n- 报警人：{by}\n- 原因：{reason}\n\n{link}",
    },
    MessageCode.CHAT_LINK: {"en": "[Snapshot (log in to the box)]({url})", "zh": "[查看抓拍（需登录）]({url})"},
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
    # Why the console refused a request.
    MessageCode.USER_EXISTS: {
        "en": "user {user} already exists (remove it first, or set a new password)",
        "zh": "用户 {user} 已存在（请先删除，或为其设置新密码）",
    },
    MessageCode.USER_CASE: {
        "en": "user {user}: {existing} exists; names may not differ only in upper and lower case",
        "zh": "用户 {user}：已有用户 {existing}，用户名不能只差大小写",
    },
    MessageCode.NO_USER: {"en": "user {user}: no such user", "zh": "没有用户 {user}"},
    MessageCode.SELF_DISABLE: {
        "en": "user {user}: you cannot disable yourself; ask another admin",
        "zh": "用户 {user}：不能停用自己，请另一位管理员操作",
    },
    MessageCode.LAST_ADMIN: {
        "en": "user {user} is the last enabled admin; add or enable another admin first",
        "zh": "{user} 是最后一个启用的管理员，请先添加或启用另一位管理员",
    },
    MessageCode.BAD_USERNAME: {
        "en": "user name {user}: use 1-64 letters, digits, . _ @ or -",
        "zh": "用户名 {user} 无效：只能用 1-64 个字母、数字或 . _ @ -",
    },
    MessageCode.SHORT_PASSWORD: {"en": "password: at least {min} characters", "zh": "密码至少 {min} 个字符"},
    MessageCode.NO_EVENT: {"en": "event {id}: no such event", "zh": "没有告警 #{id}"},
    MessageCode.NOT_UNDOABLE: {
        "en": "event {id} is {status}: only an acknowledgement can be undone",
        "zh": "告警 #{id} 为“{status}”，只有确认可以撤销",
    },
    MessageCode.UNDO_OTHERS: {
        "en": "event {id} was acknowledged by {by}: only they can undo it",
        "zh": "告警 #{id} 由 {by} 确认，只有本人可以撤销",
    },
    MessageCode.UNDO_LATE: {
        "en": "event {id} was acknowledged {after} s ago: undo is for the first {limit} s",
        "zh": "告警 #{id} 已确认 {after} 秒，只能在 {limit} 秒内撤销",
    },
    MessageCode.HANDLED: {
        "en": "event {id} is {status} already (by {by}); it can become: {allowed}",
        "zh": "告警 #{id} 已是“{status}”（{by}），只能改为：{allowed}",
    },
    MessageCode.NO_REGISTRATION: {"en": "registration {id}: no such registration", "zh": "没有登记 #{id}"},
    MessageCode.REGISTRATION_USED: {
        "en": "registration #{id} already covers all {count} of its entries",
        "zh": "登记 #{id} 的 {count} 人已全部对应告警",
    },
    MessageCode.TOO_MANY_CHOSEN: {
        "en": "{chosen} alerts chosen, but the registration is for {count}",
        "zh": "选了 {chosen} 条告警，但登记只有 {count} 人",
    },
    MessageCode.NOT_EXPLAINED: {
        "en": "event(s) {ids}: not an open alert this registration explains "
        "(another camera, outside the time window, or already handled)",
        "zh": "告警 {ids} 不是该登记能解释的待处理告警（其他摄像机、不在时间范围内或已处理）",
    },
    MessageCode.NO_ALARM: {"en": "no alarm {id}", "zh": "没有报警 #{id}"},
    MessageCode.NOT_YOUR_ALARM: {
        "en": "alarm {id} was raised by someone else: only they add its reason",
        "zh": "报警 #{id} 不是您发起的，只有发起人可以补充原因",
    },
    MessageCode.HAS_REASON: {"en": "alarm {id} has its reason already", "zh": "报警 #{id} 已有原因"},
    MessageCode.NO_PATROL_PLAN: {
        "en": "no patrol plan: add `patrols:` (checkpoints, every_h, from, until) to the config",
        "zh": "未配置巡逻计划：请在配置文件中添加 patrols（巡逻点、间隔、起止时间）",
    },
    MessageCode.NO_CHECKPOINT: {
        "en": "{value} is not a checkpoint of the patrol plan (have: {allowed})",
        "zh": "{value} 不是巡逻计划中的巡逻点（可选：{allowed}）",
    },
    MessageCode.NO_ROUND: {"en": "no patrol round {id}", "zh": "没有巡逻记录 #{id}"},
    MessageCode.NOT_YOUR_ROUND: {
        "en": "patrol round {id} was recorded by someone else: only they add its photo",
        "zh": "巡逻记录 #{id} 不是您记录的，只有记录人可以添加照片",
    },
    MessageCode.NOT_A_PICTURE: {
        "en": "the photo is not a JPEG, PNG or WebP picture",
        "zh": "照片不是 JPEG、PNG 或 WebP 图片",
    },
    MessageCode.BAD_MONTH: {
        "en": "month {value}: write the month as YYYY-MM, e.g. 2026-11",
        "zh": "月份 {value} 无效：请写成 年-月，如 2026-11",
    },
    MessageCode.BAD_DAY: {
        "en": "date {value}: write the day as YYYY-MM-DD, e.g. 2026-11-28",
        "zh": "日期 {value} 无效：请写成 年-月-日，如 2026-11-28",
    },
    MessageCode.TIME_RANGE: {
        "en": "{field} {day}: give a time between {earliest} and {latest}",
        "zh": "{field} {day} 无效：请填 {earliest} 至 {latest} 年之间的时间",
    },
    MessageCode.LONG_WINDOW: {
        "en": "window '{value}' is over 24 hours; give from and until for longer",
        "zh": "有效范围 {value} 超过 24 小时；更长的请填写起止时间",
    },
    MessageCode.NO_SCOPE: {
        "en": "camera '{scope}' is not a camera or group of the config (have: {have})",
        "zh": "“{scope}”不是已配置的摄像机或分组（可选：{have}）",
    },
    MessageCode.SCOPE_UNREGISTERED: {
        "en": "scope '{scope}': no rule of it uses registrations, so a visitor there would explain nothing",
        "zh": "{scope} 的规则不使用登记，在此登记访客不会解释任何告警",
    },
    MessageCode.FIELD_MISSING: {"en": "{field}: missing", "zh": "缺少 {field}"},
    MessageCode.TOO_SHORT: {"en": "{field}: at least {min} characters", "zh": "{field} 至少 {min} 个字符"},
    MessageCode.TOO_LONG: {"en": "{field}: at most {max} characters", "zh": "{field} 最多 {max} 个字符"},
    MessageCode.TOO_SMALL: {"en": "{field}: at least {min}", "zh": "{field} 不能小于 {min}"},
    MessageCode.TOO_LARGE: {"en": "{field}: at most {max}", "zh": "{field} 不能大于 {max}"},
    MessageCode.NOT_A_NUMBER: {"en": "{field}: not a number", "zh": "{field} 不是数字"},
    MessageCode.FIELD_INVALID: {"en": "{field}: {text}", "zh": "{field} 无效：{text}"},
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
    "drill": {"en": "Alarm drill (test)", "zh": "报警演练（测试）"},
    "open": {"en": "Open", "zh": "待确认"},
    "unnamed": {"en": "unnamed", "zh": "未具名"},
    "none": {"en": "nothing (it is final)", "zh": "无（已是最终状态）"},
    "time": {"en": "time", "zh": "时间"},
    "from": {"en": "from", "zh": "起始时间"},
    "until": {"en": "until", "zh": "结束时间"},
}
# Values that are keys of NAMES (a status, a list of them, a field): worded with the sentence.
WORDED = frozenset({"status", "allowed", "field"})


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
        values = {
            key: ", ".join(name(word, language) for word in value.split(", ")) if key in WORDED else value
            for key, value in self.values.items()
        }
        return TEMPLATES[self.code][language].format_map(_Values(values))

    def as_dict(self) -> dict[str, object]:
        return {"code": str(self.code), "values": dict(self.values)}

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), ensure_ascii=False)

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
