"""MQTT subscriber connector (paho-mqtt 2): a device that publishes its values on a broker is a signal source.

Each configured tag is a topic filter; every message on a matching topic is one sample of that tag. Payloads are
JSON: ``{"value": 21.5, "quality": "good", "timestamp": "2026-11-26T01:00:00Z"}`` (quality and timestamp may be
left out: good, and the time the node received it; a timestamp may also be epoch milliseconds), or a bare JSON
value. A payload that is not JSON, has no value, or has an unknown quality or a timestamp that cannot be read is
a bad-quality sample that says why, never a crash.

Subscriptions are QoS 1 on a clean session: after a broker restart the connector subscribes again, and a retained
message gives each tag its last value at once. paho runs its network loop in its own thread; messages are handed
to the node's event loop and delivered to the sink in batches. A link that fails ends the run and the supervisor
reconnects after a backoff (paho's own reconnect loop is not used), as for the other connectors.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from connectors.base import Health, Quality, Sample, Sink
from connectors.config import MqttSource

log = logging.getLogger("takt.connectors.mqtt_source")

_QUALITIES: dict[str, Quality] = {"good": "good", "uncertain": "uncertain", "bad": "bad"}
_BATCH = 1000


def parse_payload(device: str, tag: str, payload: bytes, received: datetime) -> Sample:
    """One message's sample: its value, quality and source time, or bad quality saying what is wrong."""
    try:
        body = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return Sample(device, tag, None, "bad", received, "payload is not JSON")
    if not isinstance(body, dict):
        if body is None:
            return Sample(device, tag, None, "bad", received, "payload is null")
        return Sample(device, tag, body, "good", received)
    if "value" not in body:
        return Sample(device, tag, None, "bad", received, "payload has no value")
    quality_text = body.get("quality", "good")
    quality = _QUALITIES.get(str(quality_text).lower()) if quality_text is not None else "good"
    if quality is None:
        return Sample(device, tag, None, "bad", received, f"unknown quality {quality_text!r}")
    when = received
    stamp = body.get("timestamp")
    if stamp is not None:
        try:
            when = _time(stamp)
        except (ValueError, TypeError, OverflowError, OSError):
            return Sample(device, tag, None, "bad", received, f"unreadable timestamp {stamp!r}")
    value = body["value"]
    if value is None and quality == "good":
        return Sample(device, tag, None, "bad", when, "value is null")
    detail = body.get("detail") if quality != "good" else None
    return Sample(device, tag, value, quality, when, str(detail) if detail is not None else None)


def _time(stamp: Any) -> datetime:
    if isinstance(stamp, bool):
        raise TypeError("a timestamp is not a boolean")
    if isinstance(stamp, int | float):
        return datetime.fromtimestamp(stamp / 1000, UTC)
    when = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


class MqttSourceConnector:
    """Subscribe to the configured topics of one broker and deliver their messages as samples."""

    def __init__(self, config: MqttSource) -> None:
        self.config = config
        self.name = config.name
        self.health = Health(config.name, "mqtt-source")
        self.subscribed = 0  # topic filters the broker granted in the current session

    def tags_of(self, topic: str) -> list[str]:
        return [t.name for t in self.config.tags if mqtt.topic_matches_sub(t.topic, topic)]

    async def run_once(self, sink: Sink) -> None:
        cfg = self.config
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Sample | BaseException | int] = asyncio.Queue()  # int: topic filters granted

        def hand_over(item: Sample | BaseException | int) -> None:  # paho's thread → the node's loop
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
            c.subscribe([(t.topic, 1) for t in cfg.tags])

        def on_subscribe(c: mqtt.Client, userdata: Any, mid: int, reasons: Any, properties: Any) -> None:
            hand_over(sum(1 for r in reasons if not r.is_failure))

        def on_message(c: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
            received = datetime.now(UTC)
            for tag in self.tags_of(msg.topic):
                hand_over(parse_payload(cfg.name, tag, bytes(msg.payload), received))

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
                    if isinstance(item, int):  # subscribed: connected, whether or not anything is published
                        self.subscribed = item
                        self.health.connected = True
                        self.health.connects += 1
                        self.health.last_error = None
                    else:
                        batch.append(item)
                    if len(batch) >= _BATCH or queue.empty():
                        break
                    item = queue.get_nowait()
                if batch:
                    self.health.saw(batch)
                    await sink(batch)
        finally:
            self.health.connected = False
            client.on_disconnect = None
            client.disconnect()
            await asyncio.to_thread(client.loop_stop)
