"""MQTT publisher (paho-mqtt 2): machine values and recorded events into a unified namespace, QoS 1, buffered on
disk while the broker is unreachable.

Topics: ``<enterprise>/<site>/<area>/<line>/<workstation>/<equipment>/<tag>`` for machine values and
``<enterprise>/<site>/<area>/<line>/events/<event type>`` for events the node recorded. Payloads are JSON:
``{"value": ..., "quality": "good", "timestamp": "2026-...Z", "historical": false}``.

Nothing is dropped: a message is kept in a SQLite file until the broker acknowledged it (PUBACK). While the broker
is unreachable new messages go to that file; when it is back they are sent in order, flagged ``historical: true``.
paho runs its network loop in its own thread (``loop_start``); this class guards its state with a lock.
"""
from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from connectors.base import Health, Sample

log = logging.getLogger("takt.connectors.mqtt")


@dataclass(frozen=True)
class Namespace:
    """Where this node sits in the unified namespace, and which workstation each device's machine is on."""

    enterprise: str
    site: str
    area: str
    line: str
    workstations: dict[str, tuple[str, str]]  # device → (workstation, equipment)

    def tag_topic(self, device: str, tag: str) -> str:
        workstation, equipment = self.workstations.get(device, ("unassigned", device))
        return f"{self.base}/{workstation}/{equipment}/{_level(tag)}"

    def event_topic(self, event_type: str) -> str:
        return f"{self.base}/events/{event_type}"

    @property
    def base(self) -> str:
        return "/".join(_level(p) for p in (self.enterprise, self.site, self.area, self.line))


def _level(name: str) -> str:
    """A topic level: no separators or wildcards inside it."""
    return name.replace("/", "_").replace("+", "_").replace("#", "_").replace("$", "_") or "_"


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


class MqttPublisher:
    """Publish samples (it is a connector sink) and event summaries to a broker, with a disk buffer."""

    def __init__(self, namespace: Namespace, *, host: str, port: int = 1883, buffer_file: str | Path,
                 client_id: str = "takt-edge", username: str | None = None, password: str | None = None,
                 ca_certs: str | None = None, keepalive: int = 30) -> None:
        self.namespace = namespace
        self.host, self.port, self.keepalive = host, port, keepalive
        self.health = Health(f"mqtt:{host}:{port}", "mqtt")
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(buffer_file), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL,"
                         " payload TEXT NOT NULL)")
        self._inflight: dict[int, tuple[str, str, int | None]] = {}  # mid → (topic, payload, outbox id)
        # Acknowledgements handed over by paho's thread. paho calls on_publish while it holds its own lock, and
        # publish() calls paho while holding ours: waiting for ours there deadlocked the two threads. So the ack is
        # queued and settled by whichever thread holds our lock next (see _on_publish and _settle_pending).
        self._acks: deque[int] = deque()
        self._draining = False
        self.published = 0  # acknowledged by the broker
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
        if username is not None:
            client.username_pw_set(username, password)
        if ca_certs is not None:
            client.tls_set(ca_certs=ca_certs)
        client.reconnect_delay_set(min_delay=1, max_delay=5)
        client.max_inflight_messages_set(1000)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        self._client = client

    # --- life cycle -----------------------------------------------------------------------------

    def start(self) -> None:
        self._client.connect_async(self.host, self.port, self.keepalive)
        self._client.loop_start()

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
        with self._held():
            self._buffer_inflight()
            self._db.close()

    @property
    def buffered(self) -> int:
        with self._held():
            return int(self._db.execute("SELECT count(*) FROM outbox").fetchone()[0])

    # --- publishing ------------------------------------------------------------------------------

    async def __call__(self, batch: Sequence[Sample]) -> None:
        """Sink for connectors: each sample to its machine's topic."""
        for s in batch:
            self.publish(self.namespace.tag_topic(s.device, s.tag), {
                "value": s.value, "quality": s.quality, "timestamp": s.source_time, "detail": s.detail})

    def publish_events(self, events: Sequence[dict[str, Any]]) -> None:
        """``Service.on_recorded`` listener: each recorded event's summary (seq, type, subject)."""
        for ev in events:
            self.publish(self.namespace.event_topic(str(ev["type"])), {
                "seq": ev["seq"], "type": ev["type"], "subject": ev["subject"], "timestamp": datetime.now(UTC)})

    def publish(self, topic: str, message: dict[str, Any]) -> None:
        with self._held():
            if self._client.is_connected() and not self._draining:
                self._send(topic, json.dumps({**message, "historical": False}, default=_json_default), None)
            else:  # the broker is away (or older messages go first): keep it on disk, send it later
                payload = json.dumps({**message, "historical": True}, default=_json_default)
                self._db.execute("INSERT INTO outbox (topic, payload) VALUES (?, ?)", (topic, payload))
            self._settle_acks()

    def _send(self, topic: str, payload: str, outbox_id: int | None) -> None:
        info = self._client.publish(topic, payload, qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            if outbox_id is None:
                historical = payload.replace('"historical": false', '"historical": true')
                self._db.execute("INSERT INTO outbox (topic, payload) VALUES (?, ?)", (topic, historical))
            return
        self._inflight[info.mid] = (topic, payload, outbox_id)

    # --- paho callbacks (paho's thread) ----------------------------------------------------------

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            self.health.last_error = f"broker refused: {reason}"
            log.warning("MQTT broker %s:%d refused the connection: %s", self.host, self.port, reason)
            return
        with self._held():
            self.health.connected = True
            self.health.connects += 1
            self.health.last_error = None
            self._draining = True
            self._drain()

    def _drain(self) -> None:
        """Send buffered messages in order (a batch at a time; the rest as acknowledgements come in)."""
        waiting = {oid for (_, _, oid) in self._inflight.values() if oid is not None}
        rows = self._db.execute("SELECT id, topic, payload FROM outbox ORDER BY id LIMIT 500").fetchall()
        rows = [r for r in rows if r[0] not in waiting]
        for oid, topic, payload in rows:
            self._send(topic, payload, oid)
        if not rows and not waiting:
            self._draining = False

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        with self._held():
            self.health.connected = False
            self._draining = False
            self._buffer_inflight()
        if reason is not None and getattr(reason, "is_failure", False):
            self.health.last_error = f"disconnected: {reason}"

    def _buffer_inflight(self) -> None:
        """Unacknowledged messages go (back) to the disk buffer: sent again, flagged historical."""
        for topic, payload, oid in self._inflight.values():
            if oid is None:
                historical = payload.replace('"historical": false', '"historical": true')
                self._db.execute("INSERT INTO outbox (topic, payload) VALUES (?, ?)", (topic, historical))
        self._inflight.clear()

    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int, reason: Any, properties: Any) -> None:
        # paho holds its own lock here: never wait for ours (a publish() holding ours waits for paho's). Queue the
        # ack, then settle it now if our lock is free; else its holder settles it as it lets go (_settle_pending).
        self._acks.append(mid)
        self._settle_pending()

    @contextmanager
    def _held(self) -> Iterator[None]:
        """Our lock, and on letting go the acks paho queued meanwhile settled. Every holder lets go through here:
        an ack queued while the lock was held (even by a mere read such as ``buffered``) is never left behind, which
        once stalled a drain for good when the last ack of a batch came in while a reader held the lock."""
        with self._lock:
            yield
        self._settle_pending()

    def _settle_pending(self) -> None:
        """Settle queued acks if nobody holds our lock. Whoever lets go of the lock calls this after, and paho's
        thread calls it after queueing, so an ack queued while the lock was held is never left behind."""
        while self._acks and self._lock.acquire(blocking=False):
            try:
                self._settle_acks()
            finally:
                self._lock.release()

    def _settle_acks(self) -> None:
        """With our lock held: each acknowledged message is delivered; its buffered copy goes, and the drain goes on."""
        while self._acks:
            mid = self._acks.popleft()
            sent = self._inflight.pop(mid, None)
            if sent is None:
                continue
            self.published += 1
            self.health.values += 1
            if sent[2] is not None:
                self._db.execute("DELETE FROM outbox WHERE id = ?", (sent[2],))
                if self._draining and not any(oid is not None for (_, _, oid) in self._inflight.values()):
                    self._drain()
