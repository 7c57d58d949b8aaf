"""What every connector shares: samples with quality and source time, health, and supervision with backoff.

A connector turns a device into ``Sample`` batches handed to a sink (the signal mapping, the MQTT publisher,
a test). ``supervise`` runs a connector's ``run_once`` (connect, stream until the link fails) over and over with
exponential backoff, so a dead PLC costs a sleeping task, never a busy loop and never the other connectors.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, NamedTuple, Protocol

from edge.backoff import Backoff as Backoff  # re-exported: connectors and their tests use it from here

Quality = Literal["good", "uncertain", "bad"]

# The tag a connector reports on each (re)connection: the server's start time (OPC UA ServerStatus.StartTime).
# A new start time means the device restarted, so its counters count from 0 again.
SERVER_START = "$server_start"

log = logging.getLogger("takt.connectors")


class Sample(NamedTuple):
    """One value of one tag as the device reported it. ``value`` is None when the device gave none (bad).

    A named tuple: immutable and made several times faster than a frozen dataclass (connectors make many)."""

    device: str  # the connector's name, e.g. the PLC
    tag: str  # the tag's configured name
    value: Any
    quality: Quality
    source_time: datetime  # when the device measured it (OPC UA SourceTimestamp; Modbus: when the poll answered)
    detail: str | None = None  # status code name or error, when not good


Sink = Callable[[Sequence[Sample]], Awaitable[None]]


class WrittenValue(NamedTuple):
    """What a device did with one setpoint: whether it took the write (``error`` says why not), and the value
    read back after all the writes (None when it could not be read)."""

    tag: str
    written: bool
    read_back: Any
    error: str | None = None


class SetpointWriter(Protocol):
    """A connector that writes setpoints: every value, then reads all of them back, on its live connection;
    raises ConnectionError when it is not connected."""

    name: str

    async def write_setpoints(self, values: Sequence[tuple[str, Any]]) -> list[WrittenValue]:
        """Write each (tag name, value), then read every one of them back."""


def as_number(value: Any) -> Any:
    """A setpoint's value for a device: an int when it is whole, else a float (Decimal and text as given)."""
    number = float(value)
    return int(number) if number.is_integer() and abs(number) < 2**63 else number


@dataclass
class Health:
    """What the node shows about a connector (``/health``, ``/metrics``, ``takt`` status)."""

    name: str
    kind: str
    connected: bool = False
    connects: int = 0  # successful connections, the first included
    restarts: int = 0  # runs that ended in an error and were started again
    values: int = 0  # samples delivered
    bad_values: int = 0  # samples with bad quality (exception responses, bad status codes, garbled frames)
    reads: int = 0  # requests for values: Modbus read requests, OPC UA polled reads (subscriptions push instead)
    failed_reads: int = 0  # reads that got no usable answer (timeouts, exception responses, garbled frames)
    last_value_at: float | None = None  # time.monotonic() of the last sample
    last_error: str | None = None
    refused_tags: dict[str, str] = field(default_factory=dict)  # tag → why it is not monitored/read
    started_at: float = field(default_factory=time.monotonic)

    @property
    def reconnects(self) -> int:
        return max(0, self.connects - 1)

    def saw(self, samples: Sequence[Sample]) -> None:
        if samples:
            self.values += len(samples)
            self.bad_values += sum(1 for s in samples if s.quality == "bad")
            self.last_value_at = time.monotonic()

    def as_dict(self) -> dict[str, Any]:
        now = time.monotonic()
        uptime = max(now - self.started_at, 1e-9)
        return {
            "name": self.name, "kind": self.kind, "connected": self.connected, "reconnects": self.reconnects,
            "restarts": self.restarts, "values": self.values, "bad_values": self.bad_values,
            "values_per_s": round(self.values / uptime, 1),
            "last_value_age_s": None if self.last_value_at is None else round(now - self.last_value_at, 3),
            "last_error": self.last_error, "refused_tags": dict(self.refused_tags),
        }


class Connector(Protocol):
    name: str
    health: Health

    async def run_once(self, sink: Sink) -> None:
        """Connect and deliver samples until the link fails (raise) or the task is cancelled."""


async def supervise(connector: Connector, sink: Sink, backoff: Backoff | None = None) -> None:
    """Run ``connector`` until cancelled: after each failure wait (backoff) and start it again.

    The backoff starts over once a run got connected, so a server that comes back is reconnected to within
    ``initial`` seconds of the next attempt, and a server that stays down is asked at most every ``maximum``."""
    backoff = backoff or Backoff()
    health = connector.health
    while True:
        connects = health.connects
        try:
            await connector.run_once(sink)
            health.last_error = "the connection ended"
        except asyncio.CancelledError:
            health.connected = False
            raise
        except Exception as exc:  # a connector must never take the node down: note it, wait, try again
            health.last_error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            log.warning("%s %s: %s; retrying", health.kind, connector.name, health.last_error,
                        extra={"connector": connector.name, "error": health.last_error})
        health.connected = False
        this = asyncio.current_task()
        if this is not None and this.cancelling():  # a library swallowed our cancellation: stop anyway
            raise asyncio.CancelledError
        health.restarts += 1
        if health.connects > connects:
            backoff.reset()
        await asyncio.sleep(backoff.next())


async def run_poll_groups(polls: Sequence[Awaitable[None]]) -> None:
    """Run a connection's poll groups together until the first one fails (its failure is raised: the link is down),
    then stop the others. A poll is asked again each second to stop, because a client library may swallow a
    cancellation that lands while it waits for an answer (pymodbus does)."""
    tasks = [asyncio.ensure_future(poll) for poll in polls]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for t in done:
            failure = t.exception()
            if failure is not None:
                raise failure
    finally:
        for t in tasks:
            t.cancel()
        pending = set(tasks)
        while pending:
            _, pending = await asyncio.wait(pending, timeout=1.0)
            for t in pending:
                t.cancel()
        for t in tasks:
            with contextlib.suppress(BaseException):
                t.result()
