"""Sparkplug B publisher (paho-mqtt 2): the node as a Sparkplug edge node, each machine a Sparkplug device.

Topics ``spBv1.0/<group>/<NBIRTH|NDEATH|NCMD|DBIRTH|DDATA>/<edge node>[/<device>]``, payloads in the Sparkplug B
protobuf encoding (``org.eclipse.tahu.protobuf.Payload``). The few messages needed are encoded here directly in
the protobuf wire format (no generated code, no protobuf runtime, no pinned paho 1.x as the Sparkplug libraries
on PyPI need); the tests decode them with the official ``sparkplug_b.proto`` compiled by protoc.

The session, as the specification has it:
- before connecting, the NDEATH is set as the MQTT will, carrying this session's ``bdSeq``; ``bdSeq`` goes up by one
  (0-255) with every connection, and a clean stop publishes the NDEATH itself;
- on connecting: NBIRTH (``seq`` 0, ``bdSeq``, ``Node Control/Rebirth``), then a DBIRTH per device with every
  metric it has: name, alias, data type, value, timestamp; ``seq`` goes up by one (0-255, wrapping) per message;
- then DDATA with the changed metrics by alias only; a metric not in the device's birth, or one whose data type
  changes, makes a new DBIRTH; an NCMD ``Node Control/Rebirth`` = true makes the node and devices be born again;
- while the broker is away nothing is queued (QoS 0, as the specification has BIRTH and DATA): the births after
  the reconnection carry the current values. Quality travels as the metric property ``Quality`` (192 good,
  64 uncertain, 0 bad, OPC DA style) and a bad value as ``is_null``.
"""
from __future__ import annotations

import logging
import struct
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from connectors.base import Health, Sample

log = logging.getLogger("takt.connectors.sparkplug")

NAMESPACE = "spBv1.0"
# Sparkplug B data types (the DataType enum of sparkplug_b.proto)
INT64, UINT64, DOUBLE, BOOLEAN, STRING, DATETIME = 4, 8, 10, 11, 12, 13
INT32 = 3
QUALITY = {"good": 192, "uncertain": 64, "bad": 0}
REBIRTH = "Node Control/Rebirth"


# --- protobuf wire format ------------------------------------------------------------------------------


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field_varint(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _field_bytes(number: int, value: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def _field_double(number: int, value: float) -> bytes:
    return _varint(number << 3 | 1) + struct.pack("<d", value)


def data_type_of(value: Any) -> int:
    """The Sparkplug data type a Python value is published as."""
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return UINT64 if value >= 1 << 63 else INT64
    if isinstance(value, float):
        return DOUBLE
    if isinstance(value, datetime):
        return DATETIME
    return STRING


def encode_metric(*, name: str | None = None, alias: int | None = None, timestamp_ms: int | None = None,
                  datatype: int | None = None, value: Any = None, quality: str | None = None,
                  is_historical: bool = False) -> bytes:
    """One ``Payload.Metric``."""
    out = b""
    if name is not None:
        out += _field_bytes(1, name.encode())
    if alias is not None:
        out += _field_varint(2, alias)
    if timestamp_ms is not None:
        out += _field_varint(3, timestamp_ms)
    if datatype is not None:
        out += _field_varint(4, datatype)
    if is_historical:
        out += _field_varint(5, 1)
    if value is None:
        out += _field_varint(7, 1)  # is_null
    if quality is not None:  # properties: PropertySet {keys: ["Quality"], values: [{type: Int32, int_value}]}
        prop = _field_varint(1, INT32) + _field_varint(3, QUALITY[quality])
        out += _field_bytes(9, _field_bytes(1, b"Quality") + _field_bytes(2, prop))
    if value is not None:
        kind = datatype if datatype is not None else data_type_of(value)
        if kind == BOOLEAN:
            out += _field_varint(14, 1 if value else 0)
        elif kind in (INT64, UINT64):
            out += _field_varint(11, int(value))  # two's complement in the uint64 field for negative Int64
        elif kind == DOUBLE:
            out += _field_double(13, float(value))
        elif kind == DATETIME:
            out += _field_varint(11, int(value.timestamp() * 1000))
        else:
            out += _field_bytes(15, str(value).encode())
    return out


def encode_payload(metrics: Sequence[bytes], *, timestamp_ms: int, seq: int | None) -> bytes:
    """A ``Payload``: its timestamp, metrics and sequence number (none in an NDEATH)."""
    out = _field_varint(1, timestamp_ms) + b"".join(_field_bytes(2, m) for m in metrics)
    if seq is not None:
        out += _field_varint(3, seq)
    return out


def _fields(data: bytes) -> Iterator[tuple[int, int, Any]]:
    """(field number, wire type, value) of each field in ``data``; bytes for length-delimited ones."""
    i = 0
    while i < len(data):
        key, i = _read_varint(data, i)
        number, wire = key >> 3, key & 7
        value: Any
        if wire == 0:
            value, i = _read_varint(data, i)
        elif wire == 1:
            value, i = data[i:i + 8], i + 8
        elif wire == 2:
            length, i = _read_varint(data, i)
            value, i = data[i:i + length], i + length
        elif wire == 5:
            value, i = data[i:i + 4], i + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        if i > len(data):
            raise ValueError("truncated protobuf message")
        yield number, wire, value


def _read_varint(data: bytes, i: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        if i >= len(data):
            raise ValueError("truncated varint")
        byte = data[i]
        i += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, i
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def command_metrics(payload: bytes) -> dict[str, Any]:
    """Name → value of the named metrics in an NCMD/DCMD payload (booleans, integers and strings)."""
    found: dict[str, Any] = {}
    for number, _, metric in _fields(payload):
        if number != 2:
            continue
        name: str | None = None
        value: Any = None
        for f, _, v in _fields(metric):
            if f == 1:
                name = bytes(v).decode()
            elif f == 14:
                value = bool(v)
            elif f in (10, 11):
                value = v
            elif f == 15:
                value = bytes(v).decode()
        if name is not None:
            found[name] = value
    return found


# --- the edge node ---------------------------------------------------------------------------------------


@dataclass
class _Metric:
    alias: int
    datatype: int
    value: Any
    quality: str
    at_ms: int


class SparkplugPublisher:
    """Publish samples (a connector sink) as a Sparkplug B edge node; ``devices`` maps a connector's name to its
    Sparkplug device id (the machine's equipment name)."""

    def __init__(self, group_id: str, edge_node_id: str, *, host: str, port: int = 1883,
                 devices: dict[str, str] | None = None, client_id: str | None = None, username: str | None = None,
                 password: str | None = None, ca_certs: str | None = None, keepalive: int = 30) -> None:
        for what, ident in (("group_id", group_id), ("edge_node_id", edge_node_id)):
            if not ident or any(ch in ident for ch in "/+#"):
                raise ValueError(f"sparkplug {what}: {ident!r} must be non-empty without / + #")
        self.group_id, self.edge_node_id = group_id, edge_node_id
        self.host, self.port, self.keepalive = host, port, keepalive
        self.devices = dict(devices or {})
        self.health = Health(f"sparkplug:{group_id}/{edge_node_id}", "sparkplug")
        self._lock = threading.RLock()
        self._metrics: dict[str, dict[str, _Metric]] = {}  # device id → metric name → last value
        self._born: set[str] = set()  # devices born in this session
        self._aliases = 2  # 0 and 1: the node's bdSeq and Rebirth
        self._seq = 0
        self.bd_seq = 0
        self.births = 0
        self.messages = 0
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id or f"takt-spb-{edge_node_id}",
                             clean_session=True)
        if username is not None:
            client.username_pw_set(username, password)
        if ca_certs is not None:
            client.tls_set(ca_certs=ca_certs)
        client.reconnect_delay_set(min_delay=1, max_delay=5)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        self._client = client
        self._set_will()

    def topic(self, message_type: str, device: str | None = None) -> str:
        base = f"{NAMESPACE}/{self.group_id}/{message_type}/{self.edge_node_id}"
        return base if device is None else f"{base}/{device}"

    # --- life cycle -------------------------------------------------------------------------------

    def start(self) -> None:
        self._client.connect_async(self.host, self.port, self.keepalive)
        self._client.loop_start()

    def stop(self) -> None:
        """A clean stop: the NDEATH is published (the broker sends the will only when a link breaks)."""
        with self._lock:
            if self._client.is_connected():
                info = self._client.publish(self.topic("NDEATH"), self._death(), qos=1)
                info.wait_for_publish(2)
        self._client.disconnect()
        self._client.loop_stop()

    def _death(self) -> bytes:
        metric = encode_metric(name="bdSeq", timestamp_ms=_now_ms(), datatype=INT64, value=self.bd_seq)
        return encode_payload([metric], timestamp_ms=_now_ms(), seq=None)

    def _set_will(self) -> None:
        self._client.will_set(self.topic("NDEATH"), self._death(), qos=1, retain=False)

    # --- publishing ---------------------------------------------------------------------------

    async def __call__(self, batch: Sequence[Sample]) -> None:
        self.publish(batch)

    def publish(self, batch: Sequence[Sample]) -> None:
        """Remember the samples' values; when connected, DDATA the changes (or DBIRTH a device anew)."""
        by_device: dict[str, list[tuple[str, _Metric, bool]]] = {}
        with self._lock:
            for s in batch:
                if s.tag.startswith("$"):
                    continue  # the connectors' own markers (server start time)
                device = self.devices.get(s.device, s.device)
                metrics = self._metrics.setdefault(device, {})
                value = s.value if s.quality != "bad" else None
                datatype = data_type_of(value) if value is not None else None
                known = metrics.get(s.tag)
                at = int(s.source_time.timestamp() * 1000)
                if known is None:
                    metric = _Metric(self._aliases, datatype or STRING, value, s.quality, at)
                    self._aliases += 1
                    metrics[s.tag] = metric
                    rebirth = True
                else:
                    rebirth = datatype is not None and datatype != known.datatype
                    known.value, known.quality, known.at_ms = value, s.quality, at
                    if datatype is not None:
                        known.datatype = datatype
                    metric = known
                by_device.setdefault(device, []).append((s.tag, metric, rebirth))
            if not self._client.is_connected():
                return
            for device, changes in by_device.items():
                if device not in self._born or any(rebirth for _, _, rebirth in changes):
                    self._birth(device)
                    continue
                payload = encode_payload([encode_metric(alias=m.alias, timestamp_ms=m.at_ms, datatype=m.datatype,
                                                        value=m.value, quality=m.quality) for _, m, _ in changes],
                                         timestamp_ms=_now_ms(), seq=self._next_seq())
                self._send(self.topic("DDATA", device), payload)
                self.health.values += len(changes)

    def _birth(self, device: str) -> None:
        metrics = [encode_metric(name=name, alias=m.alias, timestamp_ms=m.at_ms, datatype=m.datatype, value=m.value,
                                 quality=m.quality) for name, m in self._metrics.get(device, {}).items()]
        self._send(self.topic("DBIRTH", device),
                   encode_payload(metrics, timestamp_ms=_now_ms(), seq=self._next_seq()))
        self._born.add(device)
        self.births += 1

    def _node_birth(self) -> None:
        """NBIRTH (seq 0) and a DBIRTH for every device with values."""
        self._seq = 0
        self._born.clear()
        now = _now_ms()
        metrics = [encode_metric(name="bdSeq", alias=0, timestamp_ms=now, datatype=INT64, value=self.bd_seq),
                   encode_metric(name=REBIRTH, alias=1, timestamp_ms=now, datatype=BOOLEAN, value=False)]
        self._send(self.topic("NBIRTH"), encode_payload(metrics, timestamp_ms=now, seq=0))
        self.births += 1
        for device in self._metrics:
            self._birth(device)

    def _next_seq(self) -> int:
        self._seq = (self._seq + 1) % 256
        return self._seq

    def _send(self, topic: str, payload: bytes) -> None:
        info = self._client.publish(topic, payload, qos=0)
        if info.rc == mqtt.MQTT_ERR_SUCCESS:
            self.messages += 1

    # --- paho callbacks (paho's thread) ------------------------------------------------------------

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            self.health.last_error = f"broker refused: {reason}"
            log.warning("Sparkplug: the broker %s:%d refused the connection: %s", self.host, self.port, reason)
            return
        with self._lock:
            self.health.connected = True
            self.health.connects += 1
            self.health.last_error = None
            client.subscribe(self.topic("NCMD"), qos=1)
            self._node_birth()

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        with self._lock:
            self.health.connected = False
            self._born.clear()
            self.bd_seq = (self.bd_seq + 1) % 256  # the next session's, in its will and its NBIRTH
            self._set_will()
        if reason is not None and getattr(reason, "is_failure", False):
            self.health.last_error = f"disconnected: {reason}"

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            command = command_metrics(bytes(msg.payload))
        except ValueError as exc:
            log.warning("Sparkplug: an NCMD that is not a Sparkplug B payload (%s) was ignored", exc)
            return
        if command.get(REBIRTH) is True:
            log.info("Sparkplug: rebirth requested")
            with self._lock:
                self._node_birth()


def _now_ms() -> int:
    return int(time.time() * 1000)
