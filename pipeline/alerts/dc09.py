"""Alarms to professional alarm receiving centres over SIA DC-09 (ANSI/SIA DC-09-2013): the
protocol alarm service companies and police-linked alarm centres take from panels.

One alarm is one DC-09 message, SIA DCS or Contact ID (ADM-CID), over TCP or UDP, optionally
AES-CBC encrypted with the key the receiver's operator gave. It counts as delivered only once the
receiver answers ACK with the message's own sequence number; a NAK (the receiver's clock
disagrees with ours), a DUH (it did not understand), silence or a refused connection is a failed
try, and the outbox tries again with backoff. The sequence number comes from the delivery's key,
so every retry of one alarm carries the same number and the receiver can recognise a repeat.

Events are not sent here: a receiving centre's operators act on alarms, which a person raised or
gatewatch escalated. The codes: a one-click alarm is a panic alarm (SIA PA, Contact ID 120); an
escalated alert (by a person or on its own) an intrusion (SIA BA, Contact ID 130); a drill the
receiver's manual test report (SIA RX, Contact ID 601), so its operators log a test, not a panic;
a camera down past `alerts.camera_trouble_after_s` a zone trouble (SIA UT, Contact ID 1 380) and
its return the restore (SIA UJ, Contact ID 3 380). The zone is the camera's place in the
configuration (1, 2, ...; 0 for an alarm raised without a camera).
"""

from __future__ import annotations

import hashlib
import secrets
import socket
import string
from datetime import UTC, datetime

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from pipeline.alerts.outbox import DeliveryError
from pipeline.config import AlarmReceiverConfig
from pipeline.messages import AlarmMessage, CameraTrouble, Outgoing
from pipeline.vocabulary import AlarmKind

# A drill is the receivers' manual test: SIA "RX" (manual test report), Contact ID 601 (manual trigger test).
SIA_CODE = {AlarmKind.ONE_CLICK: "PA", AlarmKind.ESCALATION: "BA", AlarmKind.AUTOMATIC: "BA", AlarmKind.DRILL: "RX"}
CONTACT_ID = {AlarmKind.ONE_CLICK: 120, AlarmKind.ESCALATION: 130, AlarmKind.AUTOMATIC: 130, AlarmKind.DRILL: 601}
# A camera down long enough: a zone trouble (SIA UT, Contact ID 1 380 sensor trouble); back: UJ, 3 380.
TROUBLE_SIA = {False: "UT", True: "UJ"}
TROUBLE_CID = 380
AREA = 1  # gatewatch reports one area (partition): the school
PAD = string.ascii_letters + string.digits  # DC-09's pad characters: anything but "|", "[" and "]"
MAX_ANSWER = 1024


def crc16(text: str) -> str:
    """CRC-16/ARC (polynomial 0xA001, reflected) as four hex digits: DC-09's frame check."""
    crc = 0
    for byte in text.encode("ascii"):
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return f"{crc:04X}"


class Dc09Sender:
    def __init__(self, config: AlarmReceiverConfig, zones: dict[str, int]) -> None:
        """`zones`: each camera's zone number at the receiver."""
        self.config = config
        self.zones = zones
        self.account = config.account.upper()

    @property
    def label(self) -> str:
        return f"alarm receiver {self.config.name} ({self.config.host}:{self.config.port}/{self.config.protocol})"

    def send(self, message: Outgoing, key: str) -> None:
        if not isinstance(message, AlarmMessage | CameraTrouble):  # events: never queued here (see above)
            return
        sequence = int(hashlib.sha256(key.encode()).hexdigest(), 16) % 9999 + 1
        frame = self.frame(message, sequence, datetime.now(UTC))
        try:
            answer = self._exchange(frame)
        except OSError as exc:  # refused, unreachable, timed out: the kind only (no addresses twice)
            raise DeliveryError(f"{self.label}: {type(exc).__name__}") from None
        self._check(answer, sequence)

    def frame(self, alarm: AlarmMessage | CameraTrouble, sequence: int, now: datetime) -> bytes:
        """The whole DC-09 message: <LF> CRC length "ID" sequence R L #account [data] timestamp <CR>."""
        timestamp = now.astimezone(UTC).strftime("_%H:%M:%S,%m-%d-%Y")
        data = f"#{self.account}|{self._data(alarm)}]{timestamp}"
        kind, body = self.config.format, data
        if self.config.key:
            kind, body = f"*{kind}", self._encrypt(data)
        receiver = f"R{self.config.receiver.upper()}" if self.config.receiver else ""
        text = f'"{kind}"{sequence:04d}{receiver}L{self.config.line.upper()}#{self.account}[{body}'
        return f"\n{crc16(text)}{len(text):04X}{text}\r".encode("ascii")

    def _data(self, message: AlarmMessage | CameraTrouble) -> str:
        zone = self.zones.get(message.camera or "", 0)
        if isinstance(message, CameraTrouble):
            qualifier, event, code = (3 if message.restored else 1), TROUBLE_CID, TROUBLE_SIA[message.restored]
        else:
            qualifier, event, code = 1, CONTACT_ID[message.kind], SIA_CODE[message.kind]
        if self.config.format == "ADM-CID":  # qualifier (1 new, 3 restore), event, partition, zone
            return f"{qualifier}{event:03d} {AREA:02d} {zone:03d}"
        return f"Nri{AREA}/{code}{zone}"

    def _encrypt(self, data: str) -> str:
        """DC-09 encryption: random pad, "|", the data and the timestamp, AES-CBC with a zero IV,
        as upper-case hex (the timestamp inside it keeps an old message from being replayed)."""
        assert self.config.key is not None
        plain = f"|{data}"
        pad = "".join(secrets.choice(PAD) for _ in range(-len(plain) % 16))
        encryptor = Cipher(algorithms.AES(self.config.key.encode()), modes.CBC(bytes(16))).encryptor()
        return (encryptor.update((pad + plain).encode("ascii")) + encryptor.finalize()).hex().upper()

    def _exchange(self, frame: bytes) -> bytes:
        address = (self.config.host, self.config.port)
        if self.config.protocol == "udp":
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                udp.settimeout(self.config.timeout_s)
                udp.sendto(frame, address)
                return udp.recv(MAX_ANSWER)
        with socket.create_connection(address, timeout=self.config.timeout_s) as tcp:
            tcp.sendall(frame)
            answer = b""
            while not answer.endswith(b"\r") and len(answer) < MAX_ANSWER:
                chunk = tcp.recv(MAX_ANSWER)
                if not chunk:
                    break
                answer += chunk
            return answer

    def _check(self, answer: bytes, sequence: int) -> None:
        """An ACK of this message, whole (its CRC holds), or the try failed."""
        text = answer.decode("ascii", "replace").strip("\n\r")
        body = text[8:]
        if len(text) < 8 or crc16(body) != text[:4].upper():
            raise DeliveryError(f"{self.label}: no valid answer")
        kind = body.split('"')[1] if body.count('"') >= 2 else ""
        if kind.lstrip("*") != "ACK":
            raise DeliveryError(f"{self.label}: answered {kind.lstrip('*') or 'nothing'}")
        if not body.split('"', 2)[2].startswith(f"{sequence:04d}"):
            raise DeliveryError(f"{self.label}: an ACK of another message")
