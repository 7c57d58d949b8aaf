"""Machines and OEE: a machine's state and reason, a shift's OEE figures, and the node's wall-clock jumps: their
deciders and evolvers.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from edge.domain import checks
from edge.domain import commands as c
from edge.domain import events as e
from edge.domain.downtime import tree_from_json
from edge.domain.errors import DomainError, invalid
from edge.domain.model import MACHINE_STATES, MachineState
from edge.domain.state import ZERO, Decider, Evolver, PlantState

# --- deciders -------------------------------------------------------------------------------------


def _close_shift_oee(state: PlantState, cmd: c.CloseShiftOee, now: datetime) -> list[e.Event]:
    checks.text("workstation", cmd.workstation)
    checks.text("shift", cmd.shift)
    checks.aware("start", cmd.start)
    checks.aware("end", cmd.end, now)
    if cmd.end <= cmd.start:
        raise invalid("INVALID_PERIOD", "a shift ends after it starts", "end")
    for name in ("planned_minutes", "run_minutes", "good", "scrap", "performance", "oee"):
        checks.quantity(name, getattr(cmd, name), allow_zero=True)
    for name in ("availability", "quality"):
        value = checks.quantity(name, getattr(cmd, name), allow_zero=True)
        if value > 1:
            raise invalid("INVALID_VALUE", f"{name} is a fraction from 0 to 1, got {value}", name)
    return [e.ShiftOeeClosed(
        workstation=cmd.workstation, shift=cmd.shift, day=cmd.day, start=cmd.start, end=cmd.end,
        planned_minutes=cmd.planned_minutes, run_minutes=cmd.run_minutes, good=cmd.good, scrap=cmd.scrap,
        availability=cmd.availability, performance=cmd.performance, quality=cmd.quality, oee=cmd.oee)]


def _set_machine_state(state: PlantState, cmd: c.SetMachineState, now: datetime) -> list[e.Event]:
    if cmd.equipment not in state.equipment:
        raise DomainError("UNKNOWN_EQUIPMENT", f"equipment {cmd.equipment} is not known here", field="equipment")
    if cmd.state not in MACHINE_STATES:
        raise invalid("INVALID_STATE", f"state must be one of {', '.join(MACHINE_STATES)}, got {cmd.state}", "state")
    checks.aware("since", cmd.since, now)
    since = cmd.since or checks.at(cmd, now)
    current = state.machine_states.get(cmd.equipment)
    if current is not None:
        if since < current.since:
            raise DomainError(
                "STALE_SIGNAL",
                f"{cmd.equipment} has been {current.state} since {current.since.isoformat()}; "
                f"a state from {since.isoformat()} is older", field="since",
            )
        if current.state == cmd.state and current.reason == cmd.reason:
            return []
        if current.state == "maintenance" and _in_work(state, cmd.equipment):
            # A technician works on the machine (edge.domain.contexts.maintenance): a PLC's running or stopped during
            # a test run does not end the maintenance (nor its planned downtime in OEE); stopping work or closing
            # the request does, and the PLC's next change is taken again then.
            return []
    return [e.MachineStateChanged(
        equipment=cmd.equipment, state=cmd.state, reason=cmd.reason, since=since,
        previous=current.state if current else None, previous_since=current.since if current else None,
        clock_jump_s=state.clock_jump_of.get(("machine", cmd.equipment)) if current else None,
    )]


def _in_work(state: PlantState, equipment: str) -> bool:
    return any(req.equipment == equipment and req.status != "closed" and req.working_since is not None
               for req in state.maintenance_requests.values())


def _record_clock_jump(state: PlantState, cmd: c.RecordClockJump, now: datetime) -> list[e.Event]:
    checks.require_role(cmd, "service", "admin", action="record a clock jump")
    checks.aware("wall_before", cmd.wall_before)
    checks.aware("wall_after", cmd.wall_after)
    if not cmd.jump_s:
        raise invalid("INVALID_VALUE", "jump_s must not be 0", "jump_s")
    return [e.ClockJumped(jump_s=cmd.jump_s, wall_before=cmd.wall_before, at=cmd.wall_after)]


# A float32 register holds about 7 significant digits: a value read back from one differs from the decimal written
# by up to this fraction of it without being a different value.
FLOAT_PRECISION = Decimal("1e-6")


def _equal(written: Decimal, read: Decimal, tolerance: Decimal) -> bool:
    return abs(read - written) <= tolerance + abs(written) * FLOAT_PRECISION


def check_setpoints(state: PlantState, cmd: c.DownloadSetpoints, *, after_write: bool = True) -> None:
    """Refuse a download with the reason naming the parameter: before anything is written (``after_write`` False:
    the roles, the operation, the machine's state, writable tags and limits) and, after, what the PLC did (a
    refused write, no read-back, a read-back that differs). Raises DomainError; returns when it may go on."""
    roles = cmd.allowed_roles | {"admin"}
    if not roles & cmd.actor_roles:
        raise DomainError("ROLE_REQUIRED", f"downloading setpoints needs the role {' or '.join(sorted(roles))} "
                          f"(the site's setpoints.roles); {cmd.actor} does not have it", field="role")
    checks.work_order(state, cmd.work_order)
    op = checks.operation(state, cmd.work_order, cmd.operation)
    if op.status == "completed":
        raise DomainError("OPERATION_COMPLETED", f"operation {op.operation} of {op.work_order} is already completed",
                          field="operation")
    equipment = state.equipment.get(cmd.equipment)
    if equipment is None:
        raise DomainError("UNKNOWN_EQUIPMENT", f"equipment {cmd.equipment} is not known here", field="equipment")
    if equipment.workstation != op.workstation:
        raise DomainError("WRONG_WORKSTATION", f"{cmd.equipment} stands at {equipment.workstation}; operation "
                          f"{op.operation} of {op.work_order} is done at {op.workstation}", field="equipment")
    machine = state.machine_states.get(cmd.equipment)
    if cmd.refuse_while_running and machine is not None and machine.state == "running":
        raise DomainError("MACHINE_RUNNING", f"{cmd.equipment} reports it is running: setpoints are not written to a "
                          "running machine (stop it, or change over first)", field="equipment")
    if not cmd.values:
        raise invalid("NO_SETPOINTS", f"operation {op.operation} of {op.work_order} has no parameter for a setpoint "
                      f"of {cmd.equipment}", "parameters")
    for v in cmd.values:
        where = f"setpoints.{v.parameter}"
        if not v.writable:
            raise DomainError("SETPOINT_NOT_WRITABLE", f"{v.parameter}: tag {v.tag} of {v.device} is not marked "
                              "writable in the site file; nothing written", field=where)
        if not v.value.is_finite():
            raise invalid("INVALID_VALUE", f"{v.parameter}: {v.value} is not a number", where)
        unit = f" {v.unit}" if v.unit else ""
        if v.low is not None and v.value < v.low:
            raise DomainError("SETPOINT_OUT_OF_LIMITS", f"{v.parameter}: {v.value}{unit} is below its lower limit "
                              f"{v.low}{unit}; nothing written", field=where)
        if v.high is not None and v.value > v.high:
            raise DomainError("SETPOINT_OUT_OF_LIMITS", f"{v.parameter}: {v.value}{unit} is above its upper limit "
                              f"{v.high}{unit}; nothing written", field=where)
    if not after_write:
        return
    for v in cmd.values:
        where = f"setpoints.{v.parameter}"
        if v.error is not None or not v.written:
            raise DomainError("SETPOINT_WRITE_REFUSED", f"{v.parameter}: {v.device} refused writing {v.value} to "
                              f"{v.tag}: {v.error or 'not written'}", field=where)
        if v.read_back is None:
            raise DomainError("SETPOINT_NOT_READ_BACK", f"{v.parameter}: {v.tag} of {v.device} could not be read "
                              "back after the write", field=where)
        if not _equal(v.value, v.read_back, v.tolerance):
            raise DomainError("SETPOINT_MISMATCH", f"{v.parameter}: wrote {v.value} to {v.tag} of {v.device}, read "
                              f"back {v.read_back}", field=where)


def _download_setpoints(state: PlantState, cmd: c.DownloadSetpoints, now: datetime) -> list[e.Event]:
    check_setpoints(state, cmd)
    if cmd.source not in ("changeover", "start"):
        raise invalid("INVALID_VALUE", f"source is changeover or start, not {cmd.source}", "source")
    return [e.SetpointsDownloaded(
        work_order=cmd.work_order, operation=cmd.operation, equipment=cmd.equipment, source=cmd.source,
        at=checks.at(cmd, now), values=tuple(
            e.DownloadedSetpoint(parameter=v.parameter, device=v.device, tag=v.tag, written=v.value,
                                 read_back=v.read_back if v.read_back is not None else v.value, low=v.low,
                                 high=v.high, unit=v.unit) for v in cmd.values))]


def _record_setpoint_variance(state: PlantState, cmd: c.RecordSetpointVariance, now: datetime) -> list[e.Event]:
    checks.require_role(cmd, "service", "admin", action="record a setpoint variance")
    checks.work_order(state, cmd.work_order, open_only=False)
    checks.operation(state, cmd.work_order, cmd.operation)
    checks.text("parameter", cmd.parameter)
    checks.aware("seen_at", cmd.seen_at, now)
    if cmd.equipment not in state.equipment:
        raise DomainError("UNKNOWN_EQUIPMENT", f"equipment {cmd.equipment} is not known here", field="equipment")
    if cmd.observed == cmd.downloaded:
        raise invalid("NO_VARIANCE", f"{cmd.parameter}: {cmd.observed} is the value downloaded", "observed")
    return [e.SetpointVarianceRecorded(
        work_order=cmd.work_order, operation=cmd.operation, equipment=cmd.equipment, parameter=cmd.parameter,
        tag=cmd.tag, downloaded=cmd.downloaded, observed=cmd.observed, seen_at=cmd.seen_at)]


def _stop_reason(state: PlantState, cmd: c.GiveStopReason | c.ReclassifyStop, now: datetime) -> None:
    if cmd.equipment not in state.equipment:
        raise DomainError("UNKNOWN_EQUIPMENT", f"equipment {cmd.equipment} is not known here", field="equipment")
    checks.aware("stop_start", cmd.stop_start, now)
    checks.text("reason", cmd.reason)
    if cmd.reason not in cmd.leaves:
        raise DomainError("UNKNOWN_REASON", f"{cmd.reason} is not a reason of the reason tree of {cmd.equipment}",
                          field="reason")


def _give_stop_reason(state: PlantState, cmd: c.GiveStopReason, now: datetime) -> list[e.Event]:
    checks.require_role(cmd, "operator", "supervisor", "admin", "service", action="giving a stop's reason")
    _stop_reason(state, cmd, now)
    if cmd.note is not None and len(cmd.note) > 200:
        raise invalid("VALUE_TOO_LONG", "note is longer than 200 characters", "note")
    return [e.StopReasonGiven(equipment=cmd.equipment, stop_start=cmd.stop_start, reason=cmd.reason, kind="given",
                              why=cmd.note, previous=None, at=checks.at(cmd, now))]


def _reclassify_stop(state: PlantState, cmd: c.ReclassifyStop, now: datetime) -> list[e.Event]:
    checks.require_role(cmd, "supervisor", "admin", action="re-classifying a stop")
    _stop_reason(state, cmd, now)
    checks.text("why", cmd.why)
    if cmd.previous == cmd.reason:
        raise invalid("SAME_REASON", f"the stop is already booked to {cmd.reason}", "reason")
    return [e.StopReasonGiven(equipment=cmd.equipment, stop_start=cmd.stop_start, reason=cmd.reason,
                              kind="reclassified", why=cmd.why, previous=cmd.previous, at=checks.at(cmd, now))]


def _define_reason_tree(state: PlantState, cmd: c.DefineReasonTree, now: datetime) -> list[e.Event]:
    checks.require_role(cmd, "service", "admin", action="defining a reason tree")
    checks.text("name", cmd.name)
    try:
        tree_from_json(cmd.name, cmd.definition, cmd.workstations, cmd.machine_class)
    except ValueError as exc:
        raise invalid("INVALID_REASON_TREE", f"reason tree {cmd.name}: {exc}", "reasons") from None
    return [e.ReasonTreeDefined(name=cmd.name, workstations=cmd.workstations, machine_class=cmd.machine_class,
                                definition=cmd.definition, at=checks.at(cmd, now))]


# --- evolvers -------------------------------------------------------------------------------------


def _machine_state_changed(state: PlantState, ev: e.MachineStateChanged) -> None:
    state.machine_states[ev.equipment] = MachineState(
        equipment=ev.equipment, state=ev.state, reason=ev.reason, since=ev.since)
    state.mark("machine_states", ev.equipment)
    state.clock_jump_of.pop(("machine", ev.equipment), None)


def _shift_oee_closed(state: PlantState, ev: e.ShiftOeeClosed) -> None:
    pass  # a figure for the ERP: it changes no state here


def _setpoints_recorded(state: PlantState, ev: e.Event) -> None:
    pass  # a record of what the machine was given (or changed to): read from the journal, no table of its own


def _stop_reason_given(state: PlantState, ev: e.StopReasonGiven) -> None:
    pass  # a row of the stop_reasons history (edge.store.history): the classification of stops reads it


def _clock_jumped(state: PlantState, ev: e.ClockJumped) -> None:
    # The open intervals move onto the wall clock's new time line: ``at - since`` stays the time that really
    # passed (the steady clock's), here for the machines' current states (labour and operations under way:
    # edge.domain.contexts.production). (If the new time is the right one, as after NTP set a wrong clock, the
    # moved start is also the true one.)
    shift = timedelta(seconds=float(ev.jump_s))
    for equipment, ms in state.machine_states.items():
        ms.since += shift
        state.mark("machine_states", equipment)
        machine: tuple[Any, ...] = ("machine", equipment)
        state.clock_jump_of[machine] = state.clock_jump_of.get(machine, ZERO) + ev.jump_s


DECIDERS: dict[type[c.Command], Decider] = {
    c.SetMachineState: _set_machine_state,
    c.CloseShiftOee: _close_shift_oee,
    c.RecordClockJump: _record_clock_jump,
    c.DownloadSetpoints: _download_setpoints,
    c.RecordSetpointVariance: _record_setpoint_variance,
    c.GiveStopReason: _give_stop_reason,
    c.ReclassifyStop: _reclassify_stop,
    c.DefineReasonTree: _define_reason_tree,
}
EVOLVERS: dict[type[e.Event], Evolver] = {
    e.MachineStateChanged: _machine_state_changed,
    e.ShiftOeeClosed: _shift_oee_closed,
    e.ClockJumped: _clock_jumped,
    e.SetpointsDownloaded: _setpoints_recorded,
    e.SetpointVarianceRecorded: _setpoints_recorded,
    e.StopReasonGiven: _stop_reason_given,
    e.ReasonTreeDefined: _stop_reason_given,  # a row of the reason_trees history: read by the classification
}
