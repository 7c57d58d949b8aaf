"""Rockwell Logix client connector (pylogix, EtherNet/IP CIP): tags by name, a poll group's tags in multi-service reads.

Each poll group is read on its own fixed-rate schedule (a late cycle is skipped, never bunched up), as the Modbus
and S7 connectors do. A group's tags go to the controller in one call: pylogix packs them into Multiple Service
Packet requests as many as the connection's size holds (an array read with ``elements`` > 1 is a request of
its own); a Micro800 has no multi-service request, so there each tag is one request.

A tag the controller does not know (a typo, a tag of another program, a member a UDT does not have) is refused
by the controller with a CIP status; it is reported as bad quality with that status by name and listed in the
health's refused tags, and the other tags are read on. A read that finds the connection gone (the controller
restarted, the cable pulled) ends the run, and the supervisor reconnects after its backoff.

pylogix is synchronous: its calls run in a worker thread, one at a time per controller (its connection carries
one request at a time), so the event loop never waits on the network.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pylogix import PLC

from connectors.base import Health, Sample, Sink, WrittenValue, as_number, run_poll_groups
from connectors.config import LogixController, LogixPollGroup, LogixTag

log = logging.getLogger("takt.connectors.logix")

#: CIP statuses that mean the controller has no such tag (or element, or member): the configuration is wrong.
UNKNOWN_TAG = frozenset({"Path segment error", "Path destination unknown", "Object does not exist",
                         "Attribute not supported", "Invalid parameter"})
#: Statuses pylogix gives when the connection itself failed.
LINK_LOST = frozenset({"Connection failure", "Connection lost"})


def refusal(tag: LogixTag, status: str) -> str:
    """Why the controller refused ``tag``, in the plant's words."""
    if status in UNKNOWN_TAG:
        return (f"{tag.tag}: the controller has no such tag ({status}); check its name, its program scope "
                f"(Program:<name>.<tag>), its members and array bounds")
    return f"{tag.tag}: the controller refused it ({status})"


class LogixConnector:
    """Poll the configured tags of one Logix controller as samples."""

    def __init__(self, config: LogixController) -> None:
        self.config = config
        self.name = config.name
        self.health = Health(config.name, "logix")
        self.requests = 0  # calls into pylogix, one per group and cycle (each one or more CIP requests)
        self.cycles = 0
        self.late_cycles = 0
        self._lock = asyncio.Lock()
        self._reads = [[t.tag if t.elements == 1 else (t.tag, t.elements) for t in g.tags] for g in config.groups]
        self._plc_now: PLC | None = None  # the live connection, for setpoint writes
        self._tags = {t.name: t for g in config.groups for t in g.tags}

    def _plc(self) -> PLC:
        cfg = self.config
        plc = PLC(cfg.host, slot=cfg.slot, timeout=cfg.timeout_s, Micro800=cfg.micro800, port=cfg.port)
        if cfg.connection_size is not None:
            plc.ConnectionSize = cfg.connection_size
        return plc

    async def run_once(self, sink: Sink) -> None:
        cfg = self.config
        plc = self._plc()
        try:
            ok, status = await asyncio.to_thread(plc.conn.connect)  # connected messaging, as its reads use
            if not ok:
                raise ConnectionError(f"cannot connect to {cfg.address}: {status}")
            self.health.connected = True
            self.health.connects += 1
            self.health.last_error = None
            self._plc_now = plc
            await run_poll_groups([self._poll(plc, group, reads, sink)
                                   for group, reads in zip(cfg.groups, self._reads, strict=True)])
        finally:
            self._plc_now = None
            self.health.connected = False
            with contextlib.suppress(Exception):
                await asyncio.to_thread(plc.Close)

    async def write_setpoints(self, values: Sequence[tuple[str, Any]]) -> list[WrittenValue]:
        """Write each (tag, value) by name on the live connection (pylogix learns each tag's type from the
        controller), then read them all back in one multi-service read. A status other than Success is that tag's
        refusal, by name; the others are written on."""
        plc = self._plc_now
        if plc is None or not self.health.connected:
            raise ConnectionError(f"logix {self.name} is not connected")
        tags = [self._tags[name] for name, _ in values]
        writes = [(t.tag, as_number(value)) for t, (_, value) in zip(tags, values, strict=True)]

        def write_then_read() -> tuple[list[Any], list[Any]]:
            return [plc.Write(tag, value) for tag, value in writes], plc.Read([t.tag for t in tags])

        async with self._lock:
            written, answers = await asyncio.to_thread(write_then_read)
        if not plc.conn.SocketConnected:
            raise ConnectionError(f"{self.config.address}: connection lost during the write")
        out = []
        for tag, (name, _), w, r in zip(tags, values, written, answers, strict=True):
            error = None if w.Status == "Success" else refusal(tag, str(w.Status))
            out.append(WrittenValue(name, error is None, r.Value if r.Status == "Success" else None, error))
        return out

    async def _poll(self, plc: PLC, group: LogixPollGroup, reads: list[Any], sink: Sink) -> None:
        loop = asyncio.get_running_loop()
        interval = group.interval_ms / 1000
        next_at = loop.time()
        while True:
            self.cycles += 1
            batch = await self._read(plc, group.tags, reads)
            self.health.saw(batch)
            await sink(batch)
            next_at += interval
            now = loop.time()
            if now > next_at:
                self.late_cycles += 1
                next_at += interval * ((now - next_at) // interval + 1)
            await asyncio.sleep(next_at - now)

    async def _read(self, plc: PLC, tags: Sequence[LogixTag], reads: list[Any]) -> list[Sample]:
        async with self._lock:
            self.requests += 1
            self.health.reads += 1
            answers = await asyncio.to_thread(plc.Read, reads)
        when = datetime.now(UTC)
        if not plc.conn.SocketConnected or (answers and all(a.Status in LINK_LOST for a in answers)):
            self.health.failed_reads += 1
            status = answers[0].Status if answers else "no answer"
            raise ConnectionError(f"{self.config.address}: {status}")
        name = self.name
        refused = self.health.refused_tags
        samples: list[Sample] = []
        failed = False
        for tag, answer in zip(tags, answers, strict=True):
            status = answer.Status
            if status == "Success":
                samples.append(Sample(name, tag.name, answer.Value, "good", when))
                if tag.name in refused:
                    del refused[tag.name]
                continue
            failed = True
            why = refusal(tag, str(status))
            if status in UNKNOWN_TAG:
                refused[tag.name] = why
            samples.append(Sample(name, tag.name, None, "bad", when, why))
        if failed:
            self.health.failed_reads += 1
        return samples
