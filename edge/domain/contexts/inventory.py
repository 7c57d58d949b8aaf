"""Inventory: receipts (plain, against a purchase order, of a work order's output), lots the ERP announces, moves
and putaway, issues to work orders, counts and their approval, scrap, holds and releases: their deciders and
evolvers. ``moved`` builds the stock move every context that moves stock records.
"""
from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal

from edge.domain import checks, putaway, sampling
from edge.domain import commands as c
from edge.domain import events as e
from edge.domain.errors import DomainError, invalid
from edge.domain.gs1 import gtin14
from edge.domain.model import Item, Lot, PendingCount, SerialUse, Stock
from edge.domain.state import ZERO, Decider, Evolver, PlantState, incoming_plan, incoming_task_id, item_incoming_plan

# --- deciders -------------------------------------------------------------------------------------


def moved(lot: Lot, kind: str, from_bin: str | None, to_bin: str | None, quantity: Decimal, delta: Decimal,
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
        if quantity > ZERO:  # and not reserved for open picks or replenishment tasks
            quantity = max(quantity - state.on_open_pallets(lot.lot, cmd.from_bin)
                           - state.reserved.get((lot.lot, cmd.from_bin), ZERO), ZERO) or quantity
        if quantity == ZERO:
            raise DomainError("INSUFFICIENT_STOCK", f"bin {cmd.from_bin} holds none of lot {lot.lot}",
                              field="from_bin")
    else:
        quantity = checks.quantity("quantity", cmd.quantity)
    checks.enough_stock(state, lot, cmd.from_bin, quantity)
    checks.not_reserved(state, lot, cmd.from_bin, quantity)
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
    move = moved(lot, kind, cmd.from_bin, cmd.to_bin, quantity, ZERO, checks.at(cmd, now), reason=reason)
    if overridden:  # what the rules suggested and why it went elsewhere (a putaway to the suggestion keeps neither)
        move = dataclasses.replace(move, suggested_bin=best[0].bin if best else None,
                                   override_reason=checks.reason("override_reason", cmd.override_reason))
    return [move]


def _issue_to_work_order(state: PlantState, cmd: c.IssueToWorkOrder, now: datetime) -> list[e.Event]:
    wo = checks.work_order(state, cmd.work_order)
    lot = checks.lot(state, cmd.lot)
    checks.bin(state, cmd.bin)
    quantity = checks.quantity("quantity", cmd.quantity)
    at = checks.at(cmd, now)
    checks.label_names_lot_item(state, lot, cmd.gtin)
    same_revision = checks.bom_lines_for_lot(state, wo, lot)
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
    checks.not_reserved(state, lot, cmd.bin, quantity)
    _not_staged_for_another(state, lot, cmd.bin, wo.work_order, quantity)
    for ln in same_revision:
        remaining = ln.quantity_per * wo.quantity - ln.consumed
        if quantity <= remaining:
            return [moved(lot, "issue", cmd.bin, None, quantity, -quantity, at, work_order=wo.work_order,
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
    # Whose own counts are booked at once: before the site's segregation of duties, a supervisor's; under it, no
    # one's by default (edge.domain.duties).
    at_once = frozenset({"supervisor", "admin"}) if cmd.duties is None else cmd.duties.counts_booked_at_once
    if (cmd.approval_pct is not None and not cmd.actor_roles & at_once
            and abs(delta) * 100 > cmd.approval_pct * have):
        return [e.CountAwaitsApproval(lot=lot.lot, bin=cmd.bin, counted=counted, expected=have, reason=reason,
                                      counted_by=cmd.actor, at=at)]
    return _adjusted(lot, cmd.bin, delta, at, reason)


def _adjusted(lot: Lot, bin_code: str, delta: Decimal, at: datetime, reason: str) -> list[e.Event]:
    if delta > 0:
        return [moved(lot, "adjust", None, bin_code, delta, delta, at, reason=reason)]
    return [moved(lot, "adjust", bin_code, None, -delta, delta, at, reason=reason)]


def _decide_count(state: PlantState, cmd: c.DecideCount, now: datetime) -> list[e.Event]:
    approvers = ("supervisor", "admin") if cmd.duties is None else sorted(cmd.duties.count_approvers)
    checks.require_role(cmd, *approvers, action="approving a count")
    pending = state.pending_counts.get((cmd.lot, cmd.bin))
    if pending is None:
        raise DomainError("NO_PENDING_COUNT", f"no count of lot {cmd.lot} in bin {cmd.bin} waits for approval",
                          field="lot")
    if cmd.approve and pending.counted_by == cmd.actor:  # segregation of duties: a second person approves
        raise DomainError("SECOND_PERSON_REQUIRED", f"{cmd.actor} counted lot {cmd.lot} in bin {cmd.bin}: another "
                          f"{' or '.join(approvers)} approves the count (or discard it and count again)",
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
    checks.not_reserved(state, lot, cmd.bin, quantity)
    return [moved(lot, "scrap", cmd.bin, None, quantity, -quantity, checks.at(cmd, now), reason=reason)]


def _hold_lot(state: PlantState, cmd: c.HoldLot, now: datetime) -> list[e.Event]:
    lot = checks.lot(state, cmd.lot)
    reason = checks.reason("reason", cmd.reason)
    if lot.status == "hold":
        raise DomainError("LOT_ON_HOLD", f"lot {lot.lot} is already on hold", field="lot")
    if lot.status == "consumed":
        raise DomainError("LOT_CONSUMED", f"lot {lot.lot} is used up: nothing to hold", field="lot")
    return [e.LotStatusChanged(lot=lot.lot, status="hold", previous=lot.status, reason=reason, ncr=None)]


def release_status(state: PlantState, lot: Lot) -> str:
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
    return [e.LotStatusChanged(lot=lot.lot, status=release_status(state, lot), previous=lot.status, reason=reason, ncr=None)]


# --- evolvers -------------------------------------------------------------------------------------


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


def _stock_moved(state: PlantState, ev: e.StockMoved) -> None:
    """Stock out of ``from_bin`` and into ``to_bin``, the lot's quantity, the BOM line's consumption and the serials
    issued (the kitted stock's shares: edge.domain.contexts.kitting)."""
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
    if ev.serial is not None and ev.work_order is not None:
        key = (ev.item, ev.serial)
        if ev.kind == "issue":
            state.serials[key] = SerialUse(ev.item, ev.serial, ev.lot, ev.work_order, ev.at)
        elif ev.kind == "return":
            state.serials.pop(key, None)
        state.mark("serials", key)


def _lot_received(state: PlantState, ev: e.LotReceived) -> None:
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


def _lot_defined(state: PlantState, ev: e.LotDefined) -> None:
    state.lots[ev.lot] = Lot(lot=ev.lot, item=ev.item, item_revision=ev.item_revision, quantity=ZERO,
                             status="available", expiry=ev.expiry, supplier_lot=ev.supplier_lot)
    state.mark("lots", ev.lot)


def _lot_expiry_changed(state: PlantState, ev: e.LotExpiryChanged) -> None:
    state.lots[ev.lot].expiry = ev.expiry
    state.mark("lots", ev.lot)


def _lot_status_changed(state: PlantState, ev: e.LotStatusChanged) -> None:
    lot = state.lots[ev.lot]
    _set_lot_status(state, lot, ev.status)
    state.mark("lots", ev.lot)


def _count_awaits_approval(state: PlantState, ev: e.CountAwaitsApproval) -> None:
    state.pending_counts[(ev.lot, ev.bin)] = PendingCount(
        lot=ev.lot, bin=ev.bin, counted=ev.counted, expected=ev.expected, reason=ev.reason,
        counted_by=ev.counted_by, at=ev.at)
    state.mark("pending_counts", (ev.lot, ev.bin))


def _count_decided(state: PlantState, ev: e.CountDecided) -> None:
    state.pending_counts.pop((ev.lot, ev.bin), None)
    state.mark("pending_counts", (ev.lot, ev.bin))


DECIDERS: dict[type[c.Command], Decider] = {
    c.ReceiveLot: _receive_plain_lot,
    c.DefineLot: _define_lot,
    c.MoveStock: _move_stock,
    c.IssueToWorkOrder: _issue_to_work_order,
    c.AdjustStock: _adjust_stock,
    c.ScrapStock: _scrap_stock,
    c.HoldLot: _hold_lot,
    c.ReleaseLot: _release_lot,
    c.ReceiveAgainstPurchaseOrder: _receive_against_purchase_order,
    c.ReceiveProducedLot: _receive_produced_lot,
    c.DecideCount: _decide_count,
}
EVOLVERS: dict[type[e.Event], Evolver] = {
    e.StockMoved: _stock_moved,
    e.LotReceived: _lot_received,
    e.LotDefined: _lot_defined,
    e.LotExpiryChanged: _lot_expiry_changed,
    e.LotStatusChanged: _lot_status_changed,
    e.CountAwaitsApproval: _count_awaits_approval,
    e.CountDecided: _count_decided,
}
