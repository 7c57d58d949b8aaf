"""Production and labour: operations started, paused, resumed and completed, parts reported against them (and a
machine's parts no order was running for, assigned or written off later), and operators clocked on and off:
their deciders and evolvers.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from edge.domain import checks
from edge.domain import commands as c
from edge.domain import events as e
from edge.domain.contexts import maintenance
from edge.domain.contexts.quality import final_inspection_passed, overdue_flags
from edge.domain.errors import DomainError, invalid
from edge.domain.model import ClockOn, Operation, UnassignedProduction, WorkOrder
from edge.domain.state import ZERO, Decider, Evolver, PlantState

# --- deciders -------------------------------------------------------------------------------------


def _start_operation(state: PlantState, cmd: c.StartOperation, now: datetime) -> list[e.Event]:
    checks.work_order(state, cmd.work_order)
    op = checks.operation(state, cmd.work_order, cmd.operation)
    if op.status == "in_progress":
        raise DomainError(
            "OPERATION_ALREADY_STARTED", f"operation {op.operation} of {op.work_order} is already running", field="operation"
        )
    if op.status == "paused":
        raise DomainError(
            "OPERATION_PAUSED", f"operation {op.operation} of {op.work_order} is paused: resume it", field="operation"
        )
    if op.status == "completed":
        raise DomainError(
            "OPERATION_COMPLETED", f"operation {op.operation} of {op.work_order} is already completed", field="operation"
        )
    at = checks.at(cmd, now)
    maintenance.check_start(state, op.workstation, at)  # a machine in maintenance, or a due plan that blocks
    return [e.OperationStarted(work_order=cmd.work_order, operation=cmd.operation, at=at)]


def _pause_operation(state: PlantState, cmd: c.PauseOperation, now: datetime) -> list[e.Event]:
    checks.work_order(state, cmd.work_order)
    op = checks.operation(state, cmd.work_order, cmd.operation)
    reason = checks.reason("reason", cmd.reason)
    if op.status != "in_progress":
        raise DomainError(
            "OPERATION_NOT_RUNNING", f"operation {op.operation} of {op.work_order} is {op.status}, not running",
            field="operation",
        )
    return [e.OperationPaused(work_order=cmd.work_order, operation=cmd.operation, reason=reason, at=checks.at(cmd, now))]


def _resume_operation(state: PlantState, cmd: c.ResumeOperation, now: datetime) -> list[e.Event]:
    checks.work_order(state, cmd.work_order)
    op = checks.operation(state, cmd.work_order, cmd.operation)
    if op.status != "paused":
        raise DomainError(
            "OPERATION_NOT_PAUSED", f"operation {op.operation} of {op.work_order} is {op.status}, not paused", field="operation"
        )
    return [e.OperationResumed(work_order=cmd.work_order, operation=cmd.operation, at=checks.at(cmd, now))]


def clock_off_events(state: PlantState, work_order: str, operation: int | None, operator: str | None,
                     at: datetime) -> list[e.Event]:
    out: list[e.Event] = []
    for (who, wo, opn), rec in sorted(state.clock_ons.items()):
        if wo != work_order or (operation is not None and opn != operation) or (operator is not None and who != operator):
            continue
        minutes = max(ZERO, Decimal((at - rec.since).total_seconds()) / 60).quantize(Decimal("0.01"))
        out.append(e.LabourClockedOff(operator=who, work_order=wo, operation=opn, since=rec.since, at=at, minutes=minutes,
                                      clock_jump_s=state.clock_jump_of.get(("labour", who, wo, opn))))
    return out


def _complete_operation(state: PlantState, cmd: c.CompleteOperation, now: datetime) -> list[e.Event]:
    wo = checks.work_order(state, cmd.work_order)
    op = checks.operation(state, cmd.work_order, cmd.operation)
    if op.status == "completed":
        raise DomainError(
            "OPERATION_COMPLETED", f"operation {op.operation} of {op.work_order} is already completed", field="operation"
        )
    if op.status == "released":
        raise DomainError(
            "OPERATION_NOT_STARTED", f"operation {op.operation} of {op.work_order} was never started", field="operation"
        )
    at = checks.at(cmd, now)
    out: list[e.Event] = clock_off_events(state, cmd.work_order, cmd.operation, None, at)
    out.append(e.OperationCompleted(work_order=cmd.work_order, operation=cmd.operation, at=at))
    if all(o.status == "completed" for o in state.operations_of(cmd.work_order) if o.operation != cmd.operation):
        final_inspection_passed(state, wo)
        out.append(e.WorkOrderCompleted(work_order=wo.work_order, good=wo.good, scrap=wo.scrap, at=at))
    return out


def _good_and_scrap(good: Decimal, scrap: Decimal) -> tuple[Decimal, Decimal]:
    good = checks.quantity("good", good, allow_zero=True)
    scrap = checks.quantity("scrap", scrap, allow_zero=True)
    if good == 0 and scrap == 0:
        raise invalid("INVALID_QUANTITY", "report a good or a scrap quantity greater than zero", "good")
    return good, scrap


def _production(state: PlantState, wo: WorkOrder, op: Operation, good: Decimal, scrap: Decimal,
                scrap_reason: str | None, at: datetime, *, running: tuple[str, ...]) -> e.ProductionReported:
    """Parts booked to ``op``, checked: the operation's status is one of ``running`` and the order's
    over-production tolerance holds."""
    if op.status not in running:
        raise DomainError(
            "OPERATION_NOT_RUNNING", f"operation {op.operation} of {op.work_order} is {op.status}: start it first",
            field="operation",
        )
    limit = wo.quantity * (1 + wo.overproduction_tolerance_pct / 100)
    if op.good + good > limit:
        raise DomainError(
            "OVER_PRODUCTION",
            f"operation {op.operation} of {wo.work_order} would reach {op.good + good} good of {wo.quantity} "
            f"ordered; the tolerance of {wo.overproduction_tolerance_pct} % allows at most {limit.normalize()}",
            field="good",
        )
    return e.ProductionReported(
        work_order=wo.work_order, operation=op.operation, workstation=op.workstation, good=good, scrap=scrap,
        scrap_reason=scrap_reason if scrap > 0 else None, at=at,
    )


def _report_production(state: PlantState, cmd: c.ReportProduction, now: datetime) -> list[e.Event]:
    wo = checks.work_order(state, cmd.work_order)
    op = checks.operation(state, cmd.work_order, cmd.operation)
    good, scrap = _good_and_scrap(cmd.good, cmd.scrap)
    if scrap > 0:
        checks.reason("scrap_reason", cmd.scrap_reason)
    at = checks.at(cmd, now)
    return [_production(state, wo, op, good, scrap, cmd.scrap_reason, at, running=("in_progress", "paused")),
            *overdue_flags(state, op, good + scrap, at)]


def _record_unassigned(state: PlantState, cmd: c.RecordUnassignedProduction, now: datetime) -> list[e.Event]:
    equipment = state.equipment.get(cmd.equipment)
    if equipment is None:
        raise DomainError("UNKNOWN_EQUIPMENT", f"equipment {cmd.equipment} is not known here", field="equipment")
    good, scrap = _good_and_scrap(cmd.good, cmd.scrap)
    if cmd.scrap_reason is not None:
        checks.text("scrap_reason", cmd.scrap_reason)
    return [e.UnassignedProductionRecorded(
        equipment=cmd.equipment, workstation=equipment.workstation, good=good, scrap=scrap,
        scrap_reason=cmd.scrap_reason if scrap > 0 else None, note=checks.clip(cmd.note) if cmd.note else None,
        at=checks.at(cmd, now))]


def _unassigned_part(state: PlantState, cmd: c.AssignProduction | c.WriteOffUnassignedProduction,
                     action: str) -> tuple[UnassignedProduction, Decimal, Decimal]:
    checks.require_role(cmd, "supervisor", "admin", action=action)
    pending = state.unassigned_production.get(cmd.equipment)
    if pending is None:
        raise DomainError("NO_UNASSIGNED_PRODUCTION", f"{cmd.equipment} has no unassigned parts", field="equipment")
    good, scrap = _good_and_scrap(cmd.good, cmd.scrap)
    for name, asked, held in (("good", good, pending.good), ("scrap", scrap, pending.scrap)):
        if asked > held:
            raise DomainError("MORE_THAN_UNASSIGNED", f"{cmd.equipment} has {held} unassigned {name} parts, "
                                                      f"not {asked}", field=name)
    return pending, good, scrap


def _assign_production(state: PlantState, cmd: c.AssignProduction, now: datetime) -> list[e.Event]:
    pending, good, scrap = _unassigned_part(state, cmd, "assigning a machine's parts to an order")
    wo = checks.work_order(state, cmd.work_order)
    op = checks.operation(state, cmd.work_order, cmd.operation)
    if op.workstation != pending.workstation:
        raise DomainError("WRONG_WORKSTATION", f"operation {op.operation} of {wo.work_order} runs on "
                                               f"{op.workstation}; {cmd.equipment}'s parts were made on "
                                               f"{pending.workstation}", field="operation")
    # Booked at the time the parts were made (their shift's OEE), not at the time of the decision.
    booked = _production(state, wo, op, good, scrap, "unassigned machine count" if scrap > 0 else None,
                         pending.last_at, running=("in_progress", "paused", "completed"))
    return [e.UnassignedProductionAssigned(equipment=cmd.equipment, work_order=wo.work_order, operation=op.operation,
                                           good=good, scrap=scrap, assigned_by=cmd.actor, at=checks.at(cmd, now)),
            booked]


def _write_off_unassigned(state: PlantState, cmd: c.WriteOffUnassignedProduction, now: datetime) -> list[e.Event]:
    _, good, scrap = _unassigned_part(state, cmd, "writing off a machine's unassigned parts")
    return [e.UnassignedProductionWrittenOff(equipment=cmd.equipment, good=good, scrap=scrap,
                                             reason=checks.reason("reason", cmd.reason), written_off_by=cmd.actor,
                                             at=checks.at(cmd, now))]


def _clock_on(state: PlantState, cmd: c.ClockOnLabour, now: datetime) -> list[e.Event]:
    checks.text("operator", cmd.operator)
    checks.work_order(state, cmd.work_order)
    op = checks.operation(state, cmd.work_order, cmd.operation)
    if op.status == "completed":
        raise DomainError(
            "OPERATION_COMPLETED", f"operation {op.operation} of {op.work_order} is already completed", field="operation"
        )
    if (cmd.operator, cmd.work_order, cmd.operation) in state.clock_ons:
        raise DomainError(
            "ALREADY_CLOCKED_ON", f"{cmd.operator} is already clocked on to {cmd.work_order} operation {cmd.operation}",
            field="operator",
        )
    return [e.LabourClockedOn(operator=cmd.operator, work_order=cmd.work_order, operation=cmd.operation, at=checks.at(cmd, now))]


def _clock_off(state: PlantState, cmd: c.ClockOffLabour, now: datetime) -> list[e.Event]:
    if (cmd.operator, cmd.work_order, cmd.operation) not in state.clock_ons:
        raise DomainError(
            "NOT_CLOCKED_ON", f"{cmd.operator} is not clocked on to {cmd.work_order} operation {cmd.operation}",
            field="operator",
        )
    return clock_off_events(state, cmd.work_order, cmd.operation, cmd.operator, checks.at(cmd, now))


# --- evolvers -------------------------------------------------------------------------------------


def _order_status(state: PlantState, work_order: str) -> str:
    ops = state.operations_of(work_order)
    if all(o.status == "completed" for o in ops):
        return "completed"
    if any(o.status == "in_progress" for o in ops):
        return "in_progress"
    if any(o.status == "paused" for o in ops):
        return "paused"
    if any(o.status == "completed" for o in ops):
        return "in_progress"
    return "released"


def _set_op(state: PlantState, work_order: str, operation: int, **changes: Any) -> None:
    op = state.operations[(work_order, operation)]
    for name, value in changes.items():
        setattr(op, name, value)
    state.mark("operations", (work_order, operation))
    wo = state.work_orders[work_order]
    wo.status = _order_status(state, work_order)
    state.mark("work_orders", work_order)


def _production_reported(state: PlantState, ev: e.ProductionReported) -> None:
    op = state.operations[(ev.work_order, ev.operation)]
    op.good += ev.good
    op.scrap += ev.scrap
    state.mark("operations", (ev.work_order, ev.operation))
    wo = state.work_orders[ev.work_order]
    last = max(o.operation for o in state.operations_of(ev.work_order))
    if ev.operation == last:
        wo.good += ev.good
    wo.scrap += ev.scrap
    state.mark("work_orders", ev.work_order)


def _unassigned_production_recorded(state: PlantState, ev: e.UnassignedProductionRecorded) -> None:
    held = state.unassigned_production.get(ev.equipment)
    if held is None:
        state.unassigned_production[ev.equipment] = UnassignedProduction(
            equipment=ev.equipment, workstation=ev.workstation, good=ev.good, scrap=ev.scrap, since=ev.at,
            last_at=ev.at)
    else:
        held.good += ev.good
        held.scrap += ev.scrap
        held.since, held.last_at = min(held.since, ev.at), max(held.last_at, ev.at)
    state.mark("unassigned_production", ev.equipment)


def _unassigned_production_taken(state: PlantState,
                                 ev: e.UnassignedProductionAssigned | e.UnassignedProductionWrittenOff) -> None:
    held = state.unassigned_production[ev.equipment]
    held.good -= ev.good
    held.scrap -= ev.scrap
    if held.good == 0 and held.scrap == 0:
        del state.unassigned_production[ev.equipment]
    state.mark("unassigned_production", ev.equipment)


def _operation_started(state: PlantState, ev: e.OperationStarted) -> None:
    _set_op(state, ev.work_order, ev.operation, status="in_progress",
            started_at=state.operations[(ev.work_order, ev.operation)].started_at or ev.at)


def _operation_paused(state: PlantState, ev: e.OperationPaused) -> None:
    _set_op(state, ev.work_order, ev.operation, status="paused", pause_reason=ev.reason)


def _operation_resumed(state: PlantState, ev: e.OperationResumed) -> None:
    _set_op(state, ev.work_order, ev.operation, status="in_progress", pause_reason=None)


def _operation_completed(state: PlantState, ev: e.OperationCompleted) -> None:
    _set_op(state, ev.work_order, ev.operation, status="completed", completed_at=ev.at, pause_reason=None)


def _work_order_completed(state: PlantState, ev: e.WorkOrderCompleted) -> None:
    state.work_orders[ev.work_order].status = "completed"
    state.mark("work_orders", ev.work_order)


def _labour_clocked_on(state: PlantState, ev: e.LabourClockedOn) -> None:
    key3 = (ev.operator, ev.work_order, ev.operation)
    state.clock_ons[key3] = ClockOn(operator=ev.operator, work_order=ev.work_order,
                                    operation=ev.operation, since=ev.at)
    state.mark("clock_ons", key3)


def _labour_clocked_off(state: PlantState, ev: e.LabourClockedOff) -> None:
    key3 = (ev.operator, ev.work_order, ev.operation)
    state.clock_ons.pop(key3, None)
    state.mark("clock_ons", key3)
    state.clock_jump_of.pop(("labour", *key3), None)


def _clock_jumped(state: PlantState, ev: e.ClockJumped) -> None:
    """Labour clocked on and operations under way move onto the wall clock's new time line: ``at - since`` stays the
    time that really passed (the steady clock's). The labour intervals remember the jump, to flag the clock-off."""
    shift = timedelta(seconds=float(ev.jump_s))
    for key3, rec in state.clock_ons.items():
        rec.since += shift
        state.mark("clock_ons", key3)
        labour: tuple[Any, ...] = ("labour", *key3)
        state.clock_jump_of[labour] = state.clock_jump_of.get(labour, ZERO) + ev.jump_s
    for op_key, op in state.operations.items():  # an operation under way: its run time stays true
        if op.started_at is not None and op.completed_at is None:
            op.started_at += shift
            state.mark("operations", op_key)


DECIDERS: dict[type[c.Command], Decider] = {
    c.StartOperation: _start_operation,
    c.PauseOperation: _pause_operation,
    c.ResumeOperation: _resume_operation,
    c.CompleteOperation: _complete_operation,
    c.ReportProduction: _report_production,
    c.RecordUnassignedProduction: _record_unassigned,
    c.AssignProduction: _assign_production,
    c.WriteOffUnassignedProduction: _write_off_unassigned,
    c.ClockOnLabour: _clock_on,
    c.ClockOffLabour: _clock_off,
}
EVOLVERS: dict[type[e.Event], Evolver] = {
    e.ProductionReported: _production_reported,
    e.UnassignedProductionRecorded: _unassigned_production_recorded,
    e.UnassignedProductionAssigned: _unassigned_production_taken,
    e.UnassignedProductionWrittenOff: _unassigned_production_taken,
    e.OperationStarted: _operation_started,
    e.OperationPaused: _operation_paused,
    e.OperationResumed: _operation_resumed,
    e.OperationCompleted: _operation_completed,
    e.WorkOrderCompleted: _work_order_completed,
    e.LabourClockedOn: _labour_clocked_on,
    e.LabourClockedOff: _labour_clocked_off,
    e.ClockJumped: _clock_jumped,
}
