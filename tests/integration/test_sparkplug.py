"""Sparkplug B publishing against a real Mosquitto, decoded with the official sparkplug_b.proto (compiled here by
protoc from grpcio-tools): births, aliases, data, seq wrapping, rebirth on NCMD, the NDEATH will and bdSeq."""
from __future__ import annotations

import importlib
import socket
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from connectors.base import Sample
from connectors.config import ConnectivitySection
from connectors.mqtt import Namespace
from connectors.runtime import Connectivity
from connectors.sparkplug import SparkplugPublisher, command_metrics, encode_metric, encode_payload
from edge.service import Service
from edge.store import Store
from simulators.machine import Machine
from simulators.modbus_plc import ModbusPlc
from tests.integration.test_mqtt import MOSQUITTO, Broker, broker  # noqa: F401  (the broker fixture)
from tests.integration.test_signal_mapping import plant  # noqa: F401  (a store with M-ASSY on WS-20)
from tests.integration.wire import free_port, wait_for
from tests.shared_data import SHARED_DATA

PROTO = SHARED_DATA / "mqtt-sparkplug" / "sparkplug_b.proto"
pytestmark = [pytest.mark.skipif(MOSQUITTO is None, reason="mosquitto (Debian package) is not installed"),
              pytest.mark.skipif(not PROTO.exists(), reason=f"{PROTO} (shared data) is not there")]


@pytest.fixture(scope="module")
def pb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The official Sparkplug B message classes, generated from the .proto file by protoc."""
    protoc = pytest.importorskip("grpc_tools.protoc")
    out = tmp_path_factory.mktemp("sparkplug")
    assert protoc.main(["protoc", f"-I{PROTO.parent}", f"--python_out={out}", str(PROTO)]) == 0
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module("sparkplug_b_pb2")
    finally:
        sys.path.remove(str(out))


class Host:
    """A Sparkplug host application's view: every message under spBv1.0/, decoded."""

    def __init__(self, port: int, pb: ModuleType) -> None:
        self.pb = pb
        self.messages: list[tuple[str, Any]] = []
        self.lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="test-host")
        self.client.on_connect = lambda c, u, f, r, p: c.subscribe("spBv1.0/#", qos=1)
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        payload = self.pb.Payload()
        payload.ParseFromString(bytes(msg.payload))
        with self.lock:
            self.messages.append((msg.topic, payload))

    def of(self, kind: str) -> list[tuple[str, Any]]:
        with self.lock:
            return [(t, p) for t, p in self.messages if t.split("/")[2] == kind]

    def send_rebirth(self) -> None:
        metric = encode_metric(name="Node Control/Rebirth", datatype=11, value=True)
        self.client.publish("spBv1.0/pumps/NCMD/edge-1", encode_payload([metric], timestamp_ms=0, seq=None), qos=1)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def sample(tag: str, value: object, quality: str = "good") -> Sample:
    return Sample("PLC-1", tag, value, quality, datetime(2026, 11, 26, 1, 0, tzinfo=UTC),  # type: ignore[arg-type]
                  None if quality == "good" else "BadSensorFailure")


def metrics(payload: Any) -> dict[str, Any]:
    return {m.name: m for m in payload.metrics}


def quality(metric: Any) -> int:
    props = metric.properties
    return int(props.values[list(props.keys).index("Quality")].int_value)


@pytest.fixture
def host(broker: Broker, pb: ModuleType) -> Iterator[Host]:  # noqa: F811
    h = Host(broker.port, pb)
    yield h
    h.close()


async def test_births_then_data_by_alias_with_seq_and_quality(broker: Broker, host: Host) -> None:  # noqa: F811
    await wait_for(lambda: host.client.is_connected(), 5, "the host application")
    pub = SparkplugPublisher("pumps", "edge-1", host="127.0.0.1", port=broker.port, devices={"PLC-1": "M-ASSY"})
    await pub([sample("GoodCount", 17), sample("State", 6), sample("Temperature", 21.5), sample("Running", True)])
    pub.start()
    try:
        await wait_for(lambda: len(host.of("DBIRTH")) == 1, 10, "NBIRTH and DBIRTH")
        (ntopic, nbirth), = host.of("NBIRTH")
        assert ntopic == "spBv1.0/pumps/NBIRTH/edge-1" and nbirth.seq == 0
        node = metrics(nbirth)
        assert node["bdSeq"].long_value == 0 and node["bdSeq"].datatype == host.pb.Int64
        assert node["Node Control/Rebirth"].boolean_value is False
        (dtopic, dbirth), = host.of("DBIRTH")
        assert dtopic == "spBv1.0/pumps/DBIRTH/edge-1/M-ASSY" and dbirth.seq == 1
        born = metrics(dbirth)
        assert born["GoodCount"].long_value == 17 and born["GoodCount"].datatype == host.pb.Int64
        assert born["Temperature"].double_value == 21.5 and born["Temperature"].datatype == host.pb.Double
        assert born["Running"].boolean_value is True and born["Running"].datatype == host.pb.Boolean
        assert born["GoodCount"].timestamp == int(datetime(2026, 11, 26, 1, 0, tzinfo=UTC).timestamp() * 1000)
        assert quality(born["State"]) == 192
        aliases = {name: m.alias for name, m in born.items()}
        assert len(set(aliases.values())) == 4 and not {0, 1} & set(aliases.values())  # unique, not the node's

        await pub([sample("GoodCount", 18), sample("Temperature", None, "bad")])
        await wait_for(lambda: len(host.of("DDATA")) == 1, 5, "DDATA")
        (topic, ddata), = host.of("DDATA")
        assert topic == "spBv1.0/pumps/DDATA/edge-1/M-ASSY" and ddata.seq == 2
        by_alias = {m.alias: m for m in ddata.metrics}
        assert set(by_alias) == {aliases["GoodCount"], aliases["Temperature"]}
        assert all(not m.name for m in ddata.metrics)  # data by alias only
        assert by_alias[aliases["GoodCount"]].long_value == 18
        bad = by_alias[aliases["Temperature"]]
        assert bad.is_null and quality(bad) == 0 and bad.datatype == host.pb.Double

        for n in range(300):  # seq goes 0..255 and wraps
            await pub([sample("GoodCount", 19 + n)])
        await wait_for(lambda: len(host.of("DDATA")) == 301, 10, "300 more DDATA")
        seqs = [p.seq for _, p in host.of("DDATA")]
        assert seqs == [(2 + i) % 256 for i in range(301)]

        await pub([sample("Pressure", 6.1)])  # a metric not in the birth: the device is born again
        await wait_for(lambda: len(host.of("DBIRTH")) == 2, 5, "a new DBIRTH")
        assert metrics(host.of("DBIRTH")[-1][1])["Pressure"].double_value == 6.1
        assert len(metrics(host.of("DBIRTH")[-1][1])) == 5

        host.send_rebirth()  # a host application asks for a rebirth
        await wait_for(lambda: len(host.of("NBIRTH")) == 2 and len(host.of("DBIRTH")) == 3, 5, "the rebirth")
        assert host.of("NBIRTH")[-1][1].seq == 0 and host.of("DBIRTH")[-1][1].seq == 1
        assert metrics(host.of("DBIRTH")[-1][1])["GoodCount"].long_value == 318
    finally:
        pub.stop()
    await wait_for(lambda: len(host.of("NDEATH")) == 1, 5, "the NDEATH of a clean stop")
    assert metrics(host.of("NDEATH")[0][1])["bdSeq"].long_value == 0


async def test_a_broken_link_sends_the_ndeath_will_and_the_next_session_has_the_next_bdseq(
        broker: Broker, host: Host) -> None:  # noqa: F811
    await wait_for(lambda: host.client.is_connected(), 5, "the host application")
    pub = SparkplugPublisher("pumps", "edge-1", host="127.0.0.1", port=broker.port)
    pub.start()
    try:
        await wait_for(lambda: len(host.of("NBIRTH")) == 1, 10, "NBIRTH")
        await pub([sample("GoodCount", 1)])
        await wait_for(lambda: len(host.of("DBIRTH")) == 1, 5, "DBIRTH (device named by its connector)")
        assert host.of("DBIRTH")[0][0] == "spBv1.0/pumps/DBIRTH/edge-1/PLC-1"
        sock = pub._client.socket()
        assert isinstance(sock, socket.socket)
        sock.shutdown(socket.SHUT_RDWR)  # the link breaks without a DISCONNECT: the broker sends the will
        await wait_for(lambda: len(host.of("NDEATH")) == 1, 10, "the will")
        assert metrics(host.of("NDEATH")[0][1])["bdSeq"].long_value == 0
        await wait_for(lambda: len(host.of("NBIRTH")) == 2 and len(host.of("DBIRTH")) == 2, 15, "born again")
        assert metrics(host.of("NBIRTH")[1][1])["bdSeq"].long_value == 1
        assert metrics(host.of("DBIRTH")[1][1])["GoodCount"].long_value == 1  # the current values
    finally:
        pub.stop()


def test_commands_decode_and_bad_identifiers_are_refused() -> None:
    payload = encode_payload([encode_metric(name="Node Control/Rebirth", datatype=11, value=True),
                              encode_metric(name="Setpoint", datatype=4, value=-5)], timestamp_ms=1, seq=None)
    found = command_metrics(payload)
    assert found["Node Control/Rebirth"] is True and found["Setpoint"] == (1 << 64) - 5  # two's complement
    with pytest.raises(ValueError, match="truncated"):
        command_metrics(payload[:-3])
    with pytest.raises(ValueError, match="edge_node_id"):
        SparkplugPublisher("pumps", "edge/1", host="127.0.0.1")


async def test_a_node_with_sparkplug_configured_births_its_machines(broker: Broker, host: Host,  # noqa: F811
                                                                    plant: tuple[Store, Service],  # noqa: F811
                                                                    tmp_path: Path) -> None:
    store, service = plant
    plc = ModbusPlc(Machine(cycle_time_s=3600), port=free_port(), tick_s=0.02)
    await plc.start()
    section = ConnectivitySection.model_validate({
        "modbus": [{"name": "PLC-7", "host": "127.0.0.1", "port": plc.port, "timeout_s": 0.5,
                    "groups": [{"interval_ms": 50, "tags": [{"name": "good", "address": 2, "type": "uint32"}]}]}],
        "machines": [{"equipment": "M-ASSY", "device": "PLC-7", "counters": [{"tag": "good", "kind": "good"}]}],
        "mqtt": {"host": "127.0.0.1", "port": broker.port, "sparkplug": {"group_id": "pumps", "edge_node_id": "n1"}},
    })
    connectivity = Connectivity(service, store, section, data_dir=tmp_path,
                                namespace=Namespace("acme", "site", "area", "line", {"PLC-7": ("WS-20", "M-ASSY")}))
    connectivity.start()
    try:
        await wait_for(lambda: any(t == "spBv1.0/pumps/DBIRTH/n1/M-ASSY" for t, _ in host.of("DBIRTH")), 15,
                       "the machine born as a Sparkplug device")
        plc.machine.produce(3)
        plc.refresh()
        await wait_for(lambda: any(m.long_value == 3 for _, p in host.of("DDATA") for m in p.metrics), 10,
                       "the counter in DDATA")
        assert connectivity.health()["sparkplug"]["connected"] is True
    finally:
        await connectivity.stop()
        await plc.stop()
    await wait_for(lambda: len(host.of("NDEATH")) == 1, 5, "the NDEATH when the node stops")
