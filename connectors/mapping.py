"""Signal mapping: tag values become commands through the one write path.

* **Machine state** from a PackML state number (or the PLC's own enumeration) and a reason code tag (an alarm
  word): ``SetMachineState(equipment, state, reason, since=source time)`` whenever the state or reason changes.
* **Counters** of good and scrap parts become deltas, booked with ``ReportProduction`` to the operation in
  progress on the machine's workstation at that moment, read from the store's tables (not the writer's cache).
  Parts counted while no operation is in progress, or that the operation refuses (it was paused meanwhile, the
  order's tolerance is used up), are recorded against the machine as unassigned production
  (``RecordUnassignedProduction``), never dropped: a supervisor assigns them to an operation or writes them off.
  A counter that goes down is a PLC restart (counting from 0 again: the new value is the delta, never negative
  production) unless it went down across its modulus, which is a rollover. A server restart seen by the connector
  (``$server_start`` sample) means the next value counts from 0 even if it is already past the old one.

* **No data**: a machine whose connector is not connected, or whose state tag reads bad, for longer than its
  timeout (``no_data_timeout_s``) is recorded ``offline`` with reason ``no data`` from the moment it went silent
  (``watch``); its next good state reading closes that stop. The classification of stops (edge.domain.downtime)
  books it as an unplanned "no data" stop.

Every command's idempotency key is machine + signal + source timestamp (``plc:M-ASSY:good:2026-...``): the same
reading delivered twice (a reconnect, a retry) is recorded once. The last reading of each counter can be kept in
a small JSON file so a restart of the node neither books the whole counter again nor loses the parts made while
it was down.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from connectors.base import SERVER_START, Sample
from connectors.config import CounterRule, MachineSignals, MachineStateName, StateRule
from edge.domain import DomainError
from edge.domain import commands as c
from edge.retry import RetryPolicy
from edge.service import Recorded, Service, StoreUnavailable
from edge.store import Store
from edge.store.reads import operation_in_progress, workstation_of

log = logging.getLogger("takt.connectors.mapping")
NO_DATA = "no data"  # the reason of the offline state recorded when a machine's data stops

#: A command the store could not take (it is briefly away) is sent again under its key, so it is recorded at most
#: once: 5 tries in all, 0.1 s after the first, doubling.
_RECORD_RETRY = RetryPolicy(attempts=5, initial_s=0.1, maximum_s=1.6)

# PackML state number → machine state. Transitional states (starting, resetting, ...) change nothing.
PACKML_STATES: dict[int, MachineStateName] = {
    0: "offline", 2: "idle", 4: "idle", 5: "idle", 6: "running", 17: "idle",
    7: "down", 8: "down", 9: "down", 10: "down", 11: "down",
}
PACKML_NAMES = {0: "undefined", 1: "clearing", 2: "stopped", 3: "starting", 4: "idle", 5: "suspended",
                6: "execute", 7: "stopping", 8: "aborting", 9: "aborted", 10: "holding", 11: "held",
                12: "unholding", 13: "suspending", 14: "unsuspending", 15: "resetting", 16: "completing",
                17: "complete"}
PACKML_NUMBERS = {name: number for number, name in PACKML_NAMES.items()}  # a state machine's CurrentState text


def counter_delta(previous: int | None, current: int, rule: CounterRule, restarted: bool = False) -> tuple[int, str]:
    """Parts made between two readings of a counter, and why: baseline, count, rollover or reset."""
    if previous is None:
        return 0, "baseline"
    if restarted and rule.resets_on_restart:
        return current, "reset"
    if current >= previous:
        return current - previous, "count"
    if rule.modulus is not None and rule.modulus - previous + current <= rule.rollover_window:
        return rule.modulus - previous + current, "rollover"
    return current, "reset"


@dataclass
class MappingStats:
    commands: int = 0
    replayed: int = 0
    refused: int = 0
    booked_good: int = 0
    booked_scrap: int = 0
    unassigned: int = 0  # parts recorded against the machine: no operation took them (a supervisor assigns them)
    unbooked: int = 0  # parts not recorded at all (even as unassigned: the machine is not known to the node)
    resets: int = 0
    rollovers: int = 0
    last_error: str | None = None
    refusals: dict[str, int] = field(default_factory=dict)


def _unassigned(m: MachineSignals, rule: CounterRule, s: Sample, delta: int, why: str) -> c.RecordUnassignedProduction:
    quantity = Decimal(delta)
    return c.RecordUnassignedProduction(
        idempotency_key=_key(m.equipment, rule.tag, s.source_time), actor=f"plc:{m.device}",
        actor_roles=frozenset({"service"}), source_device=m.device, occurred_at=s.source_time,
        equipment=m.equipment, good=quantity if rule.kind == "good" else Decimal(0),
        scrap=quantity if rule.kind == "scrap" else Decimal(0),
        scrap_reason=rule.scrap_reason if rule.kind == "scrap" else None, note=why)


def _unassigned_after(cmd: c.ReportProduction, equipment: str, why: str) -> c.RecordUnassignedProduction:
    """The parts of a refused ``ReportProduction`` as unassigned production (its own key: the refusal is not
    remembered under the first one, so a replay of the reading is refused again and lands here again, once)."""
    return c.RecordUnassignedProduction(
        idempotency_key=f"{cmd.idempotency_key}:unassigned", actor=cmd.actor, actor_roles=cmd.actor_roles,
        source_device=cmd.source_device, occurred_at=cmd.occurred_at, equipment=equipment, good=cmd.good,
        scrap=cmd.scrap, scrap_reason=cmd.scrap_reason, note=f"refused by {cmd.work_order}/{cmd.operation}: {why}")


class SignalMapper:
    """A sink for connectors' samples that records machine states and production through ``service``."""

    def __init__(self, service: Service, store: Store, machines: Sequence[MachineSignals], *,
                 state_file: str | Path | None = None, no_data_timeout_s: Mapping[str, float] | None = None,
                 link_up: Callable[[str], bool] | None = None) -> None:
        self.service = service
        # equipment → seconds a silent or bad connector may last before a "no data" stop (absent: never)
        self.no_data_timeout_s = dict(no_data_timeout_s or {})
        self.link_up = link_up or (lambda device: True)  # device → its connector is connected
        self._bad_state: dict[str, bool] = {}  # equipment → its state tag's last reading was bad
        self._silent_since: dict[str, datetime] = {}  # equipment → when its data stopped
        self._no_data_open: dict[str, datetime] = {}  # equipment → since of its "no data" stop, while open
        self.store = store
        self.machines = list(machines)
        self.stats = MappingStats()
        self.state_file = Path(state_file) if state_file is not None else None
        self._state_rules: dict[tuple[str, str], tuple[MachineSignals, StateRule]] = {}
        self._counter_rules: dict[tuple[str, str], tuple[MachineSignals, CounterRule]] = {}
        for m in self.machines:
            if m.state is not None:
                self._state_rules[(m.device, m.state.tag)] = (m, m.state)
                if m.state.reason_tag is not None:
                    self._state_rules[(m.device, m.state.reason_tag)] = (m, m.state)
            for rule in m.counters:
                self._counter_rules[(m.device, rule.tag)] = (m, rule)
        self.counters: dict[str, int] = {}  # "equipment/tag" → last reading
        self.read_at: dict[str, datetime] = {}  # "equipment/tag" → source time of the last reading
        self._restarted: set[str] = set()  # "equipment/tag" whose next reading counts from 0
        self._server_start: dict[str, Any] = {}
        self._state_values: dict[str, tuple[Any, Any]] = {}  # equipment → (state code, reason code)
        self._emitted: dict[str, tuple[str, str | None]] = {}
        self._workstations: dict[str, str] = {}
        self._lock = asyncio.Lock()
        self._pending: set[asyncio.Future[None]] = set()
        self._load_counters()

    # --- the sink ------------------------------------------------------------------------------

    async def __call__(self, batch: Sequence[Sample]) -> None:
        # Shielded: a connector cancelled mid-batch (its link just dropped) must not leave a counter reading
        # taken but its delta unbooked.
        task = asyncio.ensure_future(self._process(batch))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        await asyncio.shield(task)

    async def drain(self) -> None:
        """Wait for batches still being recorded (those whose connector was cancelled meanwhile)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def _process(self, batch: Sequence[Sample]) -> None:
        async with self._lock:  # one batch at a time: deltas must be computed in reading order
            commands: list[tuple[c.Command, Any]] = []
            counters_before = dict(self.counters)
            states: dict[tuple[str, datetime], c.SetMachineState] = {}
            for s in batch:
                key = (s.device, s.tag)
                if s.tag == SERVER_START:
                    self._note_server_start(s)
                elif key in self._counter_rules:
                    cmd = await self._counter(s, *self._counter_rules[key])
                    if cmd is not None:
                        commands.append(cmd)
                elif key in self._state_rules:
                    state_cmd = self._state(s, *self._state_rules[key])
                    if state_cmd is not None:  # state and alarm of one moment: record where they end up
                        states[(state_cmd.equipment, s.source_time)] = state_cmd
            commands.extend((cmd, None) for cmd in states.values())
            if commands:
                await asyncio.gather(*(self._record(cmd, parts) for cmd, parts in commands))
            if self.counters != counters_before:
                self._save_counters()

    # --- machine state -------------------------------------------------------------------------

    def _state(self, s: Sample, m: MachineSignals, rule: StateRule) -> c.SetMachineState | None:
        if s.tag == rule.tag:
            self._bad_state[m.equipment] = s.quality == "bad" or s.value is None
        if s.quality == "bad" or s.value is None:
            return None
        code, reason_code = self._state_values.get(m.equipment, (None, 0))
        if s.tag == rule.tag:
            code = s.value
        else:
            reason_code = s.value
        self._state_values[m.equipment] = (code, reason_code)
        if code is None:
            return None
        try:
            number = int(code)
        except (TypeError, ValueError):  # PackML as text (a state machine's CurrentState: "Execute", ...)
            found = PACKML_NUMBERS.get(str(code).strip().lower()) if rule.kind == "packml" else None
            if found is None:
                return None
            number = found
        state = rule.states.get(number) or (PACKML_STATES.get(number) if rule.kind == "packml" else None)
        if state is None:
            return None  # a transitional or unknown state: the machine is still what it was
        reason: str | None = None
        if reason_code:
            reason = rule.reasons.get(int(reason_code), f"alarm {int(reason_code)}")
        elif state != "running" and rule.kind == "packml" and number in PACKML_NAMES:
            reason = PACKML_NAMES[number]
        if state == "running":
            reason = None
        if self._emitted.get(m.equipment) == (state, reason):
            return None
        self._emitted[m.equipment] = (state, reason)
        since = s.source_time
        opened = self._no_data_open.pop(m.equipment, None)
        if opened is not None and since <= opened:
            # a value unchanged across the outage keeps its old source time: the data came back now
            since = datetime.now(UTC)
        return c.SetMachineState(
            idempotency_key=_key(m.equipment, s.tag, since), actor=f"plc:{m.device}",
            actor_roles=frozenset({"service"}), source_device=m.device, occurred_at=since,
            equipment=m.equipment, state=state, reason=reason, since=since)

    # --- no data --------------------------------------------------------------------------------

    def no_data(self, now: datetime) -> list[c.SetMachineState]:
        """The "no data" stops to open at ``now``: machines silent (connector down) or bad beyond their timeout."""
        out: list[c.SetMachineState] = []
        for m in self.machines:
            timeout = self.no_data_timeout_s.get(m.equipment)
            if timeout is None or m.state is None:
                continue
            if self.link_up(m.device) and not self._bad_state.get(m.equipment, False):
                self._silent_since.pop(m.equipment, None)
                continue
            since = self._silent_since.setdefault(m.equipment, now)
            if (now - since).total_seconds() < timeout or self._emitted.get(m.equipment) == ("offline", NO_DATA):
                continue
            self._emitted[m.equipment] = ("offline", NO_DATA)  # the next good reading is recorded, whatever it says
            self._no_data_open[m.equipment] = since
            out.append(c.SetMachineState(
                idempotency_key=_key(m.equipment, "no-data", since), actor=f"plc:{m.device}",
                actor_roles=frozenset({"service"}), source_device=m.device, occurred_at=now,
                equipment=m.equipment, state="offline", reason=NO_DATA, since=since))
        return out

    async def watch(self, every_s: float = 1.0) -> None:
        """Open "no data" stops while running (a task of the node's connectivity)."""
        while True:
            await asyncio.sleep(every_s)
            async with self._lock:
                for cmd in self.no_data(datetime.now(UTC)):
                    log.warning("%s: no data from %s for %s s: recorded offline (no data)", cmd.equipment,
                                cmd.source_device, self.no_data_timeout_s.get(cmd.equipment))
                    await self._record(cmd, None)

    # --- counters ------------------------------------------------------------------------------

    def _note_server_start(self, s: Sample) -> None:
        previous = self._server_start.get(s.device)
        self._server_start[s.device] = s.value
        if previous is not None and previous != s.value:
            for (device, tag), (m, _) in self._counter_rules.items():
                if device == s.device:
                    self._restarted.add(f"{m.equipment}/{tag}")

    async def _counter(self, s: Sample, m: MachineSignals, rule: CounterRule) -> tuple[c.Command, Any] | None:
        if s.quality == "bad" or s.value is None:
            return None
        try:
            current = int(s.value)
        except (TypeError, ValueError):
            return None
        name = f"{m.equipment}/{rule.tag}"
        restarted = name in self._restarted
        self._restarted.discard(name)
        delta, why = counter_delta(self.counters.get(name), current, rule, restarted)
        self.counters[name] = current
        self.read_at[name] = s.source_time
        if why == "reset":
            self.stats.resets += 1
            log.info("%s %s went from its last reading to %d: counted from 0 again", m.equipment, rule.tag, current)
        elif why == "rollover":
            self.stats.rollovers += 1
        if delta <= 0:
            return None
        operation = await self._operation_in_progress(m.equipment)
        if operation is None:
            log.info("%s made %d %s parts with no operation in progress on its workstation: kept as unassigned",
                     m.equipment, delta, rule.kind)
            why = "no operation in progress on the workstation"
            return _unassigned(m, rule, s, delta, why), (rule.kind, delta, m.equipment)
        work_order, op = operation
        quantity = Decimal(delta)
        cmd = c.ReportProduction(
            idempotency_key=_key(m.equipment, rule.tag, s.source_time), actor=f"plc:{m.device}",
            actor_roles=frozenset({"service"}), source_device=m.device, occurred_at=s.source_time,
            work_order=work_order, operation=op,
            good=quantity if rule.kind == "good" else Decimal(0),
            scrap=quantity if rule.kind == "scrap" else Decimal(0),
            scrap_reason=rule.scrap_reason if rule.kind == "scrap" else None)
        return cmd, (rule.kind, delta, m.equipment)

    async def operation_in_progress(self, equipment: str) -> tuple[str, int] | None:
        """The operation in progress on ``equipment``'s workstation now (for other feeds: machine inspections)."""
        return await self._operation_in_progress(equipment)

    async def _operation_in_progress(self, equipment: str) -> tuple[str, int] | None:
        """The operation in progress on ``equipment``'s workstation now, read from the store's tables."""
        return await asyncio.to_thread(self._read_operation, equipment)

    def _read_operation(self, equipment: str) -> tuple[str, int] | None:
        workstation = self._workstations.get(equipment)
        if workstation is None:
            workstation = workstation_of(self.store, equipment)
            if workstation is None:
                return None
            self._workstations[equipment] = workstation
        return operation_in_progress(self.store, workstation)

    # --- recording -----------------------------------------------------------------------------

    async def _record(self, cmd: c.Command, parts: Any) -> None:
        try:
            recorded = await _RECORD_RETRY.call(lambda: self._execute(cmd), StoreUnavailable)
        except StoreUnavailable:
            log.error("%s %s not recorded after retries: %s", type(cmd).__name__, cmd.idempotency_key,
                      self.stats.last_error)
            return
        except DomainError as err:
            self.stats.refused += 1
            self.stats.refusals[err.code] = self.stats.refusals.get(err.code, 0) + 1
            self.stats.last_error = f"{err.code}: {err.message}"
            log.warning("%s refused (%s): %s", type(cmd).__name__, err.code, err.message,
                        extra={"idempotency_key": cmd.idempotency_key, "code": err.code})
            if isinstance(cmd, c.ReportProduction) and parts is not None:
                # The parts were made all the same: kept against the machine for a supervisor.
                await self._record(_unassigned_after(cmd, parts[2], err.message), parts)
            elif parts is not None:
                self.stats.unbooked += parts[1]
            return
        except Exception as exc:  # e.g. the key reused with other content: report, never crash the sink
            self.stats.refused += 1
            self.stats.last_error = f"{type(exc).__name__}: {exc}"
            log.warning("%s not recorded: %s", type(cmd).__name__, self.stats.last_error)
            return
        self.stats.commands += 1
        if recorded.replayed:
            self.stats.replayed += 1
        elif isinstance(cmd, c.RecordUnassignedProduction) and parts is not None:
            self.stats.unassigned += parts[1]
        elif parts is not None:
            kind, delta, _ = parts
            if kind == "good":
                self.stats.booked_good += delta
            else:
                self.stats.booked_scrap += delta

    async def _execute(self, cmd: c.Command) -> Recorded:
        """One try of ``cmd`` through the service; a store that is away is noted and raised to be tried again."""
        try:
            return await self.service.execute(cmd)
        except StoreUnavailable as exc:  # tried again under the same key: recorded at most once
            self.stats.last_error = str(exc)
            raise

    # --- remembering counter readings across node restarts -------------------------------------

    def _load_counters(self) -> None:
        if self.state_file is None or not self.state_file.exists():
            return
        try:
            data = json.loads(self.state_file.read_text())
            self.counters = {str(k): int(v) for k, v in data.get("counters", {}).items()}
        except (OSError, ValueError) as exc:
            log.warning("cannot read %s (%s): counters start from their next reading", self.state_file, exc)

    def _save_counters(self) -> None:
        if self.state_file is None:
            return
        tmp = self.state_file.with_suffix(".tmp")
        with contextlib.suppress(OSError):
            tmp.write_text(json.dumps({"counters": self.counters}))
            os.replace(tmp, self.state_file)


def _key(equipment: str, signal: str, source_time: datetime) -> str:
    return f"plc:{equipment}:{signal}:{source_time.isoformat()}"
