"""Sparkplug B subscriber (paho-mqtt 2): another vendor's edge node (or device) as a signal source.

One source is one Sparkplug edge node, or one device of it: the connector subscribes to
``spBv1.0/<group>/+/<edge node>/#`` and follows the session as a Sparkplug host application does:

- NBIRTH starts a session: its ``bdSeq`` is kept, and its ``seq`` (0) starts the count; a DBIRTH gives the
  device's metrics by name with their aliases and data types. Values in births are delivered too.
- NDATA/DDATA carry metrics by alias (or name); each message's ``seq`` must be the previous one's plus one
  (0-255, wrapping). A gap, data before any birth, or a metric the birth did not have means the connector has
  lost track: the source's values turn stale (bad quality, "stale: ...") and a rebirth is asked for with an
  NCMD ``Node Control/Rebirth`` = true; data is ignored until the births come again.
- NDEATH (with the session's ``bdSeq``: an old session's will is ignored) or DDEATH makes the values stale.
- A metric's quality is its ``Quality`` property (OPC DA style: 192 and above good, 64 and above uncertain,
  below bad), good without one; ``is_null`` is bad. Its timestamp (else the payload's) is the source time, so
  historical metrics (``is_historical``, sent after a store-and-forward outage) are booked at their own times.

Payloads are decoded from the protobuf wire format directly (``org.eclipse.tahu.protobuf.Payload``), as the
publisher (``connectors.sparkplug``) encodes them; the tests build messages with the official
``sparkplug_b.proto``. A link that fails ends the run and the supervisor reconnects after a backoff.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from connectors.base import Health, Quality, Sample, Sink
from connectors.config import SparkplugSource
from connectors.sparkplug import NAMESPACE, REBIRTH, _fields, encode_metric, encode_payload

log = logging.getLogger("takt.connectors.sparkplug_in")

# Sparkplug B data types (sparkplug_b.proto's DataType)
_SIGNED_32 = {1: 8, 2: 16, 3: 32}  # Int8, Int16, Int32 (in int_value, two's complement of their width)
INT64, UINT64, FLOAT, DOUBLE, BOOLEAN, STRING, DATETIME, TEXT, UUID = 4, 8, 9, 10, 11, 12, 13, 14, 15
_BATCH = 1000
REBIRTH_AGAIN_S = 5.0  # after losing track, a rebirth is asked for again if no birth came within this


@dataclass
class Metric:
    """One decoded ``Payload.Metric``."""

    name: str | None = None
    alias: int | None = None
    timestamp_ms: int | None = None
    datatype: int | None = None
    historical: bool = False
    null: bool = False
    quality: int | None = None  # the Quality property
    raw: dict[int, Any] = field(default_factory=dict)  # value fields by number, decoded per data type later

    def value(self, datatype: int | None) -> Any:
        """The metric's value as its data type (from the birth when this message has none) reads it."""
        kind = self.datatype if self.datatype is not None else datatype
        raw = self.raw
        if kind in _SIGNED_32 and 10 in raw:
            bits = _SIGNED_32[kind]
            v = raw[10] & ((1 << bits) - 1)
            return v - (1 << bits) if v >> (bits - 1) else v
        if kind == INT64 and 11 in raw:
            v = raw[11] & ((1 << 64) - 1)
            return v - (1 << 64) if v >> 63 else v
        if kind == DATETIME and 11 in raw:
            return datetime.fromtimestamp(raw[11] / 1000, UTC)
        if kind == FLOAT and 12 in raw:
            return struct.unpack("<f", raw[12])[0]
        if kind == DOUBLE and 13 in raw:
            return struct.unpack("<d", raw[13])[0]
        if kind == BOOLEAN and 14 in raw:
            return bool(raw[14])
        if 15 in raw:
            return bytes(raw[15]).decode("utf-8", "replace")
        for number in (10, 11, 14):  # unsigned integers, or a value without a known data type
            if number in raw:
                return raw[number] if number != 14 else bool(raw[number])
        if 13 in raw:
            return struct.unpack("<d", raw[13])[0]
        if 12 in raw:
            return struct.unpack("<f", raw[12])[0]
        return None


@dataclass
class Payload:
    timestamp_ms: int | None
    seq: int | None
    metrics: list[Metric]


def _quality_of(properties: bytes) -> int | None:
    keys: list[str] = []
    values: list[bytes] = []
    for number, _, v in _fields(properties):
        if number == 1:
            keys.append(bytes(v).decode())
        elif number == 2:
            values.append(bytes(v))
    if "Quality" not in keys or keys.index("Quality") >= len(values):
        return None
    for number, _, v in _fields(values[keys.index("Quality")]):
        if number in (3, 4):
            return int(v) & 0xFFFFFFFF
    return None


def decode_payload(data: bytes) -> Payload:
    """A Sparkplug B payload's timestamp, seq and metrics; ``ValueError`` when it is not one."""
    timestamp = seq = None
    metrics: list[Metric] = []
    for number, _, value in _fields(data):
        if number == 1:
            timestamp = value
        elif number == 3:
            seq = value
        elif number == 2:
            m = Metric()
            for f, _, v in _fields(bytes(value)):
                if f == 1:
                    m.name = bytes(v).decode()
                elif f == 2:
                    m.alias = v
                elif f == 3:
                    m.timestamp_ms = v
                elif f == 4:
                    m.datatype = v
                elif f == 5:
                    m.historical = bool(v)
                elif f == 7:
                    m.null = bool(v)
                elif f == 9:
                    m.quality = _quality_of(bytes(v))
                elif 10 <= f <= 15:
                    m.raw[f] = v
            metrics.append(m)
    return Payload(timestamp, seq, metrics)


def _quality(code: int | None) -> Quality:
    if code is None or code >= 192:
        return "good"
    return "uncertain" if code >= 64 else "bad"


@dataclass
class _Session:
    """What the connector knows of the edge node's current session."""

    bd_seq: int | None = None
    seq: int | None = None  # the last message's
    node_born: bool = False
    lost_at: float | None = None  # time.monotonic() when the connector lost track (None: it has not)
    device_born: bool = False
    names: dict[int, str] = field(default_factory=dict)  # alias → metric name (of the births this source reads)
    types: dict[str, int] = field(default_factory=dict)  # metric name → data type


class SparkplugSourceConnector:
    """Follow one Sparkplug edge node (or one of its devices) and deliver its metrics as samples."""

    def __init__(self, config: SparkplugSource) -> None:
        self.config = config
        self.name = config.name
        self.health = Health(config.name, "sparkplug-source")
        self.session = _Session()
        self.rebirths_requested = 0
        self.gaps = 0
        self.deaths = 0
        self.historical = 0  # historical metrics received (booked at their own timestamps)
        self._tags_of: dict[str, list[str]] = {}
        for t in config.tags:
            self._tags_of.setdefault(t.metric, []).append(t.name)
        base = f"{NAMESPACE}/{config.group_id}"
        self.subscription = f"{base}/+/{config.edge_node_id}/#"
        self.ncmd_topic = f"{base}/NCMD/{config.edge_node_id}"
        self._client: mqtt.Client | None = None

    async def run_once(self, sink: Sink) -> None:
        cfg = self.config
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, bytes, datetime] | BaseException | int] = asyncio.Queue()

        def hand_over(item: tuple[str, bytes, datetime] | BaseException | int) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: the node is stopping
                loop.call_soon_threadsafe(queue.put_nowait, item)

        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=cfg.client_id or f"takt-{cfg.name}",
                             clean_session=True)
        if cfg.username is not None:
            client.username_pw_set(cfg.username, cfg.password)
        if cfg.ca_certs is not None:
            client.tls_set(ca_certs=cfg.ca_certs)

        def on_connect(c: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
            if reason.is_failure:
                hand_over(ConnectionRefusedError(f"{cfg.name}: the broker {cfg.host}:{cfg.port} refused the "
                                                 f"connection: {reason}"))
                return
            c.subscribe(self.subscription, qos=0)

        def on_subscribe(c: mqtt.Client, userdata: Any, mid: int, reasons: Any, properties: Any) -> None:
            hand_over(sum(1 for r in reasons if not r.is_failure))

        def on_message(c: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
            hand_over((msg.topic, bytes(msg.payload), datetime.now(UTC)))

        def on_disconnect(c: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
            hand_over(ConnectionError(f"{cfg.name}: lost the broker {cfg.host}:{cfg.port} ({reason})"))

        client.on_connect = on_connect
        client.on_subscribe = on_subscribe
        client.on_message = on_message
        client.on_disconnect = on_disconnect
        try:
            await asyncio.to_thread(client.connect, cfg.host, cfg.port, cfg.keepalive_s)
        except OSError as exc:
            raise ConnectionError(f"{cfg.name}: cannot reach the broker {cfg.host}:{cfg.port}: {exc}") from exc
        self._client = client
        self.session = _Session()  # a new subscription: we know nothing of the session until its births
        client.loop_start()
        try:
            while True:
                item = await queue.get()
                batch: list[Sample] = []
                while True:
                    if isinstance(item, BaseException):
                        if batch:
                            self.health.saw(batch)
                            await sink(batch)
                        raise item
                    if isinstance(item, int):
                        self.health.connected = True
                        self.health.connects += 1
                        self.health.last_error = None
                        if item:  # subscribed: ask for births, the session may be running already
                            self.request_rebirth("the connector subscribed")
                    else:
                        batch.extend(self.receive(*item))
                    if len(batch) >= _BATCH or queue.empty():
                        break
                    item = queue.get_nowait()
                if batch:
                    self.health.saw(batch)
                    await sink(batch)
        finally:
            self.health.connected = False
            self._client = None
            client.on_disconnect = None
            client.disconnect()
            await asyncio.to_thread(client.loop_stop)

    # --- the session -------------------------------------------------------------------------------

    def request_rebirth(self, why: str) -> None:
        """Publish NCMD ``Node Control/Rebirth`` = true to the edge node."""
        if self._client is None:
            return
        self.rebirths_requested += 1
        log.info("%s: asking %s for a rebirth (%s)", self.name, self.config.edge_node_id, why)
        metric = encode_metric(name=REBIRTH, datatype=BOOLEAN, value=True)
        self._client.publish(self.ncmd_topic, encode_payload([metric], timestamp_ms=_now_ms(), seq=None), qos=0)

    def stale(self, when: datetime, why: str) -> list[Sample]:
        """Every tag of this source as bad: its last value is no longer known to be current."""
        return [Sample(self.name, t.name, None, "bad", when, f"stale: {why}") for t in self.config.tags]

    def _lost_track(self, when: datetime, why: str) -> list[Sample]:
        """Values stale and a rebirth asked for, once: until the births come, later data is only dropped (and
        the rebirth asked for again if none came within ``REBIRTH_AGAIN_S``)."""
        s = self.session
        s.node_born = s.device_born = False
        s.seq = None
        now = time.monotonic()
        if s.lost_at is not None:
            if now - s.lost_at >= REBIRTH_AGAIN_S:
                s.lost_at = now
                self.request_rebirth(f"still no birth: {why}")
            return []
        s.lost_at = now
        self.request_rebirth(why)
        return self.stale(when, why)

    def receive(self, topic: str, data: bytes, received: datetime) -> list[Sample]:
        """The samples of one message on ``topic`` (and the session's bookkeeping)."""
        parts = topic.split("/")
        if len(parts) < 4:
            return []
        kind, device = parts[2], (parts[4] if len(parts) > 4 else None)
        mine = device == self.config.device_id  # None: the node's own metrics are this source's
        if kind == "NCMD" or kind == "DCMD" or kind == "STATE":
            return []
        try:
            payload = decode_payload(data)
        except ValueError as exc:
            self.health.bad_values += 1
            self.health.last_error = f"{topic}: not a Sparkplug B payload ({exc})"
            return []
        s = self.session
        if kind == "NDEATH":
            bd_seq = next((m.value(INT64) for m in payload.metrics if m.name == "bdSeq"), None)
            if s.bd_seq is not None and bd_seq is not None and bd_seq != s.bd_seq:
                return []  # the will of an older session
            self.deaths += 1
            s.node_born = s.device_born = False
            s.seq = None
            return self.stale(received, f"the edge node {self.config.edge_node_id} died (NDEATH)")
        if kind == "NBIRTH":
            s.bd_seq = next((m.value(INT64) for m in payload.metrics if m.name == "bdSeq"), None)
            s.seq = payload.seq
            s.node_born = True
            s.lost_at = None
            s.device_born = False
            s.names.clear()
            s.types.clear()
            return self._birth(payload, received) if mine else []
        if not s.node_born or s.seq is None or payload.seq is None:
            return self._lost_track(received, f"{kind} before the edge node's birth")
        if payload.seq != (s.seq + 1) % 256:
            self.gaps += 1
            return self._lost_track(received, f"seq {payload.seq} after {s.seq}: messages were lost")
        s.seq = payload.seq
        if not mine:
            return []
        if kind in ("DBIRTH",):
            s.device_born = True
            return self._birth(payload, received)
        if kind == "DDEATH":
            s.device_born = False
            return self.stale(received, f"the device {device} died (DDEATH)")
        if kind in ("NDATA", "DDATA"):
            if device is not None and not s.device_born:
                return self._lost_track(received, f"DDATA of {device} before its birth")
            return self._data(payload, received)
        return []

    def _birth(self, payload: Payload, received: datetime) -> list[Sample]:
        s = self.session
        refused = self.health.refused_tags
        for m in payload.metrics:
            if m.name is None:
                continue
            if m.alias is not None:
                s.names[m.alias] = m.name
            if m.datatype is not None:
                s.types[m.name] = m.datatype
        where = self.config.device_id or self.config.edge_node_id
        for t in self.config.tags:
            if t.metric in s.types:
                refused.pop(t.name, None)
            else:
                refused[t.name] = f"metric {t.metric!r} is not in the birth certificate of {where}"
        return self._data(payload, received)

    def _data(self, payload: Payload, received: datetime) -> list[Sample]:
        s = self.session
        samples: list[Sample] = []
        for m in payload.metrics:
            name = m.name if m.name is not None else s.names.get(m.alias) if m.alias is not None else None
            if name is None:
                return samples + self._lost_track(received, f"metric alias {m.alias} is not in the birth")
            tags = self._tags_of.get(name)
            if not tags:
                continue
            stamp = m.timestamp_ms if m.timestamp_ms is not None else payload.timestamp_ms
            when = datetime.fromtimestamp(stamp / 1000, UTC) if stamp is not None else received
            quality = _quality(m.quality)
            value = None if m.null else m.value(s.types.get(name))
            detail = None
            if value is None:
                quality, detail = "bad", "null value"
            elif quality != "good":
                detail = f"Sparkplug quality {m.quality}"
            if m.historical:
                self.historical += 1
            for tag in tags:
                samples.append(Sample(self.name, tag, value, quality, when, detail))
        return samples


def _now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)
