"""The MQTT publisher against a real Mosquitto broker the test starts on a free port."""
from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from connectors.base import Sample
from connectors.mqtt import MqttPublisher, Namespace
from tests.integration.wire import free_port, wait_for

MOSQUITTO = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)
pytestmark = pytest.mark.skipif(MOSQUITTO is None, reason="mosquitto (Debian package) is not installed")

NS = Namespace("acme", "eindhoven", "pump-assembly", "assembly-1", {"PLC-1": ("WS-20", "M-ASSY")})


class Broker:
    def __init__(self, folder: Path, port: int, password: tuple[str, str] | None = None) -> None:
        self.folder, self.port = folder, port
        lines = ["user root", "per_listener_settings false", "persistence true",
                 f"persistence_location {folder}/", "log_dest stdout", f"listener {port} 127.0.0.1"]
        if password is None:
            lines.append("allow_anonymous true")
        else:
            pwfile = folder / "passwd"
            subprocess.run(["mosquitto_passwd", "-c", "-b", str(pwfile), *password], check=True, timeout=10)
            lines += ["allow_anonymous false", f"password_file {pwfile}"]
        self.config = folder / "mosquitto.conf"
        self.config.write_text("\n".join(lines) + "\n")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert MOSQUITTO is not None
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.config)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.01)
        raise AssertionError("mosquitto did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    b = Broker(tmp_path, free_port())
    b.start()
    yield b
    b.stop()


class Subscriber:
    """A plain paho client with a persistent session (QoS 1): it gets what was sent while it was away."""

    def __init__(self, port: int, auth: tuple[str, str] | None = None) -> None:
        self.messages: list[tuple[str, dict[str, Any]]] = []
        self.lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="test-subscriber", clean_session=False)
        if auth:
            self.client.username_pw_set(*auth)
        self.client.reconnect_delay_set(1, 1)
        self.client.on_connect = lambda c, u, f, r, p: c.subscribe("acme/#", qos=1)
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.messages.append((msg.topic, json.loads(msg.payload)))

    def got(self) -> list[tuple[str, dict[str, Any]]]:
        with self.lock:
            return list(self.messages)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def sample(tag: str, value: object) -> Sample:
    return Sample("PLC-1", tag, value, "good", datetime(2026, 11, 26, 1, 0, tzinfo=UTC))


async def test_values_and_events_land_in_the_unified_namespace(broker: Broker, tmp_path: Path) -> None:
    sub = Subscriber(broker.port)
    pub = MqttPublisher(NS, host="127.0.0.1", port=broker.port, buffer_file=tmp_path / "outbox.sqlite")
    try:
        await wait_for(lambda: sub.client.is_connected(), 5, "the subscriber")
        pub.start()
        await wait_for(lambda: pub.health.connected, 5, "the publisher connected")
        await pub([sample("GoodCount", 17), sample("State", 6)])
        pub.publish_events([{"seq": 42, "type": "ProductionReported", "subject": "WO-1/10"}])
        await wait_for(lambda: len(sub.got()) == 3, 5, "three messages")
    finally:
        pub.stop()
        sub.close()
    topics = dict(sub.got())
    good = topics["acme/eindhoven/pump-assembly/assembly-1/WS-20/M-ASSY/GoodCount"]
    assert good == {"value": 17, "quality": "good", "timestamp": "2026-11-26T01:00:00Z", "detail": None,
                    "historical": False}
    event = topics["acme/eindhoven/pump-assembly/assembly-1/events/ProductionReported"]
    assert event["seq"] == 42 and event["subject"] == "WO-1/10"


@pytest.mark.timeout(60)  # a deadlocked publisher also hangs its stop(): fail in a minute, not in ten
async def test_a_burst_of_publishes_while_acknowledgements_come_in_never_locks_up(broker: Broker, tmp_path: Path) -> None:
    """paho calls on_publish holding its own lock while publish() holds the publisher's and calls paho: a publisher
    that waited for its lock in on_publish deadlocked the two threads now and then (a hung test in a parallel run).
    Thousands of publishes with their acks arriving meanwhile must all be delivered and settled."""
    pub = MqttPublisher(NS, host="127.0.0.1", port=broker.port, buffer_file=tmp_path / "outbox.sqlite")
    pub.start()
    try:
        await wait_for(lambda: pub.health.connected, 5, "the publisher connected")
        done = threading.Event()

        def burst() -> None:
            for i in range(3000):
                pub.publish_events([{"seq": i, "type": "ProductionReported", "subject": "WO-1/10"}])
            done.set()

        worker = threading.Thread(target=burst, daemon=True)
        worker.start()
        await wait_for(done.is_set, 30, "3,000 publishes (a deadlock leaves the burst hanging)")
        await wait_for(lambda: pub.published == 3000, 10, "every acknowledgement settled")
        assert pub.buffered == 0
    finally:
        pub.stop()


async def test_while_the_broker_is_down_messages_wait_on_disk_and_arrive_later_flagged_historical(
        broker: Broker, tmp_path: Path) -> None:
    sub = Subscriber(broker.port)
    pub = MqttPublisher(NS, host="127.0.0.1", port=broker.port, buffer_file=tmp_path / "outbox.sqlite")
    try:
        await wait_for(lambda: sub.client.is_connected(), 5, "the subscriber")
        pub.start()
        await wait_for(lambda: pub.health.connected, 5, "the publisher connected")
        await pub([sample("GoodCount", 1)])
        await wait_for(lambda: len(sub.got()) == 1, 5, "the live message")
        broker.stop()
        await wait_for(lambda: not pub.health.connected, 5, "the publisher noticed")
        await pub([sample("GoodCount", n) for n in range(2, 202)])
        assert pub.buffered == 200
        broker.start()
        await wait_for(lambda: pub.buffered == 0, 15, "the buffer sent")
        await wait_for(lambda: len(sub.got()) >= 201, 15, "all messages at the subscriber")
    finally:
        pub.stop()
        sub.close()
    values = [m["value"] for _, m in sub.got()]
    assert sorted(set(values)) == list(range(1, 202))  # nothing dropped (QoS 1 may repeat, never lose)
    assert values[:1] == [1] and [v for v in values[1:] if v != 1] == sorted(v for v in values[1:] if v != 1)
    assert all(m["historical"] for _, m in sub.got()[1:])
    assert pub.health.reconnects >= 1


async def test_username_and_password(tmp_path: Path) -> None:
    b = Broker(tmp_path, free_port(), password=("edge", "s3cret"))
    b.start()
    try:
        wrong = MqttPublisher(NS, host="127.0.0.1", port=b.port, buffer_file=tmp_path / "a.sqlite",
                              client_id="wrong", username="edge", password="nope")
        wrong.start()
        await wait_for(lambda: wrong.health.last_error is not None, 5, "the refusal")
        assert not wrong.health.connected
        wrong.stop()
        sub = Subscriber(b.port, auth=("edge", "s3cret"))
        pub = MqttPublisher(NS, host="127.0.0.1", port=b.port, buffer_file=tmp_path / "b.sqlite",
                            username="edge", password="s3cret")
        pub.start()
        try:
            await wait_for(lambda: pub.health.connected and sub.client.is_connected(), 5, "both connected")
            await pub([sample("State", 6)])
            await wait_for(lambda: len(sub.got()) == 1, 5, "the message")
        finally:
            pub.stop()
            sub.close()
    finally:
        b.stop()
