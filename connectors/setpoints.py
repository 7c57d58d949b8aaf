"""Setpoints and recipes down to the machine: download an operation's parameters with read-back, and watch for variance.

A download (an explicit changeover step, or at operation start) takes the operation's parameters (the work order's
own, from the ERP or B2MML ProductionParameter, over the site's recipe for the item, revision and operation), maps
each to a setpoint tag of a machine at the operation's workstation (``connectivity.machines[].setpoints``), checks
everything that can be checked before a single value is written (the caller's role as the site allows, the
machine not running where the site says so, writable tags, limits: ``edge.domain.contexts.machines
.check_setpoints``), then writes through the connector that owns the tags, reads every value back, and records
``DownloadSetpoints`` through the one write path: its decider refuses a write the PLC refused, a value not read back
and a read-back that differs, with the parameter named, and records nothing then.

While the operation runs, a setpoint tag's value seen on the machine that differs from the value downloaded (beyond
its tolerance) is recorded as ``RecordSetpointVariance``, once per new value: who changed it and when is not known
on the machine side, so the event is flagged.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.base import Sample, SetpointWriter, WrittenValue
from connectors.config import MachineSignals
from edge.domain import DomainError
from edge.domain import commands as c
from edge.domain.contexts.machines import FLOAT_PRECISION, check_setpoints
from edge.domain.errors import invalid
from edge.domain.state import PlantState
from edge.service import Recorded, Service
from edge.store import Store
from edge.store.reads import events_of_subject, operation_in_progress

log = logging.getLogger("takt.connectors.setpoints")

# (item, revision, operation) → the recipe's parameters (ID → value); the site file's recipes
Recipes = Callable[[str, str, int], Mapping[str, Decimal]]


def _decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(str(int(value) if isinstance(value, bool) else value))
    except (InvalidOperation, ValueError, TypeError):
        return None
    return number if number.is_finite() else None


@dataclass
class _Active:
    """The setpoints downloaded for the operation at a machine: what variance is measured against."""

    work_order: str
    operation: int
    at: datetime
    values: dict[str, tuple[str, Decimal, Decimal]]  # tag → (parameter, written, tolerance)
    reported: dict[str, Decimal] = field(default_factory=dict)  # tag → the variance value recorded last


class SetpointDownloads:
    """Downloads to and variance watching of the site's machines with setpoints."""

    def __init__(self, service: Service, store: Store, machines: Sequence[MachineSignals],
                 writers: Mapping[str, SetpointWriter], recipes: Recipes | None = None) -> None:
        self.service = service
        self.store = store
        self.machines = {m.equipment: m for m in machines if m.setpoints is not None}
        self.writers = writers
        self.recipes = recipes
        self.watched: dict[tuple[str, str], list[str]] = {}  # (device, tag) → equipment
        for m in self.machines.values():
            assert m.setpoints is not None
            for sp in m.setpoints.tags:
                self.watched.setdefault((m.device, sp.tag), []).append(m.equipment)
        self.active: dict[str, _Active] = {}
        self._loaded = False
        self.variances = 0
        self.downloads = 0
        self.last_error: str | None = None

    async def at_start(self, state: PlantState, work_order: str, operation: int) -> bool:
        """Whether starting this operation downloads setpoints first: a machine at its workstation takes some of
        its parameters at start (``at_start``), and none were downloaded for the operation yet (at a changeover
        step, also before a restart of the node: the journal says)."""
        op = state.operations.get((work_order, operation))
        if op is None:
            return False
        wanted = set()
        for m in self._machines_at(state, op.workstation):
            assert m.setpoints is not None
            try:
                values = self._values(state, m, work_order, operation)
            except DomainError:
                return True  # the download refuses it, naming the parameter
            if m.setpoints.at_start and values:
                active = self.active.get(m.equipment)
                if active is None or (active.work_order, active.operation) != (work_order, operation):
                    wanted.add(m.equipment)
        if not wanted:
            return False
        done = await asyncio.to_thread(self._downloaded, work_order, operation)
        return bool(wanted - done)

    def _downloaded(self, work_order: str, operation: int) -> set[str]:
        """The machines the journal holds a download for this operation to."""
        return {d["equipment"] for d in (r.data() for r in events_of_subject(
            self.store, f"work_order:{work_order}", ["SetpointsDownloaded"], upto=self.store.last_seq()))
            if d["operation"] == operation}

    def _machines_at(self, state: PlantState, workstation: str) -> list[MachineSignals]:
        return [m for eq, m in sorted(self.machines.items())
                if (found := state.equipment.get(eq)) is not None and found.workstation == workstation]

    def parameters(self, state: PlantState, work_order: str, operation: int) -> dict[str, str]:
        """The operation's parameters: the recipe's (item, revision, operation), the order's own over them."""
        wo = state.work_orders.get(work_order)
        op = state.operations.get((work_order, operation))
        found: dict[str, str] = {}
        if wo is not None and self.recipes is not None:
            found.update({k: str(v) for k, v in self.recipes(wo.item, wo.item_revision, operation).items()})
        for text in op.parameters if op is not None else ():
            name, _, value = text.partition("=")
            found[name] = value
        return found

    def _values(self, state: PlantState, m: MachineSignals, work_order: str,
                operation: int) -> list[c.SetpointWrite]:
        assert m.setpoints is not None
        params = self.parameters(state, work_order, operation)
        values = []
        for sp in m.setpoints.tags:
            if sp.parameter not in params:
                continue
            text = params[sp.parameter]
            try:
                value = Decimal(text.strip())
            except InvalidOperation:
                raise invalid("INVALID_VALUE", f"{sp.parameter}: {text!r} is not a number for setpoint {sp.tag}",
                              f"setpoints.{sp.parameter}") from None
            values.append(c.SetpointWrite(parameter=sp.parameter, device=m.device, tag=sp.tag, value=value,
                                          writable=sp.writable, low=sp.low, high=sp.high, tolerance=sp.tolerance,
                                          unit=sp.unit, written=False))
        return values

    async def download(self, work_order: str, operation: int, *, idempotency_key: str, actor: str,
                       actor_roles: frozenset[str], source: str = "changeover", recorded_by: str | None = None,
                       source_device: str | None = None, on_behalf_of: str | None = None) -> list[Recorded]:
        """Write the operation's setpoints to its machines, read them back, and record each machine's download.
        Raises DomainError naming the parameter (and writes nothing) for what can be checked first."""
        state = self.service.state
        wo = state.work_orders.get(work_order)
        if wo is None:
            raise DomainError("UNKNOWN_WORK_ORDER", f"work order {work_order} is not known here", field="work_order")
        op = state.operations.get((work_order, operation))
        if op is None:
            raise DomainError("UNKNOWN_OPERATION", f"work order {work_order} has no operation {operation}",
                              field="operation")
        plans: list[tuple[MachineSignals, c.DownloadSetpoints]] = []
        machines = self._machines_at(state, op.workstation)
        for m in machines:
            assert m.setpoints is not None
            values = self._values(state, m, work_order, operation)
            if not values:
                continue
            key = idempotency_key if len(machines) == 1 else f"{idempotency_key}:{m.equipment}"
            cmd = c.DownloadSetpoints(
                idempotency_key=key, actor=actor, actor_roles=actor_roles, source_device=source_device,
                recorded_by=recorded_by, on_behalf_of=on_behalf_of, work_order=work_order, operation=operation,
                equipment=m.equipment, values=tuple(values), allowed_roles=frozenset(m.setpoints.roles),
                refuse_while_running=m.setpoints.refuse_while_running, source=source)
            check_setpoints(state, cmd, after_write=False)  # refused here: nothing is written
            plans.append((m, cmd))
        if not plans:
            where = ", ".join(m.equipment for m in machines) or f"no machine at {op.workstation} takes setpoints"
            raise DomainError("NO_SETPOINTS", f"operation {operation} of {work_order} has no parameter for a "
                              f"setpoint ({where})", field="parameters")
        recorded = []
        for m, cmd in plans:
            writer = self.writers.get(m.device)
            if writer is None:
                raise DomainError("SETPOINT_WRITE_REFUSED", f"{m.device} cannot write setpoints", field="equipment")
            try:
                results = await writer.write_setpoints([(v.tag, v.value) for v in cmd.values])
            except (ConnectionError, OSError, TimeoutError) as exc:
                raise DomainError("MACHINE_OFFLINE", f"{m.equipment}: setpoints not written, {exc}",
                                  field="equipment") from exc
            written_at = datetime.now(UTC)  # later samples of these tags are the machine's own values
            done = tuple(_outcome(v, r) for v, r in zip(cmd.values, results, strict=True))
            result = await self.service.execute(_replace(cmd, done))
            self.downloads += 1
            recorded.append(result)
            if result.events:
                tags = {v.tag: (v.parameter, v.value, v.tolerance) for v in done}
                self.active[m.equipment] = _Active(work_order, operation, written_at, tags)
        return recorded

    # --- variance ----------------------------------------------------------------------------------

    async def observe(self, batch: Sequence[Sample]) -> None:
        """Look at a batch of samples for setpoint tags that changed on the machine while an operation runs."""
        watched = self.watched
        if not watched:
            return
        hits = [s for s in batch if (s.device, s.tag) in watched and s.quality == "good"]
        if not hits:
            return
        if not self._loaded:
            await asyncio.to_thread(self._load)
        for s in hits:
            for equipment in watched[(s.device, s.tag)]:
                await self._check(equipment, s)

    async def _check(self, equipment: str, s: Sample) -> None:
        active = self.active.get(equipment)
        if active is None or s.tag not in active.values or s.source_time <= active.at:
            return
        parameter, written, tolerance = active.values[s.tag]
        observed = _decimal(s.value)
        if observed is None:
            return
        if abs(observed - written) <= tolerance + abs(written) * FLOAT_PRECISION:
            active.reported.pop(s.tag, None)  # back to the value downloaded: a new change is a new variance
            return
        if active.reported.get(s.tag) == observed:
            return
        op = self.service.state.operations.get((active.work_order, active.operation))
        if op is None or op.status != "in_progress":
            return
        m = self.machines[equipment]
        cmd = c.RecordSetpointVariance(
            idempotency_key=f"setpoint-variance:{equipment}:{s.tag}:{s.source_time.isoformat()}",
            actor=f"plc:{m.device}", actor_roles=frozenset({"service"}), source_device=m.device,
            work_order=active.work_order, operation=active.operation, equipment=equipment, parameter=parameter,
            tag=s.tag, downloaded=written, observed=observed, seen_at=s.source_time)
        try:
            await self.service.execute(cmd)
        except DomainError as exc:
            self.last_error = str(exc)
            log.warning("setpoint variance on %s not recorded: %s", equipment, exc)
            return
        active.reported[s.tag] = observed
        self.variances += 1

    def _load(self) -> None:
        """The downloads of the operations in progress now, from the journal (after a restart)."""
        state = self.service.state
        for equipment in self.machines:
            if equipment in self.active or (eq := state.equipment.get(equipment)) is None:
                continue
            running = operation_in_progress(self.store, eq.workstation)
            if running is None:
                continue
            events = [r.data() for r in events_of_subject(self.store, f"work_order:{running[0]}",
                                                           ["SetpointsDownloaded"], upto=self.store.last_seq())]
            mine = [d for d in events if d["operation"] == running[1] and d["equipment"] == equipment]
            if mine:
                last = mine[-1]
                sp = self.machines[equipment].setpoints
                tolerance = {t.tag: t.tolerance for t in sp.tags} if sp is not None else {}
                self.active[equipment] = _Active(running[0], running[1], datetime.fromisoformat(last["at"]), {
                    v["tag"]: (v["parameter"], Decimal(v["written"]), tolerance.get(v["tag"], Decimal(0)))
                    for v in last["values"]})
        self._loaded = True


def _outcome(v: c.SetpointWrite, r: WrittenValue) -> c.SetpointWrite:
    return c.SetpointWrite(parameter=v.parameter, device=v.device, tag=v.tag, value=v.value, writable=v.writable,
                           low=v.low, high=v.high, tolerance=v.tolerance, unit=v.unit, written=r.written,
                           read_back=_decimal(r.read_back), error=r.error)


def _replace(cmd: c.DownloadSetpoints, values: tuple[c.SetpointWrite, ...]) -> c.DownloadSetpoints:
    return replace(cmd, values=values)

