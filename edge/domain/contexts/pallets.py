"""Pallets (GS1 SSCC): packed with lots in a bin, changed while open, shipped against a sales order: their deciders
and evolvers, and the node's SSCC sequence.
"""
from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal

from edge.domain import checks, gs1
from edge.domain import commands as c
from edge.domain import events as e
from edge.domain.contexts.inventory import moved
from edge.domain.errors import DomainError, invalid
from edge.domain.model import Lot, Pallet, PalletLine
from edge.domain.state import ZERO, Decider, Evolver, PlantState, unit_named

# --- deciders -------------------------------------------------------------------------------------


def _sscc(value: str) -> str:
    problem = gs1.sscc_problem(value)
    if problem is not None:
        raise invalid("INVALID_SSCC", problem, "sscc")
    return value


def next_sscc(state: PlantState, company_prefix: str | None, extension_digit: int) -> str:
    """The next SSCC of this node's sequence: one past the highest serial reference of the pallets with this
    extension digit and company prefix (the SSCCs are in the events, so a replay gives the same ones)."""
    if company_prefix is None:
        raise DomainError("NO_COMPANY_PREFIX", "this site has no GS1 company prefix (warehouse.gs1_company_prefix): "
                          "name the pallet's sscc", field="sscc")
    head = f"{extension_digit}{company_prefix}"
    used = [int(code[len(head):17]) for code in state.pallets if code.startswith(head)]
    try:
        return gs1.sscc(extension_digit, company_prefix, max(used, default=0) + 1)
    except gs1.GS1NumberError as refused:
        if refused.field == "serial_reference":
            raise DomainError("SSCC_SEQUENCE_EXHAUSTED", f"every serial reference of company prefix {company_prefix} "
                              f"(extension {extension_digit}) is used", field="sscc") from None
        raise invalid("INVALID_VALUE", str(refused), "sscc") from None


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
    if cmd.kind not in ("pallet", "parcel"):
        raise invalid("INVALID_VALUE", "kind is pallet or parcel", "kind")
    weight = None if cmd.gross_weight is None else checks.quantity("gross_weight", cmd.gross_weight)
    return [e.PalletPacked(sscc=code, bin=target.bin, lines=tuple(content), packed_by=cmd.actor, at=checks.at(cmd, now),
                           kind=cmd.kind, gross_weight=weight)]


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


MAX_UNITS = 500


def _add_units_to_pallet(state: PlantState, cmd: c.AddUnitsToPallet, now: datetime) -> list[e.Event]:
    pallet = _open_pallet(state, cmd.sscc)
    if not cmd.serials:
        raise invalid("MISSING_VALUE", "name at least one unit's serial", "serials")
    if len(cmd.serials) > MAX_UNITS:
        raise invalid("INVALID_VALUE", f"at most {MAX_UNITS} units at a time", "serials")
    at = checks.at(cmd, now)
    per_lot: dict[str, list[int]] = {}
    out: list[e.Event] = []
    seen: set[tuple[str, str]] = set()
    for i, serial in enumerate(cmd.serials):
        name = f"serials[{i}]"
        checks.text(name, serial)
        key = (cmd.item, serial) if cmd.item is not None else unit_named(state, serial)
        unit = state.units.get(key) if key is not None else None
        if unit is None:
            raise DomainError("UNKNOWN_UNIT", f"no unit {serial}" + (f" of {cmd.item}" if cmd.item else "") +
                              " is known here" + ("" if cmd.item else " (or serials of several items: name item)"),
                              field=name)
        if (unit.item, unit.serial) in seen:
            raise invalid("DUPLICATE_SERIAL", f"unit {serial} is named twice", name)
        seen.add((unit.item, unit.serial))
        if unit.status == "hold":
            raise DomainError("UNIT_ON_HOLD", f"unit {serial} is held by nonconformance {unit.ncr}: it is not packed "
                              "for shipping", field=name)
        if unit.status != "completed":
            raise DomainError("UNIT_NOT_COMPLETED", f"unit {serial} is {unit.status.replace('_', ' ')}"
                              + (f" at operation {unit.operation}" if unit.operation is not None else "")
                              + ": only a completed unit is packed", field=name)
        if unit.lot is None:
            raise DomainError("UNIT_NOT_IN_STOCK", f"unit {serial} is in no output lot yet: put work order "
                              f"{unit.work_order}'s output into stock first", field=name)
        if unit.sscc is not None:
            raise DomainError("UNIT_ON_PALLET", f"unit {serial} is packed on pallet {unit.sscc} already", field=name)
        per_lot.setdefault(unit.lot, []).append(i)
        out.append(e.PalletLotAdded(sscc=pallet.sscc, lot=unit.lot, item=unit.item, quantity=Decimal(1), at=at,
                                    serial=unit.serial))
    for lot, where in per_lot.items():
        _packable(state, lot, pallet.bin, Decimal(len(where)), f"serials[{where[0]}]")
    return out


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
    held = sorted(u.serial for u in state.units.values() if u.sscc == pallet.sscc and u.status == "hold")
    if held:
        raise DomainError("UNIT_ON_HOLD", f"unit{'s' if len(held) > 1 else ''} {', '.join(held)} on pallet "
                          f"{pallet.sscc} {'are' if len(held) > 1 else 'is'} on hold: the pallet is not shipped",
                          field="sscc")
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
            moved(lot, "ship", pallet.bin, None, ln.quantity, -ln.quantity, at,
                  reason=f"shipped on pallet {pallet.sscc} to {order.customer}"),
            sales_order=order.sales_order, sscc=pallet.sscc))
    return [*moves, e.PalletShipped(sscc=pallet.sscc, sales_order=order.sales_order, customer=order.customer,
                                    bin=pallet.bin, lines=tuple(shipped), at=at)]


# --- evolvers -------------------------------------------------------------------------------------


def _pack(state: PlantState, lot: str, bin_code: str, delta: Decimal) -> None:
    key = (lot, bin_code)
    left = state.packed.get(key, ZERO) + delta
    if left == ZERO:
        state.packed.pop(key, None)
    else:
        state.packed[key] = left


def _pallet_packed(state: PlantState, ev: e.PalletPacked) -> None:
    state.pallets[ev.sscc] = Pallet(sscc=ev.sscc, bin=ev.bin, status="open", packed_by=ev.packed_by,
                                    packed_at=ev.at, kind=ev.kind, gross_weight=ev.gross_weight)
    state.mark("pallets", ev.sscc)
    for content in ev.lines:
        state.pallet_lines[(ev.sscc, content.lot)] = PalletLine(ev.sscc, content.lot, content.item,
                                                                content.quantity)
        state.mark("pallet_lines", (ev.sscc, content.lot))
        _pack(state, content.lot, ev.bin, content.quantity)


def _pallet_lot_added(state: PlantState, ev: e.PalletLotAdded) -> None:
    key2 = (ev.sscc, ev.lot)
    row = state.pallet_lines.get(key2)
    if row is None:
        state.pallet_lines[key2] = PalletLine(ev.sscc, ev.lot, ev.item, ev.quantity)
    else:
        row.quantity += ev.quantity
    state.mark("pallet_lines", key2)
    _pack(state, ev.lot, state.pallets[ev.sscc].bin, ev.quantity)


def _pallet_lot_removed(state: PlantState, ev: e.PalletLotRemoved) -> None:
    key2 = (ev.sscc, ev.lot)
    left = state.pallet_lines[key2]
    left.quantity -= ev.quantity
    if left.quantity == ZERO:
        del state.pallet_lines[key2]
    state.mark("pallet_lines", key2)
    _pack(state, ev.lot, state.pallets[ev.sscc].bin, -ev.quantity)


def _pallet_shipped(state: PlantState, ev: e.PalletShipped) -> None:
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


DECIDERS: dict[type[c.Command], Decider] = {
    c.PackPallet: _pack_pallet,
    c.AddToPallet: _add_to_pallet,
    c.AddUnitsToPallet: _add_units_to_pallet,
    c.ShipPallet: _ship_pallet,
    c.RemoveFromPallet: _remove_from_pallet,
}
EVOLVERS: dict[type[e.Event], Evolver] = {
    e.PalletPacked: _pallet_packed,
    e.PalletLotAdded: _pallet_lot_added,
    e.PalletLotRemoved: _pallet_lot_removed,
    e.PalletShipped: _pallet_shipped,
}
