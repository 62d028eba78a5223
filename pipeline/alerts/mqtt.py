"""MQTT: events to `<prefix>/<site>/events`, and each camera's presence with a last will.

Topics (retained ones marked R):
    <prefix>/<site>/events                          each flagged event, and again on each status change
    <prefix>/<site>/availability               R    online / offline for the whole service
    <prefix>/<site>/cameras/<camera>/availability R online / offline
    <prefix>/<site>/cameras/<camera>/state     R    JSON health (state, detail, fps, reconnects, ...)
    <prefix>/<site>/alarms                          each alarm for the police and the district centre (QoS >= 1)
    <prefix>/<site>/alarms/<id>/ack            R    the centre's confirmation (`AlarmAck`), read by the school

A last will only exists per connection, so each camera has its own small connection whose will
is its availability topic: if the box loses power, the broker itself marks every camera
offline. paho reconnects on its own; events go through the outbox, which retries until the
broker has acknowledged them (QoS 1 by default).
"""

from __future__ import annotations

import logging
import ssl
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import paho.mqtt.client as mqtt
from pydantic import ValidationError

from pipeline.alerts.outbox import DeliveryError
from pipeline.config import MqttConfig
from pipeline.messages import (
    AlarmAck,
    AlarmMessage,
    CameraStatus,
    CameraTrouble,
    Outgoing,
    topic_level,
    validation_summary,
)
from pipeline.signing import BadSignature, sign, verify
from pipeline.vocabulary import Availability, CameraState

log = logging.getLogger("gatewatch.mqtt")

PUBLISH_TIMEOUT_S = 5.0
KEEPALIVE_S = 30

_paho_log = logging.getLogger("gatewatch.mqtt.client")
_paho_log.setLevel(logging.WARNING)  # paho's own chatter is debug; its errors (a callback's) are not


def site_topic(config: MqttConfig, site: str) -> str:
    return f"{config.topic_prefix}/{topic_level(site)}"


def connect(config: MqttConfig, name: str, will: str | None = None, **callbacks: Callable[..., None]) -> mqtt.Client:
    """A client that keeps (re)connecting in its own thread; the broker may come up later.

    `callbacks` (`on_connect=...`) are set before the connection starts: set afterwards, a fast
    connection beats them, and what `on_connect` does (publish "online", subscribe) never happens.
    """
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{name}-{uuid.uuid4().hex[:8]}")
    # A callback that raises would end the client's network thread for good (no reconnecting, no
    # more publishing); paho logs it instead, and the thread lives on.
    client.suppress_exceptions = True
    client.enable_logger(_paho_log)
    for event, callback in callbacks.items():
        setattr(client, event, callback)
    if config.username is not None:
        client.username_pw_set(config.username, config.password)
    if config.tls:
        client.tls_set(ca_certs=str(config.ca_file) if config.ca_file else None, cert_reqs=ssl.CERT_REQUIRED)
    if will is not None:
        client.will_set(will, Availability.OFFLINE, qos=1, retain=True)
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    client.connect_async(config.host, config.port, keepalive=KEEPALIVE_S)
    client.loop_start()
    return client


class MqttLink:
    def __init__(
        self,
        config: MqttConfig,
        site: str,
        cameras: list[str],
        on_alarm_ack: Callable[[int, str, datetime], None] | None = None,
    ) -> None:
        """`on_alarm_ack(alarm id, by, at)`: the district centre confirmed one of this site's alarms."""
        self.config = config
        self.site_level = topic_level(site)
        self.base = site_topic(config, site)
        self.events_topic = f"{self.base}/events"
        self.alarms_topic = f"{self.base}/alarms"
        self.availability = f"{self.base}/availability"
        self.on_alarm_ack = on_alarm_ack
        if config.site_key is None:
            log.warning(
                "mqtt.site_key is not set: this site's messages go unsigned, and the district centre's "
                "confirmations of its alarms will not be believed"
            )
        self._camera_state: dict[str, CameraStatus] = {}
        self.client = connect(
            config,
            f"gatewatch-{topic_level(site)}",
            will=self.availability,
            on_connect=self._on_connect,
            on_disconnect=self._on_disconnect,
            on_message=self._on_message,
        )
        # A camera's client may connect (and call back) before it is in this dict, or before the
        # dict exists: its callback is handed the client itself, and the dict is there first.
        self.cameras: dict[str, mqtt.Client] = {}
        for camera in cameras:
            self.cameras[camera] = connect(
                config,
                f"gatewatch-{topic_level(site)}-{topic_level(camera)}",
                will=self._camera_topic(camera),
                on_connect=lambda c, *_, camera=camera: self._publish_camera(camera, c),
            )

    def _camera_topic(self, camera: str, leaf: str = "availability") -> str:
        return f"{self.base}/cameras/{topic_level(camera)}/{leaf}"

    def _on_connect(self, client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if reason.is_failure:
            log.warning("MQTT broker %s:%s refused the connection: %s", self.config.host, self.config.port, reason)
            return
        log.info("MQTT connected to %s:%s", self.config.host, self.config.port)
        client.publish(self.availability, Availability.ONLINE, qos=1, retain=True)
        client.subscribe(f"{self.alarms_topic}/+/ack", qos=1)  # retained: confirmations made while away too

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        """The centre's confirmation of an alarm, on `<site>/alarms/<id>/ack` (retained): believed
        only when signed with this site's key, for this alarm of this site."""
        try:
            alarm_id = int(message.topic.split("/")[-2])
            ack = AlarmAck.model_validate_json(message.payload)
            if self.config.site_key is None:
                raise BadSignature("mqtt.site_key is not set, so no confirmation can be proved")
            verify(ack, self.config.site_key)
            if ack.alarm_id != alarm_id or ack.site != self.site_level:
                raise BadSignature(f"signed for alarm #{ack.alarm_id} of {ack.site[:40]!r}, not this topic's")
        except BadSignature as exc:
            log.warning("refused a confirmation on %s: %s", message.topic, exc)
            return
        except (ValueError, ValidationError) as exc:
            log.warning("skipped a malformed alarm confirmation on %s: %s", message.topic, validation_summary(exc))
            return
        if self.on_alarm_ack is not None:
            self.on_alarm_ack(alarm_id, ack.by, datetime.fromisoformat(ack.at))

    def _on_disconnect(self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if reason.is_failure:
            log.warning("MQTT connection to %s:%s lost (%s); reconnecting", self.config.host, self.config.port, reason)

    def send(self, message: Outgoing, key: str) -> None:
        """Publish one event or alarm and wait for the broker's acknowledgement (the outbox retries
        on failure). Alarms go at least once whatever `qos` says. (`key` is not sent: a repeat
        carries the same id and status, and the centre keeps one row per event and alarm.)"""
        if isinstance(message, CameraTrouble):  # never queued here: the camera topics say it, retained
            return
        if not self.client.is_connected():
            raise DeliveryError(f"MQTT broker {self.config.host}:{self.config.port} not connected")
        alarm = isinstance(message, AlarmMessage)
        topic, qos = (self.alarms_topic, max(1, self.config.qos)) if alarm else (self.events_topic, self.config.qos)
        if self.config.site_key is not None:
            message = sign(message, self.config.site_key)
        info = self.client.publish(topic, message.model_dump_json(), qos=qos)
        try:
            info.wait_for_publish(PUBLISH_TIMEOUT_S)
        except (RuntimeError, ValueError) as exc:
            raise DeliveryError(f"MQTT publish failed ({exc})") from None
        if not info.is_published():
            raise DeliveryError(f"MQTT broker did not acknowledge within {PUBLISH_TIMEOUT_S:g} s")

    def camera_state(self, camera: str, status: CameraStatus) -> None:
        """Retained, so a dashboard that connects later sees the current state at once."""
        self._camera_state[camera] = status
        self._publish_camera(camera)

    def _publish_camera(self, camera: str, client: mqtt.Client | None = None) -> None:
        status = self._camera_state.get(camera)
        client = client or self.cameras.get(camera)
        if status is None or client is None or not client.is_connected():
            return  # on_connect publishes it
        online = Availability.ONLINE if status.state == CameraState.LIVE else Availability.OFFLINE
        client.publish(self._camera_topic(camera), online, qos=1, retain=True)
        client.publish(self._camera_topic(camera, "state"), status.model_dump_json(), qos=1, retain=True)

    def close(self) -> None:
        """A clean disconnect does not fire the will, so say offline ourselves first."""
        for camera, client in self.cameras.items():
            if client.is_connected():
                client.publish(self._camera_topic(camera), Availability.OFFLINE, qos=1, retain=True).wait_for_publish(2)
            client.disconnect()
            client.loop_stop()
        if self.client.is_connected():
            self.client.publish(self.availability, Availability.OFFLINE, qos=1, retain=True).wait_for_publish(2)
        self.client.disconnect()
        self.client.loop_stop()
