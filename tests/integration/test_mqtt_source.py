"""MQTT as a third signal source, against a real Mosquitto the test starts: topics → tags, JSON payloads with
value, quality and timestamp, bad payloads as bad quality, reconnect and resubscribe, login, signal mapping."""
from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from pydantic import ValidationError

from connectors.base import Backoff, Sample
from connectors.config import MqttSource, MqttTopicTag
from connectors.mapping import SignalMapper
from connectors.mqtt_source import MqttSourceConnector
from edge.service import Service
from edge.store import Store
from tests.integration.conftest import supervised
from tests.integration.test_mqtt import MOSQUITTO, Broker, broker  # noqa: F401  (the broker fixture)
from tests.integration.test_signal_mapping import booked, plant, signals, state_history  # noqa: F401
from tests.integration.wire import free_port, wait_for

pytestmark = pytest.mark.skipif(MOSQUITTO is None, reason="mosquitto (Debian package) is not installed")


class Collected:
    def __init__(self) -> None:
        self.samples: list[Sample] = []

    async def __call__(self, batch: Sequence[Sample]) -> None:
        self.samples.extend(batch)

    def of(self, tag: str) -> list[Sample]:
        return [s for s in self.samples if s.tag == tag]


class Sensor:
    """A device publishing on the broker (a plain paho client)."""

    def __init__(self, port: int, auth: tuple[str, str] | None = None) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"sensor-{port}")
        if auth:
            self.client.username_pw_set(*auth)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def send(self, topic: str, payload: Any, *, retain: bool = False, raw: bool = False) -> None:
        body = payload if raw else json.dumps(payload)
        self.client.publish(topic, body, qos=1, retain=retain).wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def source(port: int, **login: Any) -> MqttSource:
    return MqttSource(name="SENSOR-1", host="127.0.0.1", port=port, keepalive_s=5, tags=[
        MqttTopicTag(name="temperature", topic="plant/ws-20/oven/temperature"),
        MqttTopicTag(name="state", topic="plant/ws-20/oven/state"),
        MqttTopicTag(name="good", topic="plant/ws-20/oven/good"),
        MqttTopicTag(name="any_pressure", topic="plant/+/pressure"),
    ], **login)


def backoff() -> Backoff:
    return Backoff(initial=0.1, maximum=0.5)


async def test_messages_become_samples_with_value_quality_and_timestamp(broker: Broker) -> None:  # noqa: F811
    sensor = Sensor(broker.port)
    sensor.send("plant/ws-20/oven/temperature", {"value": 180.5}, retain=True)  # before the node subscribes
    connector, sink = MqttSourceConnector(source(broker.port)), Collected()
    try:
        async with supervised(connector, sink, backoff()):
            await wait_for(lambda: len(sink.of("temperature")) == 1, 10, "the retained value")
            assert connector.health.connected and connector.subscribed == 4
            sensor.send("plant/ws-20/oven/temperature",
                        {"value": 181.0, "quality": "uncertain", "timestamp": "2026-11-26T01:02:03Z",
                         "detail": "sensor drifting"})
            sensor.send("plant/ws-20/oven/temperature", {"value": 181.5, "timestamp": 1_795_000_000_000})
            sensor.send("plant/ws-20/oven/state", 6)  # a bare value
            sensor.send("plant/line-7/pressure", {"value": 6.2})  # a wildcard filter
            sensor.send("plant/ws-20/oven/good", "not json {", raw=True)
            sensor.send("plant/ws-20/oven/good", {"quality": "good"})
            sensor.send("plant/ws-20/oven/good", {"value": 3, "quality": "excellent"})
            sensor.send("plant/ws-20/oven/good", {"value": 3, "timestamp": "yesterday"})
            sensor.send("plant/ws-20/oven/other", {"value": 1})  # no tag: ignored
            await wait_for(lambda: len(sink.of("good")) == 4 and len(sink.of("temperature")) == 3, 10,
                           "every message")
    finally:
        sensor.close()
    first, drifting, stamped = sink.of("temperature")
    assert (first.value, first.quality, first.device) == (180.5, "good", "SENSOR-1")
    assert abs((datetime.now(UTC) - first.source_time).total_seconds()) < 10  # no timestamp: time of arrival
    assert (drifting.value, drifting.quality, drifting.detail) == (181.0, "uncertain", "sensor drifting")
    assert drifting.source_time == datetime(2026, 11, 26, 1, 2, 3, tzinfo=UTC)
    assert stamped.source_time == datetime.fromtimestamp(1_795_000_000, UTC)
    assert [s.value for s in sink.of("state")] == [6] and [s.value for s in sink.of("any_pressure")] == [6.2]
    assert [(s.quality, s.detail) for s in sink.of("good")] == [
        ("bad", "payload is not JSON"), ("bad", "payload has no value"), ("bad", "unknown quality 'excellent'"),
        ("bad", "unreadable timestamp 'yesterday'")]
    assert connector.health.bad_values == 4


async def test_after_a_broker_restart_the_source_subscribes_again(broker: Broker) -> None:  # noqa: F811
    connector, sink = MqttSourceConnector(source(broker.port)), Collected()
    async with supervised(connector, sink, backoff()):
        await wait_for(lambda: connector.health.connected, 10, "subscribed")
        sensor = Sensor(broker.port)
        sensor.send("plant/ws-20/oven/temperature", {"value": 1.0})
        await wait_for(lambda: len(sink.of("temperature")) == 1, 5, "the first value")
        sensor.close()
        broker.stop()
        await wait_for(lambda: connector.health.restarts >= 1, 15, "the lost broker noticed")
        error = connector.health.last_error or ""
        assert "SENSOR-1" in error and ("lost the broker" in error or "cannot reach the broker" in error)
        assert not connector.health.connected
        broker.start()
        await wait_for(lambda: connector.health.connected and connector.health.reconnects >= 1, 15, "back")
        sensor = Sensor(broker.port)
        try:
            sensor.send("plant/ws-20/oven/temperature", {"value": 2.0})
            await wait_for(lambda: [s.value for s in sink.of("temperature")][-1:] == [2.0], 5, "a value after")
        finally:
            sensor.close()


async def test_a_wrong_password_is_a_clear_error_naming_the_source(tmp_path: Path) -> None:
    b = Broker(tmp_path, free_port(), password=("node", "s3cret"))
    b.start()
    try:
        wrong = MqttSourceConnector(source(b.port, username="node", password="guess"))
        async with supervised(wrong, Collected(), backoff()):
            await wait_for(lambda: wrong.health.restarts >= 2, 10, "refused twice")
        assert "SENSOR-1" in (wrong.health.last_error or "") and "refused" in (wrong.health.last_error or "")
        assert wrong.health.connects == 0
        right, sink = MqttSourceConnector(source(b.port, username="node", password="s3cret")), Collected()
        async with supervised(right, sink, backoff()):
            await wait_for(lambda: right.health.connected, 10, "connected with the right password")
            sensor = Sensor(b.port, ("node", "s3cret"))
            try:
                sensor.send("plant/ws-20/oven/state", 6)
                await wait_for(lambda: len(sink.of("state")) == 1, 5, "a value")
            finally:
                sensor.close()
    finally:
        b.stop()


async def test_mqtt_signals_record_machine_states_and_book_counts(broker: Broker,  # noqa: F811
                                                                  plant: tuple[Store, Service]) -> None:  # noqa: F811
    store, service = plant
    connector = MqttSourceConnector(MqttSource(name="SENSOR-1", host="127.0.0.1", port=broker.port, tags=[
        MqttTopicTag(name=t, topic=f"plant/ws-20/m-assy/{t}") for t in ("state", "alarm", "good", "scrap")]))
    mapper = SignalMapper(service, store, [signals("SENSOR-1", "state", "alarm", "good", "scrap")])
    sensor = Sensor(broker.port)
    try:
        async with supervised(connector, mapper, backoff()):
            await wait_for(lambda: connector.health.connected, 10, "subscribed")
            now = datetime.now(UTC)

            def at(seconds: float) -> str:
                return datetime.fromtimestamp(now.timestamp() + seconds, UTC).isoformat()

            sensor.send("plant/ws-20/m-assy/alarm", {"value": 0, "timestamp": at(0)})
            sensor.send("plant/ws-20/m-assy/good", {"value": 100, "timestamp": at(0)})
            sensor.send("plant/ws-20/m-assy/scrap", {"value": 4, "timestamp": at(0)})
            sensor.send("plant/ws-20/m-assy/state", {"value": 6, "timestamp": at(0.1)})  # PackML Execute
            await wait_for(lambda: state_history(store)[-1:] == [("running", None)], 10, "running recorded")
            sensor.send("plant/ws-20/m-assy/good", {"value": 107, "timestamp": at(1)})
            sensor.send("plant/ws-20/m-assy/scrap", {"value": 5, "timestamp": at(1)})
            await wait_for(lambda: booked(store) == (7, 1), 10, "7 good and 1 scrap booked")
            await mapper.drain()
    finally:
        sensor.close()
    assert booked(store) == (7, 1)


def test_topic_filters_and_references_are_checked() -> None:
    with pytest.raises(ValidationError, match="not an MQTT topic filter"):
        MqttTopicTag(name="t", topic="plant/#/x")
    with pytest.raises(ValidationError, match="not an MQTT topic filter"):
        MqttTopicTag(name="t", topic="plant/a+b")
    from connectors.config import ConnectivitySection

    ok = ConnectivitySection.model_validate({"mqtt_sources": [{"name": "S", "host": "h", "tags": [
        {"name": "state", "topic": "a/b"}]}], "machines": [{"equipment": "E", "device": "S",
                                                           "state": {"tag": "state"}}]})
    assert ok.mqtt_sources[0].tags[0].topic == "a/b"
    with pytest.raises(ValidationError, match="S has no tag good"):
        ConnectivitySection.model_validate({"mqtt_sources": [{"name": "S", "host": "h", "tags": [
            {"name": "state", "topic": "a/b"}]}], "machines": [{"equipment": "E", "device": "S",
                                                               "counters": [{"tag": "good", "kind": "good"}]}]})
