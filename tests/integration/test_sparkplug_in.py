"""Sparkplug B in, against a real Mosquitto: messages built with the official sparkplug_b.proto (births, aliases,
data types, quality, historical metrics, a seq gap, an old session's will, a death) and Takt's own publisher
(across its death and rebirth), with the rebirth requests (NCMD) the connector sends."""
from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from connectors.base import Backoff, Sample
from connectors.config import ConnectivitySection, CounterRule, MachineSignals, SparkplugSource
from connectors.mapping import SignalMapper
from connectors.sparkplug import SparkplugPublisher, command_metrics
from connectors.sparkplug_in import SparkplugSourceConnector, decode_payload
from edge.service import Service
from edge.store import Store
from tests.integration.conftest import supervised
from tests.integration.test_mqtt import Broker, broker  # noqa: F401  (the broker fixture)
from tests.integration.test_opcua_connector import Collected
from tests.integration.test_signal_mapping import booked, plant  # noqa: F401  (a store with M-ASSY on WS-20)
from tests.integration.test_sparkplug import pb, pytestmark  # noqa: F401  (the official classes; the skips)
from tests.integration.wire import wait_for

__all__ = ["pytestmark"]


class EdgeNode:
    """A foreign edge node: publishes what the test builds with the official classes, records its NCMDs."""

    def __init__(self, port: int, pb: ModuleType, group: str = "plant", node: str = "gw-7") -> None:  # noqa: F811
        self.pb, self.group, self.node = pb, group, node
        self.commands: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"edge-{node}")
        self.client.on_connect = lambda c, u, f, r, p: c.subscribe(f"spBv1.0/{group}/NCMD/{node}", qos=0)
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.commands.append(command_metrics(bytes(msg.payload)))

    def rebirths(self) -> int:
        with self.lock:
            return sum(1 for c in self.commands if c.get("Node Control/Rebirth") is True)

    def metric(self, *, name: str | None = None, alias: int | None = None, datatype: int | None = None,
               quality: int | None = None, historical: bool = False, timestamp: int | None = None,
               **value: Any) -> Any:
        m = self.pb.Payload.Metric()
        if name is not None:
            m.name = name
        if alias is not None:
            m.alias = alias
        if datatype is not None:
            m.datatype = datatype
        if timestamp is not None:
            m.timestamp = timestamp
        m.is_historical = historical
        for field, v in value.items():
            setattr(m, field, v)
        if quality is not None:
            m.properties.keys.append("Quality")
            pv = m.properties.values.add()
            pv.type = self.pb.Int32
            pv.int_value = quality
        return m

    def send(self, kind: str, metrics: list[Any], seq: int | None, device: str | None = None,
             timestamp: int = 1_700_000_000_000) -> None:
        payload = self.pb.Payload()
        payload.timestamp = timestamp
        if seq is not None:
            payload.seq = seq
        payload.metrics.extend(metrics)
        topic = f"spBv1.0/{self.group}/{kind}/{self.node}" + (f"/{device}" if device else "")
        self.client.publish(topic, payload.SerializeToString(), qos=0).wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def source(port: int, **options: Any) -> SparkplugSource:
    return SparkplugSource.model_validate({
        "name": "SPB-PRESS", "host": "127.0.0.1", "port": port, "group_id": "plant", "edge_node_id": "gw-7",
        "device_id": "Press", "tags": [{"name": "good", "metric": "Counters/Good"},
                                       {"name": "temperature", "metric": "Temperature"},
                                       {"name": "offset", "metric": "Offset"},
                                       {"name": "missing", "metric": "Not/There"}], **options})


@contextlib.asynccontextmanager
async def following(connector: SparkplugSourceConnector, sink: Collected) -> AsyncIterator[None]:
    async with supervised(connector, sink, Backoff(initial=0.05, maximum=0.5)):
        await wait_for(lambda: connector.health.connected, 10, "subscribed")
        yield


def last(sink: Collected, tag: str) -> Sample:
    found = sink.last(tag)
    assert found is not None
    return found


async def test_births_aliases_types_quality_history_a_gap_and_a_death(broker: Broker, pb: ModuleType) -> None:  # noqa: F811
    edge = EdgeNode(broker.port, pb)
    connector, sink = SparkplugSourceConnector(source(broker.port)), Collected()
    try:
        async with following(connector, sink):
            await wait_for(lambda: edge.rebirths() >= 1, 5, "a rebirth asked for on subscribing")
            edge.send("NBIRTH", [edge.metric(name="bdSeq", datatype=pb.Int64, long_value=3),
                                 edge.metric(name="Node Control/Rebirth", datatype=pb.Boolean, boolean_value=False)],
                      seq=0)
            edge.send("DBIRTH", [
                edge.metric(name="Counters/Good", alias=10, datatype=pb.UInt32, int_value=100, timestamp=1_700_000_000_500),
                edge.metric(name="Temperature", alias=11, datatype=pb.Float, float_value=21.5, quality=192),
                edge.metric(name="Offset", alias=12, datatype=pb.Int16, int_value=(-3) & 0xFFFFFFFF)], seq=1, device="Press")
            await wait_for(lambda: sink.values("offset")[-1:] == [-3], 5, "the birth's values")
            assert last(sink, "good").value == 100 and last(sink, "temperature").value == 21.5
            assert last(sink, "good").source_time == datetime.fromtimestamp(1_700_000_000.5, UTC)
            assert connector.health.refused_tags == {
                "missing": "metric 'Not/There' is not in the birth certificate of Press"}

            edge.send("DDATA", [edge.metric(alias=10, int_value=101),
                                edge.metric(alias=11, float_value=80.0, quality=64)], seq=2, device="Press")
            await wait_for(lambda: sink.values("good")[-1:] == [101], 5, "data by alias")
            assert last(sink, "temperature").quality == "uncertain" and last(sink, "temperature").value == 80.0

            edge.send("DDATA", [edge.metric(alias=10, int_value=102, historical=True, timestamp=1_699_999_000_000)],
                      seq=3, device="Press")
            await wait_for(lambda: sink.values("good")[-1:] == [102], 5, "a historical value")
            assert last(sink, "good").source_time == datetime.fromtimestamp(1_699_999_000, UTC)
            assert connector.historical == 1

            asked = edge.rebirths()
            edge.send("DDATA", [edge.metric(alias=10, int_value=110)], seq=7, device="Press")  # 4..6 lost
            await wait_for(lambda: last(sink, "good").quality == "bad", 5, "stale after the gap")
            assert last(sink, "good").detail == "stale: seq 7 after 3: messages were lost" and connector.gaps == 1
            await wait_for(lambda: edge.rebirths() == asked + 1, 5, "a rebirth asked for")
            edge.send("DDATA", [edge.metric(alias=10, int_value=111)], seq=8, device="Press")
            await asyncio.sleep(0.3)
            assert 111 not in sink.values("good") and edge.rebirths() == asked + 1  # dropped, not asked again

            edge.send("NBIRTH", [edge.metric(name="bdSeq", datatype=pb.Int64, long_value=3)], seq=0)
            edge.send("DBIRTH", [edge.metric(name="Counters/Good", alias=10, datatype=pb.UInt32, int_value=112)],
                      seq=1, device="Press")
            await wait_for(lambda: sink.values("good")[-1:] == [112], 5, "values after the rebirth")

            edge.send("NDEATH", [edge.metric(name="bdSeq", datatype=pb.Int64, long_value=2)], seq=None)
            await asyncio.sleep(0.3)
            assert last(sink, "good").quality == "good"  # an older session's will
            edge.send("NDEATH", [edge.metric(name="bdSeq", datatype=pb.Int64, long_value=3)], seq=None)
            await wait_for(lambda: last(sink, "good").quality == "bad", 5, "stale after the death")
            assert "NDEATH" in (last(sink, "good").detail or "") and connector.deaths == 1
    finally:
        edge.close()


async def test_takts_own_publisher_is_followed_across_its_death_and_rebirth(broker: Broker) -> None:  # noqa: F811
    def sample(tag: str, value: object) -> Sample:
        return Sample("PLC-1", tag, value, "good", datetime.now(UTC))

    config = SparkplugSource.model_validate({
        "name": "SPB-ASSY", "host": "127.0.0.1", "port": broker.port, "group_id": "pumps",
        "edge_node_id": "edge-1", "device_id": "M-ASSY",
        "tags": [{"name": "good", "metric": "GoodCount"}, {"name": "state", "metric": "State"}]})
    connector, sink = SparkplugSourceConnector(config), Collected()
    async with following(connector, sink):
        publisher = SparkplugPublisher("pumps", "edge-1", host="127.0.0.1", port=broker.port,
                                       devices={"PLC-1": "M-ASSY"})
        await publisher([sample("GoodCount", 17), sample("State", 6)])
        publisher.start()
        try:
            await wait_for(lambda: sink.values("good")[-1:] == [17], 10, "the birth")
            await publisher([sample("GoodCount", 18)])
            await wait_for(lambda: sink.values("good")[-1:] == [18], 5, "DDATA by alias")
        finally:
            publisher.stop()
        await wait_for(lambda: last(sink, "good").quality == "bad", 5, "stale after its NDEATH")
        again = SparkplugPublisher("pumps", "edge-1", host="127.0.0.1", port=broker.port,
                                   devices={"PLC-1": "M-ASSY"})
        await again([sample("GoodCount", 20), sample("State", 6)])
        again.start()
        try:
            await wait_for(lambda: sink.values("good")[-1:] == [20], 10, "born again")
        finally:
            again.stop()
    assert sink.values("state")[-1] == 6 and connector.gaps == 0


def test_payloads_decode_as_the_official_classes_encode_them(pb: ModuleType) -> None:  # noqa: F811
    payload = pb.Payload()
    payload.timestamp, payload.seq = 5, 9
    for name, datatype, field, value in [("i8", pb.Int8, "int_value", (-7) & 0xFFFFFFFF),
                                         ("i64", pb.Int64, "long_value", (-(2**40)) & (2**64 - 1)),
                                         ("u64", pb.UInt64, "long_value", 2**63 + 1),
                                         ("f", pb.Float, "float_value", 0.5), ("d", pb.Double, "double_value", -2.25),
                                         ("b", pb.Boolean, "boolean_value", True), ("s", pb.String, "string_value", "ok"),
                                         ("t", pb.DateTime, "long_value", 1_700_000_000_000)]:
        m = payload.metrics.add()
        m.name, m.datatype = name, datatype
        setattr(m, field, value)
    n = payload.metrics.add()
    n.name, n.datatype, n.is_null = "null", pb.Double, True
    decoded = decode_payload(payload.SerializeToString())
    assert (decoded.timestamp_ms, decoded.seq) == (5, 9)
    values = {m.name: None if m.null else m.value(None) for m in decoded.metrics}
    assert values == {"i8": -7, "i64": -(2**40), "u64": 2**63 + 1, "f": 0.5, "d": -2.25, "b": True, "s": "ok",
                      "t": datetime.fromtimestamp(1_700_000_000, UTC), "null": None}


def test_sparkplug_sources_are_devices_machines_can_name() -> None:
    section = ConnectivitySection.model_validate({
        "sparkplug_sources": [source(1883).model_dump()],
        "machines": [{"equipment": "PRESS-10", "device": "SPB-PRESS", "counters": [{"tag": "good", "kind": "good"}]}]})
    assert section.sparkplug_sources[0].device_id == "Press"
    with pytest.raises(ValueError, match="pattern"):
        SparkplugSource.model_validate({**source(1883).model_dump(), "edge_node_id": "gw/7"})


async def test_counts_are_booked_exactly_across_a_gap_and_a_rebirth(broker: Broker, pb: ModuleType,  # noqa: F811
                                                                     plant: tuple[Store, Service]) -> None:  # noqa: F811
    store, service = plant
    edge = EdgeNode(broker.port, pb)
    connector = SparkplugSourceConnector(source(broker.port))
    mapper = SignalMapper(service, store, [MachineSignals(equipment="M-ASSY", device="SPB-PRESS",
                                                          counters=[CounterRule(tag="good", kind="good")])])

    def birth(good: int) -> None:
        edge.send("NBIRTH", [edge.metric(name="bdSeq", datatype=pb.Int64, long_value=1)], seq=0)
        edge.send("DBIRTH", [edge.metric(name="Counters/Good", alias=10, datatype=pb.UInt32, int_value=good)],
                  seq=1, device="Press", timestamp=stamp())

    def stamp() -> int:
        return int(datetime.now(UTC).timestamp() * 1000)

    try:
        async with supervised(connector, mapper, Backoff(initial=0.05, maximum=0.5)):
            await wait_for(lambda: connector.health.connected, 10, "subscribed")
            birth(100)
            await wait_for(lambda: mapper.counters.get("M-ASSY/good") == 100, 5, "the baseline")
            edge.send("DDATA", [edge.metric(alias=10, int_value=105)], seq=2, device="Press", timestamp=stamp())
            await wait_for(lambda: booked(store) == (5, 0), 5, "5 booked")
            edge.send("DDATA", [edge.metric(alias=10, int_value=107)], seq=9, device="Press", timestamp=stamp())
            await asyncio.sleep(0.3)  # the gap: 107 is not trusted, nothing booked until the births
            assert booked(store) == (5, 0) and connector.gaps == 1
            birth(108)
            await wait_for(lambda: booked(store) == (8, 0), 5, "the parts made meanwhile, booked after the rebirth")
            edge.send("DDATA", [edge.metric(alias=10, int_value=110, historical=True, timestamp=stamp())], seq=2,
                      device="Press", timestamp=stamp())
            await wait_for(lambda: booked(store) == (10, 0), 5, "a historical value booked")
    finally:
        edge.close()
    assert mapper.stats.resets == 0
