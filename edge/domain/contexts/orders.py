"""Master data and orders: items, bins, equipment, work orders (released, changed and cancelled by the ERP, and
the conflicts a change makes with work under way), BOM revisions from PLM, purchase and sales orders, customers,
and the APS dispatch list: their deciders and evolvers.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from edge.domain import checks, putaway
from edge.domain import commands as c
from edge.domain import events as e
from edge.domain.contexts.production import clock_off_events
from edge.domain.errors import DomainError, invalid
from edge.domain.gs1 import gtin14
from edge.domain.model import (
    Bin,
    BomLine,
    BomRevision,
    BomRevisionLine,
    Customer,
    DispatchEntry,
    Equipment,
    ExpectedLot,
    Item,
    Operation,
    PurchaseOrder,
    PurchaseOrderLine,
    SalesOrder,
    SalesOrderLine,
    WorkOrder,
    WorkOrderConflict,
)
from edge.domain.state import ZERO, Decider, Evolver, PlantState

# --- deciders -------------------------------------------------------------------------------------


def _define_item(state: PlantState, cmd: c.DefineItem, now: datetime) -> list[e.Event]:
    if cmd.gtin is not None:
        owner = state.item_of_gtin.get(gtin14(checks.valid_gtin("gtin", cmd.gtin)))
        if owner is not None and owner != cmd.item:
            raise DomainError("DUPLICATE_GTIN", f"GTIN {cmd.gtin} is already item {owner}'s", field="gtin")
    return [e.ItemDefined(
        item=checks.text("item", cmd.item), description=checks.free_text("description", cmd.description),
        unit=checks.text("unit", cmd.unit),
        revision=checks.text("revision", cmd.revision), lot_controlled=cmd.lot_controlled, gtin=cmd.gtin,
        serialised=cmd.serialised if cmd.serialised is not None else (
            cmd.item in state.items and state.items[cmd.item].serialised),
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
                                           standard_minutes=o.standard_minutes, instruction_url=o.instruction_url,
                                           segment=o.segment, parameters=o.parameters, staging=o.staging)
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
                                        standard_minutes=o.standard_minutes, instruction_url=o.instruction_url,
                                        segment=o.segment, parameters=o.parameters, staging=o.staging)
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
    return [*clock_off_events(state, cmd.work_order, None, None, at),
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
            events += [*clock_off_events(state, cmd.work_order, None, None, at),
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
    if cmd.priority is not None and not 1 <= cmd.priority <= 999:
        raise invalid("INVALID_VALUE", "priority is 1 (most urgent) to 999", "priority")
    carrier = None if cmd.carrier is None else checks.text("carrier", cmd.carrier)
    if cmd.cutoff is not None and carrier is None:
        raise invalid("MISSING_VALUE", "a cut-off needs the carrier it is for", "carrier")
    if cmd.cutoff is not None and cmd.cutoff.tzinfo is None:
        raise invalid("INVALID_VALUE", "cutoff needs its time zone (an offset or Z)", "cutoff")
    return [e.SalesOrderDefined(
        sales_order=cmd.sales_order, customer=cmd.customer, status=cmd.status, allow_substitution=cmd.allow_substitution,
        priority=cmd.priority, carrier=carrier, cutoff=cmd.cutoff,
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


# --- evolvers -------------------------------------------------------------------------------------


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
            standard_minutes=o.standard_minutes, instruction_url=o.instruction_url,
            segment=o.segment, parameters=o.parameters, staging=o.staging)
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


def _item_defined(state: PlantState, ev: e.ItemDefined) -> None:
    before = state.items.get(ev.item)
    if before is not None and before.gtin:
        state.item_of_gtin.pop(gtin14(before.gtin), None)
    if ev.gtin:
        state.item_of_gtin[gtin14(ev.gtin)] = ev.item
    state.items[ev.item] = Item(item=ev.item, description=ev.description, unit=ev.unit,
                                revision=ev.revision, lot_controlled=ev.lot_controlled, gtin=ev.gtin,
                                serialised=ev.serialised)
    state.mark("items", ev.item)


def _bin_defined(state: PlantState, ev: e.BinDefined) -> None:
    state.bins[ev.bin] = Bin(bin=ev.bin, zone=ev.zone, capacity=ev.capacity,
                             allowed_items=tuple(ev.allowed_items), walk_sequence=ev.walk_sequence,
                             max_per_item=ev.max_per_item, lot_policy=ev.lot_policy)
    state.mark("bins", ev.bin)


def _equipment_defined(state: PlantState, ev: e.EquipmentDefined) -> None:
    state.equipment[ev.equipment] = Equipment(equipment=ev.equipment, workstation=ev.workstation,
                                              description=ev.description)
    state.mark("equipment", ev.equipment)


def _work_order_released(state: PlantState, ev: e.WorkOrderReleased) -> None:
    state.work_orders[ev.work_order] = WorkOrder(
        work_order=ev.work_order, item=ev.item, item_revision=ev.item_revision, bom_revision=ev.bom_revision,
        quantity=ev.quantity, status="released", good=ZERO, scrap=ZERO,
        overproduction_tolerance_pct=ev.overproduction_tolerance_pct, due=ev.due,
        customer_order=ev.customer_order)
    state.mark("work_orders", ev.work_order)
    _add_operations(state, ev.work_order, ev.operations)
    _set_bom_lines(state, ev.work_order, ev.bom)


def _dispatch_list_set(state: PlantState, ev: e.DispatchListSet) -> None:
    for key in [k for k in state.dispatch if k[0] == ev.workstation]:
        del state.dispatch[key]
        state.mark("dispatch", key)
    for pos, slot in enumerate(ev.sequence, start=1):
        state.dispatch[(ev.workstation, pos)] = DispatchEntry(
            workstation=ev.workstation, position=pos, work_order=slot.work_order, operation=slot.operation)
        state.mark("dispatch", (ev.workstation, pos))


def _work_order_changed(state: PlantState, ev: e.WorkOrderChanged) -> None:
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


def _work_order_cancelled(state: PlantState, ev: e.WorkOrderCancelled) -> None:
    state.work_orders[ev.work_order].status = "cancelled"
    state.mark("work_orders", ev.work_order)
    _drop_from_dispatch(state, ev.work_order)


def _work_order_completed(state: PlantState, ev: e.WorkOrderCompleted) -> None:
    _drop_from_dispatch(state, ev.work_order)


def _work_order_conflict_flagged(state: PlantState, ev: e.WorkOrderConflictFlagged) -> None:
    state.work_order_conflicts[ev.work_order] = WorkOrderConflict(
        work_order=ev.work_order, change=ev.change, detail=ev.detail, flagged_at=ev.at,
        proposed_quantity=ev.proposed_quantity, proposed_due=ev.proposed_due)
    state.mark("work_order_conflicts", ev.work_order)


def _work_order_conflict_resolved(state: PlantState, ev: e.WorkOrderConflictResolved) -> None:
    conflict = state.work_order_conflicts[ev.work_order]
    conflict.status, conflict.resolved_by = ev.resolution, ev.resolved_by
    state.mark("work_order_conflicts", ev.work_order)


def _work_order_quantity_changed(state: PlantState, ev: e.WorkOrderQuantityChanged) -> None:
    wo = state.work_orders[ev.work_order]
    wo.quantity, wo.due = ev.quantity, ev.due
    state.mark("work_orders", ev.work_order)


def _bom_revision_published(state: PlantState, ev: e.BomRevisionPublished) -> None:
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


def _work_order_bom_revised(state: PlantState, ev: e.WorkOrderBomRevised) -> None:
    wo = state.work_orders[ev.work_order]
    wo.bom_revision = ev.bom_revision
    state.mark("work_orders", ev.work_order)
    for number in ev.removed:
        state.bom_lines.pop((ev.work_order, number), None)
        state.mark("bom_lines", (ev.work_order, number))
    _set_bom_lines(state, ev.work_order, ev.lines)


def _purchase_order_defined(state: PlantState, ev: e.PurchaseOrderDefined) -> None:
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


def _customer_defined(state: PlantState, ev: e.CustomerDefined) -> None:
    state.customers[ev.customer] = Customer(ev.customer, ev.name)
    state.mark("customers", ev.customer)


def _sales_order_defined(state: PlantState, ev: e.SalesOrderDefined) -> None:
    # What was shipped here stays shipped when CRM sends the order again.
    shipped = {line: so.shipped for (order, line), so in state.sales_order_lines.items()
               if order == ev.sales_order}
    _replace_rows(state, ("sales_order_lines",), ev.sales_order)
    state.sales_orders[ev.sales_order] = SalesOrder(ev.sales_order, ev.customer, ev.status,
                                                   allow_substitution=ev.allow_substitution, priority=ev.priority,
                                                   carrier=ev.carrier, cutoff=ev.cutoff)
    state.mark("sales_orders", ev.sales_order)
    for sl in ev.lines:
        state.sales_order_lines[(ev.sales_order, sl.line)] = SalesOrderLine(
            ev.sales_order, sl.line, sl.item, sl.quantity, sl.due, shipped.get(sl.line, ZERO))
        state.mark("sales_order_lines", (ev.sales_order, sl.line))


DECIDERS: dict[type[c.Command], Decider] = {
    c.DefineItem: _define_item,
    c.DefineBin: _define_bin,
    c.DefineEquipment: _define_equipment,
    c.ReleaseWorkOrder: _release_work_order,
    c.SetDispatchList: _set_dispatch_list,
    c.ChangeWorkOrder: _change_work_order,
    c.CancelWorkOrder: _cancel_work_order,
    c.ResolveWorkOrderConflict: _resolve_conflict,
    c.PublishBomRevision: _publish_bom_revision,
    c.DefinePurchaseOrder: _define_purchase_order,
    c.DefineCustomer: _define_customer,
    c.DefineSalesOrder: _define_sales_order,
}
EVOLVERS: dict[type[e.Event], Evolver] = {
    e.WorkOrderCompleted: _work_order_completed,
    e.ItemDefined: _item_defined,
    e.BinDefined: _bin_defined,
    e.EquipmentDefined: _equipment_defined,
    e.WorkOrderReleased: _work_order_released,
    e.DispatchListSet: _dispatch_list_set,
    e.WorkOrderChanged: _work_order_changed,
    e.WorkOrderCancelled: _work_order_cancelled,
    e.WorkOrderConflictFlagged: _work_order_conflict_flagged,
    e.WorkOrderConflictResolved: _work_order_conflict_resolved,
    e.WorkOrderQuantityChanged: _work_order_quantity_changed,
    e.BomRevisionPublished: _bom_revision_published,
    e.WorkOrderBomRevised: _work_order_bom_revised,
    e.PurchaseOrderDefined: _purchase_order_defined,
    e.CustomerDefined: _customer_defined,
    e.SalesOrderDefined: _sales_order_defined,
}
