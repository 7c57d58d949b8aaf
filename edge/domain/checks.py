"""The input checks every context's deciders share: quantities, texts, times, roles, and the rows a command names.

Each check returns the checked value (or the row found) or raises ``DomainError`` naming the field and the reason.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from edge.domain import commands as c
from edge.domain import putaway
from edge.domain.errors import DomainError, invalid
from edge.domain.gs1 import gtin14, gtin_problem
from edge.domain.model import Bin, BomLine, Item, Lot, Operation, WorkOrder
from edge.domain.state import PlantState, incoming_task_id

# How far ahead of the node's clock a device's timestamp may be before it is refused.
CLOCK_TOLERANCE = timedelta(minutes=5)
MAX_QUANTITY = Decimal("1000000000000")


def valid_gtin(name: str, value: str) -> str:
    problem = gtin_problem(value)
    if problem is not None:
        raise invalid("INVALID_GTIN", f"{name}: {problem}", name)
    return value


def label_names_lot_item(state: PlantState, lot: Lot, gtin: str | None) -> None:
    """A scanned label's GTIN (AI 01) must be the lot's item's: a lot label stuck on the wrong goods is refused."""
    if gtin is None:
        return
    key = gtin14(valid_gtin("gtin", gtin))
    named = state.item_of_gtin.get(key)
    if named is not None and named != lot.item:
        raise DomainError("WRONG_ITEM", f"the label's GTIN {gtin} is item {named}, but lot {lot.lot} is item "
                          f"{lot.item}", field="gtin")
    own = state.items[lot.item].gtin if lot.item in state.items else None
    if named is None and own is not None:
        raise DomainError("WRONG_ITEM", f"the label's GTIN {gtin} is not item {lot.item}'s ({own}), the item of lot "
                          f"{lot.lot}", field="gtin")


def quantity(name: str, value: Decimal, *, allow_zero: bool = False) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise invalid("INVALID_QUANTITY", f"{name} must be a number, got {value!r}", name)
    if value < 0 or (value == 0 and not allow_zero):
        bound = "zero or more" if allow_zero else "greater than zero"
        raise invalid("INVALID_QUANTITY", f"{name} must be {bound}, got {value}", name)
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -6:
        raise invalid("INVALID_QUANTITY", f"{name} has more than 6 decimals: {value}", name)
    if value >= MAX_QUANTITY:
        raise invalid("INVALID_QUANTITY", f"{name} is implausibly large: {value}", name)
    return value


def text(name: str, value: str | None, *, what: str = "") -> str:
    if value is None or not value.strip():
        raise invalid("MISSING_VALUE", f"{name} is required{what}", name)
    if len(value) > 200:
        raise invalid("VALUE_TOO_LONG", f"{name} is longer than 200 characters", name)
    return value


def free_text(name: str, value: str) -> str:
    """An optional text (a description): it may be empty, not longer than the store keeps."""
    if len(value) > 200:
        raise invalid("VALUE_TOO_LONG", f"{name} is longer than 200 characters", name)
    return value


def clip(text: str, limit: int = 200) -> str:
    """A text the node writes itself (a generated description), cut to what the store keeps."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def reason(name: str, value: str | None) -> str:
    if value is None or not value.strip():
        raise invalid("MISSING_REASON", f"{name} is required: say why", name)
    return text(name, value)


def aware(name: str, value: datetime | None, now: datetime | None = None) -> None:
    """A time without a UTC offset cannot be placed on the plant's time line, and one from the
    future (beyond CLOCK_TOLERANCE of the node's clock) is a device with a wrong clock: refuse both."""
    if value is None:
        return
    if value.utcoffset() is None:
        raise invalid("INVALID_TIME", f"{name} must carry a time zone (UTC offset), got {value.isoformat()}", name)
    if now is not None and value > now + CLOCK_TOLERANCE:
        raise invalid("FUTURE_TIME", f"{name} {value.isoformat()} is ahead of the node's clock "
                                     f"({now.isoformat()}); check the device's clock", name)


def at(cmd: c.Command, now: datetime) -> datetime:
    return cmd.occurred_at or now


def require_role(cmd: c.Command, *roles: str, action: str) -> None:
    if not set(roles) & cmd.actor_roles:
        raise DomainError(
            "ROLE_REQUIRED", f"{action} needs the role {' or '.join(roles)}; {cmd.actor} does not have it",
        )


def item(state: PlantState, code: str, name: str = "item") -> Item:
    found = state.items.get(code)
    if found is None:
        raise DomainError("UNKNOWN_ITEM", f"item {code} is not known here", field=name)
    return found


def bin(state: PlantState, code: str, name: str = "bin") -> Bin:
    found = state.bins.get(code)
    if found is None:
        raise DomainError("UNKNOWN_BIN", f"bin {code} is not known here", field=name)
    return found


def lot(state: PlantState, code: str, name: str = "lot") -> Lot:
    found = state.lots.get(code)
    if found is None:
        raise DomainError("UNKNOWN_LOT", f"lot {code} is not known here", field=name)
    return found


def work_order(state: PlantState, code: str, *, open_only: bool = True) -> WorkOrder:
    found = state.work_orders.get(code)
    if found is None:
        raise DomainError("UNKNOWN_WORK_ORDER", f"work order {code} is not known here", field="work_order")
    if open_only and found.status == "completed":
        raise DomainError("WORK_ORDER_COMPLETED", f"work order {code} is already completed", field="work_order")
    if open_only and found.status == "cancelled":
        raise DomainError("WORK_ORDER_CANCELLED", f"work order {code} was cancelled", field="work_order")
    return found


def operation(state: PlantState, work_order: str, number: int) -> Operation:
    found = state.operations.get((work_order, number))
    if found is None:
        known = ", ".join(str(op.operation) for op in state.operations_of(work_order))
        raise DomainError(
            "UNKNOWN_OPERATION", f"work order {work_order} has no operation {number} (it has {known})",
            field="operation",
        )
    return found


def fits_in_bin(state: PlantState, target: Bin, item: str, quantity: Decimal, name: str,
                lot: str | None = None) -> None:
    """Refuse stock a bin's hard rules do not take (allowed items, capacity, per-item max, lot policy)."""
    refusal = putaway.bin_refusal(state, target, item, quantity, lot, name=name)
    if refusal is not None:
        raise refusal


def enough_stock(state: PlantState, lot: Lot, bin_code: str, quantity: Decimal) -> None:
    have = state.stock_of(lot.lot, bin_code)
    if have < quantity:
        raise DomainError(
            "INSUFFICIENT_STOCK",
            f"bin {bin_code} holds {have} of lot {lot.lot}; {quantity} asked", field="quantity",
        )
    packed = state.on_open_pallets(lot.lot, bin_code)
    if have - packed < quantity:
        on = sorted(code for (code, lt), ln in state.pallet_lines.items()
                    if lt == lot.lot and state.pallets[code].status == "open" and state.pallets[code].bin == bin_code)
        raise DomainError(
            "STOCK_ON_PALLET", f"bin {bin_code} holds {have} of lot {lot.lot}, {packed} of it packed on pallet "
            f"{', '.join(on)}; {quantity} asked: take it off the pallet first", field="quantity")


def reserved_for(state: PlantState, lot: str, bin_code: str) -> list[str]:
    """Who holds the reservation on ``lot`` in ``bin_code``: the open wave picks and replenishment tasks."""
    holders = [f"wave {wp.wave} pick {wp.pick} ({wp.quantity})" for wp in state.wave_picks.values()
               if wp.status == "open" and wp.lot == lot and wp.bin == bin_code]
    holders += [f"replenishment {t.task} ({t.quantity})" for t in state.replenishment_tasks.values()
                if t.status == "open" and t.lot == lot and t.from_bin == bin_code]
    return sorted(holders)


def not_reserved(state: PlantState, lot: Lot, bin_code: str, quantity: Decimal, field: str = "quantity") -> None:
    """Refuse to take stock that open wave picks or replenishment tasks reserved (``PlantState.reserved``): free is
    what the bin holds of the lot less what they count on. The pick or task itself consumes its reservation in its
    own decider (edge.domain.contexts.outbound), never through this check."""
    reserved = state.reserved.get((lot.lot, bin_code))
    if reserved is None:
        return
    free = max(state.stock_of(lot.lot, bin_code) - reserved, Decimal(0))
    if quantity <= free:
        return
    holders = reserved_for(state, lot.lot, bin_code)
    raise DomainError(
        "STOCK_RESERVED", f"bin {bin_code} holds {state.stock_of(lot.lot, bin_code)} of lot {lot.lot}, {reserved} of "
        f"it reserved for {', '.join(holders) or 'open picks'}; {quantity} asked, "
        + (f"at most {free} is free" if free > 0 else "none is free"), field=field)


def bom_lines_for_lot(state: PlantState, wo: WorkOrder, lot: Lot) -> list[BomLine]:
    """The BOM lines of ``wo`` that ``lot`` can serve (same item and revision); refuse a lot of another item or
    revision, naming what the order needs."""
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
    return same_revision


def usable_lot(state: PlantState, lot: Lot, today: date) -> None:
    """Refuse a lot that may not be used in production: on hold, in quarantine, consumed, expired."""
    if lot.status == "hold":
        raise DomainError("LOT_ON_HOLD", f"lot {lot.lot} is on hold", field="lot")
    if lot.status == "quarantine":
        task = state.inspection_tasks.get(incoming_task_id(lot.lot))
        if task is not None and task.status == "open":
            raise DomainError(
                "LOT_AWAITING_INSPECTION",
                f"lot {lot.lot} awaits incoming inspection {task.task} (plan {task.plan}, {task.samples} of "
                f"{task.sample_size} samples recorded): it may not be used or picked until it passes", field="lot")
        raise DomainError("LOT_IN_QUARANTINE", f"lot {lot.lot} is in quarantine awaiting inspection", field="lot")
    if lot.status == "consumed":
        raise DomainError("LOT_CONSUMED", f"lot {lot.lot} is used up", field="lot")
    if lot.expiry is not None and lot.expiry < today:
        candidates = state.fefo_candidates(lot.item, lot.item_revision, today)
        if candidates:
            better, where = candidates[0]
            hint = f"FEFO pick is {better.lot} in bin {where}"
        else:
            hint = f"no unexpired lot of {lot.item} is in stock"
        raise DomainError(
            "LOT_EXPIRED", f"lot {lot.lot} expired on {lot.expiry.isoformat()}; {hint}", field="lot"
        )
