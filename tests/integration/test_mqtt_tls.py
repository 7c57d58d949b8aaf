"""MQTT over TLS with a password, against a real Mosquitto with a test CA made here (``cryptography``): the
publisher's messages and a sensor's values cross the encrypted link; a broker certificate from another CA is
refused."""
from __future__ import annotations

import datetime as dt
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from connectors.base import Backoff, Sample
from connectors.config import MqttSource, MqttTopicTag
from connectors.mqtt import MqttPublisher, Namespace
from connectors.mqtt_source import MqttSourceConnector
from tests.integration.certs import make_ca, make_server_cert
from tests.integration.conftest import supervised
from tests.integration.test_mqtt import MOSQUITTO
from tests.integration.wire import free_port, wait_for

pytestmark = pytest.mark.skipif(MOSQUITTO is None, reason="mosquitto (Debian package) is not installed")
LOGIN = ("node", "s3cret")


class TlsBroker:
    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.ca, ca_cert, ca_key = make_ca(folder, "test-ca")
        cert, key = make_server_cert(folder, ca_cert, ca_key)
        self.other_ca = make_ca(folder, "other-ca")[0]
        pwfile = folder / "passwd"
        subprocess.run(["mosquitto_passwd", "-c", "-b", str(pwfile), *LOGIN], check=True, timeout=10)
        config = folder / "mosquitto.conf"
        config.write_text("\n".join([
            "user root", "per_listener_settings false", "allow_anonymous false", f"password_file {pwfile}",
            "persistence false", "log_dest stdout", f"listener {self.port} 127.0.0.1", f"cafile {self.ca}",
            f"certfile {cert}", f"keyfile {key}", "tls_version tlsv1.2"]) + "\n")
        assert MOSQUITTO is not None
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(config)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    break
            assert time.monotonic() < deadline, "mosquitto did not start"
            time.sleep(0.01)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture
def tls_broker(tmp_path: Path) -> Iterator[TlsBroker]:
    b = TlsBroker(tmp_path)
    yield b
    b.stop()


class Collected:
    def __init__(self) -> None:
        self.samples: list[Sample] = []

    async def __call__(self, batch: Sequence[Sample]) -> None:
        self.samples.extend(batch)


async def test_publisher_and_source_over_tls_with_a_password(tls_broker: TlsBroker, tmp_path: Path) -> None:
    source = MqttSourceConnector(MqttSource(
        name="SENSOR-1", host="127.0.0.1", port=tls_broker.port, username=LOGIN[0], password=LOGIN[1],
        ca_certs=str(tls_broker.ca), tags=[MqttTopicTag(name="GoodCount", topic="acme/+/+/+/+/+/GoodCount")]))
    sink = Collected()
    publisher = MqttPublisher(Namespace("acme", "eindhoven", "pumps", "line-1", {"PLC-1": ("WS-20", "M-ASSY")}),
                              host="127.0.0.1", port=tls_broker.port, buffer_file=tmp_path / "outbox.sqlite",
                              username=LOGIN[0], password=LOGIN[1], ca_certs=str(tls_broker.ca))
    async with supervised(source, sink, Backoff(initial=0.1, maximum=0.5)):
        await wait_for(lambda: source.health.connected, 10, "the source subscribed over TLS")
        publisher.start()
        try:
            await wait_for(lambda: publisher.health.connected, 10, "the publisher connected over TLS")
            await publisher([Sample("PLC-1", "GoodCount", 42, "good", dt.datetime.now(dt.UTC))])
            await wait_for(lambda: [s.value for s in sink.samples] == [42], 10, "the value across the TLS link")
            assert publisher.buffered == 0
        finally:
            publisher.stop()


def test_a_broker_certificate_from_another_ca_is_refused(tls_broker: TlsBroker) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="wrong-ca")
    client.username_pw_set(*LOGIN)
    client.tls_set(ca_certs=str(tls_broker.other_ca))
    with pytest.raises(ssl.SSLCertVerificationError):
        client.connect("127.0.0.1", tls_broker.port)
    plain = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="plain")  # and no plain MQTT on the TLS port
    plain.username_pw_set(*LOGIN)
    plain.connect("127.0.0.1", tls_broker.port)
    plain.loop_start()
    try:
        time.sleep(1.0)
        assert not plain.is_connected()
    finally:
        plain.loop_stop()
        plain.disconnect()
