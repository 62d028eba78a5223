"""The district monitoring centre: many schools' alerts in one database.

Each school's `serve` publishes to `<prefix>/<site>/events` (again on every status change) and
keeps retained availability and camera state topics; `gatewatch center` subscribes to all sites
and keeps the newest of everything: one row per (site, event), per site, and per (site, camera).
Schools push their events' evidence (snapshot, crop, clip) to the centre's web server, each file
signed by its SHA-256 (`alerts/evidence.py`); it is kept here and read back only when it still
hashes to what the school signed. Each change is told at once to the officers' open pages
(`hub`, a server-sent event stream), so an alarm is on screen as soon as the broker brings it,
not at the next poll.
A message that is not what gatewatch publishes, or not from an enrolled school (`--sites`), or
an event or alarm not signed with that school's key, is logged and skipped, never fatal.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt

from pipeline.alerts.mqtt import connect
from pipeline.config import CenterSites, MqttConfig
from pipeline.db import Store, ThreadStores
from pipeline.db.center import CenterSite
from pipeline.files import atomic_write
from pipeline.live.hub import Hub
from pipeline.messages import AlarmAck, AlarmMessage, CameraStatus, EventMessage, topic_level, validation_summary
from pipeline.signing import BadSignature, sign, verify
from pipeline.vocabulary import AlarmStatus, Availability, EventStatus, EvidencePiece, EvidenceState

log = logging.getLogger("gatewatch.center")

Message = TypeVar("Message", EventMessage, AlarmMessage)


def create_tables(store: Store) -> None:
    store.center.create_tables()


class CenterSubscriber:
    def __init__(self, config: MqttConfig, db_path: Path, sites: CenterSites, evidence_dir: Path) -> None:
        """`sites`: the schools enrolled here, with the key each signs with; `evidence_dir`: where the
        files they push are kept (a folder per school)."""
        self.config = config
        self.sites = sites
        self.evidence_dir = evidence_dir.absolute()
        self.stores = ThreadStores(db_path)
        self.prefix_levels = config.topic_prefix.count("/") + 1
        self.received = 0
        self.client: mqtt.Client | None = None
        self.hub = Hub()  # the officers' open pages
        self._acks_in_flight: dict[int, tuple[str, int]] = {}  # message id -> (site topic, alarm id)
        self._lock = threading.Lock()

    def start(self) -> None:
        self.client = connect(
            self.config,
            "gatewatch-center",
            on_connect=self._on_connect,
            on_message=self._on_message,
            on_publish=self._on_publish,
        )

    def stop(self) -> None:
        if self.client is not None:
            self.client.disconnect()
            self.client.loop_stop()

    def _on_connect(self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if reason.is_failure:
            log.warning("broker %s:%s refused the connection: %s", self.config.host, self.config.port, reason)
            return
        prefix = self.config.topic_prefix
        for pattern in ("+/events", "+/alarms", "+/availability", "+/cameras/+/availability", "+/cameras/+/state"):
            client.subscribe(f"{prefix}/{pattern}", qos=1)
        log.info("subscribed to %s/# on %s:%s", prefix, self.config.host, self.config.port)
        for alarm in self.stores.get().center.unsent_acks():  # confirmed while the broker was away
            if alarm.acknowledged_by and alarm.acknowledged_at:
                self._publish_ack(
                    client, alarm.site_topic, alarm.alarm_id, alarm.acknowledged_by, alarm.acknowledged_at
                )

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        levels = message.topic.split("/")[self.prefix_levels :]
        try:
            self.handle(levels, message.payload)
        except BadSignature as exc:
            log.warning("refused a message on %s: %s", message.topic, exc)
        except ValueError as exc:  # pydantic's ValidationError is one
            log.warning("skipped a message on %s: %s", message.topic, validation_summary(exc))

    def handle(self, levels: list[str], payload: bytes) -> None:
        """One message, checked against the model of what gatewatch sends on its topic, from an
        enrolled school; events and alarms signed with that school's key, about that school."""
        store = self.stores.get()
        now = datetime.now(UTC)
        key = self.sites.key(levels[0])  # the subscriptions give every topic a site level
        if key is None:
            raise BadSignature(f"{levels[0][:40]!r} is not a school enrolled here (--sites)")
        if len(levels) == 2 and levels[1] == "events":
            event = _from_the_site(EventMessage.model_validate_json(payload), levels[0], key)
            store.center.save_event(levels[0], event, payload.decode("utf-8"), now)
            self.received += 1
            self.hub.publish({"type": "event", "site": levels[0], "id": event.id})
        elif len(levels) == 2 and levels[1] == "alarms":
            alarm = _from_the_site(AlarmMessage.model_validate_json(payload), levels[0], key)
            store.center.save_alarm(levels[0], alarm, now)
            log.warning("alarm #%s from %s: %s", alarm.id, alarm.site, alarm.reason)
            self.hub.publish({"type": "alarm", "site": levels[0], "id": alarm.id})
        elif len(levels) == 2 and levels[1] == "availability":
            availability = Availability(payload.decode("utf-8"))
            if store.center.save_site(levels[0], availability, now):
                level = logging.WARNING if availability == Availability.OFFLINE else logging.INFO
                log.log(level, "school %s is %s", levels[0], availability)
                self.hub.publish({"type": "site", "site": levels[0]})
        elif len(levels) == 4 and levels[1] == "cameras" and levels[3] == "availability":
            store.center.save_camera(levels[0], levels[2], "availability", Availability(payload.decode("utf-8")), now)
            self.hub.publish({"type": "site", "site": levels[0]})
        elif len(levels) == 4 and levels[1] == "cameras" and levels[3] == "state":
            status = CameraStatus.model_validate_json(payload)
            store.center.save_camera(levels[0], levels[2], "state", status.model_dump_json(), now)
            self.hub.publish({"type": "site", "site": levels[0]})
        else:
            raise ValueError("not a gatewatch topic")

    def acknowledge(self, site_topic: str, alarm_id: int, by: str) -> bool:
        """Confirm a school's alarm: stored here, then told to the school on its retained
        `<site>/alarms/<id>/ack` topic, which it reads even if it was offline at this moment."""
        now = datetime.now(UTC)
        if not self.stores.get().center.acknowledge_alarm(site_topic, alarm_id, by, now):
            return False
        if self.client is not None and self.client.is_connected():
            self._publish_ack(self.client, site_topic, alarm_id, by, now.isoformat())
        self.hub.publish({"type": "alarm", "site": site_topic, "id": alarm_id})
        return True

    def note_offline(self, site_topic: str, by: str) -> bool:
        """The officer has seen that a school went offline: its alarm tone stops on every page."""
        if not self.stores.get().center.note_offline(site_topic, by, datetime.now(UTC)):
            return False
        self.hub.publish({"type": "site", "site": site_topic})
        return True

    def store_evidence(self, site_topic: str, event_id: int, piece: EvidencePiece, data: bytes, sha256: str) -> None:
        """A file a school pushed, its digest and signature already checked: written durably, then
        told to the open pages (the alarm's picture turns from "missing" to "verified")."""
        suffix = ".mp4" if piece == EvidencePiece.CLIP else ".jpg"
        path = self.evidence_dir / site_topic / f"{event_id}-{piece}{suffix}"
        atomic_write(path, data)
        self.stores.get().center.save_evidence(
            site_topic, event_id, piece, sha256, len(data), str(path), datetime.now(UTC)
        )
        self.hub.publish({"type": "evidence", "site": site_topic, "id": event_id})

    def evidence(self, site_topic: str, event_id: int, piece: EvidencePiece) -> tuple[bytes | None, EvidenceState]:
        """A stored file, read and checked again against the digest the school signed: an officer
        is never shown a picture that is not the school's."""
        center = self.stores.get().center
        stored = center.piece(site_topic, event_id, piece)
        if stored is None:
            return None, EvidenceState.MISSING
        try:
            data = Path(stored.path).read_bytes()
        except OSError:
            center.mark_altered(site_topic, event_id, piece, datetime.now(UTC))
            return None, EvidenceState.ALTERED
        signed = center.expected_sha256(site_topic, event_id, piece) or stored.sha256
        if hashlib.sha256(data).hexdigest() != stored.sha256 or signed != stored.sha256:
            log.warning("%s of event #%s of %s is not what the school signed", piece, event_id, site_topic)
            center.mark_altered(site_topic, event_id, piece, datetime.now(UTC))
            return None, EvidenceState.ALTERED
        return data, EvidenceState.VERIFIED

    def _publish_ack(self, client: mqtt.Client, site_topic: str, alarm_id: int, by: str, at: str) -> None:
        """Retained, so the school reads it whenever it connects; marked sent only once the broker
        has it (QoS 1 PUBACK): a confirmation given while the broker is away, or just before the
        centre stops, is sent again on the next connection instead of living only in memory."""
        topic = f"{self.config.topic_prefix}/{site_topic}/alarms/{alarm_id}/ack"
        key = self.sites.key(site_topic)
        if key is None:  # stored from a school since taken off the enrolment file
            log.warning("not confirming alarm #%s of %s: the school is no longer enrolled", alarm_id, site_topic)
            return
        ack = sign(AlarmAck(alarm_id=alarm_id, site=site_topic, by=by, at=at), key)
        with self._lock:
            info = client.publish(topic, ack.model_dump_json(), qos=1, retain=True)
            self._acks_in_flight[info.mid] = (site_topic, alarm_id)

    def _on_publish(self, _client: mqtt.Client, _userdata: Any, mid: int, _reason: Any, _props: Any) -> None:
        with self._lock:
            sent = self._acks_in_flight.pop(mid, None)
        if sent is not None:
            self.stores.get().center.ack_sent(*sent, datetime.now(UTC))


def _from_the_site(message: Message, site_topic: str, key: str) -> Message:
    """The message, if it is signed with the school's key and speaks for that school."""
    verify(message, key)
    if topic_level(message.site) != site_topic:
        raise BadSignature(f"a message about {message.site[:40]!r} on {site_topic!r}'s topic")
    return message


def center_events(
    store: Store, site: str | None, status: EventStatus | None, limit: int, offset: int
) -> list[dict[str, Any]]:
    return [asdict(event) for event in store.center.events(site, status, limit, offset)]


def center_sites(store: Store, enrolled: CenterSites) -> list[dict[str, Any]]:
    """Every enrolled school (one never heard from is news too) and any other the database knows,
    by name; the centre's own times about it (since when offline, noted when) in the district's
    clock, as an officer reads them."""
    zone = ZoneInfo(enrolled.timezone)
    known = {site.site: site for site in store.center.sites()}
    for topic in enrolled.sites:
        known.setdefault(topic, CenterSite(topic, None))
    shown = []
    for topic, site in sorted(known.items()):
        fields = asdict(site)
        fields["name"] = site.name or (enrolled.sites[topic].name if topic in enrolled.sites else None) or topic
        for name in ("updated_at", "offline_noted_at"):
            if fields[name]:
                fields[name] = datetime.fromisoformat(fields[name]).astimezone(zone).isoformat()
        shown.append(fields)
    return shown


def center_alarms(store: Store, status: AlarmStatus | None, limit: int, offset: int) -> list[dict[str, Any]]:
    return [asdict(alarm) for alarm in store.center.alarms(status, limit, offset)]
