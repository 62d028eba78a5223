"""The district broker README describes (configs/mosquitto/), run as shipped in Debian's mosquitto:
TLS with the district's own CA, a login per school and for the centre, and topic ACLs, so a
school can write only its own topics and read only its own confirmations (issue 24.2). The
clients are gatewatch's own (`alerts.mqtt.connect`, as `serve` and `center` use it)."""

from __future__ import annotations

import getpass
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from pipeline.alerts.mqtt import connect
from pipeline.config import MqttConfig

from .live import Process, Servers, free_port, mosquitto_binary, wait_for

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "configs" / "mosquitto"
PASSWORDS = {"centre": "centre-pw-1", "No1-Middle-School": "school1-pw-1", "No2-School": "school2-pw-1"}


@dataclass
class DistrictBroker:
    port: int
    ca: Path

    def config(self, user: str | None, password: str | None = None) -> MqttConfig:
        return MqttConfig(
            host="127.0.0.1",
            port=self.port,
            username=user,
            password=password if password is not None else PASSWORDS.get(user or ""),
            tls=True,
            ca_file=self.ca,
        )


class Client:
    """One of gatewatch's clients, recording what it receives and whether the broker let it in."""

    def __init__(self, broker: DistrictBroker, user: str | None, password: str | None = None, *topics: str) -> None:
        self.received: list[tuple[str, bytes]] = []
        self.refused: Any = None
        self.lock = threading.Lock()
        self.connected = threading.Event()

        def on_connect(client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
            if reason.is_failure:
                self.refused = reason
                client.disconnect()
                return
            for topic in topics:
                client.subscribe(topic, qos=1)
            self.connected.set()

        def on_subscribe(*_: Any) -> None:
            self.subscribed += 1

        self.subscribed = 0
        self.client = connect(
            broker.config(user, password),
            f"test-{user}",
            on_connect=on_connect,
            on_message=self._on_message,
            on_subscribe=on_subscribe,
        )
        if user is not None and password is None:
            wait_for(lambda: self.subscribed >= len(topics) and self.connected.is_set(), 20, f"{user} on the broker")

    def _on_message(self, _c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.received.append((message.topic, message.payload))

    def topics(self) -> list[str]:
        with self.lock:
            return [topic for topic, _ in self.received]

    def publish(self, topic: str, payload: str) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def district_broker(tmp_path: Path, live: Servers) -> Iterator[DistrictBroker]:
    if not shutil.which("openssl") or not shutil.which("mosquitto_passwd"):
        pytest.fail("openssl and mosquitto_passwd are needed (Debian: openssl, mosquitto)")
    ca_key, ca, key, csr, cert = (tmp_path / n for n in ("ca.key", "ca.crt", "broker.key", "broker.csr", "broker.crt"))
    openssl = ["openssl"]
    subprocess.run(
        [*openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=district CA"]
        + ["-keyout", str(ca_key), "-out", str(ca)],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [*openssl, "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=broker"]
        + ["-keyout", str(key), "-out", str(csr)],
        check=True,
        capture_output=True,
    )
    extensions = tmp_path / "san.ext"
    extensions.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    subprocess.run(
        [*openssl, "x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial"]
        + ["-days", "2", "-extfile", str(extensions), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    passwd = tmp_path / "gatewatch.passwd"
    passwd.touch()
    for user, password in PASSWORDS.items():
        subprocess.run(["mosquitto_passwd", "-b", str(passwd), user, password], check=True, capture_output=True)
    port = free_port()
    conf = (EXAMPLE / "district.conf").read_text()
    for shipped, here in (
        ("/etc/mosquitto/gatewatch.passwd", passwd),
        ("/etc/mosquitto/gatewatch.acl", EXAMPLE / "gatewatch.acl"),  # the ACL file exactly as shipped
        ("/etc/mosquitto/certs/broker.crt", cert),
        ("/etc/mosquitto/certs/broker.key", key),
        ("listener 8883", f"listener {port} 127.0.0.1"),
        ("persistence true", "persistence false"),
    ):
        assert shipped in conf, shipped
        conf = conf.replace(shipped, str(here))
    # As root, mosquitto would drop to its own user, who cannot read the test's files
    (tmp_path / "district.conf").write_text(f"{conf}\nuser {getpass.getuser()}\n")
    broker = live(Process([mosquitto_binary(), "-c", str(tmp_path / "district.conf")], tmp_path / "mosquitto.log"))
    broker.start()

    def listening() -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    wait_for(listening, 10, "the district's mosquitto")
    yield DistrictBroker(port, ca)


def test_only_known_clients_over_tls(district_broker: DistrictBroker) -> None:
    for user, password in ((None, None), ("No1-Middle-School", "wrong"), ("intruder", "x")):
        client = Client(district_broker, user, password or "")
        try:
            wait_for(lambda c=client: c.refused is not None, 20, f"{user} refused")  # type: ignore[misc]
        finally:
            client.close()
    with socket.create_connection(("127.0.0.1", district_broker.port), timeout=10) as plain:  # MQTT without TLS
        plain.sendall(b"\x10\x10\x00\x04MQTT\x04\x02\x00\x3c\x00\x04test")
        plain.settimeout(10)
        try:
            answer = plain.recv(16)
        except (ConnectionError, TimeoutError):
            answer = b""
        assert not answer.startswith(b"\x20")  # no CONNACK: the broker speaks only TLS
    context = ssl.create_default_context()  # TLS without the district's CA: the broker is not trusted
    with (
        socket.create_connection(("127.0.0.1", district_broker.port), timeout=10) as raw,
        pytest.raises(ssl.SSLCertVerificationError),
    ):
        context.wrap_socket(raw, server_hostname="127.0.0.1")


def test_a_school_speaks_only_for_itself_and_reads_only_its_own_confirmations(
    district_broker: DistrictBroker,
) -> None:
    centre = Client(district_broker, "centre", None, "gatewatch/+/events", "gatewatch/+/alarms")
    one = Client(district_broker, "No1-Middle-School", None, "gatewatch/+/alarms/+/ack", "gatewatch/+/events")
    two = Client(district_broker, "No2-School", None, "gatewatch/No2-School/alarms/+/ack")
    try:
        one.publish("gatewatch/No2-School/alarms", '{"forged": true}')  # another school's topic
        one.publish("gatewatch/No1-Middle-School/alarms/1/ack", '{"forged": true}')  # a confirmation
        two.publish("gatewatch/No2-School/events", '{"event": 1}')  # school 2's own event
        one.publish("gatewatch/No1-Middle-School/alarms", '{"alarm": 1}')  # school 1's own alarm
        wait_for(lambda: len(centre.topics()) >= 2, 20, "both schools' own messages at the centre")
        assert sorted(centre.topics()) == ["gatewatch/No1-Middle-School/alarms", "gatewatch/No2-School/events"]
        centre.publish("gatewatch/No2-School/alarms/5/ack", '{"ack": 5}')
        centre.publish("gatewatch/No1-Middle-School/alarms/1/ack", '{"ack": 1}')
        wait_for(lambda: one.topics(), 20, "school 1's confirmation")
        wait_for(lambda: two.topics(), 20, "school 2's confirmation")
        # School 1 asked for every school's confirmations and events: it got only its own
        # confirmation (not its own forged one, which the broker dropped), no event of school 2
        assert one.topics() == ["gatewatch/No1-Middle-School/alarms/1/ack"]
        assert one.received[0][1] == b'{"ack": 1}'
        assert two.topics() == ["gatewatch/No2-School/alarms/5/ack"]
    finally:
        for client in (centre, one, two):
            client.close()
