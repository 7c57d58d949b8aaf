"""Outbound: customer-order picks released in waves (lots chosen FEFO within each customer's remaining shelf life,
edge.domain.picking), picked bin by bin with every scan checked (bin, lot, quantity, tote), corrected when found
wrong; and line-side bins kept filled: a consumption that takes a bin below its minimum raises a replenishment task
in the same command (``follow_up``), so do a kanban card scanned empty and work orders released for the next shift.
Open picks and tasks reserve their stock (``PlantState.reserved``): two pickers never count on the same pieces.
"""
from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import ROUND_CEILING, Decimal

from edge.domain import checks, picking
from edge.domain import commands as c
from edge.domain import events as e
from edge.domain.contexts.inventory import moved
from edge.domain.errors import DomainError, invalid
from edge.domain.model import LineSideBin, Lot, ReplenishmentTask, Wave, WavePick
from edge.domain.state import ZERO, Decider, Evolver, PlantState

PRIORITY_EMPTY, PRIORITY_BELOW_MIN, PRIORITY_AHEAD = 1, 2, 3

# --- waves ----------------------------------------------------------------------------------------


def _release_waves(state: PlantState, cmd: c.ReleaseWaves, now: datetime) -> list[e.Event]:
    target = checks.bin(state, cmd.to_bin, "to_bin")
    if cmd.group_by not in ("zone", "due", "priority", "cutoff", "none"):
        raise invalid("INVALID_VALUE", "group_by is zone, due, priority, cutoff or none", "group_by")
    if cmd.mode not in ("cluster", "zone"):
        raise invalid("INVALID_VALUE", "mode is cluster or zone", "mode")
    open_lines = picking.open_to_pick(state)
    if cmd.lines:
        wanted = []
        for i, ref in enumerate(cmd.lines):
            key = (ref.sales_order, ref.line)
            order = state.sales_orders.get(ref.sales_order)
            if order is None or key not in state.sales_order_lines:
                raise DomainError("UNKNOWN_SALES_ORDER_LINE", f"sales order {ref.sales_order} line {ref.line} is not "
                                  "known here", field=f"lines[{i}]")
            if key not in open_lines:
                raise DomainError("NOTHING_TO_PICK", f"sales order {ref.sales_order} line {ref.line} is "
                                  f"{order.status if order.status != 'open' else 'shipped or in a wave already'}",
                                  field=f"lines[{i}]")
            wanted.append(key)
    else:
        wanted = list(open_lines)
    at = checks.at(cmd, now)
    plans = picking.plan_waves(state, wanted, at.date(), group_by=cmd.group_by,
                               min_shelf_life_pct=dict(cmd.min_shelf_life_pct),
                               shelf_life_days=dict(cmd.shelf_life_days))
    with_picks = [p for p in plans if p.picks]
    if not with_picks:
        why = next((s.reason for p in plans for s in p.shorts), "no open order line to pick")
        raise DomainError("NOTHING_TO_PICK", f"no wave released: {why}", field="lines")
    stray = [s for p in plans if not p.picks for s in p.shorts]
    events: list[e.Event] = []
    for n, plan in enumerate(with_picks):
        wave = f"W{len(state.waves) + n + 1:05d}"
        shorts = plan.shorts + tuple(stray) if n == 0 else plan.shorts
        events.append(e.WaveReleased(
            wave=wave, mode=cmd.mode, group=plan.group, to_bin=target.bin, released_by=cmd.actor, at=at,
            picks=tuple(e.PlannedPick(pick=i + 1, sales_order=p.sales_order, line=p.line, item=p.item, lot=p.lot,
                                      bin=p.bin, zone=p.zone, walk_sequence=p.walk_sequence, quantity=p.quantity,
                                      min_expiry=p.min_expiry) for i, p in enumerate(plan.picks)),
            shorts=tuple(e.ShortLine(sales_order=s.sales_order, line=s.line, item=s.item, short=s.short,
                                     reason=s.reason) for s in shorts)))
    return events


def _open_pick(state: PlantState, wave: str, pick: int) -> tuple[Wave, WavePick]:
    found = state.waves.get(wave)
    if found is None:
        raise DomainError("UNKNOWN_WAVE", f"wave {wave} is not known here", field="wave")
    wp = state.wave_picks.get((wave, pick))
    if wp is None:
        raise DomainError("UNKNOWN_PICK", f"wave {wave} has no pick {pick}", field="pick")
    return found, wp


def order_tote(state: PlantState, sales_order: str, wave: Wave) -> str | None:
    """The tote an order's picks go into: bound at its first pick in ``wave`` or in a wave released with it (zone
    picking: the tote is handed over from zone to zone), or in any wave still open."""
    for wp in state.wave_picks.values():
        if wp.sales_order == sales_order and wp.tote:
            other = state.waves[wp.wave]
            if other.status == "open" or other.released_at == wave.released_at:
                return wp.tote
    return None


def fitting_lot(state: PlantState, wp: WavePick, today: datetime) -> str:
    """The lot (and bin) that meets the pick's shelf-life requirement, FEFO, for a refusal to name."""
    lots = usable_lots(state, wp.item, today.date())
    if any(lot.lot == wp.lot for lot in lots):  # the planned lot's own stock is reserved for this very pick
        return f"lot {wp.lot} in bin {wp.bin}"
    found, _ = picking.take(state, lots, Decimal(1), {}, min_expiry=wp.min_expiry)
    return f"lot {found[0][0].lot} in bin {found[0][1]}" if found else "no lot here"


def _pick_wave_line(state: PlantState, cmd: c.PickWaveLine, now: datetime) -> list[e.Event]:
    wave, wp = _open_pick(state, cmd.wave, cmd.pick)
    if wp.status != "open":
        raise DomainError("PICK_DONE", f"pick {wp.pick} of wave {wave.wave} was picked already by {wp.picked_by}",
                          field="pick")
    checks.text("bin", cmd.bin)
    if cmd.bin != wp.bin:
        raise DomainError("WRONG_BIN", f"this stop is bin {wp.bin}; {cmd.bin} was scanned", field="bin")
    lot = checks.lot(state, cmd.lot)
    at = checks.at(cmd, now)
    if lot.item != wp.item:
        raise DomainError("WRONG_ITEM", f"lot {lot.lot} is item {lot.item}; this pick is {wp.item}: take lot {wp.lot}",
                          field="lot")
    order = state.sales_orders[wp.sales_order]
    short_dated = wp.min_expiry is not None and lot.expiry is not None and lot.expiry < wp.min_expiry
    if short_dated:
        assert wp.min_expiry is not None and lot.expiry is not None
        raise DomainError("SHELF_LIFE_TOO_SHORT", f"lot {lot.lot} expires on {lot.expiry.isoformat()}: customer "
                          f"{order.customer} needs lots expiring on or after {wp.min_expiry.isoformat()}; "
                          f"{fitting_lot(state, wp, at)} fits", field="lot")
    if lot.lot != wp.lot and not order.allow_substitution:
        raise DomainError("WRONG_LOT", f"lot {lot.lot} is not this pick's: take lot {wp.lot} from bin {wp.bin} "
                          f"(sales order {order.sales_order} allows no substitution)", field="lot")
    checks.usable_lot(state, lot, at.date())
    quantity = checks.quantity("quantity", cmd.quantity, allow_zero=True)
    if quantity > wp.quantity:
        raise DomainError("OVER_PICK", f"{wp.quantity} of {wp.item} was asked; {quantity} is more: pick what the "
                          "wave asks", field="quantity")
    reason = checks.reason("short_reason", cmd.short_reason) if quantity < wp.quantity else None
    tote = checks.text("tote", cmd.tote)
    bound = order_tote(state, wp.sales_order, wave)
    if bound is not None and bound != tote:
        raise DomainError("WRONG_TOTE", f"sales order {wp.sales_order} goes into tote {bound}; {tote} was scanned",
                          field="tote")
    if bound is None:
        other = next((x.sales_order for x in state.wave_picks.values() if x.tote == tote
                      and x.sales_order != wp.sales_order and state.waves[x.wave].status == "open"), None)
        if other is not None:
            raise DomainError("TOTE_IN_USE", f"tote {tote} holds sales order {other}: take an empty tote for "
                              f"{wp.sales_order}", field="tote")
    events: list[e.Event] = []
    if quantity > ZERO:
        checks.enough_stock(state, lot, wp.bin, quantity)
        if lot.lot != wp.lot:
            free = state.stock_of(lot.lot, wp.bin) - state.reserved.get((lot.lot, wp.bin), ZERO)
            if free < quantity:
                raise DomainError("STOCK_RESERVED", f"bin {wp.bin} holds {free} of lot {lot.lot} that no other pick "
                                  f"counts on; {quantity} asked: take lot {wp.lot}", field="lot")
        events.append(dataclasses.replace(
            moved(lot, "pick", wp.bin, wave.to_bin, quantity, ZERO, at,
                  reason=f"wave {wave.wave} pick {wp.pick} tote {tote}"), sales_order=wp.sales_order))
    events.append(e.WavePicked(
        wave=wave.wave, pick=wp.pick, sales_order=wp.sales_order, line=wp.line, item=wp.item, lot=lot.lot,
        planned_lot=wp.lot, bin=wp.bin, tote=tote, asked=wp.quantity, quantity=quantity, short_reason=reason,
        picked_by=cmd.actor, device=cmd.source_device, at=at))
    return events


def _correct_pick(state: PlantState, cmd: c.CorrectPick, now: datetime) -> list[e.Event]:
    _, wp = _open_pick(state, cmd.wave, cmd.pick)
    if wp.status == "open" or wp.picked_lot is None or wp.picked_by is None or wp.picked_at is None:
        raise DomainError("PICK_OPEN", f"pick {wp.pick} of wave {wp.wave} was not picked yet", field="pick")
    right = checks.lot(state, cmd.right_lot, "right_lot")
    if right.item != wp.item:
        raise DomainError("WRONG_ITEM", f"lot {right.lot} is item {right.item}; the pick was {wp.item}",
                          field="right_lot")
    if right.lot == wp.picked_lot:
        raise DomainError("SAME_LOT", f"lot {right.lot} is the lot that was picked", field="right_lot")
    if cmd.found_at not in ("packing", "line", "customer"):
        raise invalid("INVALID_VALUE", "found_at is packing, line or customer", "found_at")
    return [e.PickCorrected(
        wave=wp.wave, pick=wp.pick, sales_order=wp.sales_order, item=wp.item, zone=wp.zone, bin=wp.bin,
        wrong_lot=wp.picked_lot, right_lot=right.lot, picked_by=wp.picked_by, device=wp.device,
        picked_at=wp.picked_at, found_at=cmd.found_at, note=checks.free_text("note", cmd.note),
        at=checks.at(cmd, now))]


# --- line-side replenishment ----------------------------------------------------------------------


def level(state: PlantState, bin_code: str, item: str) -> Decimal:
    """The stock of ``item`` in ``bin_code``, all lots."""
    stock = state.stock
    total = ZERO
    for lot in state.lots_of_item.get(item, ()):
        row = stock.get((lot, bin_code))
        if row is not None:
            total += row.quantity
    return total


def usable_lots(state: PlantState, item: str, today: date) -> list[Lot]:
    """The usable lots of ``item`` with stock here, first-expiring first (edge.domain.picking's order)."""
    found = [state.lots[code] for code in state.lots_of_item.get(item, ())
             if code in state.bins_of_lot and picking.usable(state.lots[code], today)]
    found.sort(key=lambda lot: (lot.expiry or date.max, lot.lot))
    return found


def _open_tasks(state: PlantState, bin_code: str, item: str) -> list[ReplenishmentTask]:
    return [t for t in state.replenishment_tasks.values()
            if t.status == "open" and t.bin == bin_code and t.item == item]


def _in_packs(rule: LineSideBin, quantity: Decimal) -> Decimal:
    if rule.pack is None or quantity <= ZERO:
        return quantity
    return (quantity / rule.pack).to_integral_value(ROUND_CEILING) * rule.pack


def _raise(state: PlantState, rule: LineSideBin, quantity: Decimal, reason: str, priority: int, now_level: Decimal,
           at: datetime, first: int, work_order: str | None = None) -> list[e.Event]:
    """Tasks that bring ``quantity`` to the rule's bin: one per source lot and bin (FEFO, the walk, in the rule's
    source zone); what no stock covers is still asked, without a source."""
    found, short = picking.take(state, usable_lots(state, rule.item, at.date()), quantity, {}, zone=rule.source_zone,
                                skip_bin=rule.bin)
    parts: list[tuple[str | None, str | None, Decimal]] = [(lot.lot, b, q) for lot, b, q in found]
    if short > ZERO:
        parts.append((None, None, short))
    return [e.ReplenishmentRaised(task=f"RPL-{first + i:06d}", bin=rule.bin, item=rule.item, quantity=q,
                                  reason=reason, priority=priority, lot=lot, from_bin=b, work_order=work_order,
                                  level=now_level, at=at)
            for i, (lot, b, q) in enumerate(parts)]


def follow_up(state: PlantState, cmd: c.Command, events: list[e.Event], now: datetime) -> list[e.Event]:
    """Replenishment tasks the command's stock moves call for: a line-side bin whose stock of its item they take
    below the minimum, with no task open for it, gets one (to the maximum, in whole packs), recorded with them."""
    rules = state.line_side_bins
    if not rules:
        return events
    events = _ahead_on_release(state, cmd, events, now)
    delta: dict[tuple[str, str], Decimal] = {}
    for ev in events:
        if isinstance(ev, e.StockMoved):
            if ev.from_bin is not None and (ev.from_bin, ev.item) in rules:
                delta[(ev.from_bin, ev.item)] = delta.get((ev.from_bin, ev.item), ZERO) - ev.quantity
            if ev.to_bin is not None and (ev.to_bin, ev.item) in rules:
                delta[(ev.to_bin, ev.item)] = delta.get((ev.to_bin, ev.item), ZERO) + ev.quantity
    if not any(d < ZERO for d in delta.values()):
        return events
    raised: list[e.Event] = []
    at = checks.at(cmd, now)
    for key, change in sorted(delta.items()):
        rule = rules[key]
        if change >= ZERO or _open_tasks(state, *key):
            continue
        after = level(state, *key) + change
        if after >= rule.minimum:
            continue
        first = len(state.replenishment_tasks) + len(raised) + 1
        raised += _raise(state, rule, _in_packs(rule, rule.maximum - after), "below_min",
                         PRIORITY_EMPTY if after <= ZERO else PRIORITY_BELOW_MIN, after, at, first)
    return [*events, *raised] if raised else events


def _define_line_side_bin(state: PlantState, cmd: c.DefineLineSideBin, now: datetime) -> list[e.Event]:
    checks.bin(state, cmd.bin)
    checks.item(state, cmd.item)
    minimum = checks.quantity("minimum", cmd.minimum, allow_zero=True)
    maximum = checks.quantity("maximum", cmd.maximum)
    if maximum <= minimum:
        raise invalid("INVALID_QUANTITY", f"maximum ({maximum}) must be above minimum ({minimum})", "maximum")
    pack = None if cmd.pack is None else checks.quantity("pack", cmd.pack)
    if cmd.kanban_bins < 0 or cmd.kanban_bins > 99:
        raise invalid("INVALID_VALUE", "kanban_bins is 0 (min/max) to 99", "kanban_bins")
    if cmd.kanban_bins and pack is None:
        raise invalid("MISSING_VALUE", "a kanban needs the pack (the quantity of one container)", "pack")
    return [e.LineSideBinDefined(bin=cmd.bin, item=cmd.item, minimum=minimum, maximum=maximum, pack=pack,
                                 kanban_bins=cmd.kanban_bins, source_zone=checks.text("source_zone", cmd.source_zone))]


def _rule(state: PlantState, bin_code: str, item: str) -> LineSideBin:
    rule = state.line_side_bins.get((bin_code, item))
    if rule is None:
        raise DomainError("NOT_LINE_SIDE", f"bin {bin_code} is not a line-side bin of {item}", field="bin")
    return rule


def _signal_empty_bin(state: PlantState, cmd: c.SignalEmptyBin, now: datetime) -> list[e.Event]:
    rule = _rule(state, cmd.bin, cmd.item)
    at = checks.at(cmd, now)
    now_level = level(state, rule.bin, rule.item)
    cards = [t for t in _open_tasks(state, rule.bin, rule.item) if t.reason == "kanban"]
    if not rule.kanban_bins and (open_task := next(iter(_open_tasks(state, rule.bin, rule.item)), None)) is not None:
        raise DomainError("REPLENISHMENT_OPEN", f"bin {rule.bin} has replenishment task {open_task.task} open for "
                          f"{open_task.quantity} of {rule.item} already", field="bin")
    if rule.kanban_bins and len({t.task for t in cards}) >= rule.kanban_bins:
        raise DomainError("ALL_CARDS_OUT", f"all {rule.kanban_bins} kanban cards of {rule.item} at bin {rule.bin} "
                          "have a task open already", field="bin")
    quantity = rule.pack if rule.pack is not None else _in_packs(rule, rule.maximum - now_level)
    if quantity <= ZERO:
        raise DomainError("BIN_FULL", f"bin {rule.bin} holds {now_level} of {rule.item}, its maximum is "
                          f"{rule.maximum}: nothing to bring", field="bin")
    return _raise(state, rule, quantity, "kanban", PRIORITY_EMPTY, now_level, at, len(state.replenishment_tasks) + 1)


def _ahead(state: PlantState, code: str, needs: list[tuple[str, Decimal]], at: datetime,
           have: dict[tuple[str, str], Decimal], raised: list[e.Event]) -> None:
    """Tasks (into ``raised``) that fill the line-side bins of work order ``code``'s BOM lines (item, quantity
    still needed) ahead of need: what the bin holds and its open tasks bring (``have``, kept across orders) less the
    need must leave the bin's minimum, in whole packs."""
    for item, need in needs:
        rule = next((r for (b, it), r in sorted(state.line_side_bins.items()) if it == item), None)
        if rule is None:
            continue
        key = (rule.bin, rule.item)
        if key not in have:
            have[key] = level(state, *key) + sum((t.quantity for t in _open_tasks(state, *key)), ZERO)
        short = need + rule.minimum - have[key]
        have[key] -= need
        if short <= ZERO:
            continue
        quantity = _in_packs(rule, short)
        have[key] += quantity
        raised += _raise(state, rule, quantity, "ahead", PRIORITY_AHEAD, level(state, *key), at,
                         len(state.replenishment_tasks) + len(raised) + 1, work_order=code)


def _replenish_ahead(state: PlantState, cmd: c.ReplenishAhead, now: datetime) -> list[e.Event]:
    if not cmd.work_orders:
        raise invalid("MISSING_VALUE", "name the work orders released for the next shift", "work_orders")
    at = checks.at(cmd, now)
    have: dict[tuple[str, str], Decimal] = {}
    raised: list[e.Event] = []
    for i, code in enumerate(cmd.work_orders):
        wo = state.work_orders.get(code)
        if wo is None or wo.status in ("completed", "cancelled"):
            raise DomainError("UNKNOWN_WORK_ORDER" if wo is None else "WORK_ORDER_CLOSED",
                              f"work order {code} is {'not known here' if wo is None else wo.status}",
                              field=f"work_orders[{i}]")
        _ahead(state, code, [(line.item, max(line.quantity_per * wo.quantity - line.consumed, ZERO))
                             for line in state.bom_of(code)], at, have, raised)
    return raised


def _ahead_on_release(state: PlantState, cmd: c.Command, events: list[e.Event], now: datetime) -> list[e.Event]:
    """A work order released where the site asks for it (``replenish_ahead``): the replenishment ahead of need of
    its BOM lines, in the same command as the release, as ReplenishAhead would raise it."""
    if not isinstance(cmd, c.ReleaseWorkOrder) or not cmd.replenish_ahead:
        return events
    released = next((ev for ev in events if isinstance(ev, e.WorkOrderReleased)), None)
    if released is None:
        return events
    raised: list[e.Event] = []
    _ahead(state, released.work_order, [(ln.item, ln.quantity_per * released.quantity) for ln in released.bom],
           checks.at(cmd, now), {}, raised)
    return [*events, *raised] if raised else events


def _complete_replenishment(state: PlantState, cmd: c.CompleteReplenishment, now: datetime) -> list[e.Event]:
    task = state.replenishment_tasks.get(cmd.task)
    if task is None:
        raise DomainError("UNKNOWN_TASK", f"replenishment task {cmd.task} is not known here", field="task")
    if task.status != "open":
        raise DomainError("TASK_DONE", f"replenishment task {task.task} was done by {task.done_by}", field="task")
    lot = checks.lot(state, cmd.lot)
    if lot.item != task.item:
        raise DomainError("WRONG_ITEM", f"lot {lot.lot} is item {lot.item}; bin {task.bin} needs {task.item}"
                          + (f": take lot {task.lot} from bin {task.from_bin}" if task.lot else ""), field="lot")
    checks.bin(state, cmd.from_bin, "from_bin")
    at = checks.at(cmd, now)
    checks.usable_lot(state, lot, at.date())
    quantity = checks.quantity("quantity", cmd.quantity)
    checks.enough_stock(state, lot, cmd.from_bin, quantity)
    mine = task.quantity if (lot.lot, cmd.from_bin) == (task.lot, task.from_bin) else ZERO
    free = state.stock_of(lot.lot, cmd.from_bin) - state.reserved.get((lot.lot, cmd.from_bin), ZERO) + mine
    if free < quantity:
        raise DomainError("STOCK_RESERVED", f"bin {cmd.from_bin} holds {free} of lot {lot.lot} that no pick counts "
                          f"on; {quantity} asked" + (f": take lot {task.lot} from bin {task.from_bin}"
                                                     if task.lot else ""), field="lot")
    target = checks.bin(state, task.bin)
    checks.fits_in_bin(state, target, lot.item, quantity, "quantity", lot.lot)
    return [moved(lot, "replenish", cmd.from_bin, task.bin, quantity, ZERO, at, reason=f"replenishment {task.task}"),
            e.ReplenishmentDone(task=task.task, bin=task.bin, item=task.item, lot=lot.lot, from_bin=cmd.from_bin,
                                quantity=quantity, done_by=cmd.actor, at=at)]


# --- evolvers -------------------------------------------------------------------------------------


def _wave_released(state: PlantState, ev: e.WaveReleased) -> None:
    state.waves[ev.wave] = Wave(wave=ev.wave, status="open", mode=ev.mode, group=ev.group, to_bin=ev.to_bin,
                                released_by=ev.released_by, released_at=ev.at)
    state.mark("waves", ev.wave)
    for p in ev.picks:
        state.wave_picks[(ev.wave, p.pick)] = WavePick(
            wave=ev.wave, pick=p.pick, sales_order=p.sales_order, line=p.line, item=p.item, lot=p.lot, bin=p.bin,
            zone=p.zone, walk_sequence=p.walk_sequence, quantity=p.quantity, tote="", status="open",
            min_expiry=p.min_expiry)
        state.mark("wave_picks", (ev.wave, p.pick))
        state.reserve(p.lot, p.bin, p.quantity)


def _wave_picked(state: PlantState, ev: e.WavePicked) -> None:
    wp = state.wave_picks[(ev.wave, ev.pick)]
    state.reserve(wp.lot, wp.bin, -wp.quantity)
    wp.status = "picked" if ev.quantity == ev.asked else "short"
    wp.picked, wp.picked_lot, wp.tote, wp.picked_by, wp.device, wp.picked_at, wp.short_reason = (
        ev.quantity, ev.lot, ev.tote, ev.picked_by, ev.device, ev.at, ev.short_reason)
    state.mark("wave_picks", (ev.wave, ev.pick))
    if not any(x.status == "open" for (w, _), x in state.wave_picks.items() if w == ev.wave):
        state.waves[ev.wave].status = "picked"
        state.mark("waves", ev.wave)


def _pick_corrected(state: PlantState, ev: e.PickCorrected) -> None:
    pass  # a fact for the record (history table pick_corrections, the mis-pick report)


def _line_side_bin_defined(state: PlantState, ev: e.LineSideBinDefined) -> None:
    state.line_side_bins[(ev.bin, ev.item)] = LineSideBin(
        bin=ev.bin, item=ev.item, minimum=ev.minimum, maximum=ev.maximum, pack=ev.pack, kanban_bins=ev.kanban_bins,
        source_zone=ev.source_zone)
    state.mark("line_side_bins", (ev.bin, ev.item))


def _replenishment_raised(state: PlantState, ev: e.ReplenishmentRaised) -> None:
    state.replenishment_tasks[ev.task] = ReplenishmentTask(
        task=ev.task, bin=ev.bin, item=ev.item, quantity=ev.quantity, reason=ev.reason, priority=ev.priority,
        status="open", raised_at=ev.at, lot=ev.lot, from_bin=ev.from_bin, work_order=ev.work_order)
    state.mark("replenishment_tasks", ev.task)
    if ev.lot is not None and ev.from_bin is not None:
        state.reserve(ev.lot, ev.from_bin, ev.quantity)


def _lot_known(state: PlantState, ev: e.LotReceived | e.LotDefined) -> None:
    state.lots_of_item.setdefault(ev.item, set()).add(ev.lot)  # after inventory made the lot


def _replenishment_done(state: PlantState, ev: e.ReplenishmentDone) -> None:
    task = state.replenishment_tasks[ev.task]
    if task.lot is not None and task.from_bin is not None:
        state.reserve(task.lot, task.from_bin, -task.quantity)
    task.status, task.moved, task.done_by, task.done_at = "done", ev.quantity, ev.done_by, ev.at
    state.mark("replenishment_tasks", ev.task)


DECIDERS: dict[type[c.Command], Decider] = {
    c.ReleaseWaves: _release_waves,
    c.PickWaveLine: _pick_wave_line,
    c.CorrectPick: _correct_pick,
    c.DefineLineSideBin: _define_line_side_bin,
    c.SignalEmptyBin: _signal_empty_bin,
    c.ReplenishAhead: _replenish_ahead,
    c.CompleteReplenishment: _complete_replenishment,
}
EVOLVERS: dict[type[e.Event], Evolver] = {
    e.WaveReleased: _wave_released,
    e.WavePicked: _wave_picked,
    e.PickCorrected: _pick_corrected,
    e.LineSideBinDefined: _line_side_bin_defined,
    e.ReplenishmentRaised: _replenishment_raised,
    e.ReplenishmentDone: _replenishment_done,
    e.LotReceived: _lot_known,
    e.LotDefined: _lot_known,
}
