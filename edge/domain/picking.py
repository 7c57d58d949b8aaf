"""Pick lists for kitting a work order: which lots to take from which bins, first-expiring first, in walk order.

Pure: reads a ``PlantState``, changes nothing. For each BOM line the need is quantity per × order quantity −
consumed; what already lies in the staging (line-side) bin in usable lots of the line's item counts against it,
but only once: stock kitted for an order (``PlantState.staged``) counts for that order alone, and staging-bin stock
no order was kitted with (a plain move there, a return) is shared out among the open orders that need the item,
earliest due date first (then by order code), so two orders sharing a staging bin never both count the same
pieces. The rest is taken FEFO from usable lots (available, not expired; never on hold, in quarantine or used up)
in any bin but the staging bin, leaving stock kitted for other orders, and stock reserved for open wave picks and
replenishment tasks (``PlantState.reserved``), where it is. Within a lot, bins are taken in walk sequence; the picks are then ordered by the bins'
walk sequence (bins without one last, by code), so the picker walks the store once. What no usable stock covers
is the line's shortage. The picks are recorded with ``PickForKitting``.

The same FEFO walk (``take``) picks customer orders in waves (``plan_waves``) and fills line-side bins
(edge.domain.contexts.outbound): one picker, three callers.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, timedelta
from decimal import ROUND_CEILING, Decimal

from edge.domain.errors import DomainError
from edge.domain.model import BomLine, Lot
from edge.domain.state import PlantState

ZERO = Decimal(0)
LAST = 1_000_000_000  # the walk position of a bin that has no walk sequence


@dataclass(frozen=True, slots=True)
class Pick:
    """Take ``quantity`` of ``lot`` from ``bin`` to the staging bin."""

    bom_line: int
    item: str
    item_revision: str
    lot: str
    bin: str
    walk_sequence: int | None
    quantity: Decimal
    expiry: date | None


@dataclass(frozen=True, slots=True)
class PickListLine:
    """One BOM line: what the order still needs, what is already staged, what the picks cover and what not."""

    bom_line: int
    item: str
    item_revision: str
    needed: Decimal
    staged: Decimal
    to_pick: Decimal
    short: Decimal


@dataclass(frozen=True, slots=True)
class PickList:
    work_order: str
    staging_bin: str
    lines: tuple[PickListLine, ...]
    picks: tuple[Pick, ...]

    @property
    def complete(self) -> bool:
        """Nothing left to pick and no shortage: the kit is at the staging bin."""
        return not self.picks and all(ln.short == ZERO for ln in self.lines)


def usable(lot: Lot, today: date) -> bool:
    """Available and not expired: a lot that may be picked."""
    return lot.status == "available" and (lot.expiry is None or lot.expiry >= today)



def _walk(state: PlantState, bin_code: str) -> tuple[int, str]:
    found = state.bins.get(bin_code)
    sequence = found.walk_sequence if found is not None else None
    return (LAST if sequence is None else sequence, bin_code)


def pick_list(state: PlantState, work_order: str, staging_bin: str, today: date) -> PickList:
    """The pick list that kits ``work_order`` into ``staging_bin`` on ``today``; raises DomainError for an unknown
    or closed order or an unknown bin."""
    wo = state.work_orders.get(work_order)
    if wo is None:
        raise DomainError("UNKNOWN_WORK_ORDER", f"work order {work_order} is not known here", field="work_order")
    if wo.status == "completed":
        raise DomainError("WORK_ORDER_CLOSED", f"work order {work_order} is completed: nothing to kit",
                          field="work_order")
    if staging_bin not in state.bins:
        raise DomainError("UNKNOWN_BIN", f"bin {staging_bin} is not known here", field="staging_bin")
    lots_of: dict[tuple[str, str], list[Lot]] = {}
    for lot in state.lots.values():
        if usable(lot, today):
            lots_of.setdefault((lot.item, lot.item_revision), []).append(lot)
    for found in lots_of.values():
        found.sort(key=lambda lot: (lot.expiry or date.max, lot.lot))
    # (lot, bin) -> kitted for other open orders: not this order's to count or to pick.
    theirs: dict[tuple[str, str], Decimal] = {}
    own: dict[str, Decimal] = {}  # lot -> kitted for this order in the staging bin
    for (order, lot_code, bin_code), row in state.staged.items():
        if order == work_order:
            if bin_code == staging_bin:
                own[lot_code] = own.get(lot_code, ZERO) + row.quantity
        elif _open(state, order):
            theirs[(lot_code, bin_code)] = theirs.get((lot_code, bin_code), ZERO) + row.quantity
    unkitted = _unkitted_share(state, work_order, staging_bin, lots_of)
    taken: dict[tuple[str, str], Decimal] = {}  # (lot, bin) -> promised to an earlier line of this list
    staged_left: dict[str, Decimal] = {}  # lot -> this order's staged stock not yet counted for a line
    lines: list[PickListLine] = []
    picks: list[Pick] = []
    for line in state.bom_of(work_order):
        needed = max(line.quantity_per * wo.quantity - line.consumed, ZERO)
        staged = ZERO
        candidates = lots_of.get((line.item, line.item_revision), [])
        for lot in candidates:
            left = staged_left.setdefault(lot.lot, min(own.get(lot.lot, ZERO), state.stock_of(lot.lot, staging_bin))
                                          + unkitted.get(lot.lot, ZERO))
            use = min(left, needed - staged)
            if use > ZERO:
                staged += use
                staged_left[lot.lot] = left - use
        to_pick = needed - staged
        remaining = to_pick
        for lot in candidates:
            if remaining == ZERO:
                break
            bins = sorted((b for b in state.bins_of_lot.get(lot.lot, ()) if b != staging_bin),
                          key=lambda b: _walk(state, b))
            for bin_code in bins:
                free = (state.stock_of(lot.lot, bin_code) - taken.get((lot.lot, bin_code), ZERO)
                        - theirs.get((lot.lot, bin_code), ZERO) - state.reserved.get((lot.lot, bin_code), ZERO))
                quantity = min(free, remaining)
                if quantity <= ZERO:
                    continue
                taken[(lot.lot, bin_code)] = taken.get((lot.lot, bin_code), ZERO) + quantity
                remaining -= quantity
                picks.append(_pick(state, line, lot, bin_code, quantity))
                if remaining == ZERO:
                    break
        lines.append(PickListLine(bom_line=line.line, item=line.item, item_revision=line.item_revision,
                                  needed=needed, staged=staged, to_pick=to_pick - remaining, short=remaining))
    picks.sort(key=lambda p: (*_walk(state, p.bin), p.bom_line, p.expiry or date.max, p.lot))
    return PickList(work_order=work_order, staging_bin=staging_bin, lines=tuple(lines), picks=tuple(picks))


def _open(state: PlantState, work_order: str) -> bool:
    found = state.work_orders.get(work_order)
    return found is not None and found.status not in ("completed", "cancelled")


def _unkitted_share(state: PlantState, work_order: str, staging_bin: str,
                    lots_of: dict[tuple[str, str], list[Lot]]) -> dict[str, Decimal]:
    """Lot -> this order's share of the staging bin's stock that no open order was kitted with: the open orders
    that need the lot's item take it in turn, earliest due first (then by code), each what its own kitted stock
    there does not cover."""
    free: dict[str, Decimal] = {}
    for lots in lots_of.values():
        for lot in lots:
            have = state.stock_of(lot.lot, staging_bin)
            if have > ZERO:
                kitted = sum((q for wo, q in state.staged_for(lot.lot, staging_bin).items() if _open(state, wo)), ZERO)
                if have > kitted:
                    free[lot.lot] = have - kitted
    if not free:
        return {}
    orders = sorted((wo for wo in state.work_orders.values() if _open(state, wo.work_order)),
                    key=lambda wo: (wo.due or date.max, wo.work_order))
    for wo in orders:
        share: dict[str, Decimal] = {}
        for line in state.bom_of(wo.work_order):
            candidates = lots_of.get((line.item, line.item_revision), [])
            need = max(line.quantity_per * wo.quantity - line.consumed, ZERO)
            need -= sum((min(state.staged[key].quantity, state.stock_of(lot.lot, staging_bin))
                         for lot in candidates if (key := (wo.work_order, lot.lot, staging_bin)) in state.staged), ZERO)
            for lot in candidates:
                use = min(free.get(lot.lot, ZERO), need)
                if use > ZERO:
                    free[lot.lot] -= use
                    share[lot.lot] = share.get(lot.lot, ZERO) + use
                    need -= use
        if wo.work_order == work_order:
            return share
    return {}


def _pick(state: PlantState, line: BomLine, lot: Lot, bin_code: str, quantity: Decimal) -> Pick:
    return Pick(bom_line=line.line, item=line.item, item_revision=line.item_revision, lot=lot.lot, bin=bin_code,
                walk_sequence=state.bins[bin_code].walk_sequence if bin_code in state.bins else None,
                quantity=quantity, expiry=lot.expiry)


# --- the shared FEFO walk: customer orders in waves, line-side replenishment ----------------------------------


def usable_lots_by_item(state: PlantState, today: date) -> dict[str, list[Lot]]:
    """Item -> its usable lots (available, not expired) that have stock here, first-expiring first."""
    found: dict[str, list[Lot]] = {}
    for lot in state.lots.values():
        if usable(lot, today) and lot.lot in state.bins_of_lot:
            found.setdefault(lot.item, []).append(lot)
    for lots in found.values():
        lots.sort(key=lambda lot: (lot.expiry or date.max, lot.lot))
    return found


def take(state: PlantState, candidates: list[Lot], quantity: Decimal, taken: dict[tuple[str, str], Decimal], *,
         min_expiry: date | None = None, zone: str | None = None, skip_bin: str | None = None,
         walks: dict[str, list[str]] | None = None) -> tuple[list[tuple[Lot, str, Decimal]], Decimal]:
    """Up to ``quantity`` taken FEFO from ``candidates`` (first-expiring first), each lot's bins in walk order: what
    the bins hold less what ``taken`` already promised in this plan and what open picks and tasks reserved. Lots
    expiring before ``min_expiry`` are left; only bins of ``zone`` when given; never ``skip_bin``. Returns the
    (lot, bin, quantity) taken (``taken`` updated) and what is left uncovered. ``walks`` keeps each lot's bins in
    walk order between calls of one plan; a lot at the front of ``candidates`` found used up (no filter applied) is
    dropped from the list, so that the next lines of a plan do not walk past it again."""
    remaining = quantity
    found: list[tuple[Lot, str, Decimal]] = []
    walks = walks if walks is not None else {}
    stock, reserved, bins_of_lot = state.stock, state.reserved, state.bins_of_lot
    unfiltered = zone is None and skip_bin is None
    front = 0  # how many lots at the front of candidates are used up
    for i, lot in enumerate(candidates):
        if min_expiry is not None and lot.expiry is not None and lot.expiry < min_expiry:
            continue
        code = lot.lot
        held = walks.get(code)
        if held is None:
            held = walks[code] = sorted(bins_of_lot.get(code, ()), key=lambda b: _walk(state, b))
        for bin_code in held:
            if bin_code == skip_bin:
                continue
            if zone is not None:
                found_bin = state.bins.get(bin_code)
                if found_bin is None or found_bin.zone != zone:
                    continue
            key = (code, bin_code)
            row = stock.get(key)
            if row is None:
                continue
            free = row.quantity - taken.get(key, ZERO) - reserved.get(key, ZERO)
            if free <= ZERO:
                continue
            use = free if free < remaining else remaining
            taken[key] = taken.get(key, ZERO) + use
            remaining -= use
            found.append((lot, bin_code, use))
            if remaining <= ZERO:
                break
        if unfiltered and front == i and _used_up(state, code, held, taken):
            front = i + 1
        if remaining <= ZERO:
            break
    if front:
        del candidates[:front]
    return found, remaining


def _used_up(state: PlantState, lot: str, bins: list[str], taken: dict[tuple[str, str], Decimal]) -> bool:
    for bin_code in bins:
        key = (lot, bin_code)
        row = state.stock.get(key)
        if row is not None and row.quantity - taken.get(key, ZERO) - state.reserved.get(key, ZERO) > ZERO:
            return False
    return True


def min_expiry(today: date, shelf_life_days: int | None, min_pct: Decimal | None) -> date | None:
    """The first expiry a lot may have to leave a customer that needs ``min_pct`` % of an item's
    ``shelf_life_days`` still left on ``today`` (None: no requirement)."""
    if not shelf_life_days or not min_pct:
        return None
    return today + timedelta(days=int((Decimal(shelf_life_days) * min_pct / 100).to_integral_value(ROUND_CEILING)))


@dataclass(slots=True)  # not frozen: a plan makes ten thousand of them, and a frozen one costs twice to make
class OrderPick:
    sales_order: str
    line: int
    item: str
    lot: str
    bin: str
    zone: str
    walk_sequence: int | None
    quantity: Decimal
    expiry: date | None
    min_expiry: date | None


@dataclass(frozen=True, slots=True)
class OrderShort:
    sales_order: str
    line: int
    item: str
    short: Decimal
    reason: str


@dataclass(frozen=True, slots=True)
class WavePlan:
    group: str
    picks: tuple[OrderPick, ...]  # in walk order
    shorts: tuple[OrderShort, ...]


def open_to_pick(state: PlantState) -> dict[tuple[str, int], Decimal]:
    """(sales order, line) -> what is still to be released for picking: ordered less what was shipped or is in a
    wave already (picked or still to pick), whichever is more (stock shipped was picked in a wave, or packed
    from elsewhere)."""
    in_waves: dict[tuple[str, int], Decimal] = {}
    for wp in state.wave_picks.values():
        key = (wp.sales_order, wp.line)
        in_waves[key] = in_waves.get(key, ZERO) + (wp.quantity if wp.status == "open" else wp.picked)
    found: dict[tuple[str, int], Decimal] = {}
    for key, ln in state.sales_order_lines.items():
        order = state.sales_orders.get(key[0])
        if order is None or order.status != "open":
            continue
        left = ln.quantity - max(ln.shipped, in_waves.get(key, ZERO))
        if left > ZERO:
            found[key] = left
    return found


def plan_waves(state: PlantState, lines: list[tuple[str, int]], today: date, *, group_by: str = "none",
               min_shelf_life_pct: dict[str, Decimal] | None = None,
               shelf_life_days: dict[str, int] | None = None) -> list[WavePlan]:
    """The waves that pick ``lines`` (sales order, line): earliest due first (then order, line), each line's open
    quantity taken FEFO (``take``) from lots that leave its customer the shelf life it needs, never stock reserved
    for open picks or tasks; then grouped (zone: a wave per zone; due: a wave per due date, the carrier cut-off;
    priority: a wave per order priority, most urgent first; cutoff: a wave per carrier and cut-off, earliest first,
    orders without a carrier by due date; none: one wave), each wave's picks in walk order. What no usable stock covers is a short line, with why."""
    to_pick = open_to_pick(state)
    lots_by_item = usable_lots_by_item(state, today)
    walk = {code: _walk(state, code) for code in state.bins}
    pct = min_shelf_life_pct or {}
    days = shelf_life_days or {}
    order_lines = state.sales_order_lines
    wanted = sorted({key for key in lines if key in to_pick},
                    key=lambda k: (order_lines[k].due or date.max, k[0], k[1]))
    taken: dict[tuple[str, str], Decimal] = {}
    walks: dict[str, list[str]] = {}
    floors: dict[tuple[str, Decimal | None], date | None] = {}
    where_of = {code: (b.zone, b.walk_sequence) for code, b in state.bins.items()}
    picks: list[OrderPick] = []
    shorts: list[OrderShort] = []
    for key in wanted:
        ln = order_lines[key]
        item = ln.item
        customer = state.sales_orders[key[0]].customer
        share = pct.get(customer)
        if (item, share) not in floors:
            floors[(item, share)] = min_expiry(today, days.get(item), share)
        floor = floors[(item, share)]
        found, short = take(state, lots_by_item.get(item, []), to_pick[key], taken, min_expiry=floor, walks=walks)
        for lot, bin_code, quantity in found:
            zone, sequence = where_of.get(bin_code, ("", None))
            picks.append(OrderPick(key[0], key[1], item, lot.lot, bin_code, zone, sequence, quantity, lot.expiry,
                                   floor))
        if short > ZERO:
            why = (f"no usable stock of {ln.item} left" if floor is None else
                   f"no lot of {ln.item} expiring on or after {floor.isoformat()} (customer {customer} needs "
                   f"{pct.get(customer)} % of its shelf life left)")
            shorts.append(OrderShort(sales_order=key[0], line=key[1], item=ln.item, short=short, reason=why))
    groups: dict[str, list[OrderPick]] = {}
    short_groups: dict[str, list[OrderShort]] = {}
    order_of: dict[str, tuple[str, ...]] = {}
    for p in picks:
        rank, name = _group(state, group_by, p.zone, p.sales_order, p.line)
        order_of[name] = rank
        groups.setdefault(name, []).append(p)
    for sh in shorts:
        rank, name = _group(state, group_by, "", sh.sales_order, sh.line)
        order_of[name] = rank
        short_groups.setdefault(name, []).append(sh)
    plans = []
    for name in sorted(set(groups) | set(short_groups), key=lambda g: (order_of[g], g)):
        ordered = sorted(groups.get(name, []), key=lambda p: (*walk.get(p.bin, (LAST, p.bin)), p.sales_order, p.line))
        plans.append(WavePlan(group=name, picks=tuple(ordered), shorts=tuple(short_groups.get(name, []))))
    return plans


def _group(state: PlantState, group_by: str, zone: str, sales_order: str, line: int) -> tuple[tuple[str, ...], str]:
    """The wave a pick goes into: its sort key (waves are released in that order) and its name."""
    if group_by == "zone":
        name = f"zone {zone}" if zone else "zone -"
        return (name,), name
    if group_by == "priority":  # most urgent first, orders without a priority last
        priority = state.sales_orders[sales_order].priority
        return ((f"{priority:04d}",) if priority is not None else ("~",)), (f"priority {priority}" if priority
                                                                           is not None else "priority -")
    if group_by == "cutoff":  # earliest cut-off first; an order without a carrier by its line's due date
        order = state.sales_orders[sales_order]
        if order.carrier is not None and order.cutoff is not None:
            at = order.cutoff.astimezone(UTC).isoformat(timespec="minutes")
            return (at, order.carrier), f"cutoff {at} {order.carrier}"
        if order.carrier is not None:
            return ("~", order.carrier), f"carrier {order.carrier}"
    if group_by in ("due", "cutoff"):
        due = state.sales_order_lines[(sales_order, line)].due
        return ((due.isoformat(),) if due else ("~",)), (f"due {due.isoformat()}" if due else "due -")
    return ("all",), "all"
