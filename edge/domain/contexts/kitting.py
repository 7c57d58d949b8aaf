"""Kitting: picks of a work order's pick list into a staging bin (the list itself: edge.domain.picking), material
returned from an order, and the kitted stock each order holds in its staging bin: deciders and evolvers.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from edge.domain import checks
from edge.domain import commands as c
from edge.domain import events as e
from edge.domain.contexts.inventory import moved
from edge.domain.errors import DomainError, invalid
from edge.domain.model import BomLine, Lot, StagedStock, WorkOrder
from edge.domain.state import ZERO, Decider, Evolver, PlantState

# --- deciders -------------------------------------------------------------------------------------


def _bom_line_for_lot(state: PlantState, wo: WorkOrder, lot: Lot) -> BomLine:
    """The BOM line of ``wo`` that ``lot`` serves (same item and revision), the first with need left."""
    same_revision = checks.bom_lines_for_lot(state, wo, lot)
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
        checks.not_reserved(state, lot, cmd.from_bin, picked)
        checks.fits_in_bin(state, target, lot.item, picked, "to_bin", lot.lot)
        events.append(moved(lot, "pick", cmd.from_bin, target.bin, picked, ZERO, at, work_order=wo.work_order,
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
            return [moved(lot, "return", None, target.bin, quantity, quantity, checks.at(cmd, now),
                          work_order=wo.work_order, bom_line=ln.line, serial=cmd.serial)]
    issued = sum((ln.consumed for ln in lines), ZERO)
    raise DomainError(
        "OVER_RETURN", f"only {issued} of {lot.item} was issued to {wo.work_order}; cannot return {quantity}",
        field="quantity",
    )


# --- evolvers -------------------------------------------------------------------------------------


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


def _order_closed(state: PlantState, ev: e.WorkOrderCompleted | e.WorkOrderCancelled) -> None:
    _release_staged(state, ev.work_order)


def _short_pick_recorded(state: PlantState, ev: e.ShortPickRecorded) -> None:
    pass  # a fact for the record (history table short_picks); the plant's state does not change


DECIDERS: dict[type[c.Command], Decider] = {
    c.ReturnFromWorkOrder: _return_from_work_order,
    c.PickForKitting: _pick_for_kitting,
}
EVOLVERS: dict[type[e.Event], Evolver] = {
    e.ShortPickRecorded: _short_pick_recorded,
    e.StockMoved: _allocate_staged,  # after inventory moved the stock (the shares fit in what is left)
    e.WorkOrderCompleted: _order_closed,
    e.WorkOrderCancelled: _order_closed,
}
