"""Outbound: customer orders picked in waves (FEFO within the customer's remaining shelf life, reserved stock,
every scan checked, short picks, substitution only where the order allows it), corrected picks for the mis-pick
report, and line-side bins refilled by tasks the consuming command itself raises."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from edge.domain import commands as c
from edge.domain import events as e
from edge.domain.picking import pick_list, plan_waves
from tests.unit.plant_helpers import NOW, D, Plant

ADMIN = frozenset({"admin"})
EARLIER = NOW - timedelta(days=30)
TODAY = NOW.date()
SHELF_LIFE = (("JAM", 100),)
NEEDS_60 = (("FRESHCO", D(60)),)


@pytest.fixture
def store() -> Plant:
    """JAM lots: J-SHORT expires in 20 days (20 % of a 100-day shelf life), J-LONG in 80 days; two customers."""
    p = Plant()
    for item in ("JAM", "LID", "PUMP"):
        p.do(c.DefineItem, item=item, description=item.title(), unit="pcs", revision="A", roles=ADMIN)
    for code, zone, walk in (("A-01", "dry", 20), ("A-02", "dry", 10), ("B-01", "cold", 30), ("PACK", "ship", None),
                             ("LINE-1", "line", None)):
        p.do(c.DefineBin, bin=code, zone=zone, walk_sequence=walk, roles=ADMIN)
    for lot, item, qty, bin_code, days in (("J-SHORT", "JAM", 50, "A-01", 20), ("J-LONG", "JAM", 50, "B-01", 80),
                                           ("J-MID", "JAM", 10, "A-02", 70), ("L-1", "LID", 100, "A-02", None)):
        p.do(c.ReceiveLot, lot=lot, item=item, item_revision=None, quantity=D(qty), bin=bin_code,
             expiry=None if days is None else TODAY + timedelta(days=days), now=EARLIER)
    for customer in ("FRESHCO", "ANYCO"):
        p.do(c.DefineCustomer, customer=customer, name=customer.title(), roles=ADMIN)
    p.do(c.DefineSalesOrder, sales_order="SO1", customer="FRESHCO", roles=ADMIN,
         lines=(c.SalesOrderLineSpec(line=1, item="JAM", quantity=D(30)),))
    p.do(c.DefineSalesOrder, sales_order="SO2", customer="ANYCO", roles=ADMIN, allow_substitution=True,
         lines=(c.SalesOrderLineSpec(line=1, item="JAM", quantity=D(20)),
                c.SalesOrderLineSpec(line=2, item="LID", quantity=D(5))))
    return p


def release(p: Plant, **fields: Any) -> list[e.WaveReleased]:
    events = p.do(c.ReleaseWaves, to_bin="PACK", min_shelf_life_pct=NEEDS_60, shelf_life_days=SHELF_LIFE, **fields)
    return [ev for ev in events if isinstance(ev, e.WaveReleased)]


def test_a_customer_needing_60_percent_shelf_life_is_never_picked_a_shorter_lot(store: Plant) -> None:
    (wave,) = release(store, lines=(c.OrderLineRef(sales_order="SO1", line=1),))
    # J-SHORT (20 % left) is first to expire but FRESHCO needs 60 %: J-MID (70 %) then J-LONG (80 %), walk order
    assert [(p.bin, p.lot, p.quantity) for p in wave.picks] == [("A-02", "J-MID", D(10)), ("B-01", "J-LONG", D(20))]
    err = store.refuse(c.PickWaveLine, "SHELF_LIFE_TOO_SHORT", "lot", wave="W00001", pick=1, bin="A-02",
                       lot="J-SHORT", quantity=D(10), tote="T1")
    assert "J-SHORT" in err.message and "lot J-MID in bin A-02 fits" in err.message


def test_a_wave_reserves_its_stock_so_a_second_wave_and_a_kit_never_count_on_it(store: Plant) -> None:
    release(store, lines=(c.OrderLineRef(sales_order="SO2", line=1),))  # ANYCO: FEFO J-SHORT 20 in A-01
    assert store.state.reserved[("J-SHORT", "A-01")] == D(20)
    plans = plan_waves(store.state, [("SO1", 1)], TODAY)  # no shelf-life rule here: J-SHORT would be first
    assert [(p.lot, p.quantity) for p in plans[0].picks] == [("J-SHORT", D(30))]  # the 30 nobody holds
    store.do(c.DefineSalesOrder, sales_order="SO3", customer="ANYCO", roles=ADMIN,
             lines=(c.SalesOrderLineSpec(line=1, item="JAM", quantity=D(45)),))
    (w2,) = release(store, lines=(c.OrderLineRef(sales_order="SO3", line=1),))
    # FEFO chose J-SHORT 30, J-MID 10, J-LONG 5; the picker walks, B-01
    assert [(p.lot, p.quantity) for p in w2.picks] == [("J-MID", D(10)), ("J-SHORT", D(30)), ("J-LONG", D(5))]
    # the kitting pick list leaves reserved stock alone too
    store.do(c.ReleaseWorkOrder, work_order="WO1", item="PUMP", item_revision="A", bom_revision="1",
             quantity=D(1), roles=ADMIN,
             operations=(c.OperationSpec(operation=10, description="Fill", workstation="WS1"),),
             bom=(c.BomLineSpec(line=1, item="JAM", item_revision="A", quantity_per=D(50)),))
    kit = pick_list(store.state, "WO1", "LINE-1", TODAY)
    assert [(p.lot, p.quantity) for p in kit.picks] == [("J-LONG", D(45))]
    assert kit.lines[0].short == D(5)


def test_the_handheld_scans_are_checked_and_a_short_pick_needs_its_reason(store: Plant) -> None:
    (wave,) = release(store, group_by="none")
    stops = {(p.sales_order, p.line): p.pick for p in wave.picks}
    so1 = next(p for p in wave.picks if p.sales_order == "SO1")
    store.refuse(c.PickWaveLine, "WRONG_BIN", "bin", wave=wave.wave, pick=so1.pick, bin="A-01", lot=so1.lot,
                 quantity=so1.quantity, tote="T1")
    store.refuse(c.PickWaveLine, "WRONG_LOT", "lot", wave=wave.wave, pick=so1.pick, bin=so1.bin, lot="J-LONG",
                 quantity=so1.quantity, tote="T1")  # SO1 allows no substitution
    store.refuse(c.PickWaveLine, "MISSING_REASON", "short_reason", wave=wave.wave, pick=so1.pick, bin=so1.bin,
                 lot=so1.lot, quantity=so1.quantity - 1, tote="T1")
    events = store.do(c.PickWaveLine, wave=wave.wave, pick=so1.pick, bin=so1.bin, lot=so1.lot,
                      quantity=so1.quantity - 1, tote="T1", short_reason="one jar broken")
    move = next(ev for ev in events if isinstance(ev, e.StockMoved))
    assert (move.kind, move.to_bin, move.sales_order) == ("pick", "PACK", "SO1")
    assert store.state.wave_picks[(wave.wave, so1.pick)].status == "short"
    # SO1's tote is T1 now: SO2 cannot go into it; SO1's next pick must go into it
    lid = stops[("SO2", 2)]
    lid_pick = store.state.wave_picks[(wave.wave, lid)]
    store.refuse(c.PickWaveLine, "TOTE_IN_USE", "tote", wave=wave.wave, pick=lid, bin=lid_pick.bin,
                 lot=lid_pick.lot, quantity=lid_pick.quantity, tote="T1")
    # SO2 allows substitution: another JAM lot than planned is taken (one that is not reserved)
    jam = store.state.wave_picks[(wave.wave, stops[("SO2", 1)])]
    assert jam.lot == "J-SHORT"
    store.do(c.PickWaveLine, wave=wave.wave, pick=jam.pick, bin=jam.bin, lot=jam.lot, quantity=jam.quantity,
             tote="T2")


def test_a_corrected_pick_is_linked_to_who_picked_it(store: Plant) -> None:
    (wave,) = release(store, lines=(c.OrderLineRef(sales_order="SO2", line=1),))
    p = wave.picks[0]
    store.state.sales_orders["SO2"].allow_substitution = True
    store.do(c.PickWaveLine, wave=wave.wave, pick=p.pick, bin=p.bin, lot=p.lot, quantity=p.quantity, tote="T9",
             actor="bob", source_device="HH-07")
    (fix,) = store.do(c.CorrectPick, wave=wave.wave, pick=p.pick, right_lot="J-LONG", found_at="packing")
    assert (fix.picked_by, fix.device, fix.wrong_lot, fix.zone) == ("bob", "HH-07", "J-SHORT", "dry")


@pytest.fixture
def line(store: Plant) -> Plant:
    store.do(c.DefineLineSideBin, bin="LINE-1", item="LID", minimum=D(10), maximum=D(40), pack=D(25),
             source_zone="dry", roles=ADMIN)
    store.do(c.MoveStock, lot="L-1", from_bin="A-02", to_bin="LINE-1", quantity=D(20))
    store.do(c.ReleaseWorkOrder, work_order="WO2", item="PUMP", item_revision="A", bom_revision="1",
             quantity=D(12), roles=ADMIN,
             operations=(c.OperationSpec(operation=10, description="Close", workstation="WS1"),),
             bom=(c.BomLineSpec(line=1, item="LID", item_revision="A", quantity_per=D(1)),))
    return store


def test_a_consumption_below_min_raises_the_replenishment_task_in_the_same_command(line: Plant) -> None:
    assert line.do(c.IssueToWorkOrder, work_order="WO2", lot="L-1", bin="LINE-1", quantity=D(5))[-1].kind == "issue"
    events = line.do(c.IssueToWorkOrder, work_order="WO2", lot="L-1", bin="LINE-1", quantity=D(6))
    task = events[-1]
    assert isinstance(task, e.ReplenishmentRaised)
    # 9 left, max 40: 31 asked, rounded up to whole packs of 25 -> 50; from L-1 in the dry zone
    assert (task.bin, task.quantity, task.lot, task.from_bin, task.priority, task.level) == (
        "LINE-1", D(50), "L-1", "A-02", 2, D(9))
    # no second task while one is open
    assert not any(isinstance(ev, e.ReplenishmentRaised) for ev in line.do(
        c.IssueToWorkOrder, work_order="WO2", lot="L-1", bin="LINE-1", quantity=D(1)))
    line.do(c.CompleteReplenishment, task=task.task, lot="L-1", from_bin="A-02", quantity=D(50))
    assert line.state.replenishment_tasks[task.task].status == "done"
    assert line.stock("L-1") == {"A-02": D(30), "LINE-1": D(58)}
    assert ("L-1", "A-02") not in line.state.reserved


def test_a_kanban_card_and_the_next_shift_raise_tasks(line: Plant) -> None:
    line.do(c.DefineLineSideBin, bin="LINE-1", item="JAM", minimum=D(0), maximum=D(20), pack=D(10), kanban_bins=2,
            source_zone="cold", roles=ADMIN)
    (card,) = line.do(c.SignalEmptyBin, bin="LINE-1", item="JAM")
    assert (card.reason, card.quantity, card.lot) == ("kanban", D(10), "J-LONG")
    line.do(c.SignalEmptyBin, bin="LINE-1", item="JAM")
    line.refuse(c.SignalEmptyBin, "ALL_CARDS_OUT", "bin", bin="LINE-1", item="JAM")
    line.refuse(c.SignalEmptyBin, "NOT_LINE_SIDE", "bin", bin="A-01", item="JAM")
    # WO2 needs 12 lids, 20 there and 10 to stay: 2 short, one pack of 25
    (first,) = line.do(c.ReplenishAhead, work_orders=("WO2",))
    assert (first.reason, first.work_order, first.priority, first.quantity) == ("ahead", "WO2", 3, D(25))
    line.do(c.ReleaseWorkOrder, work_order="WO3", item="PUMP", item_revision="A", bom_revision="1",
            quantity=D(30), roles=ADMIN,
            operations=(c.OperationSpec(operation=10, description="Close", workstation="WS1"),),
            bom=(c.BomLineSpec(line=1, item="LID", item_revision="A", quantity_per=D(1)),))
    # the open task counts: 20 + 25 - 12 for WO2 leaves 33; WO3 needs 30 and 10 stay: 7 short, one pack
    (ahead,) = line.do(c.ReplenishAhead, work_orders=("WO2", "WO3"))
    assert (ahead.work_order, ahead.quantity) == ("WO3", D(25))
    # a min/max bin's card with a task open for it already: no second task
    line.refuse(c.SignalEmptyBin, "REPLENISHMENT_OPEN", "bin", bin="LINE-1", item="LID")


def test_zone_picking_hands_the_orders_tote_over_from_zone_to_zone(store: Plant) -> None:
    waves = release(store, lines=(c.OrderLineRef(sales_order="SO1", line=1),), group_by="zone", mode="zone")
    assert [(w.wave, w.group, [(p.bin, p.lot) for p in w.picks]) for w in waves] == [
        ("W00001", "zone cold", [("B-01", "J-LONG")]), ("W00002", "zone dry", [("A-02", "J-MID")])]
    store.do(c.PickWaveLine, wave="W00002", pick=1, bin="A-02", lot="J-MID", quantity=D(10), tote="T1")
    # the tote travels to the cold zone with the order: another tote is refused there
    store.refuse(c.PickWaveLine, "WRONG_TOTE", "tote", wave="W00001", pick=1, bin="B-01", lot="J-LONG",
                 quantity=D(20), tote="T2")
    store.do(c.PickWaveLine, wave="W00001", pick=1, bin="B-01", lot="J-LONG", quantity=D(20), tote="T1")
    assert {w.status for w in store.state.waves.values()} == {"picked"}
    assert store.state.reserved == {}


def test_reserved_stock_is_refused_to_a_move_an_issue_a_scrap_and_a_kit_but_the_pick_and_task_take_it(
        line: Plant) -> None:
    """J-SHORT: 50 in A-01, a wave reserves 20 of it for SO2. L-1: 80 in A-02, a replenishment task reserves 50."""
    (wave,) = release(line, lines=(c.OrderLineRef(sales_order="SO2", line=1),))
    (pick,) = wave.picks
    assert (pick.lot, pick.bin, pick.quantity) == ("J-SHORT", "A-01", D(20))
    err = line.refuse(c.MoveStock, "STOCK_RESERVED", "quantity", lot="J-SHORT", from_bin="A-01", to_bin="A-02",
                      quantity=D(31))
    assert "20 of it reserved for wave W00001 pick 1" in err.message and "at most 30 is free" in err.message
    line.refuse(c.ScrapStock, "STOCK_RESERVED", "quantity", lot="J-SHORT", bin="A-01", quantity=D(40),
                reason="dropped")
    line.do(c.ReleaseWorkOrder, work_order="WO9", item="PUMP", item_revision="A", bom_revision="1",
            quantity=D(1), roles=ADMIN,
            operations=(c.OperationSpec(operation=10, description="Fill", workstation="WS1"),),
            bom=(c.BomLineSpec(line=1, item="JAM", item_revision="A", quantity_per=D(50)),))
    line.refuse(c.IssueToWorkOrder, "STOCK_RESERVED", "quantity", work_order="WO9", lot="J-SHORT", bin="A-01",
                quantity=D(50))
    line.refuse(c.PickForKitting, "STOCK_RESERVED", "quantity", work_order="WO9", lot="J-SHORT", from_bin="A-01",
                to_bin="LINE-1", asked=D(50), quantity=D(50))
    # the free part may go; a move of "all of it" takes only the free part
    line.do(c.ScrapStock, lot="J-SHORT", bin="A-01", quantity=D(5), reason="dropped")
    (moved,) = line.do(c.MoveStock, lot="J-SHORT", from_bin="A-01", to_bin="A-02", quantity=None)
    assert moved.quantity == D(25)
    line.refuse(c.MoveStock, "STOCK_RESERVED", "quantity", lot="J-SHORT", from_bin="A-01", to_bin="A-02",
                quantity=None)
    # the pick that holds the reservation takes it
    line.do(c.PickWaveLine, wave=wave.wave, pick=1, bin="A-01", lot="J-SHORT", quantity=D(20), tote="T1")
    assert line.stock("J-SHORT").get("A-01") is None and ("J-SHORT", "A-01") not in line.state.reserved
    # a replenishment task's reservation: only its own completion takes it
    line.do(c.IssueToWorkOrder, work_order="WO2", lot="L-1", bin="LINE-1", quantity=D(11))
    (task,) = line.state.replenishment_tasks.values()
    assert (task.lot, task.from_bin, task.quantity) == ("L-1", "A-02", D(50))
    err = line.refuse(c.MoveStock, "STOCK_RESERVED", "quantity", lot="L-1", from_bin="A-02", to_bin="A-01",
                      quantity=D(40))
    assert f"replenishment {task.task}" in err.message
    line.do(c.CompleteReplenishment, task=task.task, lot="L-1", from_bin="A-02", quantity=D(50))
    line.do(c.MoveStock, lot="L-1", from_bin="A-02", to_bin="A-01", quantity=D(30))


def _urgent_orders(p: Plant) -> tuple[c.OrderLineRef, ...]:
    """SO3 priority 2 on DHL at 15:00 tomorrow, SO4 priority 1 on UPS at 12:00 tomorrow, SO5 priority 10 without a
    carrier, due today; all lids."""
    tomorrow = NOW.replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    for order, priority, carrier, hour in (("SO3", 2, "DHL", 15), ("SO4", 1, "UPS", 12), ("SO5", 10, None, None)):
        p.do(c.DefineSalesOrder, sales_order=order, customer="ANYCO", roles=ADMIN, priority=priority, carrier=carrier,
             cutoff=None if hour is None else tomorrow.replace(hour=hour),
             lines=(c.SalesOrderLineSpec(line=1, item="LID", quantity=D(5), due=TODAY),))
    return tuple(c.OrderLineRef(sales_order=so, line=1) for so in ("SO3", "SO4", "SO5"))


def test_waves_by_priority_release_the_most_urgent_orders_first(store: Plant) -> None:
    waves = release(store, lines=_urgent_orders(store), group_by="priority")
    assert [(w.wave, w.group, [p.sales_order for p in w.picks]) for w in waves] == [
        ("W00001", "priority 1", ["SO4"]), ("W00002", "priority 2", ["SO3"]), ("W00003", "priority 10", ["SO5"])]
    assert store.state.sales_orders["SO4"].priority == 1
    # priority and carrier stay out of the command's fingerprint: orders synced before keep their idempotency key
    cmd = c.DefineSalesOrder(sales_order="SO4", customer="ANYCO", lines=(), priority=1, carrier="UPS",
                             idempotency_key="k", actor="erp")
    assert "priority" not in repr(cmd) and "carrier" not in repr(cmd)
    store.refuse(c.DefineSalesOrder, "INVALID_VALUE", "priority", sales_order="SO6", customer="ANYCO", priority=0,
                 roles=ADMIN, lines=(c.SalesOrderLineSpec(line=1, item="LID", quantity=D(5)),))
    store.refuse(c.DefineSalesOrder, "MISSING_VALUE", "carrier", sales_order="SO6", customer="ANYCO", roles=ADMIN,
                 cutoff=NOW, lines=(c.SalesOrderLineSpec(line=1, item="LID", quantity=D(5)),))


def test_waves_by_cutoff_go_per_carrier_earliest_first_and_orders_without_one_by_due_date(store: Plant) -> None:
    waves = release(store, lines=_urgent_orders(store), group_by="cutoff")
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    assert [(w.group, [p.sales_order for p in w.picks]) for w in waves] == [
        (f"due {TODAY.isoformat()}", ["SO5"]), (f"cutoff {tomorrow}T12:00+00:00 UPS", ["SO4"]),
        (f"cutoff {tomorrow}T15:00+00:00 DHL", ["SO3"])]


def test_a_work_order_released_where_the_site_asks_raises_its_replenishment_ahead_in_the_release(line: Plant) -> None:
    def release_wo(code: str, quantity: int, ahead: bool) -> list[e.Event]:
        return line.do(c.ReleaseWorkOrder, work_order=code, item="PUMP", item_revision="A", bom_revision="1",
                       quantity=D(quantity), roles=ADMIN, replenish_ahead=ahead,
                       operations=(c.OperationSpec(operation=10, description="Close", workstation="WS1"),),
                       bom=(c.BomLineSpec(line=1, item="LID", item_revision="A", quantity_per=D(1)),
                            c.BomLineSpec(line=2, item="JAM", item_revision="A", quantity_per=D(1))))

    # without the setting: the release alone (WO2's 12 lids leave 8 of 20, not counted on by a release)
    assert [type(ev) for ev in release_wo("WO3", 30, False)] == [e.WorkOrderReleased]
    # with it: 20 lids there, WO4 needs 30 and 10 stay: 20 short, one pack of 25, as POST /replenishment/ahead
    # would ask; JAM has no line-side bin here, nothing for it
    events = release_wo("WO4", 30, True)
    assert isinstance(events[0], e.WorkOrderReleased)
    (task,) = events[1:]
    assert isinstance(task, e.ReplenishmentRaised)
    assert (task.reason, task.work_order, task.priority, task.bin, task.quantity, task.lot) == (
        "ahead", "WO4", 3, "LINE-1", D(25), "L-1")
    assert line.state.replenishment_tasks[task.task].status == "open"
    # the open task counts: 20 + 25 - 30 leaves 15; WO5 needs 5 more and 10 stay: nothing to bring
    assert [type(ev) for ev in release_wo("WO5", 5, True)] == [e.WorkOrderReleased]
