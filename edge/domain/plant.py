"""The plant's rules: decide and evolve over the state in memory (edge.domain.state).

``decide(state, command, now)`` checks a command against the rules and returns the events it
causes, or raises ``DomainError``; it never changes ``state``. ``evolve(state, event)`` applies one
event and records which rows changed in ``state.dirty`` so the store can write exactly those rows.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from edge.domain import checks, putaway, sampling, spc
from edge.domain import commands as c
from edge.domain import events as e
from edge.domain.errors import DomainError, invalid
from edge.domain.gs1 import gtin14, gtin_problem
from edge.domain.model import (
    DISPOSITIONS,
    MACHINE_STATES,
    Bin,
    BomLine,
    BomRevision,
    BomRevisionLine,
    Characteristic,
    ClockOn,
    Customer,
    DispatchEntry,
    Equipment,
    ExpectedLot,
    InspectionInterval,
    InspectionPlan,
    InspectionTask,
    Item,
    Lot,
    MachineState,
    Nonconformance,
    Operation,
    Pallet,
    PalletLine,
    PendingCount,
    PurchaseOrder,
    PurchaseOrderLine,
    SalesOrder,
    SalesOrderLine,
    SerialUse,
    StagedStock,
    Stock,
    UnassignedProduction,
    WorkOrder,
    WorkOrderConflict,
)
from edge.domain.state import (
    STATE_TABLES,
    ZERO,
    PlantState,
    final_plans,
    final_task_id,
    incoming_plan,
    incoming_task_id,
    item_incoming_plan,
)

__all__ = ["STATE_TABLES", "PlantState", "decide", "evolve", "gtin_problem", "next_sscc", "sscc_check_digit"]

INSPECTION_KINDS: tuple[str, ...] = ("general", "incoming", "in_process", "final")
# Who records any inspection; the warehouse role records the samples of incoming inspections only.
INSPECTOR_ROLES = frozenset({"quality", "operator", "supervisor", "admin", "service"})


# --- master data -----------------------------------------------------------------------------------


def _define_item(state: PlantState, cmd: c.DefineItem, now: datetime) -> list[e.Event]:
    if cmd.gtin is not None:
        owner = state.item_of_gtin.get(gtin14(checks.valid_gtin("gtin", cmd.gtin)))
        if owner is not None and owner != cmd.item:
            raise DomainError("DUPLICATE_GTIN", f"GTIN {cmd.gtin} is already item {owner}'s", field="gtin")
    return [e.ItemDefined(
        item=checks.text("item", cmd.item), description=checks.free_text("description", cmd.description),
        unit=checks.text("unit", cmd.unit),
        revision=checks.text("revision", cmd.revision), lot_controlled=cmd.lot_controlled, gtin=cmd.gtin,
    )]


def _define_bin(state: PlantState, cmd: c.DefineBin, now: datetime) -> list[e.Event]:
    if cmd.capacity is not None:
        checks.quantity("capacity", cmd.capacity)
    if cmd.walk_sequence is not None and not 0 <= cmd.walk_sequence <= 999_999_999:
        raise invalid("INVALID_WALK_SEQUENCE", f"walk_sequence must be 0 to 999999999, not {cmd.walk_sequence}",
                      "walk_sequence")
    if cmd.max_per_item is not None:
        checks.quantity("max_per_item", cmd.max_per_item)
    if cmd.lot_policy not in putaway.LOT_POLICIES:
        raise invalid("INVALID_VALUE", f"lot_policy is one of {', '.join(putaway.LOT_POLICIES)}, not "
                      f"{cmd.lot_policy}", "lot_policy")
    return [e.BinDefined(
        bin=checks.text("bin", cmd.bin), zone=checks.text("zone", cmd.zone), capacity=cmd.capacity,
        allowed_items=tuple(cmd.allowed_items), walk_sequence=cmd.walk_sequence, max_per_item=cmd.max_per_item,
        lot_policy=cmd.lot_policy,
    )]


def _define_equipment(state: PlantState, cmd: c.DefineEquipment, now: datetime) -> list[e.Event]:
    return [e.EquipmentDefined(
        equipment=checks.text("equipment", cmd.equipment), workstation=checks.text("workstation", cmd.workstation),
        description=checks.free_text("description", cmd.description),
    )]


def _order_content(state: PlantState, cmd: c.ReleaseWorkOrder | c.ChangeWorkOrder
                   ) -> tuple[tuple[e.ReleasedOperation, ...], tuple[e.ReleasedBomLine, ...]]:
    """The operations and BOM lines of a released or changed order, checked. An order released without BOM
    lines takes those of its BOM revision when PLM published that revision here."""
    checks.quantity("quantity", cmd.quantity)
    checks.quantity("overproduction_tolerance_pct", cmd.overproduction_tolerance_pct, allow_zero=True)
    checks.text("item_revision", cmd.item_revision)
    checks.text("bom_revision", cmd.bom_revision)
    if not cmd.operations:
        raise invalid("MISSING_VALUE", "a work order needs at least one operation", "operations")
    seen_ops: set[int] = set()
    for i, op in enumerate(cmd.operations):
        if op.operation in seen_ops:
            raise invalid("DUPLICATE_OPERATION", f"operation {op.operation} appears twice", f"operations[{i}].operation")
        seen_ops.add(op.operation)
        checks.text(f"operations[{i}].workstation", op.workstation)
        checks.free_text(f"operations[{i}].description", op.description)
        checks.quantity(f"operations[{i}].standard_minutes", op.standard_minutes, allow_zero=True)
    for i, op in enumerate(cmd.operations):
        if op.instruction_url is not None and not checks.text(f"operations[{i}].instruction_url", op.instruction_url
                                                        ).startswith(("https://", "http://")):
            raise invalid("INVALID_VALUE", "a work instruction is an http(s) link", f"operations[{i}].instruction_url")
    operations = tuple(e.ReleasedOperation(operation=o.operation, description=o.description, workstation=o.workstation,
                                           standard_minutes=o.standard_minutes, instruction_url=o.instruction_url)
                       for o in cmd.operations)
    bom = _bom_lines(state, cmd.bom, "bom")
    if not bom:
        item = state.work_orders[cmd.work_order].item if isinstance(cmd, c.ChangeWorkOrder) else cmd.item
        bom = state.published_bom(item, cmd.bom_revision)
    return operations, bom


def _release_work_order(state: PlantState, cmd: c.ReleaseWorkOrder, now: datetime) -> list[e.Event]:
    checks.text("work_order", cmd.work_order)
    if cmd.work_order in state.work_orders:
        raise DomainError("DUPLICATE_WORK_ORDER", f"work order {cmd.work_order} is already released", field="work_order")
    checks.item(state, cmd.item)
    operations, bom = _order_content(state, cmd)
    return [e.WorkOrderReleased(
        work_order=cmd.work_order, item=cmd.item, item_revision=cmd.item_revision, bom_revision=cmd.bom_revision,
        quantity=cmd.quantity, operations=operations, bom=bom,
        overproduction_tolerance_pct=cmd.overproduction_tolerance_pct, due=cmd.due,
        customer_order=cmd.customer_order,
    )]


def _started(state: PlantState, work_order: str) -> bool:
    """Whether anything was done on the order here: an operation started, or material issued to it."""
    return (any(o.status != "released" for o in state.operations_of(work_order))
            or any(b.consumed != 0 for b in state.bom_of(work_order)))


def _conflict(state: PlantState, wo: WorkOrder, change: str, detail: str, now: datetime,
              quantity: Decimal | None = None, due: date | None = None) -> list[e.Event]:
    return [e.WorkOrderConflictFlagged(
        work_order=wo.work_order, change=change, proposed_quantity=quantity, proposed_due=due, at=now,
        detail=checks.clip(f"the ERP {change} work order {wo.work_order} while it is {wo.status.replace('_', ' ')} here"
                     f"{': ' + detail if detail else ''}; a supervisor decides"))]


def _change_work_order(state: PlantState, cmd: c.ChangeWorkOrder, now: datetime) -> list[e.Event]:
    wo = checks.work_order(state, cmd.work_order)
    operations, bom = _order_content(state, cmd)
    now_ops = tuple(e.ReleasedOperation(operation=o.operation, description=o.description, workstation=o.workstation,
                                        standard_minutes=o.standard_minutes, instruction_url=o.instruction_url)
                    for o in state.operations_of(wo.work_order))
    now_bom = tuple(e.ReleasedBomLine(line=b.line, item=b.item, item_revision=b.item_revision,
                                      quantity_per=b.quantity_per) for b in state.bom_of(wo.work_order))
    if ((wo.item_revision, wo.bom_revision, wo.quantity, wo.due, wo.customer_order, wo.overproduction_tolerance_pct,
         now_ops, now_bom) == (cmd.item_revision, cmd.bom_revision, cmd.quantity, cmd.due, cmd.customer_order,
                               cmd.overproduction_tolerance_pct, operations, bom)):
        return []  # the ERP sent the order again as it is: nothing changed
    if _started(state, cmd.work_order):
        return _conflict(state, wo, "changed", f"quantity {cmd.quantity}, due {cmd.due or 'none'}", now,
                         cmd.quantity, cmd.due)
    return [e.WorkOrderChanged(
        work_order=cmd.work_order, item_revision=cmd.item_revision, bom_revision=cmd.bom_revision,
        quantity=cmd.quantity, operations=operations, bom=bom,
        overproduction_tolerance_pct=cmd.overproduction_tolerance_pct, due=cmd.due, customer_order=cmd.customer_order)]


def _cancel_work_order(state: PlantState, cmd: c.CancelWorkOrder, now: datetime) -> list[e.Event]:
    wo = checks.work_order(state, cmd.work_order)
    reason = checks.reason("reason", cmd.reason)
    at = checks.at(cmd, now)
    if cmd.origin == "erp":
        if _started(state, cmd.work_order):
            return _conflict(state, wo, "cancelled", reason, at)
        return [e.WorkOrderCancelled(work_order=cmd.work_order, reason=reason, at=at)]
    checks.require_role(cmd, "supervisor", "admin", action="cancelling a work order")
    return [*_clock_off_events(state, cmd.work_order, None, None, at),
            e.WorkOrderCancelled(work_order=cmd.work_order, reason=reason, at=at)]


def _resolve_conflict(state: PlantState, cmd: c.ResolveWorkOrderConflict, now: datetime) -> list[e.Event]:
    checks.require_role(cmd, "supervisor", "admin", action="deciding on a central change")
    wo = checks.work_order(state, cmd.work_order, open_only=False)
    conflict = state.work_order_conflicts.get(cmd.work_order)
    if conflict is None or conflict.status != "open":
        raise DomainError("NO_OPEN_CONFLICT", f"work order {cmd.work_order} has no open conflict with the ERP",
                          field="work_order")
    if cmd.resolution not in ("accept", "keep"):
        raise invalid("INVALID_VALUE", "resolution is accept or keep", "resolution")
    at = checks.at(cmd, now)
    events: list[e.Event] = [e.WorkOrderConflictResolved(
        work_order=cmd.work_order, resolution="accepted" if cmd.resolution == "accept" else "kept",
        note=cmd.note, resolved_by=cmd.actor)]
    if cmd.resolution == "accept":
        if wo.status in ("completed", "cancelled"):
            raise DomainError("WORK_ORDER_CLOSED", f"work order {cmd.work_order} is already {wo.status}",
                              field="work_order")
        if conflict.change == "cancelled":
            events += [*_clock_off_events(state, cmd.work_order, None, None, at),
                       e.WorkOrderCancelled(work_order=cmd.work_order, reason=f"cancelled by the ERP: {conflict.detail}",
                                            at=at)]
        else:
            quantity = conflict.proposed_quantity if conflict.proposed_quantity is not None else wo.quantity
            if quantity < wo.good:
                raise DomainError("QUANTITY_BELOW_REPORTED",
                                  f"the ERP's new quantity {quantity} is below the {wo.good} already reported good",
                                  field="resolution")
            events.append(e.WorkOrderQuantityChanged(work_order=cmd.work_order, quantity=quantity,
                                                     due=conflict.proposed_due))
    return events


def _bom_lines(state: PlantState, lines: tuple[c.BomLineSpec, ...], name: str) -> tuple[e.ReleasedBomLine, ...]:
    seen: set[int] = set()
    for i, ln in enumerate(lines):
        if ln.line in seen:
            raise invalid("DUPLICATE_BOM_LINE", f"BOM line {ln.line} appears twice", f"{name}[{i}].line")
        seen.add(ln.line)
        checks.item(state, ln.item, f"{name}[{i}].item")
        checks.text(f"{name}[{i}].item_revision", ln.item_revision)
        checks.quantity(f"{name}[{i}].quantity_per", ln.quantity_per)
    return tuple(e.ReleasedBomLine(line=b.line, item=b.item, item_revision=b.item_revision, quantity_per=b.quantity_per)
                 for b in lines)


def _publish_bom_revision(state: PlantState, cmd: c.PublishBomRevision, now: datetime) -> list[e.Event]:
    checks.item(state, cmd.item)
    checks.text("bom_revision", cmd.bom_revision)
    if not cmd.lines:
        raise invalid("MISSING_VALUE", "a BOM revision needs at least one line", "lines")
    if cmd.effective not in ("next_order", "immediately"):
        raise invalid("INVALID_VALUE", "effective is next_order or immediately", "effective")
    lines = _bom_lines(state, cmd.lines, "lines")
    events: list[e.Event] = [e.BomRevisionPublished(item=cmd.item, bom_revision=cmd.bom_revision, lines=lines,
                                                    effective=cmd.effective, at=checks.at(cmd, now))]
    if cmd.effective == "immediately":
        for wo in state.work_orders.values():
            if wo.item != cmd.item or wo.status in ("completed", "cancelled") or wo.bom_revision == cmd.bom_revision:
                continue
            consumed = {b.line for b in state.bom_of(wo.work_order) if b.consumed != 0}
            events.append(e.WorkOrderBomRevised(
                work_order=wo.work_order, bom_revision=cmd.bom_revision,
                lines=tuple(ln for ln in lines if ln.line not in consumed),
                removed=tuple(sorted(b.line for b in state.bom_of(wo.work_order)
                                     if b.line not in consumed and b.line not in {ln.line for ln in lines}))))
    return events


def _order_lines(state: PlantState, lines: Sequence[c.PurchaseOrderLineSpec | c.SalesOrderLineSpec],
                 what: str) -> None:
    """The lines of a purchase or sales order: at least one, numbered once, of known items, positive quantities."""
    if not lines:
        raise invalid("MISSING_VALUE", f"{what} needs at least one line", "lines")
    seen: set[int] = set()
    for i, ln in enumerate(lines):
        if ln.line in seen:
            raise invalid("DUPLICATE_LINE", f"line {ln.line} appears twice", f"lines[{i}].line")
        seen.add(ln.line)
        checks.item(state, ln.item, f"lines[{i}].item")
        checks.quantity(f"lines[{i}].quantity", ln.quantity)


def _define_purchase_order(state: PlantState, cmd: c.DefinePurchaseOrder, now: datetime) -> list[e.Event]:
    checks.text("purchase_order", cmd.purchase_order)
    checks.text("supplier", cmd.supplier)
    if cmd.status not in ("open", "cancelled"):
        raise invalid("INVALID_VALUE", "status is open or cancelled", "status")
    _order_lines(state, cmd.lines, "a purchase order")
    lines = []
    for i, ln in enumerate(cmd.lines):
        for j, lot in enumerate(ln.expected_lots):
            checks.text(f"lines[{i}].expected_lots[{j}].supplier_lot", lot.supplier_lot)
            checks.quantity(f"lines[{i}].expected_lots[{j}].quantity", lot.quantity)
        lines.append(e.PurchaseOrderLineDefined(
            line=ln.line, item=ln.item, quantity=ln.quantity, due=ln.due,
            expected_lots=tuple(e.ExpectedSupplierLot(supplier_lot=x.supplier_lot, quantity=x.quantity, expiry=x.expiry)
                                for x in ln.expected_lots)))
    return [e.PurchaseOrderDefined(purchase_order=cmd.purchase_order, supplier=cmd.supplier, status=cmd.status,
                                   lines=tuple(lines))]


def _define_customer(state: PlantState, cmd: c.DefineCustomer, now: datetime) -> list[e.Event]:
    return [e.CustomerDefined(customer=checks.text("customer", cmd.customer), name=checks.text("name", cmd.name))]


def _define_sales_order(state: PlantState, cmd: c.DefineSalesOrder, now: datetime) -> list[e.Event]:
    checks.text("sales_order", cmd.sales_order)
    if cmd.customer not in state.customers:
        raise DomainError("UNKNOWN_CUSTOMER", f"customer {cmd.customer} is not known here", field="customer")
    if cmd.status not in ("open", "cancelled"):
        raise invalid("INVALID_VALUE", "status is open or cancelled", "status")
    _order_lines(state, cmd.lines, "a sales order")
    return [e.SalesOrderDefined(
        sales_order=cmd.sales_order, customer=cmd.customer, status=cmd.status,
        lines=tuple(e.SalesOrderLineDefined(line=ln.line, item=ln.item, quantity=ln.quantity, due=ln.due)
                    for ln in cmd.lines))]


def _set_dispatch_list(state: PlantState, cmd: c.SetDispatchList, now: datetime) -> list[e.Event]:
    checks.text("workstation", cmd.workstation)
    for i, slot in enumerate(cmd.sequence):
        wo = state.work_orders.get(slot.work_order)
        if wo is None:
            raise DomainError("UNKNOWN_WORK_ORDER", f"work order {slot.work_order} is not known here",
                              field=f"sequence[{i}].work_order")
        op = state.operations.get((slot.work_order, slot.operation))
        if op is None:
            raise DomainError("UNKNOWN_OPERATION", f"work order {slot.work_order} has no operation {slot.operation}",
                              field=f"sequence[{i}].operation")
        if op.workstation != cmd.workstation:
            raise DomainError(
                "WRONG_WORKSTATION",
                f"operation {slot.operation} of {slot.work_order} runs on {op.workstation}, not {cmd.workstation}",
                field=f"sequence[{i}]",
            )
        if op.status == "completed":
            raise DomainError("OPERATION_COMPLETED",
                              f"operation {slot.operation} of {slot.work_order} is already completed: nothing to dispatch",
                              field=f"sequence[{i}]")
    return [e.DispatchListSet(
        workstation=cmd.workstation,
        sequence=tuple(e.DispatchedOperation(work_order=s.work_order, operation=s.operation) for s in cmd.sequence),
    )]


def _define_inspection_plan(state: PlantState, cmd: c.DefineInspectionPlan, now: datetime) -> list[e.Event]:
    checks.text("plan", cmd.plan)
    if not cmd.characteristics:
        raise invalid("MISSING_VALUE", "an inspection plan needs at least one characteristic", "characteristics")
    names: set[str] = set()
    for i, ch in enumerate(cmd.characteristics):
        where = f"characteristics[{i}]"
        checks.text(f"{where}.characteristic", ch.characteristic)
        if ch.characteristic in names:
            raise invalid("DUPLICATE_CHARACTERISTIC", f"{ch.characteristic} appears twice", f"{where}.characteristic")
        names.add(ch.characteristic)
        if ch.kind == "numeric":
            if ch.lsl is None and ch.usl is None:
                raise invalid("MISSING_LIMITS", f"{ch.characteristic} needs a lower or upper limit", f"{where}.lsl")
            if ch.lsl is not None and ch.usl is not None and ch.lsl > ch.usl:
                raise invalid("INVALID_LIMITS", f"{ch.characteristic}: LSL {ch.lsl} is above USL {ch.usl}", f"{where}.lsl")
        elif ch.kind != "attribute":
            raise invalid("INVALID_KIND", f"kind must be numeric or attribute, got {ch.kind}", f"{where}.kind")
    if cmd.item is not None:
        checks.item(state, cmd.item)
    _plan_sampling(cmd)
    return [e.InspectionPlanDefined(
        plan=cmd.plan, description=checks.free_text("description", cmd.description),
        characteristics=tuple(
            e.PlannedCharacteristic(characteristic=ch.characteristic, kind=ch.kind, nominal=ch.nominal,
                                    lsl=ch.lsl, usl=ch.usl, unit=ch.unit)
            for ch in cmd.characteristics
        ),
        item=cmd.item, operation=cmd.operation, hold_on_fail=cmd.hold_on_fail,
        spc_nonconformance=cmd.spc_nonconformance, kind=cmd.kind, supplier=cmd.supplier, sample_size=cmd.sample_size,
        sample_by_lot_size=cmd.sample_by_lot_size, accept_number=cmd.accept_number, every_n_parts=cmd.every_n_parts,
        every_minutes=cmd.every_minutes, flag_overdue=cmd.flag_overdue, overdue_grace_parts=cmd.overdue_grace_parts,
    )]


def _plan_sampling(cmd: c.DefineInspectionPlan) -> None:
    """The sampling fields of a plan agree with its kind (edge.domain.sampling)."""
    if cmd.kind not in INSPECTION_KINDS:
        raise invalid("INVALID_KIND", f"kind must be one of {', '.join(INSPECTION_KINDS)}, got {cmd.kind}", "kind")
    for name in ("sample_size", "every_n_parts", "every_minutes"):
        value = getattr(cmd, name)
        if value is not None and (not isinstance(value, int) or not 1 <= value <= 1_000_000):
            raise invalid("INVALID_VALUE", f"{name} must be a whole number from 1 to 1000000, got {value}", name)
    if not 0 <= cmd.accept_number <= 1_000_000:
        raise invalid("INVALID_VALUE", f"accept_number must be 0 or more, got {cmd.accept_number}", "accept_number")
    if cmd.sample_size is not None and cmd.accept_number >= cmd.sample_size:
        raise invalid("INVALID_VALUE", f"accept_number {cmd.accept_number} must be below the sample size "
                      f"{cmd.sample_size}", "accept_number")
    checks.quantity("overdue_grace_parts", cmd.overdue_grace_parts, allow_zero=True)
    if cmd.sample_by_lot_size and cmd.sample_size is not None:
        raise invalid("INVALID_VALUE", "give a fixed sample_size or sample_by_lot_size, not both", "sample_size")
    if cmd.supplier is not None and cmd.kind != "incoming":
        raise invalid("INVALID_VALUE", "only an incoming plan names a supplier", "supplier")
    if cmd.kind == "incoming" and cmd.item is None and cmd.supplier is None:
        raise invalid("MISSING_VALUE", "an incoming plan names the item or the supplier (or both) it inspects", "item")
    if cmd.kind == "final" and cmd.item is None:
        raise invalid("MISSING_VALUE", "a final inspection plan names the item whose work orders it inspects", "item")
    interval = cmd.every_n_parts is not None or cmd.every_minutes is not None
    if cmd.kind == "in_process":
        if cmd.operation is None:
            raise invalid("MISSING_VALUE", "an in-process plan names the operation it inspects", "operation")
        if not interval:
            raise invalid("MISSING_VALUE", "an in-process plan needs every_n_parts or every_minutes (or both)",
                          "every_n_parts")
        if cmd.sample_by_lot_size:
            raise invalid("INVALID_VALUE", "an in-process plan takes a fixed sample_size", "sample_by_lot_size")
    elif interval or cmd.flag_overdue:
        raise invalid("INVALID_VALUE", "every_n_parts, every_minutes and flag_overdue are for in_process plans",
                      "every_n_parts" if interval else "flag_overdue")


# --- work orders and labour ------------------------------------------------------------------------


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
    return [e.OperationStarted(work_order=cmd.work_order, operation=cmd.operation, at=checks.at(cmd, now))]


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


def _clock_off_events(state: PlantState, work_order: str, operation: int | None, operator: str | None,
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
    out: list[e.Event] = _clock_off_events(state, cmd.work_order, cmd.operation, None, at)
    out.append(e.OperationCompleted(work_order=cmd.work_order, operation=cmd.operation, at=at))
    if all(o.status == "completed" for o in state.operations_of(cmd.work_order) if o.operation != cmd.operation):
        _final_inspection_passed(state, wo)
        out.append(e.WorkOrderCompleted(work_order=wo.work_order, good=wo.good, scrap=wo.scrap, at=at))
    return out


def _final_inspection_passed(state: PlantState, wo: WorkOrder) -> None:
    """Refuse to complete a work order whose item has a final inspection plan that did not pass for it."""
    for plan in final_plans(state, wo.item):
        task = state.inspection_tasks.get(final_task_id(wo.work_order, plan.plan))
        if task is None or task.status == "open":
            done = f"{task.samples} of {task.sample_size}" if task is not None else "no"
            raise DomainError("FINAL_INSPECTION_MISSING", f"work order {wo.work_order} needs its final inspection "
                              f"(plan {plan.plan}) before it completes: {done} samples recorded", field="work_order")
        if task.status == "failed":
            raise DomainError("FINAL_INSPECTION_FAILED", f"the final inspection of work order {wo.work_order} (plan "
                              f"{plan.plan}) failed ({task.failed} of {task.samples} samples): rework and inspect "
                              "again before it completes", field="work_order")


def _overdue_after(iv: InspectionInterval, plan: InspectionPlan, quantity: Decimal, at: datetime) -> Decimal:
    """The parts reported while an in-process inspection was due, once ``quantity`` more is reported at ``at``."""
    due = sampling.interval_due(iv.parts_since, iv.since, at, plan.every_n_parts, plan.every_minutes)
    if due is not None:
        return iv.overdue_parts + quantity
    if plan.every_n_parts is not None:
        return iv.overdue_parts + max(ZERO, iv.parts_since + quantity - plan.every_n_parts)
    return iv.overdue_parts


def _overdue_flags(state: PlantState, op: Operation, quantity: Decimal, at: datetime) -> list[e.Event]:
    """Production beyond a plan's grace while its in-process inspection is due on the operation: flagged once."""
    out: list[e.Event] = []
    for key, iv in sorted(state.inspection_intervals.items()):
        if key[1:] != (op.work_order, op.operation) or iv.flagged:
            continue
        plan = state.inspection_plans.get(iv.plan)
        if plan is None or plan.kind != "in_process" or not plan.flag_overdue:
            continue
        overdue = _overdue_after(iv, plan, quantity, at)
        if overdue > plan.overdue_grace_parts:
            due = sampling.interval_due(iv.parts_since + quantity, iv.since, at, plan.every_n_parts,
                                        plan.every_minutes)
            out.append(e.InspectionOverdueFlagged(
                plan=plan.plan, work_order=op.work_order, operation=op.operation, workstation=op.workstation,
                reason=due.reason if due is not None else "count", parts_since=iv.parts_since + quantity,
                overdue_parts=overdue, at=at))
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
            *_overdue_flags(state, op, good + scrap, at)]


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
    return _clock_off_events(state, cmd.work_order, cmd.operation, cmd.operator, checks.at(cmd, now))


# --- inventory -------------------------------------------------------------------------------------


def _moved(lot: Lot, kind: str, from_bin: str | None, to_bin: str | None, quantity: Decimal, delta: Decimal,
           at: datetime, *, reason: str | None = None, work_order: str | None = None,
           bom_line: int | None = None, serial: str | None = None) -> e.StockMoved:
    return e.StockMoved(
        lot=lot.lot, item=lot.item, kind=kind, from_bin=from_bin, to_bin=to_bin, quantity=quantity,
        lot_quantity_delta=delta, work_order=work_order, bom_line=bom_line, reason=reason, at=at, serial=serial,
    )


def _received_item(state: PlantState, cmd: c.ReceiveLot) -> Item:
    """The item a received lot is of: named by its code, by its GTIN (a scanned GS1 label), or by both."""
    if cmd.gtin is None:
        return checks.item(state, checks.text("item", cmd.item, what=" (or the item's gtin)"))
    named = state.item_of_gtin.get(gtin14(checks.valid_gtin("gtin", cmd.gtin)))
    if cmd.item is None:
        if named is None:
            raise DomainError("UNKNOWN_GTIN", f"GTIN {cmd.gtin} is no item's here; name the item", field="gtin")
        return state.items[named]
    item = checks.item(state, cmd.item)
    if named != item.item and (named is not None or item.gtin is not None):
        raise DomainError("WRONG_ITEM", f"GTIN {cmd.gtin} is {f'item {named}' if named else 'no item here'}, not "
                          f"item {item.item}" + (f" ({item.gtin})" if item.gtin else ""), field="gtin")
    return item


def _awaiting_receipt(state: PlantState, lot: Lot) -> bool:
    """Whether ``lot`` is only defined (known from the ERP, none of it ever here): a receipt fills it. A lot that
    had stock and has none left is consumed, so a known lot with no quantity that is not consumed never had any."""
    return lot.quantity == 0 and lot.status != "consumed" and lot.lot not in state.bins_of_lot


def _receive_lot(state: PlantState, cmd: c.ReceiveLot, now: datetime) -> list[e.Event]:
    checks.text("lot", cmd.lot)
    known = state.lots.get(cmd.lot)
    if known is not None and not _awaiting_receipt(state, known):
        raise DomainError("DUPLICATE_LOT", f"lot {cmd.lot} was already received", field="lot")
    item = _received_item(state, cmd)
    revision = cmd.item_revision or item.revision
    expiry, supplier_lot = cmd.expiry, cmd.supplier_lot
    if known is not None:  # a lot the ERP announced: it is received as what the ERP says it is
        if known.item != item.item:
            raise DomainError("WRONG_ITEM", f"lot {cmd.lot} is known as item {known.item}, not {item.item}",
                              field="gtin" if cmd.item is None else "item")
        if known.status == "hold":
            raise DomainError("LOT_ON_HOLD", f"lot {cmd.lot} is on hold: release it before receiving it",
                              field="lot")
        if expiry is not None and known.expiry is not None and expiry != known.expiry:
            raise DomainError("EXPIRY_MISMATCH", f"lot {cmd.lot} is known with expiry {known.expiry.isoformat()}"
                              f" (from the ERP), not {expiry.isoformat()}: correct it in the ERP, or receive the "
                              "lot without an expiry", field="expiry")
        expiry = expiry or known.expiry
        supplier_lot = supplier_lot or known.supplier_lot
        revision = cmd.item_revision or known.item_revision
    quantity = checks.quantity("quantity", cmd.quantity)
    target = checks.bin(state, cmd.bin)
    at = checks.at(cmd, now)
    if expiry is not None and expiry < at.date():
        raise DomainError("LOT_EXPIRED", f"lot {cmd.lot} expired on {expiry.isoformat()}: not received",
                          field="expiry")
    checks.fits_in_bin(state, target, item.item, quantity, "bin", cmd.lot)
    return [e.LotReceived(
        lot=cmd.lot, item=item.item, item_revision=revision, quantity=quantity, bin=target.bin, expiry=expiry,
        supplier_lot=supplier_lot, status="quarantine" if cmd.quarantine else "available", at=at,
    )]


def _define_lot(state: PlantState, cmd: c.DefineLot, now: datetime) -> list[e.Event]:
    """A lot the ERP knows: new here, it is defined without stock; known, its expiry follows the ERP's (the
    stock, status and supplier lot recorded here stay)."""
    lot_code = checks.text("lot", cmd.lot)
    item = checks.item(state, checks.text("item", cmd.item))
    if cmd.supplier_lot is not None:
        checks.text("supplier_lot", cmd.supplier_lot)
    known = state.lots.get(lot_code)
    if known is None:
        return [e.LotDefined(lot=lot_code, item=item.item, item_revision=item.revision, expiry=cmd.expiry,
                             supplier_lot=cmd.supplier_lot)]
    if known.item != item.item:
        raise DomainError("WRONG_ITEM", f"lot {lot_code} is item {known.item} here, not {item.item}: one lot "
                          "number names one lot", field="item")
    if known.expiry == cmd.expiry:
        return []
    return [e.LotExpiryChanged(lot=lot_code, item=known.item, expiry=cmd.expiry, previous=known.expiry,
                               quantity=known.quantity)]


def _receive_plain_lot(state: PlantState, cmd: c.ReceiveLot, now: datetime) -> list[e.Event]:
    """A lot received without a purchase order. An incoming plan of the item that names no supplier applies to it as
    to a receipt on an order (a plan per supplier cannot match: nobody said who delivered): the lot goes to quarantine
    with its incoming inspection task. Opening stock was inspected before go-live: only the lots entered in
    quarantine get a task."""
    events = _receive_lot(state, cmd, now)
    received = next(ev for ev in events if isinstance(ev, e.LotReceived))
    plan = item_incoming_plan(state, received.item)
    if plan is None or (cmd.opening_stock and not cmd.quarantine):
        return events
    out: list[e.Event] = [dataclasses.replace(ev, status="quarantine") if isinstance(ev, e.LotReceived) else ev
                          for ev in events]
    out.append(e.InspectionTaskOpened(
        task=incoming_task_id(cmd.lot), kind="incoming", plan=plan.plan,
        sample_size=sampling.sample_size(received.quantity, plan.sample_size, plan.sample_by_lot_size), lot=cmd.lot,
        work_order=None, supplier=None, supplier_lot=cmd.supplier_lot, purchase_order=None, at=received.at))
    return out


def _receive_produced_lot(state: PlantState, cmd: c.ReceiveProducedLot, now: datetime) -> list[e.Event]:
    wo = checks.work_order(state, cmd.work_order, open_only=False)
    if wo.status == "cancelled":
        raise DomainError("WORK_ORDER_CANCELLED", f"work order {wo.work_order} was cancelled", field="work_order")
    quantity = checks.quantity("quantity", cmd.quantity)
    left = wo.good - wo.output_received
    if quantity > left:
        raise DomainError("OUTPUT_EXCEEDS_GOOD", f"work order {wo.work_order} reported {wo.good} good and put "
                          f"{wo.output_received} into stock already: at most {left} more", field="quantity")
    events = _receive_lot(state, c.ReceiveLot(
        idempotency_key=cmd.idempotency_key, actor=cmd.actor, actor_roles=cmd.actor_roles, origin=cmd.origin,
        occurred_at=cmd.occurred_at, lot=cmd.lot, item=wo.item, item_revision=wo.item_revision, quantity=quantity,
        bin=cmd.bin, expiry=cmd.expiry), now)
    return [dataclasses.replace(ev, work_order=wo.work_order) if isinstance(ev, e.LotReceived) else ev
            for ev in events]


def _receive_against_purchase_order(state: PlantState, cmd: c.ReceiveAgainstPurchaseOrder,
                                   now: datetime) -> list[e.Event]:
    po = state.purchase_orders.get(cmd.purchase_order)
    if po is None:
        raise DomainError("UNKNOWN_PURCHASE_ORDER", f"purchase order {cmd.purchase_order} is not known here",
                          field="purchase_order")
    if po.status != "open":
        raise DomainError("PURCHASE_ORDER_CLOSED", f"purchase order {cmd.purchase_order} is {po.status}",
                          field="purchase_order")
    lines = sorted((ln for (order, _), ln in state.purchase_order_lines.items() if order == cmd.purchase_order),
                   key=lambda ln: ln.line)
    item = cmd.item
    if item is None and cmd.gtin is not None:
        item = state.item_of_gtin.get(gtin14(checks.valid_gtin("gtin", cmd.gtin)))
        if item is None:
            raise DomainError("UNKNOWN_GTIN", f"GTIN {cmd.gtin} is not an item known here", field="gtin")
    if cmd.line is not None:
        line = next((ln for ln in lines if ln.line == cmd.line), None)
        if line is None:
            raise DomainError("UNKNOWN_PO_LINE", f"purchase order {cmd.purchase_order} has no line {cmd.line}",
                              field="line")
        if item is not None and item != line.item:
            raise DomainError("WRONG_ITEM", f"line {line.line} of {cmd.purchase_order} is for {line.item}, "
                              f"not {item}", field="gtin" if cmd.item is None else "item")
    else:
        if item is None:
            raise invalid("MISSING_VALUE", "name the line, the item or the label's GTIN", "line")
        of_item = [ln for ln in lines if ln.item == item]
        if not of_item:
            raise DomainError("NOT_ON_PURCHASE_ORDER", f"{item} is not on purchase order {cmd.purchase_order} "
                              f"(it orders {', '.join(sorted({ln.item for ln in lines}))})",
                              field="gtin" if cmd.item is None else "item")
        line = next((ln for ln in of_item if ln.received < ln.quantity), of_item[0])
    quantity = checks.quantity("quantity", cmd.quantity)
    remaining = line.quantity - line.received
    if quantity > remaining:
        raise DomainError("OVER_RECEIPT", f"line {line.line} of {cmd.purchase_order} expects {remaining} more "
                          f"{line.item}; {quantity} is more than was ordered", field="quantity")
    events = _receive_lot(state, c.ReceiveLot(
        idempotency_key=cmd.idempotency_key, actor=cmd.actor, actor_roles=cmd.actor_roles, origin=cmd.origin,
        occurred_at=cmd.occurred_at, lot=cmd.lot, item=line.item, item_revision=None, quantity=quantity, bin=cmd.bin,
        expiry=cmd.expiry, supplier_lot=cmd.supplier_lot, quarantine=cmd.quarantine), now)
    plan = incoming_plan(state, line.item, po.supplier)
    if plan is None:
        return [dataclasses.replace(ev, purchase_order=cmd.purchase_order, po_line=line.line)
                if isinstance(ev, e.LotReceived) else ev for ev in events]
    # An incoming inspection plan covers the item or the supplier: the lot awaits inspection (in quarantine).
    out: list[e.Event] = [dataclasses.replace(ev, purchase_order=cmd.purchase_order, po_line=line.line,
                                              status="quarantine")
                          if isinstance(ev, e.LotReceived) else ev for ev in events]
    out.append(e.InspectionTaskOpened(
        task=incoming_task_id(cmd.lot), kind="incoming", plan=plan.plan,
        sample_size=sampling.sample_size(quantity, plan.sample_size, plan.sample_by_lot_size), lot=cmd.lot,
        work_order=None, supplier=po.supplier, supplier_lot=cmd.supplier_lot, purchase_order=cmd.purchase_order,
        at=checks.at(cmd, now)))
    return out












def _move_stock(state: PlantState, cmd: c.MoveStock, now: datetime) -> list[e.Event]:
    lot = checks.lot(state, cmd.lot)
    checks.bin(state, cmd.from_bin, "from_bin")
    target = checks.bin(state, cmd.to_bin, "to_bin")
    checks.label_names_lot_item(state, lot, cmd.gtin)
    if cmd.from_bin == cmd.to_bin:
        raise invalid("SAME_BIN", f"from_bin and to_bin are both {cmd.from_bin}", "to_bin")
    if cmd.quantity is None:  # all of the lot that is in the bin (and not packed on a pallet)
        quantity = state.stock_of(lot.lot, cmd.from_bin)
        if quantity > ZERO:
            quantity = max(quantity - state.on_open_pallets(lot.lot, cmd.from_bin), ZERO) or quantity
        if quantity == ZERO:
            raise DomainError("INSUFFICIENT_STOCK", f"bin {cmd.from_bin} holds none of lot {lot.lot}",
                              field="from_bin")
    else:
        quantity = checks.quantity("quantity", cmd.quantity)
    checks.enough_stock(state, lot, cmd.from_bin, quantity)
    checks.fits_in_bin(state, target, lot.item, quantity, "to_bin", lot.lot)
    reason = None if cmd.reason is None else checks.free_text("reason", cmd.reason)
    overridden = False
    best: list[putaway.Candidate] = []
    if cmd.putaway and cmd.putaway_rules:  # a site without putaway rules gets suggestions, not the check
        best = putaway.suggest(state, lot.item, quantity, cmd.putaway_rules, lot=lot.lot, exclude=cmd.from_bin,
                               limit=1)
        overridden = not best or best[0].bin != cmd.to_bin
        if overridden and cmd.override_reason is None:
            if best:
                why = f"bin {cmd.to_bin} is not the suggested bin {best[0].bin} ({best[0].reason})"
            else:
                zones, _ = putaway.zones_for(lot.item, cmd.putaway_rules)
                why = f"no bin in zone {', '.join(zones)} takes {quantity} of lot {lot.lot} by the putaway rules"
            raise DomainError("PUTAWAY_OVERRIDE_REASON_REQUIRED",
                              f"{why}; give an override reason to put the lot away in bin {cmd.to_bin}",
                              field="override_reason")
    kind = "putaway" if cmd.putaway else "move"
    moved = _moved(lot, kind, cmd.from_bin, cmd.to_bin, quantity, ZERO, checks.at(cmd, now), reason=reason)
    if overridden:  # what the rules suggested and why it went elsewhere (a putaway to the suggestion keeps neither)
        moved = dataclasses.replace(moved, suggested_bin=best[0].bin if best else None,
                                    override_reason=checks.reason("override_reason", cmd.override_reason))
    return [moved]


def _issue_to_work_order(state: PlantState, cmd: c.IssueToWorkOrder, now: datetime) -> list[e.Event]:
    wo = checks.work_order(state, cmd.work_order)
    lot = checks.lot(state, cmd.lot)
    checks.bin(state, cmd.bin)
    quantity = checks.quantity("quantity", cmd.quantity)
    at = checks.at(cmd, now)
    checks.label_names_lot_item(state, lot, cmd.gtin)
    lines = state.bom_of(wo.work_order)
    same_item = [ln for ln in lines if ln.item == lot.item]
    if not same_item:
        needed = ", ".join(sorted({ln.item for ln in lines})) or "no material"
        raise DomainError(
            "WRONG_ITEM", f"lot {lot.lot} is item {lot.item}; work order {wo.work_order} needs {needed}", field="lot"
        )
    same_revision = [ln for ln in same_item if ln.item_revision == lot.item_revision]
    if not same_revision:
        wanted = ", ".join(sorted({ln.item_revision for ln in same_item}))
        raise DomainError(
            "WRONG_REVISION",
            f"lot {lot.lot} is {lot.item} revision {lot.item_revision}; work order {wo.work_order} "
            f"(BOM revision {wo.bom_revision}) needs revision {wanted}", field="lot",
        )
    checks.usable_lot(state, lot, at.date())
    if cmd.serial is not None:
        checks.text("serial", cmd.serial)
        used = state.serials.get((lot.item, cmd.serial))
        if used is not None:
            raise DomainError(
                "DUPLICATE_SERIAL", f"serial {cmd.serial} of {lot.item} was already issued to work order "
                f"{used.work_order} on {used.at.isoformat(timespec='seconds')}", field="serial",
            )
    checks.enough_stock(state, lot, cmd.bin, quantity)
    _not_staged_for_another(state, lot, cmd.bin, wo.work_order, quantity)
    for ln in same_revision:
        remaining = ln.quantity_per * wo.quantity - ln.consumed
        if quantity <= remaining:
            return [_moved(lot, "issue", cmd.bin, None, quantity, -quantity, at, work_order=wo.work_order,
                           bom_line=ln.line, serial=cmd.serial)]
    remaining = sum((ln.quantity_per * wo.quantity - ln.consumed for ln in same_revision), ZERO)
    raise DomainError(
        "OVER_CONSUMPTION",
        f"work order {wo.work_order} still needs {max(remaining, ZERO)} of {lot.item}; {quantity} is more",
        field="quantity",
    )


def _not_staged_for_another(state: PlantState, lot: Lot, bin_code: str, work_order: str, quantity: Decimal) -> None:
    """Refuse to issue stock that was kitted (picked into a staging bin) for another open work order: that order's
    kit would come up short at the line. Stock of the bin staged for nobody, and the order's own share, may be
    issued. To give another order's kit away on purpose, move it out of the staging bin first (that unstages it)."""
    others = {wo: q for wo, q in state.staged_for(lot.lot, bin_code).items() if wo != work_order}
    if not others:
        return
    free = max(ZERO, state.stock_of(lot.lot, bin_code) - sum(others.values(), ZERO))
    if quantity <= free:
        return
    staged = ", ".join(f"{q} for work order {wo}" for wo, q in sorted(others.items()))
    raise DomainError(
        "STAGED_FOR_ANOTHER_ORDER",
        f"lot {lot.lot} in bin {bin_code} is staged {staged}: "
        + (f"at most {free} of it is free for {work_order}" if free > ZERO else f"none of it is free for {work_order}")
        + " (move the kit out of the staging bin to give it away)", field="lot")


# --- pallets (GS1 SSCC): packed with lots, shipped against a sales order ---------------------------------------


def sscc_check_digit(body: str) -> int:
    """The GS1 mod-10 check digit of the first 17 digits of an SSCC."""
    return -sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body))) % 10


def _sscc(value: str) -> str:
    if not (value.isascii() and value.isdigit() and len(value) == 18):
        raise invalid("INVALID_SSCC", f"an SSCC is 18 digits, not {value!r}", "sscc")
    if sscc_check_digit(value[:-1]) != int(value[-1]):
        raise invalid("INVALID_SSCC", f"SSCC {value} has check digit {value[-1]}, expected "
                      f"{sscc_check_digit(value[:-1])}", "sscc")
    return value


def next_sscc(state: PlantState, company_prefix: str | None, extension_digit: int) -> str:
    """The next SSCC of this node's sequence: one past the highest serial reference of the pallets with this
    extension digit and company prefix (the SSCCs are in the events, so a replay gives the same ones)."""
    if company_prefix is None:
        raise DomainError("NO_COMPANY_PREFIX", "this site has no GS1 company prefix (warehouse.gs1_company_prefix): "
                          "name the pallet's sscc", field="sscc")
    if not (company_prefix.isascii() and company_prefix.isdigit() and 6 <= len(company_prefix) <= 12):
        raise invalid("INVALID_VALUE", f"a GS1 company prefix is 6 to 12 digits, not {company_prefix!r}", "sscc")
    if not 0 <= extension_digit <= 9:
        raise invalid("INVALID_VALUE", f"the SSCC extension digit is 0 to 9, not {extension_digit}", "sscc")
    head = f"{extension_digit}{company_prefix}"
    width = 17 - len(head)
    used = [int(code[len(head):17]) for code in state.pallets if code.startswith(head)]
    serial = max(used, default=0) + 1
    if serial >= 10 ** width:
        raise DomainError("SSCC_SEQUENCE_EXHAUSTED", f"every serial reference of company prefix {company_prefix} "
                          f"(extension {extension_digit}) is used", field="sscc")
    body = f"{head}{serial:0{width}d}"
    return body + str(sscc_check_digit(body))


def _on_open_pallets(state: PlantState, lot: str, bin_code: str) -> Decimal:
    """How much of the stock of ``lot`` in ``bin_code`` is packed on pallets not shipped yet."""
    return state.packed.get((lot, bin_code), ZERO)


def _pack(state: PlantState, lot: str, bin_code: str, delta: Decimal) -> None:
    key = (lot, bin_code)
    left = state.packed.get(key, ZERO) + delta
    if left == ZERO:
        state.packed.pop(key, None)
    else:
        state.packed[key] = left


def _packable(state: PlantState, lot_code: str, bin_code: str, quantity: Decimal, name: str) -> Lot:
    lot = checks.lot(state, lot_code, name)
    if lot.status in ("hold", "quarantine", "consumed"):
        what = {"hold": "on hold", "quarantine": "in quarantine", "consumed": "used up"}[lot.status]
        code = {"hold": "LOT_ON_HOLD", "quarantine": "LOT_IN_QUARANTINE", "consumed": "LOT_CONSUMED"}[lot.status]
        raise DomainError(code,
                          f"lot {lot.lot} is {what}: it is not packed for shipping", field=name)
    free = state.stock_of(lot.lot, bin_code) - state.on_open_pallets(lot.lot, bin_code)
    if quantity > free:
        raise DomainError("INSUFFICIENT_STOCK", f"bin {bin_code} holds {free} of lot {lot.lot} not packed on a "
                          f"pallet yet; {quantity} asked", field=name.replace(".lot", ".quantity"))
    return lot


def _pack_pallet(state: PlantState, cmd: c.PackPallet, now: datetime) -> list[e.Event]:
    target = checks.bin(state, cmd.bin)
    if cmd.sscc is not None:
        code = _sscc(cmd.sscc)
        if code in state.pallets:
            raise DomainError("DUPLICATE_SSCC", f"pallet {code} was packed already", field="sscc")
    else:
        code = next_sscc(state, cmd.company_prefix, cmd.extension_digit)
    if not cmd.lines:
        raise invalid("MISSING_VALUE", "a pallet needs at least one line (lot and quantity)", "lines")
    seen: set[str] = set()
    content = []
    for i, ln in enumerate(cmd.lines):
        quantity = checks.quantity(f"lines[{i}].quantity", ln.quantity)
        if ln.lot in seen:
            raise invalid("DUPLICATE_LOT", f"lot {ln.lot} is on the pallet twice: one line per lot",
                          f"lines[{i}].lot")
        seen.add(ln.lot)
        lot = _packable(state, ln.lot, target.bin, quantity, f"lines[{i}].lot")
        content.append(e.PalletContent(lot=lot.lot, item=lot.item, quantity=quantity))
    return [e.PalletPacked(sscc=code, bin=target.bin, lines=tuple(content), packed_by=cmd.actor, at=checks.at(cmd, now))]


def _open_pallet(state: PlantState, code: str) -> Pallet:
    pallet = state.pallets.get(code)
    if pallet is None:
        raise DomainError("UNKNOWN_PALLET", f"pallet {code} is not known here", field="sscc")
    if pallet.status == "shipped":
        raise DomainError("PALLET_SHIPPED", f"pallet {code} was shipped on {pallet.shipped_at:%Y-%m-%d %H:%M} "
                          f"against sales order {pallet.sales_order}", field="sscc")
    return pallet


def _add_to_pallet(state: PlantState, cmd: c.AddToPallet, now: datetime) -> list[e.Event]:
    pallet = _open_pallet(state, cmd.sscc)
    quantity = checks.quantity("quantity", cmd.quantity)
    lot = _packable(state, cmd.lot, pallet.bin, quantity, "lot")
    return [e.PalletLotAdded(sscc=pallet.sscc, lot=lot.lot, item=lot.item, quantity=quantity, at=checks.at(cmd, now))]


def _remove_from_pallet(state: PlantState, cmd: c.RemoveFromPallet, now: datetime) -> list[e.Event]:
    pallet = _open_pallet(state, cmd.sscc)
    quantity = checks.quantity("quantity", cmd.quantity)
    line = state.pallet_lines.get((pallet.sscc, cmd.lot))
    if line is None:
        raise DomainError("NOT_ON_PALLET", f"lot {cmd.lot} is not on pallet {pallet.sscc}", field="lot")
    if quantity > line.quantity:
        raise DomainError("INSUFFICIENT_STOCK", f"pallet {pallet.sscc} holds {line.quantity} of lot {cmd.lot}; "
                          f"{quantity} asked", field="quantity")
    return [e.PalletLotRemoved(sscc=pallet.sscc, lot=line.lot, item=line.item, quantity=quantity, at=checks.at(cmd, now))]


def _ship_pallet(state: PlantState, cmd: c.ShipPallet, now: datetime) -> list[e.Event]:
    pallet = _open_pallet(state, cmd.sscc)
    order = state.sales_orders.get(cmd.sales_order)
    if order is None:
        raise DomainError("UNKNOWN_SALES_ORDER", f"sales order {cmd.sales_order} is not known here",
                          field="sales_order")
    if order.status != "open":
        raise DomainError("SALES_ORDER_CLOSED", f"sales order {cmd.sales_order} is {order.status}",
                          field="sales_order")
    lines = sorted((ln for ln in state.pallet_lines.values() if ln.sscc == pallet.sscc), key=lambda ln: ln.lot)
    order_lines = sorted((ln for (so, _), ln in state.sales_order_lines.items() if so == order.sales_order),
                         key=lambda ln: ln.line)
    left = {ln.line: ln.quantity - ln.shipped for ln in order_lines}
    at = checks.at(cmd, now)
    moves: list[e.Event] = []
    shipped: list[e.ShippedLine] = []
    for ln in lines:
        lot = state.lots[ln.lot]
        if lot.status in ("hold", "quarantine"):
            what = "on hold" if lot.status == "hold" else "in quarantine"
            raise DomainError("LOT_ON_HOLD" if lot.status == "hold" else "LOT_IN_QUARANTINE",
                              f"lot {lot.lot} on pallet {pallet.sscc} is {what}: the pallet is not shipped",
                              field="sscc")
        have = state.stock_of(lot.lot, pallet.bin)
        if have < ln.quantity:
            raise DomainError("INSUFFICIENT_STOCK", f"pallet {pallet.sscc} holds {ln.quantity} of lot {lot.lot} but "
                              f"bin {pallet.bin} holds {have}: count the pallet again", field="sscc")
        remaining = ln.quantity
        for ol in order_lines:
            if ol.item != ln.item or left[ol.line] <= ZERO:
                continue
            take = min(remaining, left[ol.line])
            left[ol.line] -= take
            remaining -= take
            shipped.append(e.ShippedLine(lot=lot.lot, item=ln.item, quantity=take, line=ol.line))
            if remaining == ZERO:
                break
        if remaining > ZERO:
            ordered = [ol for ol in order_lines if ol.item == ln.item]
            why = (f"orders no {ln.item}" if not ordered else
                   f"has {sum((left[ol.line] for ol in ordered), ZERO) + ln.quantity - remaining} of {ln.item} left "
                   f"to ship; the pallet holds more")
            raise DomainError("NOT_ON_SALES_ORDER" if not ordered else "OVER_SHIPMENT",
                              f"sales order {order.sales_order} {why}", field="sales_order")
        moves.append(dataclasses.replace(
            _moved(lot, "ship", pallet.bin, None, ln.quantity, -ln.quantity, at,
                   reason=f"shipped on pallet {pallet.sscc} to {order.customer}"),
            sales_order=order.sales_order, sscc=pallet.sscc))
    return [*moves, e.PalletShipped(sscc=pallet.sscc, sales_order=order.sales_order, customer=order.customer,
                                    bin=pallet.bin, lines=tuple(shipped), at=at)]


# --- kitting: picks of a work order's pick list (the list itself: edge.domain.picking) ------------------------


def _bom_line_for_lot(state: PlantState, wo: WorkOrder, lot: Lot) -> BomLine:
    """The BOM line of ``wo`` that ``lot`` serves (same item and revision), the first with need left."""
    lines = state.bom_of(wo.work_order)
    same_item = [ln for ln in lines if ln.item == lot.item]
    if not same_item:
        needed = ", ".join(sorted({ln.item for ln in lines})) or "no material"
        raise DomainError(
            "WRONG_ITEM", f"lot {lot.lot} is item {lot.item}; work order {wo.work_order} needs {needed}", field="lot")
    same_revision = [ln for ln in same_item if ln.item_revision == lot.item_revision]
    if not same_revision:
        wanted = ", ".join(sorted({ln.item_revision for ln in same_item}))
        raise DomainError(
            "WRONG_REVISION", f"lot {lot.lot} is {lot.item} revision {lot.item_revision}; work order "
            f"{wo.work_order} (BOM revision {wo.bom_revision}) needs revision {wanted}", field="lot")
    return next((ln for ln in same_revision if ln.quantity_per * wo.quantity > ln.consumed), same_revision[0])


def _pick_for_kitting(state: PlantState, cmd: c.PickForKitting, now: datetime) -> list[e.Event]:
    wo = checks.work_order(state, cmd.work_order)
    lot = checks.lot(state, cmd.lot)
    checks.bin(state, cmd.from_bin, "from_bin")
    target = checks.bin(state, cmd.to_bin, "to_bin")
    if cmd.from_bin == cmd.to_bin:
        raise invalid("SAME_BIN", f"from_bin and to_bin are both {cmd.from_bin}", "to_bin")
    asked = checks.quantity("asked", cmd.asked)
    picked = checks.quantity("quantity", cmd.quantity, allow_zero=True)
    if picked > asked:
        raise DomainError("OVER_PICK", f"{asked} of lot {lot.lot} was asked; {picked} is more: pick what the list "
                          "asks", field="quantity")
    checks.label_names_lot_item(state, lot, cmd.gtin)
    line = _bom_line_for_lot(state, wo, lot)
    at = checks.at(cmd, now)
    checks.usable_lot(state, lot, at.date())
    reason = checks.reason("short_reason", cmd.short_reason) if picked < asked else None
    events: list[e.Event] = []
    if picked > ZERO:
        checks.enough_stock(state, lot, cmd.from_bin, picked)
        checks.fits_in_bin(state, target, lot.item, picked, "to_bin", lot.lot)
        events.append(_moved(lot, "pick", cmd.from_bin, target.bin, picked, ZERO, at, work_order=wo.work_order,
                             bom_line=line.line, reason=f"kitting {wo.work_order}"))
    if reason is not None:
        events.append(e.ShortPickRecorded(
            work_order=wo.work_order, bom_line=line.line, item=lot.item, lot=lot.lot, bin=cmd.from_bin, asked=asked,
            picked=picked, reason=reason, at=at))
    return events


def _return_from_work_order(state: PlantState, cmd: c.ReturnFromWorkOrder, now: datetime) -> list[e.Event]:
    wo = checks.work_order(state, cmd.work_order, open_only=False)
    lot = checks.lot(state, cmd.lot)
    target = checks.bin(state, cmd.bin)
    quantity = checks.quantity("quantity", cmd.quantity)
    lines = [ln for ln in state.bom_of(wo.work_order) if ln.item == lot.item and ln.item_revision == lot.item_revision]
    if cmd.serial is not None:
        used = state.serials.get((lot.item, cmd.serial))
        if used is None or used.work_order != wo.work_order:
            raise DomainError("SERIAL_NOT_ISSUED", f"serial {cmd.serial} of {lot.item} is not issued to work order "
                              f"{wo.work_order}", field="serial")
    for ln in lines:
        if ln.consumed >= quantity:
            checks.fits_in_bin(state, target, lot.item, quantity, "bin", lot.lot)
            return [_moved(lot, "return", None, target.bin, quantity, quantity, checks.at(cmd, now),
                           work_order=wo.work_order, bom_line=ln.line, serial=cmd.serial)]
    issued = sum((ln.consumed for ln in lines), ZERO)
    raise DomainError(
        "OVER_RETURN", f"only {issued} of {lot.item} was issued to {wo.work_order}; cannot return {quantity}",
        field="quantity",
    )


def _adjust_stock(state: PlantState, cmd: c.AdjustStock, now: datetime) -> list[e.Event]:
    lot = checks.lot(state, cmd.lot)
    checks.bin(state, cmd.bin)
    counted = checks.quantity("counted", cmd.counted, allow_zero=True)
    reason = checks.reason("reason", cmd.reason)
    have = state.stock_of(lot.lot, cmd.bin)
    delta = counted - have
    if delta == 0:
        raise DomainError("NO_DIFFERENCE", f"bin {cmd.bin} already holds {have} of lot {lot.lot}", field="counted")
    at = checks.at(cmd, now)
    if (cmd.approval_pct is not None and not cmd.actor_roles & {"supervisor", "admin"}
            and abs(delta) * 100 > cmd.approval_pct * have):
        return [e.CountAwaitsApproval(lot=lot.lot, bin=cmd.bin, counted=counted, expected=have, reason=reason,
                                      counted_by=cmd.actor, at=at)]
    return _adjusted(lot, cmd.bin, delta, at, reason)


def _adjusted(lot: Lot, bin_code: str, delta: Decimal, at: datetime, reason: str) -> list[e.Event]:
    if delta > 0:
        return [_moved(lot, "adjust", None, bin_code, delta, delta, at, reason=reason)]
    return [_moved(lot, "adjust", bin_code, None, -delta, delta, at, reason=reason)]


def _decide_count(state: PlantState, cmd: c.DecideCount, now: datetime) -> list[e.Event]:
    checks.require_role(cmd, "supervisor", "admin", action="approving a count")
    pending = state.pending_counts.get((cmd.lot, cmd.bin))
    if pending is None:
        raise DomainError("NO_PENDING_COUNT", f"no count of lot {cmd.lot} in bin {cmd.bin} waits for approval",
                          field="lot")
    decided: list[e.Event] = [e.CountDecided(lot=cmd.lot, bin=cmd.bin, approved=cmd.approve, note=cmd.note,
                                             decided_by=cmd.actor)]
    if not cmd.approve:
        return decided
    delta = pending.counted - state.stock_of(cmd.lot, cmd.bin)  # the bin as it is now: moves since count
    if delta == 0:
        return decided
    reason = f"count by {pending.counted_by} approved by {cmd.actor}: {pending.reason}"
    return decided + _adjusted(state.lots[cmd.lot], cmd.bin, delta, checks.at(cmd, now), reason)


def _scrap_stock(state: PlantState, cmd: c.ScrapStock, now: datetime) -> list[e.Event]:
    lot = checks.lot(state, cmd.lot)
    checks.bin(state, cmd.bin)
    quantity = checks.quantity("quantity", cmd.quantity)
    reason = checks.reason("reason", cmd.reason)
    checks.enough_stock(state, lot, cmd.bin, quantity)
    return [_moved(lot, "scrap", cmd.bin, None, quantity, -quantity, checks.at(cmd, now), reason=reason)]


def _hold_lot(state: PlantState, cmd: c.HoldLot, now: datetime) -> list[e.Event]:
    lot = checks.lot(state, cmd.lot)
    reason = checks.reason("reason", cmd.reason)
    if lot.status == "hold":
        raise DomainError("LOT_ON_HOLD", f"lot {lot.lot} is already on hold", field="lot")
    if lot.status == "consumed":
        raise DomainError("LOT_CONSUMED", f"lot {lot.lot} is used up: nothing to hold", field="lot")
    return [e.LotStatusChanged(lot=lot.lot, status="hold", previous=lot.status, reason=reason, ncr=None)]


def _release_status(state: PlantState, lot: Lot) -> str:
    """Where a released hold leaves a lot: back in quarantine if it was, unless its incoming inspection has its
    verdict (a rejected lot used as is is available)."""
    if lot.status == "hold" and lot.status_before_hold == "quarantine":
        task = state.inspection_tasks.get(incoming_task_id(lot.lot))
        return "available" if task is not None and task.status != "open" else "quarantine"
    return "available"


def _release_lot(state: PlantState, cmd: c.ReleaseLot, now: datetime) -> list[e.Event]:
    checks.require_role(cmd, "quality", action="releasing a lot")
    lot = checks.lot(state, cmd.lot)
    reason = checks.reason("reason", cmd.reason)
    if lot.status not in ("hold", "quarantine"):
        raise DomainError("LOT_NOT_ON_HOLD", f"lot {lot.lot} is {lot.status}: nothing to release", field="lot")
    task = state.inspection_tasks.get(incoming_task_id(lot.lot))
    if lot.status == "quarantine" and task is not None and task.status == "open":
        raise DomainError("INSPECTION_OPEN", f"lot {lot.lot} awaits incoming inspection {task.task} ({task.samples} "
                          f"of {task.sample_size} samples recorded): its verdict releases it", field="lot")
    open_ncrs = sorted(n.ncr for n in state.nonconformances.values() if n.lot == lot.lot and n.status == "open")
    if open_ncrs:
        raise DomainError(
            "NONCONFORMANCE_OPEN", f"lot {lot.lot} is held by {', '.join(open_ncrs)}: disposition it first", field="lot"
        )
    return [e.LotStatusChanged(lot=lot.lot, status=_release_status(state, lot), previous=lot.status, reason=reason, ncr=None)]


# --- quality ---------------------------------------------------------------------------------------


def _record_inspection(state: PlantState, cmd: c.RecordInspection, now: datetime) -> list[e.Event]:
    checks.text("inspection", cmd.inspection)
    if cmd.inspection in state.inspections:
        raise DomainError("DUPLICATE_INSPECTION", f"inspection {cmd.inspection} is already recorded", field="inspection")
    plan = state.inspection_plans.get(cmd.plan)
    if plan is None:
        raise DomainError("UNKNOWN_INSPECTION_PLAN", f"inspection plan {cmd.plan} is not known here", field="plan")
    lot = checks.lot(state, cmd.lot) if cmd.lot is not None else None
    if cmd.work_order is not None:
        checks.work_order(state, cmd.work_order, open_only=False)
        if cmd.operation is not None:
            checks.operation(state, cmd.work_order, cmd.operation)
    elif cmd.operation is not None:
        raise invalid("MISSING_VALUE", "an operation is named together with its work order", "work_order")
    planned = {k[1]: ch for k, ch in state.characteristics.items() if k[0] == plan.plan}
    results: list[e.MeasuredCharacteristic] = []
    seen: set[str] = set()
    for i, m in enumerate(cmd.measurements):
        where = f"measurements[{i}]"
        ch = planned.get(m.characteristic)
        if ch is None:
            raise invalid("UNKNOWN_CHARACTERISTIC", f"plan {plan.plan} has no characteristic {m.characteristic}",
                          f"{where}.characteristic")
        if m.characteristic in seen:
            raise invalid("DUPLICATE_CHARACTERISTIC", f"{m.characteristic} is measured twice", f"{where}.characteristic")
        seen.add(m.characteristic)
        if ch.kind == "numeric":
            if m.value is None or not m.value.is_finite():
                raise invalid("MISSING_VALUE", f"{m.characteristic} is numeric: give a value", f"{where}.value")
            ok = (ch.lsl is None or m.value >= ch.lsl) and (ch.usl is None or m.value <= ch.usl)
            results.append(e.MeasuredCharacteristic(characteristic=m.characteristic, value=m.value, passed=ok))
        else:
            if m.passed is None:
                raise invalid("MISSING_VALUE", f"{m.characteristic} is pass/fail: say which", f"{where}.passed")
            results.append(e.MeasuredCharacteristic(characteristic=m.characteristic, value=None, passed=m.passed))
    missing = sorted(set(planned) - seen)
    if missing:
        raise invalid("INCOMPLETE_INSPECTION", f"not measured: {', '.join(missing)}", "measurements")
    passed = all(r.passed for r in results)
    at = checks.at(cmd, now)
    opened, task = _sampled_task(state, plan, cmd, lot, at)
    if not cmd.actor_roles & INSPECTOR_ROLES and (task is None or task.kind != "incoming"):
        # Receiving staff (the warehouse role) record the samples of incoming inspections only.
        checks.require_role(cmd, *sorted(INSPECTOR_ROLES - {"admin", "service"}),
                      action=f"recording a {plan.kind} inspection (plan {plan.plan})")
    out: list[e.Event] = [*opened, e.InspectionRecorded(
        inspection=cmd.inspection, plan=plan.plan, lot=cmd.lot, work_order=cmd.work_order, operation=cmd.operation,
        results=tuple(results), passed=passed, at=at, task=task.task if task is not None else None,
    )]
    spc = _spc_violations(state, plan, cmd, results, at)
    out += spc
    if task is not None:  # a sample of an incoming or final inspection: the verdict comes after n samples
        return out + _verdict(state, plan, task, cmd, lot, passed, at)
    if spc and plan.spc_nonconformance and (passed or not plan.hold_on_fail):
        ncr = f"NCR-{cmd.inspection}"
        if ncr not in state.nonconformances:
            out.append(e.NonconformanceRaised(
                ncr=ncr, lot=cmd.lot, work_order=cmd.work_order, raised_by=cmd.actor, at=at,
                description=checks.clip("; ".join(v.message for v in spc if isinstance(v, e.SpcRuleViolated)))))
    if not passed and plan.hold_on_fail:
        failed = ", ".join(r.characteristic for r in results if not r.passed)
        ncr = f"NCR-{cmd.inspection}"
        if ncr not in state.nonconformances:
            out.append(e.NonconformanceRaised(
                ncr=ncr, lot=cmd.lot, work_order=cmd.work_order,
                description=checks.clip(f"inspection {cmd.inspection} failed on {failed}"), raised_by=cmd.actor, at=at,
            ))
            if lot is not None and lot.status not in ("hold", "consumed"):
                out.append(e.LotStatusChanged(lot=lot.lot, status="hold", previous=lot.status,
                                              reason=f"inspection {cmd.inspection} failed", ncr=ncr))
    return out


def _sampled_task(state: PlantState, plan: InspectionPlan, cmd: c.RecordInspection, lot: Lot | None,
                  at: datetime) -> tuple[list[e.Event], InspectionTask | None]:
    """The incoming or final inspection task this result is a sample of (and its opening, for a final inspection's
    first sample or one after a failed verdict), or None for the other kinds of plan."""
    waiting = state.inspection_tasks.get(incoming_task_id(lot.lot)) if lot is not None else None
    if waiting is not None and waiting.status == "open" and waiting.plan == plan.plan:
        return [], waiting  # the lot's open task, even if its plan was redefined as another kind since
    if plan.kind == "incoming":
        if lot is None:
            raise invalid("MISSING_VALUE", f"plan {plan.plan} is an incoming inspection: name the lot", "lot")
        task = state.inspection_tasks.get(incoming_task_id(lot.lot))
        if task is None:
            raise DomainError("NO_INSPECTION_TASK", f"lot {lot.lot} awaits no incoming inspection (no incoming plan "
                              f"applied when it was received)", field="lot")
        if task.plan != plan.plan:
            raise DomainError("WRONG_PLAN", f"lot {lot.lot} awaits inspection by plan {task.plan}, not {plan.plan}",
                              field="plan")
        if task.status != "open":
            raise DomainError("INSPECTION_CLOSED", f"the incoming inspection of lot {lot.lot} already has its "
                              f"verdict ({task.status})", field="lot")
        return [], task
    if plan.kind == "final":
        if cmd.work_order is None:
            raise invalid("MISSING_VALUE", f"plan {plan.plan} is a final inspection: name the work order", "work_order")
        wo = state.work_orders[cmd.work_order]
        if plan.item != wo.item:
            raise DomainError("WRONG_ITEM", f"plan {plan.plan} inspects {plan.item}; work order {wo.work_order} makes "
                              f"{wo.item}", field="plan")
        if wo.status in ("completed", "cancelled"):
            raise DomainError("WORK_ORDER_CLOSED", f"work order {wo.work_order} is already {wo.status}",
                              field="work_order")
        key = final_task_id(wo.work_order, plan.plan)
        task = state.inspection_tasks.get(key)
        if task is not None and task.status == "passed":
            raise DomainError("INSPECTION_CLOSED", f"the final inspection of work order {wo.work_order} already "
                              "passed", field="work_order")
        if task is not None and task.status == "open":
            return [], task
        size = sampling.sample_size(wo.quantity, plan.sample_size, plan.sample_by_lot_size)
        opened = e.InspectionTaskOpened(task=key, kind="final", plan=plan.plan, sample_size=size, lot=None,
                                        work_order=wo.work_order, supplier=None, supplier_lot=None,
                                        purchase_order=None, at=at)
        return [opened], InspectionTask(task=key, kind="final", plan=plan.plan, status="open", sample_size=size,
                                        samples=0, failed=0, opened_at=at, work_order=wo.work_order)
    if plan.kind == "in_process" and (cmd.work_order is None or cmd.operation is None):
        raise invalid("MISSING_VALUE", f"plan {plan.plan} is an in-process inspection: name the work order and "
                      "operation", "work_order" if cmd.work_order is None else "operation")
    return [], None


def _verdict(state: PlantState, plan: InspectionPlan, task: InspectionTask, cmd: c.RecordInspection,
             lot: Lot | None, passed: bool, at: datetime) -> list[e.Event]:
    """The verdict once this sample completes the task's n samples: no more failed than the acceptance number."""
    samples, failed = task.samples + 1, task.failed + (0 if passed else 1)
    if samples < task.sample_size:
        return []
    accepted = failed <= plan.accept_number
    ncr = None if accepted else f"NCR-{cmd.inspection}"
    if ncr is not None and ncr in state.nonconformances:
        ncr = None
    out: list[e.Event] = []
    description = checks.clip(f"{task.kind} inspection {task.task} (plan {plan.plan}) rejected: {failed} of {samples} "
                        f"samples failed, {plan.accept_number} allowed")
    if task.kind == "incoming":
        assert lot is not None
        po_line = next((ln.line for (po, _), ln in sorted(state.purchase_order_lines.items())
                        if po == task.purchase_order and ln.item == lot.item), None)
        out.append(e.SupplierLotVerdict(
            task=task.task, plan=plan.plan, lot=lot.lot, item=lot.item, supplier=task.supplier or "",
            supplier_lot=task.supplier_lot, purchase_order=task.purchase_order, po_line=po_line,
            quantity=lot.quantity, verdict="accepted" if accepted else "rejected", samples=samples, failed=failed,
            ncr=ncr, at=at))
        if accepted:
            if lot.status == "quarantine":
                out.append(e.LotStatusChanged(lot=lot.lot, status="available", previous=lot.status,
                                              reason=f"incoming inspection {task.task} passed", ncr=None))
        else:
            if ncr is not None:
                out.append(e.NonconformanceRaised(ncr=ncr, lot=lot.lot, work_order=None, description=description,
                                                  raised_by=cmd.actor, at=at))
            if lot.status not in ("hold", "consumed"):
                out.append(e.LotStatusChanged(lot=lot.lot, status="hold", previous=lot.status,
                                              reason=f"incoming inspection {task.task} rejected", ncr=ncr))
        return out
    assert task.work_order is not None
    out.append(e.FinalInspectionVerdict(task=task.task, plan=plan.plan, work_order=task.work_order,
                                        verdict="passed" if accepted else "failed", samples=samples, failed=failed,
                                        ncr=ncr if plan.hold_on_fail else None, at=at))
    if ncr is not None and plan.hold_on_fail:
        out.append(e.NonconformanceRaised(ncr=ncr, lot=cmd.lot, work_order=task.work_order, description=description,
                                          raised_by=cmd.actor, at=at))
        if lot is not None and lot.status not in ("hold", "consumed"):
            out.append(e.LotStatusChanged(lot=lot.lot, status="hold", previous=lot.status,
                                          reason=f"final inspection {task.task} failed", ncr=ncr))
    return out


def _spc_violations(state: PlantState, plan: InspectionPlan, cmd: c.RecordInspection,
                    results: list[e.MeasuredCharacteristic], at: datetime) -> list[e.Event]:
    """The Western Electric rules each new numeric result breaks, on its characteristic's individuals chart (once
    the characteristic has its baseline)."""
    out: list[e.Event] = []
    for r in results:
        series = state.spc.get((plan.plan, r.characteristic))
        if r.value is None or series is None or series.limits is None:
            continue
        limits = series.limits
        for v in spc.western_electric([*series.recent, float(r.value)], limits, only_last=True):
            out.append(e.SpcRuleViolated(
                plan=plan.plan, characteristic=r.characteristic, inspection=cmd.inspection, rule=v.rule,
                value=r.value, center=_dec(limits.center), ucl=_dec(limits.ucl), lcl=_dec(limits.lcl),
                message=f"{r.characteristic} {r.value}: SPC rule {v.rule}, {v.message} "
                        f"(centre {_dec(limits.center)}, limits {_dec(limits.lcl)}..{_dec(limits.ucl)})",
                work_order=cmd.work_order, operation=cmd.operation, lot=cmd.lot, at=at))
    return out


def _dec(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(Decimal("0.000001"))


def _raise_nonconformance(state: PlantState, cmd: c.RaiseNonconformance, now: datetime) -> list[e.Event]:
    checks.text("ncr", cmd.ncr)
    if cmd.ncr in state.nonconformances:
        raise DomainError("DUPLICATE_NCR", f"nonconformance {cmd.ncr} already exists", field="ncr")
    description = checks.text("description", cmd.description)
    lot = checks.lot(state, cmd.lot) if cmd.lot is not None else None
    if cmd.work_order is not None:
        checks.work_order(state, cmd.work_order, open_only=False)
    if lot is None and cmd.work_order is None:
        raise invalid("MISSING_VALUE", "a nonconformance names a lot or a work order", "lot")
    at = checks.at(cmd, now)
    out: list[e.Event] = [e.NonconformanceRaised(
        ncr=cmd.ncr, lot=cmd.lot, work_order=cmd.work_order, description=description, raised_by=cmd.actor, at=at,
    )]
    if lot is not None and cmd.hold_lot and lot.status not in ("hold", "consumed"):
        out.append(e.LotStatusChanged(lot=lot.lot, status="hold", previous=lot.status,
                                      reason=f"nonconformance {cmd.ncr}", ncr=cmd.ncr))
    return out


def _disposition(state: PlantState, cmd: c.DispositionNonconformance, now: datetime) -> list[e.Event]:
    checks.require_role(cmd, "quality", action="a nonconformance disposition")
    ncr = state.nonconformances.get(cmd.ncr)
    if ncr is None:
        raise DomainError("UNKNOWN_NCR", f"nonconformance {cmd.ncr} is not known here", field="ncr")
    if ncr.status != "open":
        raise DomainError("NONCONFORMANCE_CLOSED", f"{cmd.ncr} is already dispositioned ({ncr.disposition})", field="ncr")
    if cmd.disposition not in DISPOSITIONS:
        raise invalid("INVALID_DISPOSITION", f"disposition must be one of {', '.join(DISPOSITIONS)}", "disposition")
    at = checks.at(cmd, now)
    out: list[e.Event] = [e.NonconformanceDispositioned(
        ncr=cmd.ncr, disposition=cmd.disposition, comment=cmd.comment, dispositioned_by=cmd.actor, at=at,
    )]
    lot = state.lots.get(ncr.lot) if ncr.lot else None
    if lot is None:
        return out
    if cmd.disposition in ("scrap", "return_to_supplier"):
        for bin_code in sorted(state.bins_of_lot.get(lot.lot, ())):
            qty = state.stock_of(lot.lot, bin_code)
            out.append(_moved(lot, cmd.disposition, bin_code, None, qty, -qty, at, reason=f"disposition of {cmd.ncr}"))
    elif cmd.disposition == "use_as_is" and lot.status == "hold":
        others = [n for n in state.nonconformances.values() if n.lot == lot.lot and n.status == "open" and n.ncr != cmd.ncr]
        if not others:
            out.append(e.LotStatusChanged(lot=lot.lot, status=_release_status(state, lot), previous=lot.status,
                                          reason=f"use as is ({cmd.ncr})", ncr=cmd.ncr))
    return out


# --- machines --------------------------------------------------------------------------------------


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


DECIDERS: dict[type[c.Command], Callable[[PlantState, Any, datetime], list[e.Event]]] = {
    c.DefineItem: _define_item,
    c.DefineBin: _define_bin,
    c.DefineEquipment: _define_equipment,
    c.ReleaseWorkOrder: _release_work_order,
    c.SetDispatchList: _set_dispatch_list,
    c.DefineInspectionPlan: _define_inspection_plan,
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
    c.ReceiveLot: _receive_plain_lot,
    c.DefineLot: _define_lot,
    c.MoveStock: _move_stock,
    c.IssueToWorkOrder: _issue_to_work_order,
    c.ReturnFromWorkOrder: _return_from_work_order,
    c.AdjustStock: _adjust_stock,
    c.ScrapStock: _scrap_stock,
    c.HoldLot: _hold_lot,
    c.ReleaseLot: _release_lot,
    c.RecordInspection: _record_inspection,
    c.RaiseNonconformance: _raise_nonconformance,
    c.DispositionNonconformance: _disposition,
    c.SetMachineState: _set_machine_state,
    c.ChangeWorkOrder: _change_work_order,
    c.CancelWorkOrder: _cancel_work_order,
    c.ResolveWorkOrderConflict: _resolve_conflict,
    c.PublishBomRevision: _publish_bom_revision,
    c.DefinePurchaseOrder: _define_purchase_order,
    c.DefineCustomer: _define_customer,
    c.DefineSalesOrder: _define_sales_order,
    c.ReceiveAgainstPurchaseOrder: _receive_against_purchase_order,
    c.ReceiveProducedLot: _receive_produced_lot,
    c.DecideCount: _decide_count,
    c.PickForKitting: _pick_for_kitting,
    c.CloseShiftOee: _close_shift_oee,
    c.RecordClockJump: _record_clock_jump,
    c.PackPallet: _pack_pallet,
    c.AddToPallet: _add_to_pallet,
    c.ShipPallet: _ship_pallet,
    c.RemoveFromPallet: _remove_from_pallet,
}


def decide(state: PlantState, command: c.Command, now: datetime) -> list[e.Event]:
    """The events ``command`` causes in ``state`` at ``now``; raises DomainError if refused."""
    decider = DECIDERS.get(type(command))
    if decider is None:
        raise DomainError("UNKNOWN_COMMAND", f"{type(command).__name__} is not a command this node knows")
    checks.aware("occurred_at", command.occurred_at, now)
    return decider(state, command, now)


# --- evolve ----------------------------------------------------------------------------------------


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


def _change_stock(state: PlantState, lot: str, bin_code: str, delta: Decimal) -> None:
    key = (lot, bin_code)
    row = state.stock.get(key)
    new = (row.quantity if row else ZERO) + delta
    if new < 0:  # decide() prevents this; a journal that says otherwise is corrupt
        raise AssertionError(f"stock of {lot} in {bin_code} would become {new}")
    if new == 0:
        state.stock.pop(key, None)
        bins = state.bins_of_lot.get(lot)
        if bins is not None:
            bins.discard(bin_code)
            if not bins:
                del state.bins_of_lot[lot]
    elif row is None:
        state.stock[key] = Stock(lot=lot, bin=bin_code, quantity=new)
        state.bins_of_lot.setdefault(lot, set()).add(bin_code)
    else:
        row.quantity = new
    state.bin_load[bin_code] = state.bin_load.get(bin_code, ZERO) + delta
    state.mark("stock", key)


def _set_lot_status(state: PlantState, lot: Lot, status: str) -> None:
    if status == "hold" and lot.status != "hold":
        lot.status_before_hold = lot.status
    elif status == "consumed" and lot.status in ("hold", "quarantine"):
        # An emptied lot that was blocked stays blocked if stock of it turns up again (a count, a return).
        lot.status_before_hold = lot.status
    elif status != "hold":
        lot.status_before_hold = None
    lot.status = status


def _apply_stock_moved(state: PlantState, ev: e.StockMoved) -> None:
    if ev.from_bin is not None:
        _change_stock(state, ev.lot, ev.from_bin, -ev.quantity)
    if ev.to_bin is not None:
        _change_stock(state, ev.lot, ev.to_bin, ev.quantity)
    lot = state.lots[ev.lot]
    if ev.lot_quantity_delta:
        lot.quantity += ev.lot_quantity_delta
        if lot.quantity == 0:
            _set_lot_status(state, lot, "consumed")
        elif lot.status == "consumed":
            lot.status, lot.status_before_hold = lot.status_before_hold or "available", None
        state.mark("lots", ev.lot)
    if ev.bom_line is not None and ev.work_order is not None:
        line = state.bom_lines[(ev.work_order, ev.bom_line)]
        line.consumed += -ev.lot_quantity_delta  # an issue lowers the lot and raises consumption
        state.mark("bom_lines", (ev.work_order, ev.bom_line))
    _allocate_staged(state, ev)
    if ev.serial is not None and ev.work_order is not None:
        key = (ev.item, ev.serial)
        if ev.kind == "issue":
            state.serials[key] = SerialUse(ev.item, ev.serial, ev.lot, ev.work_order, ev.at)
        elif ev.kind == "return":
            state.serials.pop(key, None)
        state.mark("serials", key)


def _set_staged(state: PlantState, key: tuple[str, str, str], quantity: Decimal) -> None:
    if quantity > ZERO:
        row = state.staged.get(key)
        if row is None:
            state.staged[key] = StagedStock(work_order=key[0], lot=key[1], bin=key[2], quantity=quantity)
        else:
            row.quantity = quantity
    else:
        state.staged.pop(key, None)
    state.mark("staged", key)


def _allocate_staged(state: PlantState, ev: e.StockMoved) -> None:
    """Keep kitted stock allocated to its work order: a pick adds to the order's share of the staging bin; an issue
    to the order takes from its own share first; whatever else leaves the bin (a move, scrap, a count, another
    order's issue) shrinks the shares until they fit in what is left, the latest work order codes first."""
    if ev.kind == "pick" and ev.work_order is not None and ev.to_bin is not None:
        key = (ev.work_order, ev.lot, ev.to_bin)
        _set_staged(state, key, state.staged[key].quantity + ev.quantity if key in state.staged else ev.quantity)
    if ev.from_bin is None:
        return
    if ev.work_order is not None and ev.kind == "issue":
        key = (ev.work_order, ev.lot, ev.from_bin)
        if key in state.staged:
            _set_staged(state, key, state.staged[key].quantity - min(ev.quantity, state.staged[key].quantity))
    shares = state.staged_for(ev.lot, ev.from_bin)
    excess = sum(shares.values(), ZERO) - state.stock_of(ev.lot, ev.from_bin)
    for wo in sorted(shares, reverse=True):
        if excess <= ZERO:
            break
        cut = min(excess, shares[wo])
        _set_staged(state, (wo, ev.lot, ev.from_bin), shares[wo] - cut)
        excess -= cut


def _release_staged(state: PlantState, work_order: str) -> None:
    """A completed or cancelled order's kitted stock is nobody's any more (it stays where it is)."""
    for key in [k for k in state.staged if k[0] == work_order]:
        _set_staged(state, key, ZERO)


def evolve(state: PlantState, ev: e.Event) -> None:
    """Apply one event to ``state`` (in place), marking the rows it changed."""
    match ev:
        case e.StockMoved():
            _apply_stock_moved(state, ev)
        case e.ProductionReported():
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
            _count_for_intervals(state, ev)
        case e.UnassignedProductionRecorded():
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
        case e.UnassignedProductionAssigned() | e.UnassignedProductionWrittenOff():
            held = state.unassigned_production[ev.equipment]
            held.good -= ev.good
            held.scrap -= ev.scrap
            if held.good == 0 and held.scrap == 0:
                del state.unassigned_production[ev.equipment]
            state.mark("unassigned_production", ev.equipment)
        case e.MachineStateChanged():
            state.machine_states[ev.equipment] = MachineState(
                equipment=ev.equipment, state=ev.state, reason=ev.reason, since=ev.since)
            state.mark("machine_states", ev.equipment)
            state.clock_jump_of.pop(("machine", ev.equipment), None)
        case e.LotReceived():
            state.lots[ev.lot] = Lot(lot=ev.lot, item=ev.item, item_revision=ev.item_revision, quantity=ev.quantity,
                                     status=ev.status, expiry=ev.expiry, supplier_lot=ev.supplier_lot,
                                     work_order=ev.work_order)
            if ev.work_order is not None:
                producer = state.work_orders[ev.work_order]
                producer.output_received += ev.quantity
                state.mark("work_orders", ev.work_order)
            state.mark("lots", ev.lot)
            _change_stock(state, ev.lot, ev.bin, ev.quantity)
            if ev.purchase_order is not None and ev.po_line is not None:
                po_line = state.purchase_order_lines[(ev.purchase_order, ev.po_line)]
                po_line.received += ev.quantity
                state.mark("purchase_order_lines", (ev.purchase_order, ev.po_line))
        case e.LotDefined():
            state.lots[ev.lot] = Lot(lot=ev.lot, item=ev.item, item_revision=ev.item_revision, quantity=ZERO,
                                     status="available", expiry=ev.expiry, supplier_lot=ev.supplier_lot)
            state.mark("lots", ev.lot)
        case e.LotExpiryChanged():
            state.lots[ev.lot].expiry = ev.expiry
            state.mark("lots", ev.lot)
        case e.LotStatusChanged():
            lot = state.lots[ev.lot]
            _set_lot_status(state, lot, ev.status)
            state.mark("lots", ev.lot)
        case e.OperationStarted():
            _set_op(state, ev.work_order, ev.operation, status="in_progress",
                    started_at=state.operations[(ev.work_order, ev.operation)].started_at or ev.at)
            _open_intervals(state, ev.work_order, ev.operation, ev.at)
        case e.OperationPaused():
            _set_op(state, ev.work_order, ev.operation, status="paused", pause_reason=ev.reason)
        case e.OperationResumed():
            _set_op(state, ev.work_order, ev.operation, status="in_progress", pause_reason=None)
        case e.OperationCompleted():
            _set_op(state, ev.work_order, ev.operation, status="completed", completed_at=ev.at, pause_reason=None)
            for iv_key in [k for k in state.inspection_intervals if k[1:] == (ev.work_order, ev.operation)]:
                del state.inspection_intervals[iv_key]
                state.mark("inspection_intervals", iv_key)
        case e.WorkOrderCompleted():
            state.work_orders[ev.work_order].status = "completed"
            state.mark("work_orders", ev.work_order)
            _drop_from_dispatch(state, ev.work_order)
            _release_staged(state, ev.work_order)
        case e.LabourClockedOn():
            key3 = (ev.operator, ev.work_order, ev.operation)
            state.clock_ons[key3] = ClockOn(operator=ev.operator, work_order=ev.work_order,
                                            operation=ev.operation, since=ev.at)
            state.mark("clock_ons", key3)
        case e.LabourClockedOff():
            key3 = (ev.operator, ev.work_order, ev.operation)
            state.clock_ons.pop(key3, None)
            state.mark("clock_ons", key3)
            state.clock_jump_of.pop(("labour", *key3), None)
        case e.ItemDefined():
            before = state.items.get(ev.item)
            if before is not None and before.gtin:
                state.item_of_gtin.pop(gtin14(before.gtin), None)
            if ev.gtin:
                state.item_of_gtin[gtin14(ev.gtin)] = ev.item
            state.items[ev.item] = Item(item=ev.item, description=ev.description, unit=ev.unit,
                                        revision=ev.revision, lot_controlled=ev.lot_controlled, gtin=ev.gtin)
            state.mark("items", ev.item)
        case e.BinDefined():
            state.bins[ev.bin] = Bin(bin=ev.bin, zone=ev.zone, capacity=ev.capacity,
                                     allowed_items=tuple(ev.allowed_items), walk_sequence=ev.walk_sequence,
                                     max_per_item=ev.max_per_item, lot_policy=ev.lot_policy)
            state.mark("bins", ev.bin)
        case e.EquipmentDefined():
            state.equipment[ev.equipment] = Equipment(equipment=ev.equipment, workstation=ev.workstation,
                                                      description=ev.description)
            state.mark("equipment", ev.equipment)
        case e.WorkOrderReleased():
            state.work_orders[ev.work_order] = WorkOrder(
                work_order=ev.work_order, item=ev.item, item_revision=ev.item_revision, bom_revision=ev.bom_revision,
                quantity=ev.quantity, status="released", good=ZERO, scrap=ZERO,
                overproduction_tolerance_pct=ev.overproduction_tolerance_pct, due=ev.due,
                customer_order=ev.customer_order)
            state.mark("work_orders", ev.work_order)
            _add_operations(state, ev.work_order, ev.operations)
            _set_bom_lines(state, ev.work_order, ev.bom)
        case e.DispatchListSet():
            for key in [k for k in state.dispatch if k[0] == ev.workstation]:
                del state.dispatch[key]
                state.mark("dispatch", key)
            for pos, slot in enumerate(ev.sequence, start=1):
                state.dispatch[(ev.workstation, pos)] = DispatchEntry(
                    workstation=ev.workstation, position=pos, work_order=slot.work_order, operation=slot.operation)
                state.mark("dispatch", (ev.workstation, pos))
        case e.InspectionPlanDefined():
            state.inspection_plans[ev.plan] = InspectionPlan(
                plan=ev.plan, description=ev.description, item=ev.item, operation=ev.operation,
                hold_on_fail=ev.hold_on_fail, spc_nonconformance=ev.spc_nonconformance, kind=ev.kind,
                supplier=ev.supplier, sample_size=ev.sample_size, sample_by_lot_size=ev.sample_by_lot_size,
                accept_number=ev.accept_number, every_n_parts=ev.every_n_parts, every_minutes=ev.every_minutes,
                flag_overdue=ev.flag_overdue, overdue_grace_parts=ev.overdue_grace_parts)
            state.mark("inspection_plans", ev.plan)
            for ch_key in [k for k in state.characteristics if k[0] == ev.plan]:
                del state.characteristics[ch_key]
                state.mark("characteristics", ch_key)
            for ch in ev.characteristics:
                state.characteristics[(ev.plan, ch.characteristic)] = Characteristic(
                    plan=ev.plan, characteristic=ch.characteristic, kind=ch.kind, nominal=ch.nominal,
                    lsl=ch.lsl, usl=ch.usl, unit=ch.unit)
                state.mark("characteristics", (ev.plan, ch.characteristic))
        case e.InspectionRecorded():
            state.inspections.add(ev.inspection)
            state.measured(ev.plan, ev.results)
            _count_sample(state, ev)
        case e.InspectionTaskOpened():
            state.inspection_tasks[ev.task] = InspectionTask(
                task=ev.task, kind=ev.kind, plan=ev.plan, status="open", sample_size=ev.sample_size, samples=0,
                failed=0, opened_at=ev.at, lot=ev.lot, work_order=ev.work_order, supplier=ev.supplier,
                supplier_lot=ev.supplier_lot, purchase_order=ev.purchase_order)
            state.mark("inspection_tasks", ev.task)
        case e.SupplierLotVerdict() | e.FinalInspectionVerdict():
            task = state.inspection_tasks[ev.task]
            task.status = {"accepted": "passed", "rejected": "failed"}.get(ev.verdict, ev.verdict)
            task.closed_at = ev.at
            state.mark("inspection_tasks", ev.task)
        case e.InspectionOverdueFlagged():
            iv = state.inspection_intervals.get((ev.plan, ev.work_order, ev.operation))
            if iv is not None:
                iv.flagged = True
                state.mark("inspection_intervals", (ev.plan, ev.work_order, ev.operation))
        case e.ShiftOeeClosed():
            pass  # a figure for the ERP: it changes no state here
        case e.CountAwaitsApproval():
            state.pending_counts[(ev.lot, ev.bin)] = PendingCount(
                lot=ev.lot, bin=ev.bin, counted=ev.counted, expected=ev.expected, reason=ev.reason,
                counted_by=ev.counted_by, at=ev.at)
            state.mark("pending_counts", (ev.lot, ev.bin))
        case e.CountDecided():
            state.pending_counts.pop((ev.lot, ev.bin), None)
            state.mark("pending_counts", (ev.lot, ev.bin))
        case e.SpcRuleViolated():
            pass  # an alert: it changes no state (the result itself is recorded by InspectionRecorded)
        case e.NonconformanceRaised():
            state.nonconformances[ev.ncr] = Nonconformance(
                ncr=ev.ncr, lot=ev.lot, work_order=ev.work_order, description=ev.description, status="open",
                raised_by=ev.raised_by)
            state.mark("nonconformances", ev.ncr)
        case e.NonconformanceDispositioned():
            ncr = state.nonconformances[ev.ncr]
            ncr.status = "closed"
            ncr.disposition = ev.disposition
            ncr.dispositioned_by = ev.dispositioned_by
            state.mark("nonconformances", ev.ncr)
        case e.WorkOrderChanged():
            wo = state.work_orders[ev.work_order]
            wo.item_revision, wo.bom_revision, wo.quantity = ev.item_revision, ev.bom_revision, ev.quantity
            wo.overproduction_tolerance_pct, wo.due, wo.customer_order = (
                ev.overproduction_tolerance_pct, ev.due, ev.customer_order)
            state.mark("work_orders", ev.work_order)
            for op_key in [k for k in state.operations if k[0] == ev.work_order]:
                del state.operations[op_key]
                state.mark("operations", op_key)
            for line_key in [k for k in state.bom_lines if k[0] == ev.work_order]:
                del state.bom_lines[line_key]
                state.mark("bom_lines", line_key)
            _add_operations(state, ev.work_order, ev.operations)
            _set_bom_lines(state, ev.work_order, ev.bom)
        case e.WorkOrderCancelled():
            state.work_orders[ev.work_order].status = "cancelled"
            state.mark("work_orders", ev.work_order)
            _drop_from_dispatch(state, ev.work_order)
            _release_staged(state, ev.work_order)
        case e.WorkOrderConflictFlagged():
            state.work_order_conflicts[ev.work_order] = WorkOrderConflict(
                work_order=ev.work_order, change=ev.change, detail=ev.detail, flagged_at=ev.at,
                proposed_quantity=ev.proposed_quantity, proposed_due=ev.proposed_due)
            state.mark("work_order_conflicts", ev.work_order)
        case e.WorkOrderConflictResolved():
            conflict = state.work_order_conflicts[ev.work_order]
            conflict.status, conflict.resolved_by = ev.resolution, ev.resolved_by
            state.mark("work_order_conflicts", ev.work_order)
        case e.WorkOrderQuantityChanged():
            wo = state.work_orders[ev.work_order]
            wo.quantity, wo.due = ev.quantity, ev.due
            state.mark("work_orders", ev.work_order)
        case e.BomRevisionPublished():
            state.bom_revisions[(ev.item, ev.bom_revision)] = BomRevision(
                item=ev.item, bom_revision=ev.bom_revision, effective=ev.effective, published_at=ev.at)
            state.mark("bom_revisions", (ev.item, ev.bom_revision))
            for rl_key in [k for k in state.bom_revision_lines if k[:2] == (ev.item, ev.bom_revision)]:
                del state.bom_revision_lines[rl_key]
                state.mark("bom_revision_lines", rl_key)
            for ln in ev.lines:
                state.bom_revision_lines[(ev.item, ev.bom_revision, ln.line)] = BomRevisionLine(
                    item=ev.item, bom_revision=ev.bom_revision, line=ln.line, component=ln.item,
                    component_revision=ln.item_revision, quantity_per=ln.quantity_per)
                state.mark("bom_revision_lines", (ev.item, ev.bom_revision, ln.line))
        case e.WorkOrderBomRevised():
            wo = state.work_orders[ev.work_order]
            wo.bom_revision = ev.bom_revision
            state.mark("work_orders", ev.work_order)
            for number in ev.removed:
                state.bom_lines.pop((ev.work_order, number), None)
                state.mark("bom_lines", (ev.work_order, number))
            _set_bom_lines(state, ev.work_order, ev.lines)
        case e.PurchaseOrderDefined():
            received = {k: ln.received for k, ln in state.purchase_order_lines.items() if k[0] == ev.purchase_order}
            _replace_rows(state, ("purchase_order_lines", "expected_lots"), ev.purchase_order)
            state.purchase_orders[ev.purchase_order] = PurchaseOrder(ev.purchase_order, ev.supplier, ev.status)
            state.mark("purchase_orders", ev.purchase_order)
            for pl in ev.lines:  # what was received here stays received when the ERP sends the order again
                state.purchase_order_lines[(ev.purchase_order, pl.line)] = PurchaseOrderLine(
                    ev.purchase_order, pl.line, pl.item, pl.quantity, pl.due,
                    received.get((ev.purchase_order, pl.line), ZERO))
                state.mark("purchase_order_lines", (ev.purchase_order, pl.line))
                for x in pl.expected_lots:
                    state.expected_lots[(ev.purchase_order, pl.line, x.supplier_lot)] = ExpectedLot(
                        ev.purchase_order, pl.line, x.supplier_lot, x.quantity, x.expiry)
                    state.mark("expected_lots", (ev.purchase_order, pl.line, x.supplier_lot))
        case e.CustomerDefined():
            state.customers[ev.customer] = Customer(ev.customer, ev.name)
            state.mark("customers", ev.customer)
        case e.SalesOrderDefined():
            # What was shipped here stays shipped when CRM sends the order again.
            shipped = {line: so.shipped for (order, line), so in state.sales_order_lines.items()
                       if order == ev.sales_order}
            _replace_rows(state, ("sales_order_lines",), ev.sales_order)
            state.sales_orders[ev.sales_order] = SalesOrder(ev.sales_order, ev.customer, ev.status)
            state.mark("sales_orders", ev.sales_order)
            for sl in ev.lines:
                state.sales_order_lines[(ev.sales_order, sl.line)] = SalesOrderLine(
                    ev.sales_order, sl.line, sl.item, sl.quantity, sl.due, shipped.get(sl.line, ZERO))
                state.mark("sales_order_lines", (ev.sales_order, sl.line))
        case e.PalletPacked():
            state.pallets[ev.sscc] = Pallet(sscc=ev.sscc, bin=ev.bin, status="open", packed_by=ev.packed_by,
                                            packed_at=ev.at)
            state.mark("pallets", ev.sscc)
            for content in ev.lines:
                state.pallet_lines[(ev.sscc, content.lot)] = PalletLine(ev.sscc, content.lot, content.item,
                                                                        content.quantity)
                state.mark("pallet_lines", (ev.sscc, content.lot))
                _pack(state, content.lot, ev.bin, content.quantity)
        case e.PalletLotAdded():
            key2 = (ev.sscc, ev.lot)
            row = state.pallet_lines.get(key2)
            if row is None:
                state.pallet_lines[key2] = PalletLine(ev.sscc, ev.lot, ev.item, ev.quantity)
            else:
                row.quantity += ev.quantity
            state.mark("pallet_lines", key2)
            _pack(state, ev.lot, state.pallets[ev.sscc].bin, ev.quantity)
        case e.PalletLotRemoved():
            key2 = (ev.sscc, ev.lot)
            left = state.pallet_lines[key2]
            left.quantity -= ev.quantity
            if left.quantity == ZERO:
                del state.pallet_lines[key2]
            state.mark("pallet_lines", key2)
            _pack(state, ev.lot, state.pallets[ev.sscc].bin, -ev.quantity)
        case e.PalletShipped():
            pallet = state.pallets[ev.sscc]
            pallet.status, pallet.sales_order, pallet.customer, pallet.shipped_at = (
                "shipped", ev.sales_order, ev.customer, ev.at)
            state.mark("pallets", ev.sscc)
            for shipped_line in ev.lines:  # every pallet line, split over the order lines it went against
                _pack(state, shipped_line.lot, pallet.bin, -shipped_line.quantity)
            for shipped_line in ev.lines:
                so_line = state.sales_order_lines[(ev.sales_order, shipped_line.line)]
                so_line.shipped += shipped_line.quantity
                state.mark("sales_order_lines", (ev.sales_order, shipped_line.line))
        case e.ShortPickRecorded():
            pass  # a fact for the record (history table short_picks); the plant's state does not change
        case e.ClockJumped():
            # The open intervals move onto the wall clock's new time line: ``at - since`` stays the time that really
            # passed (the steady clock's), for labour, operations under way and the machines' current states. (If
            # the new time is the right one, as after NTP set a wrong clock, the moved start is also the true one.)
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
            for equipment, ms in state.machine_states.items():
                ms.since += shift
                state.mark("machine_states", equipment)
                machine: tuple[Any, ...] = ("machine", equipment)
                state.clock_jump_of[machine] = state.clock_jump_of.get(machine, ZERO) + ev.jump_s
        case _:
            raise TypeError(f"no projection for event {type(ev).__name__}")


def _open_intervals(state: PlantState, work_order: str, operation: int, at: datetime) -> None:
    """The in-process plans on this operation of the order's item start counting (if they did not already)."""
    wo = state.work_orders[work_order]
    for plan in state.inspection_plans.values():
        if plan.kind != "in_process" or plan.operation != operation or plan.item not in (None, wo.item):
            continue
        key = (plan.plan, work_order, operation)
        if key not in state.inspection_intervals:
            state.inspection_intervals[key] = InspectionInterval(
                plan=plan.plan, work_order=work_order, operation=operation,
                workstation=state.operations[(work_order, operation)].workstation, parts_since=ZERO, since=at)
            state.mark("inspection_intervals", key)


def _count_for_intervals(state: PlantState, ev: e.ProductionReported) -> None:
    _open_intervals(state, ev.work_order, ev.operation, ev.at)
    quantity = ev.good + ev.scrap
    for key, iv in state.inspection_intervals.items():
        if key[1:] != (ev.work_order, ev.operation):
            continue
        plan = state.inspection_plans.get(iv.plan)
        if plan is not None and plan.kind == "in_process":
            iv.overdue_parts = _overdue_after(iv, plan, quantity, ev.at)
        iv.parts_since += quantity
        state.mark("inspection_intervals", key)


def _count_sample(state: PlantState, ev: e.InspectionRecorded) -> None:
    """A recorded result is a sample of its task, or of the in-process round on its operation."""
    if ev.task is not None:
        task = state.inspection_tasks[ev.task]
        task.samples += 1
        task.failed += 0 if ev.passed else 1
        state.mark("inspection_tasks", ev.task)
        return
    if ev.work_order is None or ev.operation is None:
        return
    plan = state.inspection_plans.get(ev.plan)
    if plan is None or plan.kind != "in_process":
        return
    key = (ev.plan, ev.work_order, ev.operation)
    iv = state.inspection_intervals.get(key)
    if iv is None:
        op = state.operations[(ev.work_order, ev.operation)]
        iv = state.inspection_intervals[key] = InspectionInterval(
            plan=ev.plan, work_order=ev.work_order, operation=ev.operation, workstation=op.workstation,
            parts_since=ZERO, since=ev.at)
    iv.samples += 1
    if iv.samples >= (plan.sample_size or 1):  # the round is complete: counting starts again
        iv.samples, iv.parts_since, iv.since, iv.overdue_parts, iv.flagged = 0, ZERO, ev.at, ZERO, False
    state.mark("inspection_intervals", key)


def _replace_rows(state: PlantState, tables: tuple[str, ...], first_key: str) -> None:
    """Drop the rows of ``tables`` whose key starts with ``first_key`` (the lines of a redefined order)."""
    for name in tables:
        rows: dict[Any, Any] = getattr(state, name)
        for key in [k for k in rows if k[0] == first_key]:
            del rows[key]
            state.mark(name, key)


def _add_operations(state: PlantState, work_order: str, operations: tuple[e.ReleasedOperation, ...]) -> None:
    for o in operations:
        state.operations[(work_order, o.operation)] = Operation(
            work_order=work_order, operation=o.operation, description=o.description,
            workstation=o.workstation, status="released", good=ZERO, scrap=ZERO,
            standard_minutes=o.standard_minutes, instruction_url=o.instruction_url)
        state.mark("operations", (work_order, o.operation))


def _set_bom_lines(state: PlantState, work_order: str, lines: tuple[e.ReleasedBomLine, ...]) -> None:
    for b in lines:
        state.bom_lines[(work_order, b.line)] = BomLine(
            work_order=work_order, line=b.line, item=b.item, item_revision=b.item_revision,
            quantity_per=b.quantity_per, consumed=ZERO)
        state.mark("bom_lines", (work_order, b.line))


def _drop_from_dispatch(state: PlantState, work_order: str) -> None:
    for key in [k for k in state.dispatch if state.dispatch[k].work_order == work_order]:
        del state.dispatch[key]
        state.mark("dispatch", key)
