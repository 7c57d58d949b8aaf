"""Kitting a work order: the pick list (FEFO lots, bins in walk order, shortages) and recording picks, short
picks included."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from edge.domain import DomainError
from edge.domain import commands as c
from edge.domain import events as e
from edge.domain.picking import pick_list
from edge.store.codec import fingerprint
from tests.unit.plant_helpers import NOW, QUALITY, D, Plant

EARLIER = NOW - timedelta(days=60)
ADMIN = frozenset({"admin"})


@pytest.fixture
def kit() -> Plant:
    """WO1: 10 pumps, 4 screws and 1 gasket each; screw lots spread over bins with a walk order."""
    p = Plant()
    for item, rev in (("PUMP", "A"), ("SCREW", "B"), ("GASKET", "C")):
        p.do(c.DefineItem, item=item, description=item.title(), unit="pcs", revision=rev, roles=ADMIN)
    for code, walk in (("A-01", 30), ("A-02", 10), ("B-01", 20), ("C-09", None), ("RECV", None), ("KIT", None)):
        p.do(c.DefineBin, bin=code, zone="store", walk_sequence=walk, roles=ADMIN)
    p.do(c.ReleaseWorkOrder, work_order="WO1", item="PUMP", item_revision="A", bom_revision="3", quantity=D(10),
         operations=(c.OperationSpec(operation=10, description="Assemble", workstation="WS1"),),
         bom=(c.BomLineSpec(line=1, item="SCREW", item_revision="B", quantity_per=D(4)),
              c.BomLineSpec(line=2, item="GASKET", item_revision="C", quantity_per=D(1))), roles=ADMIN)

    def receive(lot: str, item: str, quantity: int, bin_code: str, expiry: date | None, **extra: Any) -> None:
        p.do(c.ReceiveLot, lot=lot, item=item, item_revision=None, quantity=D(quantity), bin=bin_code, expiry=expiry,
             now=EARLIER, **extra)

    receive("S-OLD", "SCREW", 90, "A-02", date(2026, 6, 1))  # expired by NOW (2026-06-15)
    receive("S-1", "SCREW", 15, "A-01", date(2026, 9, 1))
    p.do(c.ReceiveLot, lot="S-1B", item="SCREW", item_revision=None, quantity=D(1), bin="RECV", now=EARLIER)
    p.do(c.MoveStock, lot="S-1", from_bin="A-01", to_bin="B-01", quantity=D(5))
    receive("S-1X", "SCREW", 5, "B-01", date(2026, 9, 1))
    receive("S-2", "SCREW", 50, "A-02", date(2026, 12, 1))
    receive("S-HOLD", "SCREW", 30, "A-02", date(2026, 7, 1))
    p.do(c.HoldLot, lot="S-HOLD", reason="suspect thread")
    receive("S-Q", "SCREW", 30, "RECV", date(2026, 7, 1), quarantine=True)
    receive("G-1", "GASKET", 6, "C-09", None)
    return p


def picks(plant: Plant, staging: str = "KIT") -> list[tuple[str, str, D]]:
    return [(p.bin, p.lot, p.quantity) for p in pick_list(plant.state, "WO1", staging, NOW.date()).picks]


def test_the_pick_list_takes_first_expiring_lots_and_walks_the_bins_in_sequence(kit: Plant) -> None:
    found = pick_list(kit.state, "WO1", "KIT", NOW.date())
    # FEFO: S-1 and S-1X (Sep) before S-2 (Dec); S-OLD expired, S-HOLD on hold, S-Q in quarantine never picked;
    # S-1B (no expiry) last. Listed in walk order: A-02 (10), B-01 (20), A-01 (30), then C-09 (no sequence).
    assert [(p.bin, p.lot, p.quantity, p.bom_line) for p in found.picks] == [
        ("A-02", "S-2", D(20), 1), ("B-01", "S-1", D(5), 1), ("B-01", "S-1X", D(5), 1), ("A-01", "S-1", D(10), 1),
        ("C-09", "G-1", D(6), 2)]
    screws, gaskets = found.lines
    assert (screws.needed, screws.staged, screws.to_pick, screws.short) == (D(40), D(0), D(40), D(0))
    assert (gaskets.needed, gaskets.to_pick, gaskets.short) == (D(10), D(6), D(4))
    assert not found.complete


def test_what_is_staged_or_consumed_already_is_not_picked_again(kit: Plant) -> None:
    kit.do(c.PickForKitting, work_order="WO1", lot="S-1", from_bin="B-01", to_bin="KIT", quantity=D(5), asked=D(5))
    kit.do(c.IssueToWorkOrder, work_order="WO1", lot="S-2", bin="A-02", quantity=D(20))
    found = pick_list(kit.state, "WO1", "KIT", NOW.date())
    screws = found.lines[0]
    assert (screws.needed, screws.staged, screws.to_pick) == (D(20), D(5), D(15))
    assert [(p.bin, p.lot, p.quantity) for p in found.picks if p.bom_line == 1] == [
        ("B-01", "S-1X", D(5)), ("A-01", "S-1", D(10))]


def test_a_full_kit_is_complete(kit: Plant) -> None:
    kit.do(c.ReceiveLot, lot="G-2", item="GASKET", item_revision=None, quantity=D(4), bin="C-09")
    for bin_code, lot, quantity in picks(kit):
        kit.do(c.PickForKitting, work_order="WO1", lot=lot, from_bin=bin_code, to_bin="KIT", quantity=quantity,
               asked=quantity)
    found = pick_list(kit.state, "WO1", "KIT", NOW.date())
    assert found.complete and found.picks == ()
    assert [(ln.staged, ln.short) for ln in found.lines] == [(D(40), D(0)), (D(10), D(0))]


def test_a_pick_moves_stock_to_the_staging_bin_and_names_the_order(kit: Plant) -> None:
    events = kit.do(c.PickForKitting, work_order="WO1", lot="S-2", from_bin="A-02", to_bin="KIT", quantity=D(20),
                    asked=D(20))
    assert len(events) == 1 and isinstance(events[0], e.StockMoved)
    moved = events[0]
    assert (moved.kind, moved.from_bin, moved.to_bin, moved.quantity, moved.lot_quantity_delta, moved.work_order,
            moved.bom_line, moved.reason) == ("pick", "A-02", "KIT", D(20), D(0), "WO1", 1, "kitting WO1")
    assert kit.stock("S-2") == {"A-02": D(30), "KIT": D(20)}
    assert kit.state.bom_lines[("WO1", 1)].consumed == 0  # picked is not consumed yet


def test_a_short_pick_needs_a_reason_and_is_recorded_with_it(kit: Plant) -> None:
    kit.refuse(c.PickForKitting, "MISSING_REASON", "short_reason", work_order="WO1", lot="S-2", from_bin="A-02",
               to_bin="KIT", quantity=D(12), asked=D(20))
    events = kit.do(c.PickForKitting, work_order="WO1", lot="S-2", from_bin="A-02", to_bin="KIT", quantity=D(12),
                    asked=D(20), short_reason="8 damaged")
    assert [type(ev).__name__ for ev in events] == ["StockMoved", "ShortPickRecorded"]
    short = events[1]
    assert (short.work_order, short.bom_line, short.lot, short.bin, short.asked, short.picked, short.reason) == (
        "WO1", 1, "S-2", "A-02", D(20), D(12), "8 damaged")
    assert short.subject == "work_order:WO1"
    # Nothing found at all: only the short pick is recorded, no stock moves.
    events = kit.do(c.PickForKitting, work_order="WO1", lot="G-1", from_bin="C-09", to_bin="KIT", quantity=D(0),
                    asked=D(6), short_reason="bin empty")
    assert [type(ev).__name__ for ev in events] == ["ShortPickRecorded"]
    assert kit.stock("G-1") == {"C-09": D(6)}


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"lot": "S-HOLD"}, "LOT_ON_HOLD", "lot"),
        ({"lot": "S-OLD"}, "LOT_EXPIRED", "lot"),
        ({"lot": "S-Q", "from_bin": "RECV"}, "LOT_IN_QUARANTINE", "lot"),
        ({"quantity": D(21)}, "OVER_PICK", "quantity"),
        ({"quantity": D(60), "asked": D(60)}, "INSUFFICIENT_STOCK", "quantity"),
        ({"to_bin": "A-02"}, "SAME_BIN", "to_bin"),
        ({"to_bin": "Z-99"}, "UNKNOWN_BIN", "to_bin"),
        ({"work_order": "WO9"}, "UNKNOWN_WORK_ORDER", "work_order"),
        ({"quantity": D(-1)}, "INVALID_QUANTITY", "quantity"),
        ({"asked": D(0), "quantity": D(0)}, "INVALID_QUANTITY", "asked"),
    ],
)
def test_a_pick_is_checked(kit: Plant, fields: dict[str, Any], code: str, field: str) -> None:
    asked: dict[str, Any] = {"work_order": "WO1", "lot": "S-2", "from_bin": "A-02", "to_bin": "KIT",
                             "quantity": D(20), "asked": D(20), **fields}
    kit.refuse(c.PickForKitting, code, field, **asked)


def test_a_lot_of_an_item_the_order_does_not_need_is_refused(kit: Plant) -> None:
    kit.do(c.ReceiveLot, lot="P-1", item="PUMP", item_revision=None, quantity=D(3), bin="C-09")
    err = kit.refuse(c.PickForKitting, "WRONG_ITEM", "lot", work_order="WO1", lot="P-1", from_bin="C-09",
                     to_bin="KIT", quantity=D(1), asked=D(1))
    assert "needs GASKET, SCREW" in err.message


def test_a_lot_released_from_hold_is_picked_again_first_expiring_first(kit: Plant) -> None:
    kit.do(c.ReleaseLot, lot="S-HOLD", reason="thread checked", roles=QUALITY)
    assert picks(kit)[0] == ("A-02", "S-HOLD", D(30))


def test_the_pick_list_refuses_an_unknown_order_or_bin_and_a_completed_order(kit: Plant) -> None:
    with pytest.raises(DomainError) as caught:
        pick_list(kit.state, "WO9", "KIT", NOW.date())
    assert caught.value.code == "UNKNOWN_WORK_ORDER"
    with pytest.raises(DomainError) as caught:
        pick_list(kit.state, "WO1", "NOWHERE", NOW.date())
    assert (caught.value.code, caught.value.field) == ("UNKNOWN_BIN", "staging_bin")
    kit.do(c.StartOperation, work_order="WO1", operation=10)
    kit.do(c.CompleteOperation, work_order="WO1", operation=10)
    with pytest.raises(DomainError) as caught:
        pick_list(kit.state, "WO1", "KIT", NOW.date())
    assert caught.value.code == "WORK_ORDER_CLOSED"


def test_a_bins_walk_sequence_is_checked_and_kept_out_of_the_fingerprint(kit: Plant) -> None:
    kit.refuse(c.DefineBin, "INVALID_WALK_SEQUENCE", "walk_sequence", bin="D-01", zone="store", walk_sequence=-1,
               roles=ADMIN)
    assert kit.state.bins["A-02"].walk_sequence == 10 and kit.state.bins["C-09"].walk_sequence is None
    before = c.DefineBin(idempotency_key="k", actor="a", bin="D-01", zone="store")
    assert fingerprint(before) == fingerprint(c.DefineBin(idempotency_key="k", actor="a", bin="D-01", zone="store",
                                                          walk_sequence=7))
    assert "walk_sequence" not in repr(before)


def _second_order(kit: Plant, work_order: str = "WO2", due: date | None = None) -> None:
    kit.do(c.ReleaseWorkOrder, work_order=work_order, item="PUMP", item_revision="A", bom_revision="3",
           quantity=D(5), due=due, operations=(c.OperationSpec(operation=10, description="Assemble", workstation="WS1"),),
           bom=(c.BomLineSpec(line=1, item="SCREW", item_revision="B", quantity_per=D(4)),), roles=ADMIN)


def test_stock_kitted_for_one_order_in_a_shared_staging_bin_is_not_counted_for_another(kit: Plant) -> None:
    _second_order(kit)  # needs 20 screws, kitted into the same staging bin KIT
    kit.do(c.PickForKitting, work_order="WO1", lot="S-2", from_bin="A-02", to_bin="KIT", quantity=D(20), asked=D(20))
    mine = pick_list(kit.state, "WO1", "KIT", NOW.date()).lines[0]
    theirs = pick_list(kit.state, "WO2", "KIT", NOW.date())
    assert (mine.needed, mine.staged, mine.to_pick) == (D(40), D(20), D(20))
    assert (theirs.lines[0].staged, theirs.lines[0].to_pick) == (D(0), D(20))
    assert ("KIT", "S-2") not in {(p.bin, p.lot) for p in theirs.picks}  # WO1's kit is not picked for WO2
    assert kit.state.staged[("WO1", "S-2", "KIT")].quantity == D(20)
    # WO2 is kitted too: each order counts its own 20, not 40.
    for p in theirs.picks:
        kit.do(c.PickForKitting, work_order="WO2", lot=p.lot, from_bin=p.bin, to_bin="KIT", quantity=p.quantity,
               asked=p.quantity)
    assert pick_list(kit.state, "WO2", "KIT", NOW.date()).complete
    assert pick_list(kit.state, "WO1", "KIT", NOW.date()).lines[0].staged == D(20)
    # An issue to WO1 takes from WO1's share; the rest of the bin stays WO2's.
    kit.do(c.IssueToWorkOrder, work_order="WO1", lot="S-2", bin="KIT", quantity=D(20))
    assert ("WO1", "S-2", "KIT") not in kit.state.staged
    assert pick_list(kit.state, "WO2", "KIT", NOW.date()).lines[0].staged == D(20)


def test_stock_moved_into_a_shared_staging_bin_without_a_pick_counts_once_earliest_due_first(kit: Plant) -> None:
    _second_order(kit, "WO0", due=date(2026, 6, 20))  # due before WO1 (no due date): served first
    kit.do(c.MoveStock, lot="S-2", from_bin="A-02", to_bin="KIT", quantity=D(30))
    first = pick_list(kit.state, "WO0", "KIT", NOW.date()).lines[0]
    second = pick_list(kit.state, "WO1", "KIT", NOW.date()).lines[0]
    assert (first.staged, second.staged) == (D(20), D(10))  # 30 in the bin, counted once: 20 + 10


def test_kitted_stock_that_leaves_the_bin_or_belongs_to_a_closed_order_is_nobodys(kit: Plant) -> None:
    _second_order(kit)
    kit.do(c.PickForKitting, work_order="WO1", lot="S-2", from_bin="A-02", to_bin="KIT", quantity=D(20), asked=D(20))
    kit.do(c.MoveStock, lot="S-2", from_bin="KIT", to_bin="A-02", quantity=D(15))  # taken back to the store
    assert kit.state.staged[("WO1", "S-2", "KIT")].quantity == D(5)
    kit.do(c.CancelWorkOrder, work_order="WO1", reason="customer cancelled", roles=frozenset({"supervisor"}))
    assert not kit.state.staged
    assert pick_list(kit.state, "WO2", "KIT", NOW.date()).lines[0].staged == D(5)


def test_stock_staged_for_another_order_is_not_issued_to_this_one(kit: Plant) -> None:
    _second_order(kit)
    kit.do(c.PickForKitting, work_order="WO1", lot="S-2", from_bin="A-02", to_bin="KIT", quantity=D(20), asked=D(20))
    kit.do(c.MoveStock, lot="S-2", from_bin="A-02", to_bin="KIT", quantity=D(5))  # 5 more, staged for nobody
    err = kit.refuse(c.IssueToWorkOrder, "STAGED_FOR_ANOTHER_ORDER", "lot", work_order="WO2", lot="S-2", bin="KIT",
                     quantity=D(6))
    assert "lot S-2 in bin KIT is staged 20 for work order WO1" in err.message
    assert "at most 5 of it is free for WO2" in err.message
    kit.do(c.IssueToWorkOrder, work_order="WO2", lot="S-2", bin="KIT", quantity=D(5))  # the unstaged part
    assert kit.state.staged[("WO1", "S-2", "KIT")].quantity == D(20)
    err = kit.refuse(c.IssueToWorkOrder, "STAGED_FOR_ANOTHER_ORDER", "lot", work_order="WO2", lot="S-2", bin="KIT",
                     quantity=D(1))
    assert "none of it is free for WO2" in err.message
    kit.do(c.IssueToWorkOrder, work_order="WO1", lot="S-2", bin="KIT", quantity=D(8))  # its own kit: fine
    assert kit.state.staged[("WO1", "S-2", "KIT")].quantity == D(12)


def test_kitted_stock_given_away_by_a_move_or_of_a_closed_order_may_be_issued_to_another(kit: Plant) -> None:
    _second_order(kit)
    kit.do(c.PickForKitting, work_order="WO1", lot="S-2", from_bin="A-02", to_bin="KIT", quantity=D(20), asked=D(20))
    kit.do(c.DefineBin, bin="KIT2", zone="store", roles=ADMIN)
    kit.do(c.MoveStock, lot="S-2", from_bin="KIT", to_bin="KIT2", quantity=D(4))  # out of the staging bin: unstaged
    kit.do(c.IssueToWorkOrder, work_order="WO2", lot="S-2", bin="KIT2", quantity=D(4))
    kit.do(c.CancelWorkOrder, work_order="WO1", reason="customer cancelled", roles=frozenset({"supervisor"}))
    kit.do(c.IssueToWorkOrder, work_order="WO2", lot="S-2", bin="KIT", quantity=D(16))  # WO1's kit is nobody's now
