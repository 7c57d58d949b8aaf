"""Machine-measured inspections: process values fed to quality characteristics.

For each machine's ``inspections`` rule, every ``every_s`` the latest good value of each mapped process value is
recorded as an inspection of the rule's plan through the one write path (``RecordInspection``), on the operation
in progress at the machine's workstation if there is one. The domain decides the verdict against the plan's
limits (and raises a nonconformance when the plan says so), exactly as for an inspector's measurements.

A characteristic whose value is missing, bad or older than two intervals skips that round (logged, counted): an
inspection is never recorded with a stale or invented value. The idempotency key is machine + plan + the round
(time // every_s), so a restart inside a round does not record it twice.
"""
from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from connectors.config import MachineInspection, MachineSignals
from connectors.process_values import ProcessValueLog
from edge.domain import DomainError
from edge.domain import commands as c
from edge.service import Service

log = logging.getLogger("takt.connectors.inspections")


@dataclass
class InspectionStats:
    recorded: int = 0
    nonconformances: int = 0
    skipped: int = 0  # rounds without a fresh good value for every characteristic
    refused: int = 0
    last_error: str | None = None
    refusals: dict[str, int] = field(default_factory=dict)


class MachineInspector:
    """Records the machines' measured inspections from ``values`` (the node's process-value log)."""

    def __init__(self, service: Service, values: ProcessValueLog, machines: Sequence[MachineSignals],
                 operation_of: Callable[[str], Awaitable[tuple[str, int] | None]]) -> None:
        self.service = service
        self.values = values
        self.rules = [(m, rule) for m in machines for rule in m.inspections]
        self.operation_of = operation_of
        self.stats = InspectionStats()
        self._done: set[tuple[str, str, int]] = set()

    def __bool__(self) -> bool:
        return bool(self.rules)

    async def run(self) -> None:
        """Inspect each rule once per its interval until cancelled."""
        if not self.rules:
            return
        tick = min(rule.every_s for _, rule in self.rules) / 4
        while True:
            await asyncio.sleep(tick)
            now = datetime.now(UTC)
            for machine, rule in self.rules:
                slot = math.floor(now.timestamp() / rule.every_s)
                key = (machine.equipment, rule.plan, slot)
                if key in self._done:
                    continue
                self._done = {k for k in self._done if k[2] >= slot - 1}
                self._done.add(key)
                try:
                    await self.inspect(machine, rule, now, slot)
                except Exception as exc:  # never stop the node's inspections for one bad round
                    self.stats.last_error = f"{type(exc).__name__}: {exc}"
                    log.warning("inspection %s of %s not recorded: %s", rule.plan, machine.equipment,
                                self.stats.last_error)

    def measurements(self, machine: MachineSignals, rule: MachineInspection,
                     now: datetime) -> tuple[c.Measurement, ...] | str:
        """The round's measurements, or why there are none."""
        found: list[c.Measurement] = []
        for characteristic, series in sorted(rule.characteristics.items()):
            latest = self.values.latest.get((machine.equipment, series))
            if latest is None:
                return f"no value of {series} yet"
            value, quality, at = latest
            if quality != "good" or not isinstance(value, int | float) or isinstance(value, bool):
                return f"{series} is {quality} ({value!r})"
            if (now - at).total_seconds() > 2 * rule.every_s:
                return f"{series} is stale (from {at.isoformat()})"
            found.append(c.Measurement(characteristic=characteristic, value=Decimal(repr(float(value)))))
        return tuple(found)

    async def inspect(self, machine: MachineSignals, rule: MachineInspection, now: datetime, slot: int) -> None:
        measured = self.measurements(machine, rule, now)
        if isinstance(measured, str):
            self.stats.skipped += 1
            log.info("inspection %s of %s skipped: %s", rule.plan, machine.equipment, measured)
            return
        operation = await self.operation_of(machine.equipment)
        stamp = now.strftime("%Y%m%dT%H%M%SZ")
        cmd = c.RecordInspection(
            idempotency_key=f"inspect:{machine.equipment}:{rule.plan}:{slot}", actor=f"plc:{machine.device}",
            actor_roles=frozenset({"service"}), source_device=machine.device, occurred_at=now,
            inspection=f"{machine.equipment}-{rule.plan}-{stamp}", plan=rule.plan, measurements=measured,
            work_order=operation[0] if operation else None, operation=operation[1] if operation else None)
        try:
            recorded = await self.service.execute(cmd)
        except DomainError as err:
            self.stats.refused += 1
            self.stats.refusals[err.code] = self.stats.refusals.get(err.code, 0) + 1
            self.stats.last_error = f"{err.code}: {err.message}"
            log.warning("inspection %s of %s refused (%s): %s", rule.plan, machine.equipment, err.code, err.message)
            return
        self.stats.recorded += 1
        if any(ev.get("type") == "NonconformanceRaised" for ev in recorded.events):
            self.stats.nonconformances += 1  # the verdict failed and the plan raises an NCR for it
