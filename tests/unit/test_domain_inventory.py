"""Inventory rules: receipts, bin moves, consumption against the BOM, returns, counts, scrap, holds."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from edge.domain import commands as c
from edge.domain import events as e
from tests.unit.plant_helpers import NOW, QUALITY, D, Plant

EARLIER = NOW - timedelta(days=120)


def _receive(plant: Plant, lot: str, quantity: D | int, bin: str = "RECV", item: str = "SCREW", **extra: Any) -> None:
    plant.do(c.ReceiveLot, lot=lot, item=item, item_revision=extra.pop("item_revision", None), quantity=D(quantity),
             bin=bin, **extra)


# --- receiving -------------------------------------------------------------------------------------


def test_a_received_lot_is_available_in_its_bin_with_the_item_revision(plant: Plant) -> None:
    _receive(plant, "L2", 30, supplier_lot="S-77", expiry=date(2027, 3, 1))
    lot = plant.lot("L2")
    assert (lot.item, lot.item_revision, lot.quantity, lot.status, lot.supplier_lot) == (
        "SCREW", "B", D(30), "available", "S-77")
    assert plant.stock("L2") == {"RECV": D(30)}


def test_a_lot_received_into_quarantine_waits_for_inspection(plant: Plant) -> None:
    _receive(plant, "L2", 30, quarantine=True)
    assert plant.lot("L2").status == "quarantine"


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"lot": "L1"}, "DUPLICATE_LOT", "lot"),
        ({"lot": " "}, "MISSING_VALUE", "lot"),
        ({"item": "VALVE"}, "UNKNOWN_ITEM", "item"),
        ({"bin": "Z-99"}, "UNKNOWN_BIN", "bin"),
        ({"quantity": D(0)}, "INVALID_QUANTITY", "quantity"),
        ({"expiry": date(2026, 6, 14)}, "LOT_EXPIRED", "expiry"),
        ({"bin": "A-01", "quantity": D(51)}, "BIN_FULL", "bin"),
        ({"bin": "CAGE"}, "ITEM_NOT_ALLOWED_IN_BIN", "bin"),
    ],
)
def test_a_receipt_is_checked(plant: Plant, fields: dict[str, Any], code: str, field: str) -> None:
    receipt: dict[str, Any] = {"lot": "L2", "item": "SCREW", "item_revision": None, "quantity": D(10), "bin": "RECV"}
    receipt.update(fields)
    plant.refuse(c.ReceiveLot, code, field, **receipt)


def test_a_lot_expiring_today_may_still_be_received(plant: Plant) -> None:
    _receive(plant, "L2", 5, expiry=NOW.date())
    assert plant.lot("L2").expiry == NOW.date()


def test_a_bin_takes_up_to_its_capacity_across_lots(plant: Plant) -> None:
    _receive(plant, "L2", 30, bin="A-01")
    err = plant.refuse(c.ReceiveLot, "BIN_FULL", "bin", lot="L3", item="SCREW", item_revision=None, quantity=D(21),
                       bin="A-01")
    assert err.message == "bin A-01 holds 30 of 50; 21 more does not fit"
    _receive(plant, "L3", 20, bin="A-01")
    assert plant.state.bin_load["A-01"] == D(50)


def test_a_bin_for_gaskets_only_refuses_screws(plant: Plant) -> None:
    err = plant.refuse(c.ReceiveLot, "ITEM_NOT_ALLOWED_IN_BIN", "bin", lot="L2", item="SCREW", item_revision=None,
                       quantity=D(1), bin="CAGE")
    assert err.message == "bin CAGE takes only GASKET, not SCREW"
    _receive(plant, "G1", 10, bin="CAGE", item="GASKET")


# --- moves -----------------------------------------------------------------------------------------


def test_a_move_changes_bins_not_the_lot_total(plant: Plant) -> None:
    [ev] = plant.do(c.MoveStock, lot="L1", from_bin="LINE1", to_bin="A-02-3", quantity=D(40))
    assert isinstance(ev, e.StockMoved) and (ev.kind, ev.lot_quantity_delta) == ("move", D(0))
    assert plant.stock("L1") == {"LINE1": D(60), "A-02-3": D(40)}
    assert plant.lot("L1").quantity == D(100)


def test_moving_everything_leaves_no_empty_stock_row(plant: Plant) -> None:
    [ev] = plant.do(c.MoveStock, lot="L1", from_bin="LINE1", to_bin="A-02-3", quantity=D(100), putaway=True)
    assert ev.kind == "putaway"
    assert plant.stock("L1") == {"A-02-3": D(100)}
    assert plant.state.bins_of_lot["L1"] == {"A-02-3"}


def test_a_move_cannot_take_more_than_the_bin_holds(plant: Plant) -> None:
    err = plant.refuse(c.MoveStock, "INSUFFICIENT_STOCK", "quantity", lot="L1", from_bin="LINE1", to_bin="A-02-3",
                       quantity=D("100.000001"))
    assert err.message == "bin LINE1 holds 100 of lot L1; 100.000001 asked"
    plant.refuse(c.MoveStock, "INSUFFICIENT_STOCK", "quantity", lot="L1", from_bin="RECV", to_bin="A-02-3",
                 quantity=D(1))


def test_a_move_to_the_same_bin_is_invalid(plant: Plant) -> None:
    err = plant.refuse(c.MoveStock, "SAME_BIN", "to_bin", lot="L1", from_bin="LINE1", to_bin="LINE1", quantity=D(1))
    assert err.invalid


@pytest.mark.parametrize("quantity", [D(-1), D(0), D("-0.5"), D("1.0000001"), D("NaN"), D("Infinity"), D("1E12")])
def test_a_move_of_an_impossible_quantity_is_invalid(plant: Plant, quantity: D) -> None:
    err = plant.refuse(c.MoveStock, "INVALID_QUANTITY", "quantity", lot="L1", from_bin="LINE1", to_bin="A-02-3",
                       quantity=quantity)
    assert err.invalid


def test_six_decimals_are_fine(plant: Plant) -> None:
    plant.do(c.MoveStock, lot="L1", from_bin="LINE1", to_bin="A-02-3", quantity=D("0.000001"))
    assert plant.stock("L1") == {"LINE1": D("99.999999"), "A-02-3": D("0.000001")}


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"lot": "L9"}, "UNKNOWN_LOT", "lot"),
        ({"from_bin": "Z-99"}, "UNKNOWN_BIN", "from_bin"),
        ({"to_bin": "Z-99"}, "UNKNOWN_BIN", "to_bin"),
        ({"to_bin": "A-01", "quantity": D(51)}, "BIN_FULL", "to_bin"),
        ({"to_bin": "CAGE"}, "ITEM_NOT_ALLOWED_IN_BIN", "to_bin"),
    ],
)
def test_a_move_names_the_bin_or_lot_at_fault(plant: Plant, fields: dict[str, Any], code: str, field: str) -> None:
    move: dict[str, Any] = {"lot": "L1", "from_bin": "LINE1", "to_bin": "A-02-3", "quantity": D(10)}
    move.update(fields)
    plant.refuse(c.MoveStock, code, field, **move)


# --- consumption -----------------------------------------------------------------------------------


def test_an_issue_lowers_the_lot_and_raises_the_bom_consumption(plant: Plant) -> None:
    [ev] = plant.do(c.IssueToWorkOrder, work_order="WO1", lot="L1", bin="LINE1", quantity=D(12))
    assert (ev.kind, ev.from_bin, ev.to_bin, ev.bom_line, ev.lot_quantity_delta) == ("issue", "LINE1", None, 1, D(-12))
    assert plant.stock("L1") == {"LINE1": D(88)}
    assert plant.lot("L1").quantity == D(88)
    assert plant.state.bom_lines[("WO1", 1)].consumed == D(12)


def test_issuing_a_lot_to_the_last_unit_consumes_it(plant: Plant) -> None:
    _receive(plant, "L2", 7, bin="LINE1")
    plant.do(c.IssueToWorkOrder, work_order="WO1", lot="L2", bin="LINE1", quantity=D(7))
    assert plant.stock("L2") == {}
    assert (plant.lot("L2").quantity, plant.lot("L2").status) == (D(0), "consumed")
    plant.refuse(c.IssueToWorkOrder, "LOT_CONSUMED", "lot", work_order="WO1", lot="L2", bin="LINE1", quantity=D(1))


def test_an_item_the_bom_does_not_need_is_the_wrong_item(plant: Plant) -> None:
    plant.do(c.DefineItem, item="NUT", description="Nut", unit="pcs", revision="A")
    _receive(plant, "N1", 10, bin="LINE1", item="NUT")
    err = plant.refuse(c.IssueToWorkOrder, "WRONG_ITEM", "lot", work_order="WO1", lot="N1", bin="LINE1",
                       quantity=D(1))
    assert err.message == "lot N1 is item NUT; work order WO1 needs GASKET, SCREW"


def test_a_lot_of_another_revision_names_the_bom_revision(plant: Plant) -> None:
    _receive(plant, "L2", 10, bin="LINE1", item_revision="A")
    err = plant.refuse(c.IssueToWorkOrder, "WRONG_REVISION", "lot", work_order="WO1", lot="L2", bin="LINE1",
                       quantity=D(1))
    assert err.message == "lot L2 is SCREW revision A; work order WO1 (BOM revision 3) needs revision B"


def test_a_lot_on_hold_cannot_be_issued(plant: Plant) -> None:
    plant.do(c.HoldLot, lot="L1", reason="supplier recall")
    plant.refuse(c.IssueToWorkOrder, "LOT_ON_HOLD", "lot", work_order="WO1", lot="L1", bin="LINE1", quantity=D(1))


def test_a_lot_in_quarantine_cannot_be_issued(plant: Plant) -> None:
    _receive(plant, "L2", 10, bin="LINE1", quarantine=True)
    plant.refuse(c.IssueToWorkOrder, "LOT_IN_QUARANTINE", "lot", work_order="WO1", lot="L2", bin="LINE1",
                 quantity=D(1))


def test_an_expired_lot_is_refused_and_the_fefo_lot_is_named() -> None:
    from tests.unit.plant_helpers import build_plant

    plant = build_plant(EARLIER)
    _receive(plant, "L123", 20, bin="LINE1", expiry=date(2026, 10, 1))
    _receive(plant, "L116", 20, bin="A-02-3", expiry=date(2026, 9, 1))  # expired too: no pick
    _receive(plant, "L117", 20, bin="A-02-3", expiry=date(2026, 11, 1))
    plant.do(c.HoldLot, lot="L117", reason="supplier recall")  # on hold: no pick
    _receive(plant, "L118", 5, bin="RECV", expiry=date(2026, 12, 1))
    plant.do(c.MoveStock, lot="L118", from_bin="RECV", to_bin="A-02-3", quantity=D(3))  # its fullest bin
    _receive(plant, "L119", 20, bin="A-02-3", expiry=date(2027, 3, 1))  # expires later than L118
    _receive(plant, "L120", 20, bin="A-02-3", item_revision="A", expiry=date(2026, 10, 20))  # another revision
    later = datetime(2026, 10, 15, 7, 0, tzinfo=NOW.tzinfo)

    err = plant.refuse(c.IssueToWorkOrder, "LOT_EXPIRED", "lot", now=later, work_order="WO1", lot="L123",
                       bin="LINE1", quantity=D(1))
    assert err.message == "lot L123 expired on 2026-10-01; FEFO pick is L118 in bin A-02-3"


def test_an_expired_lot_without_an_alternative_says_so() -> None:
    from tests.unit.plant_helpers import build_plant

    plant = build_plant(EARLIER)
    _receive(plant, "L123", 20, bin="LINE1", expiry=date(2026, 10, 1))
    plant.do(c.IssueToWorkOrder, work_order="WO1", lot="L1", bin="LINE1", quantity=D(20))
    plant.do(c.ScrapStock, lot="L1", bin="LINE1", quantity=D(80), reason="rusty")
    err = plant.refuse(c.IssueToWorkOrder, "LOT_EXPIRED", "lot", now=datetime(2026, 10, 2, tzinfo=NOW.tzinfo),
                       work_order="WO1", lot="L123", bin="LINE1", quantity=D(1))
    assert err.message == "lot L123 expired on 2026-10-01; no unexpired lot of SCREW is in stock"


def test_a_lot_may_be_used_on_its_expiry_day(plant: Plant) -> None:
    _receive(plant, "L2", 10, bin="LINE1", expiry=NOW.date())
    plant.do(c.IssueToWorkOrder, work_order="WO1", lot="L2", bin="LINE1", quantity=D(1))


def test_consumption_beyond_the_bom_is_refused(plant: Plant) -> None:
    # WO1 needs 10 x 4 = 40 screws.
    plant.refuse(c.IssueToWorkOrder, "OVER_CONSUMPTION", "quantity", work_order="WO1", lot="L1", bin="LINE1",
                 quantity=D(41))
    plant.do(c.IssueToWorkOrder, work_order="WO1", lot="L1", bin="LINE1", quantity=D(30))
    err = plant.refuse(c.IssueToWorkOrder, "OVER_CONSUMPTION", "quantity", work_order="WO1", lot="L1", bin="LINE1",
                       quantity=D(11))
    assert err.message == "work order WO1 still needs 10 of SCREW; 11 is more"
    plant.do(c.IssueToWorkOrder, work_order="WO1", lot="L1", bin="LINE1", quantity=D(10))
    assert plant.state.bom_lines[("WO1", 1)].consumed == D(40)


def test_an_issue_cannot_take_more_than_the_bin_holds(plant: Plant) -> None:
    _receive(plant, "L2", 5, bin="LINE1")
    plant.refuse(c.IssueToWorkOrder, "INSUFFICIENT_STOCK", "quantity", work_order="WO1", lot="L2", bin="LINE1",
                 quantity=D(6))
    plant.refuse(c.IssueToWorkOrder, "INSUFFICIENT_STOCK", "quantity", work_order="WO1", lot="L2", bin="A-02-3",
                 quantity=D(1))


def test_nothing_is_issued_to_a_completed_work_order(plant: Plant) -> None:
    for op in (10, 20):
        plant.do(c.StartOperation, work_order="WO1", operation=op)
        plant.do(c.CompleteOperation, work_order="WO1", operation=op)
    plant.refuse(c.IssueToWorkOrder, "WORK_ORDER_COMPLETED", "work_order", work_order="WO1", lot="L1", bin="LINE1",
                 quantity=D(1))


# --- returns ---------------------------------------------------------------------------------------


def test_a_return_puts_stock_back_and_lowers_the_consumption(plant: Plant) -> None:
    plant.do(c.IssueToWorkOrder, work_order="WO1", lot="L1", bin="LINE1", quantity=D(10))
    [ev] = plant.do(c.ReturnFromWorkOrder, work_order="WO1", lot="L1", bin="A-02-3", quantity=D(4))
    assert (ev.kind, ev.from_bin, ev.to_bin, ev.lot_quantity_delta) == ("return", None, "A-02-3", D(4))
    assert plant.stock("L1") == {"LINE1": D(90), "A-02-3": D(4)}
    assert plant.lot("L1").quantity == D(94)
    assert plant.state.bom_lines[("WO1", 1)].consumed == D(6)


def test_more_cannot_come_back_than_was_issued(plant: Plant) -> None:
    plant.do(c.IssueToWorkOrder, work_order="WO1", lot="L1", bin="LINE1", quantity=D(10))
    err = plant.refuse(c.ReturnFromWorkOrder, "OVER_RETURN", "quantity", work_order="WO1", lot="L1", bin="LINE1",
                       quantity=D(11))
    assert err.message == "only 10 of SCREW was issued to WO1; cannot return 11"


def test_a_return_revives_a_consumed_lot(plant: Plant) -> None:
    _receive(plant, "L2", 5, bin="LINE1")
    plant.do(c.IssueToWorkOrder, work_order="WO1", lot="L2", bin="LINE1", quantity=D(5))
    plant.do(c.ReturnFromWorkOrder, work_order="WO1", lot="L2", bin="LINE1", quantity=D(2))
    assert (plant.lot("L2").quantity, plant.lot("L2").status) == (D(2), "available")


def test_a_return_must_fit_the_bin(plant: Plant) -> None:
    plant.do(c.IssueToWorkOrder, work_order="WO1", lot="L1", bin="LINE1", quantity=D(10))
    plant.refuse(c.ReturnFromWorkOrder, "ITEM_NOT_ALLOWED_IN_BIN", "bin", work_order="WO1", lot="L1", bin="CAGE",
                 quantity=D(1))


# --- counts and scrap ------------------------------------------------------------------------------


def test_a_count_above_the_book_adds_the_difference(plant: Plant) -> None:
    [ev] = plant.do(c.AdjustStock, lot="L1", bin="LINE1", counted=D(103), reason="cycle count")
    assert (ev.kind, ev.from_bin, ev.to_bin, ev.quantity, ev.lot_quantity_delta) == ("adjust", None, "LINE1", D(3), D(3))
    assert plant.stock("L1") == {"LINE1": D(103)}
    assert plant.lot("L1").quantity == D(103)


def test_a_count_below_the_book_removes_the_difference(plant: Plant) -> None:
    [ev] = plant.do(c.AdjustStock, lot="L1", bin="LINE1", counted=D(98), reason="cycle count")
    assert (ev.from_bin, ev.to_bin, ev.quantity, ev.lot_quantity_delta) == ("LINE1", None, D(2), D(-2))
    assert plant.lot("L1").quantity == D(98)


def test_a_count_of_zero_empties_the_bin(plant: Plant) -> None:
    plant.do(c.AdjustStock, lot="L1", bin="LINE1", counted=D(0), reason="not found")
    assert plant.stock("L1") == {}
    assert plant.lot("L1").status == "consumed"


def test_a_count_in_another_bin_creates_stock_there(plant: Plant) -> None:
    plant.do(c.AdjustStock, lot="L1", bin="A-02-3", counted=D(5), reason="found on shelf")
    assert plant.stock("L1") == {"LINE1": D(100), "A-02-3": D(5)}
    assert plant.lot("L1").quantity == D(105)


@pytest.mark.parametrize(
    ("counted", "reason", "code", "field"),
    [
        (D(100), "count", "NO_DIFFERENCE", "counted"),
        (D(90), "", "MISSING_REASON", "reason"),
        (D(90), "   ", "MISSING_REASON", "reason"),
        (D(-1), "count", "INVALID_QUANTITY", "counted"),
    ],
)
def test_a_count_is_checked(plant: Plant, counted: D, reason: str, code: str, field: str) -> None:
    plant.refuse(c.AdjustStock, code, field, lot="L1", bin="LINE1", counted=counted, reason=reason)


def test_scrap_removes_stock_and_needs_a_reason(plant: Plant) -> None:
    plant.refuse(c.ScrapStock, "MISSING_REASON", "reason", lot="L1", bin="LINE1", quantity=D(5), reason="")
    plant.refuse(c.ScrapStock, "INSUFFICIENT_STOCK", "quantity", lot="L1", bin="LINE1", quantity=D(101), reason="wet")
    [ev] = plant.do(c.ScrapStock, lot="L1", bin="LINE1", quantity=D(5), reason="wet")
    assert (ev.kind, ev.reason, ev.lot_quantity_delta) == ("scrap", "wet", D(-5))
    assert plant.stock("L1") == {"LINE1": D(95)}
    assert plant.lot("L1").quantity == D(95)


# --- holds -----------------------------------------------------------------------------------------


def test_hold_and_release_by_quality(plant: Plant) -> None:
    plant.refuse(c.HoldLot, "MISSING_REASON", "reason", lot="L1", reason="")
    plant.do(c.HoldLot, lot="L1", reason="suspect thread")
    assert plant.lot("L1").status == "hold"
    plant.refuse(c.HoldLot, "LOT_ON_HOLD", "lot", lot="L1", reason="again")
    plant.do(c.ReleaseLot, lot="L1", reason="thread gauge ok", roles=QUALITY)
    assert plant.lot("L1").status == "available"


def test_only_quality_releases_a_lot(plant: Plant) -> None:
    plant.do(c.HoldLot, lot="L1", reason="suspect thread")
    err = plant.refuse(c.ReleaseLot, "ROLE_REQUIRED", None, lot="L1", reason="looks fine",
                       roles=frozenset({"operator", "warehouse", "supervisor"}))
    assert "needs the role quality" in err.message
    assert plant.lot("L1").status == "hold"


def test_an_open_nonconformance_blocks_the_release(plant: Plant) -> None:
    plant.do(c.RaiseNonconformance, ncr="NCR-7", description="burrs", lot="L1")
    assert plant.lot("L1").status == "hold"
    err = plant.refuse(c.ReleaseLot, "NONCONFORMANCE_OPEN", "lot", lot="L1", reason="ok", roles=QUALITY)
    assert err.message == "lot L1 is held by NCR-7: disposition it first"


def test_a_hold_over_quarantine_releases_back_to_quarantine(plant: Plant) -> None:
    _receive(plant, "L2", 10, quarantine=True)
    plant.do(c.HoldLot, lot="L2", reason="damaged pallet")
    assert plant.lot("L2").status == "hold"
    plant.do(c.ReleaseLot, lot="L2", reason="pallet ok", roles=QUALITY)
    assert plant.lot("L2").status == "quarantine"
    plant.do(c.ReleaseLot, lot="L2", reason="incoming inspection passed", roles=QUALITY)
    assert plant.lot("L2").status == "available"


def test_an_available_lot_has_nothing_to_release(plant: Plant) -> None:
    plant.refuse(c.ReleaseLot, "LOT_NOT_ON_HOLD", "lot", lot="L1", reason="ok", roles=QUALITY)


def test_a_consumed_lot_cannot_be_held(plant: Plant) -> None:
    plant.do(c.ScrapStock, lot="L1", bin="LINE1", quantity=D(100), reason="flood")
    plant.refuse(c.HoldLot, "LOT_CONSUMED", "lot", lot="L1", reason="recall")


def test_stock_found_again_in_an_emptied_quarantine_lot_stays_in_quarantine(plant: Plant) -> None:
    _receive(plant, "L2", 10, quarantine=True)
    plant.do(c.AdjustStock, lot="L2", bin="RECV", counted=D(0), reason="not found")
    assert plant.lot("L2").status == "consumed"
    plant.do(c.AdjustStock, lot="L2", bin="RECV", counted=D(4), reason="found behind the rack")
    assert (plant.lot("L2").quantity, plant.lot("L2").status) == (D(4), "quarantine")
    plant.refuse(c.IssueToWorkOrder, "LOT_IN_QUARANTINE", "lot", work_order="WO1", lot="L2", bin="RECV", quantity=D(1))


def test_stock_found_again_in_an_emptied_lot_on_hold_stays_on_hold(plant: Plant) -> None:
    plant.do(c.RaiseNonconformance, ncr="NCR-1", description="corroded", lot="L1")
    plant.do(c.ScrapStock, lot="L1", bin="LINE1", quantity=D(100), reason="corroded")
    assert plant.lot("L1").status == "consumed"
    plant.do(c.AdjustStock, lot="L1", bin="LINE1", counted=D(3), reason="found in a tote")
    assert plant.lot("L1").status == "hold"
    plant.refuse(c.IssueToWorkOrder, "LOT_ON_HOLD", "lot", work_order="WO1", lot="L1", bin="LINE1", quantity=D(1))
    plant.refuse(c.ReleaseLot, "NONCONFORMANCE_OPEN", "lot", lot="L1", reason="ok", roles=QUALITY)


def test_a_serialised_unit_is_issued_once_until_it_is_returned(plant: Plant) -> None:
    plant.do(c.IssueToWorkOrder, work_order="WO1", lot="L1", bin="LINE1", quantity=D(1), serial="SN-7")
    err = plant.refuse(c.IssueToWorkOrder, "DUPLICATE_SERIAL", "serial", work_order="WO1", lot="L1", bin="LINE1",
                       quantity=D(1), serial="SN-7")
    assert "already issued to work order WO1" in err.message
    plant.refuse(c.ReturnFromWorkOrder, "SERIAL_NOT_ISSUED", "serial", work_order="WO1", lot="L1", bin="LINE1",
                 quantity=D(1), serial="SN-8")
    plant.do(c.ReturnFromWorkOrder, work_order="WO1", lot="L1", bin="LINE1", quantity=D(1), serial="SN-7")
    assert plant.state.serials == {}
    plant.do(c.IssueToWorkOrder, work_order="WO1", lot="L1", bin="LINE1", quantity=D(1), serial="SN-7")
    assert plant.state.serials[("SCREW", "SN-7")].work_order == "WO1"


# --- lots the ERP defines ----------------------------------------------------------------------------


def test_a_lot_defined_by_the_erp_is_known_without_stock_and_its_receipt_takes_its_expiry(plant: Plant) -> None:
    [defined] = plant.do(c.DefineLot, lot="T-1", item="SCREW", expiry=date(2026, 9, 1))
    assert isinstance(defined, e.LotDefined)
    lot = plant.lot("T-1")
    assert (lot.item, lot.item_revision, lot.quantity, lot.status, lot.expiry) == (
        "SCREW", "B", D(0), "available", date(2026, 9, 1))
    assert plant.stock("T-1") == {}
    plant.refuse(c.IssueToWorkOrder, "INSUFFICIENT_STOCK", "quantity", work_order="WO1", lot="T-1", bin="RECV",
                 quantity=D(1))
    _receive(plant, "T-1", 10)  # the label carries no expiry: the ERP's holds
    assert (plant.lot("T-1").quantity, plant.lot("T-1").expiry) == (D(10), date(2026, 9, 1))
    assert plant.stock("T-1") == {"RECV": D(10)}
    plant.refuse(c.ReceiveLot, "DUPLICATE_LOT", "lot", lot="T-1", item="SCREW", item_revision=None,
                 quantity=D(1), bin="RECV")  # received once: a second receipt is a duplicate as before


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"item": "GASKET"}, "WRONG_ITEM", "item"),
        ({"expiry": date(2026, 9, 2)}, "EXPIRY_MISMATCH", "expiry"),
    ],
)
def test_a_receipt_of_a_defined_lot_must_agree_with_it(plant: Plant, fields: dict[str, Any], code: str,
                                                       field: str) -> None:
    plant.do(c.DefineLot, lot="T-1", item="SCREW", expiry=date(2026, 9, 1))
    receipt: dict[str, Any] = {"lot": "T-1", "item": "SCREW", "item_revision": None, "quantity": D(10), "bin": "RECV"}
    receipt.update(fields)
    err = plant.refuse(c.ReceiveLot, code, field, **receipt)
    if code == "EXPIRY_MISMATCH":
        assert err.message.startswith("lot T-1 is known with expiry 2026-09-01 (from the ERP), not 2026-09-02")


def test_a_defined_lot_that_expired_before_it_arrives_is_not_received(plant: Plant) -> None:
    plant.do(c.DefineLot, lot="T-1", item="SCREW", expiry=date(2026, 6, 1))
    err = plant.refuse(c.ReceiveLot, "LOT_EXPIRED", "expiry", lot="T-1", item="SCREW", item_revision=None,
                       quantity=D(1), bin="RECV")
    assert err.message == "lot T-1 expired on 2026-06-01: not received"


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"item": "VALVE"}, "UNKNOWN_ITEM", "item"),
        ({"lot": " "}, "MISSING_VALUE", "lot"),
        ({"lot": "L1", "item": "GASKET"}, "WRONG_ITEM", "item"),  # L1 is a lot of SCREW here
    ],
)
def test_a_lot_definition_is_checked(plant: Plant, fields: dict[str, Any], code: str, field: str) -> None:
    definition: dict[str, Any] = {"lot": "T-1", "item": "SCREW", "expiry": date(2026, 9, 1)}
    definition.update(fields)
    plant.refuse(c.DefineLot, code, field, **definition)


def test_the_erp_shortening_the_expiry_of_a_lot_in_stock_stops_its_use(plant: Plant) -> None:
    _receive(plant, "L2", 10, bin="LINE1", expiry=date(2026, 12, 1))
    _receive(plant, "L3", 10, bin="RECV", expiry=date(2026, 12, 1))
    assert plant.do(c.DefineLot, lot="L2", item="SCREW", expiry=date(2026, 12, 1)) == []  # the same: nothing new
    [changed] = plant.do(c.DefineLot, lot="L2", item="SCREW", expiry=date(2026, 6, 10))
    assert changed == e.LotExpiryChanged(lot="L2", item="SCREW", expiry=date(2026, 6, 10),
                                         previous=date(2026, 12, 1), quantity=D(10))
    assert (plant.lot("L2").expiry, plant.lot("L2").quantity, plant.stock("L2")) == (
        date(2026, 6, 10), D(10), {"LINE1": D(10)})  # stock and status stay
    err = plant.refuse(c.IssueToWorkOrder, "LOT_EXPIRED", "lot", work_order="WO1", lot="L2", bin="LINE1",
                       quantity=D(1))
    assert err.message == "lot L2 expired on 2026-06-10; FEFO pick is L3 in bin RECV"
    plant.refuse(c.PickForKitting, "LOT_EXPIRED", "lot", work_order="WO1", lot="L2", from_bin="LINE1",
                 to_bin="RECV", quantity=D(1), asked=D(1))
