"""Machines and OEE: a machine's state and reason, a shift's OEE figures, and the node's wall-clock jumps: their
deciders and evolvers.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from edge.domain import checks
from edge.domain import commands as c
from edge.domain import events as e
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
    return [e.MachineStateChanged(
        equipment=cmd.equipment, state=cmd.state, reason=cmd.reason, since=since,
        previous=current.state if current else None, previous_since=current.since if current else None,
        clock_jump_s=state.clock_jump_of.get(("machine", cmd.equipment)) if current else None,
    )]


def _record_clock_jump(state: PlantState, cmd: c.RecordClockJump, now: datetime) -> list[e.Event]:
    checks.require_role(cmd, "service", "admin", action="record a clock jump")
    checks.aware("wall_before", cmd.wall_before)
    checks.aware("wall_after", cmd.wall_after)
    if not cmd.jump_s:
        raise invalid("INVALID_VALUE", "jump_s must not be 0", "jump_s")
    return [e.ClockJumped(jump_s=cmd.jump_s, wall_before=cmd.wall_before, at=cmd.wall_after)]


# --- evolvers -------------------------------------------------------------------------------------


def _machine_state_changed(state: PlantState, ev: e.MachineStateChanged) -> None:
    state.machine_states[ev.equipment] = MachineState(
        equipment=ev.equipment, state=ev.state, reason=ev.reason, since=ev.since)
    state.mark("machine_states", ev.equipment)
    state.clock_jump_of.pop(("machine", ev.equipment), None)


def _shift_oee_closed(state: PlantState, ev: e.ShiftOeeClosed) -> None:
    pass  # a figure for the ERP: it changes no state here


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
}
EVOLVERS: dict[type[e.Event], Evolver] = {
    e.MachineStateChanged: _machine_state_changed,
    e.ShiftOeeClosed: _shift_oee_closed,
    e.ClockJumped: _clock_jumped,
}
