"""Incoming inspection per supplier lot, in-process inspection by count or time, final inspection before completion,
and the shift OEE record: pure domain rules (edge.domain.plant with edge.domain.sampling)."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from edge.domain import commands as c
from edge.domain import events as e
from edge.domain import sampling
from tests.unit.plant_helpers import NOW, QUALITY, D, Plant, use_as_is

FINISH = c.CharacteristicSpec(characteristic="finish", kind="attribute")
BORE = c.CharacteristicSpec(characteristic="bore", kind="numeric", lsl=D("9.9"), usl=D("10.1"), unit="mm")


# --- the sample size table -----------------------------------------------------------------------


@pytest.mark.parametrize(("quantity", "letter", "n"), [
    (D(2), "A", 2), (D(8), "A", 2), (D(9), "B", 3), (D(50), "D", 8), (D(51), "E", 13), (D(150), "F", 20),
    (D(151), "G", 32), (D(500), "H", 50), (D(1200), "J", 80), (D(1201), "K", 125), (D(10000), "L", 200),
    (D(35001), "N", 500), (D(500001), "Q", 1250), (D("90.2"), "F", 20),
])
def test_level_ii_code_letters_and_sample_sizes(quantity: Decimal, letter: str, n: int) -> None:
    assert sampling.code_letter(sampling.lot_size(quantity)) == letter
    assert sampling.sample_size(quantity, None, True) == n


def test_a_sample_is_never_larger_than_the_lot_and_a_fixed_n_wins() -> None:
    assert sampling.sample_size(D(1), None, True) == 1  # code letter A asks 2: the whole lot of 1
    assert sampling.sample_size(D(500), 7, False) == 7
    assert sampling.sample_size(D(3), 7, False) == 3
    assert sampling.sample_size(D(500), None, False) == 1


def test_interval_due_by_count_or_time() -> None:
    assert sampling.interval_due(D(9), NOW, NOW, 10, None) is None
    by_count = sampling.interval_due(D(10), NOW, NOW, 10, 60)
    assert by_count is not None and by_count.reason == "count" and by_count.due_since is None
    by_time = sampling.interval_due(D(0), NOW, NOW + timedelta(minutes=60), 10, 60)
    assert by_time is not None and by_time.reason == "time" and by_time.due_since == NOW + timedelta(minutes=60)
    assert sampling.interval_due(D(0), NOW, NOW + timedelta(minutes=59, seconds=59), None, 60) is None


# --- incoming inspection -------------------------------------------------------------------------


def _po(plant: Plant, po: str = "PO1", supplier: str = "ACME", quantity: Decimal = Decimal(60)) -> None:
    plant.do(c.DefinePurchaseOrder, purchase_order=po, supplier=supplier, roles=frozenset({"service"}),
             lines=(c.PurchaseOrderLineSpec(line=1, item="SCREW", quantity=quantity),))


def _incoming_plan(plant: Plant, **fields: Any) -> None:
    plant.do(c.DefineInspectionPlan, plan="INC-SCREW", description="Incoming screws", kind="incoming",
             characteristics=(FINISH,), roles=QUALITY, **{"item": "SCREW", **fields})


def _receive(plant: Plant, lot: str = "S1", quantity: Decimal = Decimal(60), po: str = "PO1") -> list[Any]:
    return plant.do(c.ReceiveAgainstPurchaseOrder, purchase_order=po, line=None, lot=lot, item="SCREW",
                    quantity=quantity, bin="RECV", supplier_lot=f"SUP-{lot}")


def _sample(plant: Plant, inspection: str, passed: bool, lot: str = "S1", plan: str = "INC-SCREW") -> list[Any]:
    return plant.do(c.RecordInspection, inspection=inspection, plan=plan, lot=lot, roles=QUALITY,
                    measurements=(c.Measurement(characteristic="finish", passed=passed),))


def test_a_receipt_under_an_incoming_plan_awaits_inspection_of_its_sample(plant: Plant) -> None:
    _po(plant)
    _incoming_plan(plant, sample_by_lot_size=True)
    events = _receive(plant)
    received = next(ev for ev in events if isinstance(ev, e.LotReceived))
    opened = next(ev for ev in events if isinstance(ev, e.InspectionTaskOpened))
    assert received.status == "quarantine"
    assert (opened.task, opened.kind, opened.sample_size, opened.supplier, opened.supplier_lot,
            opened.purchase_order) == ("INC-S1", "incoming", 13, "ACME", "SUP-S1", "PO1")  # 60 pcs: letter E, n 13
    assert plant.lot("S1").status == "quarantine"


def test_a_receipt_without_a_plan_for_item_or_supplier_is_available(plant: Plant) -> None:
    _po(plant, supplier="OTHER")
    _incoming_plan(plant, item=None, supplier="ACME")
    events = _receive(plant)
    assert not any(isinstance(ev, e.InspectionTaskOpened) for ev in events)
    assert plant.lot("S1").status == "available"


def test_the_most_specific_incoming_plan_applies(plant: Plant) -> None:
    _po(plant)
    _incoming_plan(plant, sample_size=2)
    plant.do(c.DefineInspectionPlan, plan="ACME-SCREW", description="", kind="incoming", item="SCREW",
             supplier="ACME", sample_size=5, characteristics=(FINISH,), roles=QUALITY)
    opened = next(ev for ev in _receive(plant) if isinstance(ev, e.InspectionTaskOpened))
    assert (opened.plan, opened.sample_size) == ("ACME-SCREW", 5)


def test_a_lot_awaiting_inspection_is_refused_for_issue_and_picking_naming_the_lot(plant: Plant) -> None:
    _po(plant)
    _incoming_plan(plant, sample_size=3)
    _receive(plant)
    err = plant.refuse(c.IssueToWorkOrder, "LOT_AWAITING_INSPECTION", "lot", work_order="WO1", lot="S1", bin="RECV",
                       quantity=D(4))
    assert "lot S1 awaits incoming inspection INC-S1" in err.message and "0 of 3 samples" in err.message
    plant.refuse(c.PickForKitting, "LOT_AWAITING_INSPECTION", "lot", work_order="WO1", lot="S1", from_bin="RECV",
                 to_bin="LINE1", asked=D(4), quantity=D(4))
    plant.refuse(c.ReleaseLot, "INSPECTION_OPEN", "lot", lot="S1", reason="looks fine", roles=QUALITY)


def test_the_verdict_comes_after_n_samples_and_a_pass_releases_the_lot(plant: Plant) -> None:
    _po(plant)
    _incoming_plan(plant, sample_size=3)
    _receive(plant)
    assert not any(isinstance(ev, e.SupplierLotVerdict) for ev in _sample(plant, "I1", True))
    _sample(plant, "I2", True)
    assert plant.state.inspection_tasks["INC-S1"].samples == 2
    assert plant.lot("S1").status == "quarantine"
    events = _sample(plant, "I3", True)
    [verdict] = [ev for ev in events if isinstance(ev, e.SupplierLotVerdict)]
    assert (verdict.verdict, verdict.samples, verdict.failed, verdict.supplier, verdict.supplier_lot,
            verdict.purchase_order, verdict.po_line, verdict.ncr) == ("accepted", 3, 0, "ACME", "SUP-S1", "PO1", 1,
                                                                      None)
    assert plant.lot("S1").status == "available"
    assert plant.state.inspection_tasks["INC-S1"].status == "passed"
    plant.do(c.IssueToWorkOrder, work_order="WO1", lot="S1", bin="RECV", quantity=D(4))
    plant.refuse(c.RecordInspection, "INSPECTION_CLOSED", "lot", inspection="I4", plan="INC-SCREW", lot="S1",
                 roles=QUALITY, measurements=(c.Measurement(characteristic="finish", passed=True),))


def test_more_failed_samples_than_accepted_hold_the_lot_with_a_nonconformance(plant: Plant) -> None:
    _po(plant)
    _incoming_plan(plant, sample_size=3, accept_number=1)
    _receive(plant)
    first_fail = _sample(plant, "I1", False)
    assert not any(isinstance(ev, e.NonconformanceRaised) for ev in first_fail)  # no verdict on one sample
    _sample(plant, "I2", True)
    events = _sample(plant, "I3", False)
    [verdict] = [ev for ev in events if isinstance(ev, e.SupplierLotVerdict)]
    assert (verdict.verdict, verdict.failed, verdict.ncr) == ("rejected", 2, "NCR-I3")
    assert plant.lot("S1").status == "hold"
    assert plant.state.nonconformances["NCR-I3"].lot == "S1"
    plant.refuse(c.IssueToWorkOrder, "LOT_ON_HOLD", "lot", work_order="WO1", lot="S1", bin="RECV", quantity=D(4))
    # used as is after all: the lot becomes available (not back to awaiting inspection)
    plant.do(c.DispositionNonconformance, ncr="NCR-I3", disposition="use_as_is", roles=QUALITY, **use_as_is())
    assert plant.lot("S1").status == "available"


def test_one_failure_within_the_acceptance_number_still_accepts(plant: Plant) -> None:
    _po(plant)
    _incoming_plan(plant, sample_size=2, accept_number=1)
    _receive(plant)
    _sample(plant, "I1", False)
    [verdict] = [ev for ev in _sample(plant, "I2", True) if isinstance(ev, e.SupplierLotVerdict)]
    assert verdict.verdict == "accepted" and plant.lot("S1").status == "available"


def test_an_incoming_sample_needs_the_lot_and_the_tasks_plan(plant: Plant) -> None:
    _po(plant)
    _incoming_plan(plant, sample_size=2)
    plant.do(c.DefineInspectionPlan, plan="OTHER", description="", kind="incoming", item="GASKET",
             characteristics=(FINISH,), roles=QUALITY)
    _receive(plant)
    plant.refuse(c.RecordInspection, "MISSING_VALUE", "lot", inspection="I1", plan="INC-SCREW", lot=None,
                 roles=QUALITY, measurements=(c.Measurement(characteristic="finish", passed=True),))
    plant.refuse(c.RecordInspection, "WRONG_PLAN", "plan", inspection="I1", plan="OTHER", lot="S1",
                 roles=QUALITY, measurements=(c.Measurement(characteristic="finish", passed=True),))
    plant.refuse(c.RecordInspection, "NO_INSPECTION_TASK", "lot", inspection="I1", plan="INC-SCREW", lot="L1",
                 roles=QUALITY, measurements=(c.Measurement(characteristic="finish", passed=True),))


def _plain(plant: Plant, lot: str = "S9", quantity: Decimal = Decimal(40), **fields: Any) -> list[Any]:
    return plant.do(c.ReceiveLot, lot=lot, item="SCREW", item_revision=None, quantity=quantity, bin="RECV",
                    supplier_lot=f"SUP-{lot}", **fields)


def test_a_plain_receipt_of_an_item_with_an_incoming_plan_awaits_inspection(plant: Plant) -> None:
    _incoming_plan(plant, sample_size=2)
    events = _plain(plant)
    received = next(ev for ev in events if isinstance(ev, e.LotReceived))
    opened = next(ev for ev in events if isinstance(ev, e.InspectionTaskOpened))
    assert received.status == "quarantine" and received.purchase_order is None
    assert (opened.task, opened.kind, opened.plan, opened.sample_size, opened.supplier, opened.supplier_lot,
            opened.purchase_order) == ("INC-S9", "incoming", "INC-SCREW", 2, None, "SUP-S9", None)
    plant.refuse(c.IssueToWorkOrder, "LOT_AWAITING_INSPECTION", "lot", work_order="WO1", lot="S9", bin="RECV",
                 quantity=D(4))
    _sample(plant, "P1", True, lot="S9")
    [verdict] = [ev for ev in _sample(plant, "P2", True, lot="S9") if isinstance(ev, e.SupplierLotVerdict)]
    assert (verdict.verdict, verdict.supplier, verdict.supplier_lot, verdict.purchase_order, verdict.po_line) == (
        "accepted", "", "SUP-S9", None, None)
    assert plant.lot("S9").status == "available"
    plant.do(c.IssueToWorkOrder, work_order="WO1", lot="S9", bin="RECV", quantity=D(4))


def test_a_plain_receipt_that_fails_its_incoming_inspection_is_held_with_a_nonconformance(plant: Plant) -> None:
    _incoming_plan(plant, sample_size=1)
    _plain(plant)
    events = _sample(plant, "P1", False, lot="S9")
    [ncr] = [ev for ev in events if isinstance(ev, e.NonconformanceRaised)]
    assert ncr.lot == "S9" and plant.lot("S9").status == "hold"
    assert plant.state.inspection_tasks["INC-S9"].status == "failed"


def test_receiving_staff_record_incoming_samples_but_no_other_inspection(plant: Plant) -> None:
    warehouse = frozenset({"warehouse"})
    _incoming_plan(plant, sample_size=1)
    _plain(plant)
    plant.do(c.DefineInspectionPlan, plan="GEN", description="", item="SCREW", characteristics=(FINISH,),
             roles=QUALITY)
    err = plant.refuse(c.RecordInspection, "ROLE_REQUIRED", None, inspection="W0", plan="GEN", lot="S9",
                       roles=warehouse, measurements=(c.Measurement(characteristic="finish", passed=True),))
    assert "recording a general inspection (plan GEN)" in err.message
    plant.do(c.RecordInspection, inspection="W1", plan="INC-SCREW", lot="S9", roles=warehouse,
             measurements=(c.Measurement(characteristic="finish", passed=True),))
    assert plant.lot("S9").status == "available"


def test_an_incoming_plan_per_supplier_cannot_apply_to_a_receipt_that_names_no_supplier(plant: Plant) -> None:
    _incoming_plan(plant, item=None, supplier="ACME")
    plant.do(c.DefineInspectionPlan, plan="ACME-SCREW", description="", kind="incoming", item="SCREW",
             supplier="ACME", sample_size=5, characteristics=(FINISH,), roles=QUALITY)
    events = _plain(plant)
    assert not any(isinstance(ev, e.InspectionTaskOpened) for ev in events)
    assert plant.lot("S9").status == "available"
    plant.refuse(c.RecordInspection, "NO_INSPECTION_TASK", "lot", inspection="P1", plan="ACME-SCREW", lot="S9",
                 roles=QUALITY, measurements=(c.Measurement(characteristic="finish", passed=True),))


def test_opening_stock_is_inspected_only_when_it_is_entered_in_quarantine(plant: Plant) -> None:
    _incoming_plan(plant, sample_size=2)
    on_hand = _plain(plant, "O1", opening_stock=True)
    assert not any(isinstance(ev, e.InspectionTaskOpened) for ev in on_hand)
    assert plant.lot("O1").status == "available"
    waiting = _plain(plant, "O2", quarantine=True, opening_stock=True)
    assert [ev.task for ev in waiting if isinstance(ev, e.InspectionTaskOpened)] == ["INC-O2"]
    assert plant.lot("O2").status == "quarantine"
    # The flag is not part of what a repeated idempotency key must match (old journals' commands stay the same).
    assert "opening_stock" not in repr(plant.command(c.ReceiveLot, lot="O3", item="SCREW", item_revision=None,
                                                     quantity=D(1), bin="RECV", opening_stock=True))


@pytest.mark.parametrize(("fields", "field"), [
    ({"kind": "incoming", "item": None}, "item"),
    ({"kind": "final", "item": None}, "item"),
    ({"kind": "in_process", "operation": None, "every_n_parts": 5}, "operation"),
    ({"kind": "in_process", "operation": 10}, "every_n_parts"),
    ({"kind": "general", "every_minutes": 5}, "every_n_parts"),
    ({"kind": "incoming", "sample_size": 0}, "sample_size"),
    ({"kind": "incoming", "sample_size": 2, "accept_number": 2}, "accept_number"),
    ({"kind": "incoming", "sample_size": 2, "sample_by_lot_size": True}, "sample_size"),
    ({"kind": "general", "supplier": "ACME"}, "supplier"),
    ({"kind": "batch"}, "kind"),
])
def test_a_plan_whose_sampling_does_not_fit_its_kind_is_refused(plant: Plant, fields: dict[str, Any],
                                                               field: str) -> None:
    plant.refuse(c.DefineInspectionPlan, "INVALID_KIND" if field == "kind" else plant_code(fields, field), field,
                 plan="P", description="", characteristics=(FINISH,), roles=QUALITY, **{"item": "SCREW", **fields})


def plant_code(fields: dict[str, Any], field: str) -> str:
    missing = (field in ("item", "operation") or (field == "every_n_parts" and fields.get("kind") == "in_process"))
    return "MISSING_VALUE" if missing else "INVALID_VALUE"


# --- in-process inspection -----------------------------------------------------------------------


def _in_process(plant: Plant, **fields: Any) -> None:
    plant.do(c.DefineInspectionPlan, plan="IPC-10", description="Bore every n parts", kind="in_process", item="PUMP",
             operation=10, characteristics=(BORE,), roles=QUALITY, **fields)


def _measure(plant: Plant, inspection: str, at: Any = None) -> list[Any]:
    return plant.do(c.RecordInspection, inspection=inspection, plan="IPC-10", work_order="WO1", operation=10,
                    roles=QUALITY, measurements=(c.Measurement(characteristic="bore", value=D(10)),), now=at)


def test_an_in_process_inspection_is_due_after_n_parts_and_a_full_sample_resets_the_count(plant: Plant) -> None:
    _in_process(plant, every_n_parts=5, sample_size=2)
    plant.do(c.StartOperation, work_order="WO1", operation=10)
    iv = plant.state.inspection_intervals[("IPC-10", "WO1", 10)]
    assert (iv.parts_since, iv.since, iv.workstation) == (D(0), NOW, "WS1")
    plant.do(c.ReportProduction, work_order="WO1", operation=10, good=D(3), scrap=D(1), scrap_reason="burr")
    assert sampling.interval_due(iv.parts_since, iv.since, NOW, 5, None) is None
    plant.do(c.ReportProduction, work_order="WO1", operation=10, good=D(1))
    due = sampling.interval_due(iv.parts_since, iv.since, NOW, 5, None)
    assert due is not None and due.reason == "count" and due.parts_since == 5
    later = NOW + timedelta(minutes=3)
    _measure(plant, "Q1", later)
    assert iv.samples == 1 and iv.parts_since == 5  # one of two samples: still due
    _measure(plant, "Q2", later)
    assert (iv.samples, iv.parts_since, iv.since) == (0, D(0), later)


def test_an_in_process_inspection_is_due_after_its_minutes_from_the_start(plant: Plant) -> None:
    _in_process(plant, every_minutes=30)
    plant.do(c.StartOperation, work_order="WO1", operation=10)
    iv = plant.state.inspection_intervals[("IPC-10", "WO1", 10)]
    assert sampling.interval_due(iv.parts_since, iv.since, NOW + timedelta(minutes=29), None, 30) is None
    due = sampling.interval_due(iv.parts_since, iv.since, NOW + timedelta(minutes=30), None, 30)
    assert due is not None and due.reason == "time"


def test_production_beyond_the_grace_while_overdue_is_flagged_once(plant: Plant) -> None:
    _in_process(plant, every_n_parts=4, flag_overdue=True, overdue_grace_parts=D(2))
    plant.do(c.StartOperation, work_order="WO1", operation=10)
    assert len(plant.do(c.ReportProduction, work_order="WO1", operation=10, good=D(6))) == 1  # 2 over: grace
    events = plant.do(c.ReportProduction, work_order="WO1", operation=10, good=D(1))
    [flag] = [ev for ev in events if isinstance(ev, e.InspectionOverdueFlagged)]
    assert (flag.workstation, flag.reason, flag.parts_since, flag.overdue_parts) == ("WS1", "count", D(7), D(3))
    assert len(plant.do(c.ReportProduction, work_order="WO1", operation=10, good=D(1))) == 1  # flagged once
    _measure(plant, "Q1")
    assert plant.state.inspection_intervals[("IPC-10", "WO1", 10)].flagged is False


def test_production_while_time_due_counts_as_overdue(plant: Plant) -> None:
    _in_process(plant, every_minutes=10, flag_overdue=True)
    plant.do(c.StartOperation, work_order="WO1", operation=10)
    assert len(plant.do(c.ReportProduction, work_order="WO1", operation=10, good=D(1),
                        now=NOW + timedelta(minutes=9))) == 1
    events = plant.do(c.ReportProduction, work_order="WO1", operation=10, good=D(1), now=NOW + timedelta(minutes=11))
    [flag] = [ev for ev in events if isinstance(ev, e.InspectionOverdueFlagged)]
    assert flag.reason == "time" and flag.overdue_parts == 1


def test_completing_the_operation_ends_its_interval(plant: Plant) -> None:
    _in_process(plant, every_n_parts=4)
    plant.do(c.StartOperation, work_order="WO1", operation=10)
    plant.do(c.CompleteOperation, work_order="WO1", operation=10)
    assert plant.state.inspection_intervals == {}


# --- final inspection ----------------------------------------------------------------------------


def _final_plan(plant: Plant, **fields: Any) -> None:
    plant.do(c.DefineInspectionPlan, plan="FINAL-PUMP", description="Final", kind="final", item="PUMP",
             characteristics=(FINISH,), roles=QUALITY, **fields)


def _final(plant: Plant, inspection: str, passed: bool) -> list[Any]:
    return plant.do(c.RecordInspection, inspection=inspection, plan="FINAL-PUMP", work_order="WO1", roles=QUALITY,
                    measurements=(c.Measurement(characteristic="finish", passed=passed),))


def _run_to_last_operation(plant: Plant) -> None:
    for op in (10, 20):
        plant.do(c.StartOperation, work_order="WO1", operation=op)
    plant.do(c.CompleteOperation, work_order="WO1", operation=10)


def test_a_work_order_completes_only_after_its_final_inspection_passed(plant: Plant) -> None:
    _final_plan(plant, sample_size=2)
    _run_to_last_operation(plant)
    err = plant.refuse(c.CompleteOperation, "FINAL_INSPECTION_MISSING", "work_order", work_order="WO1", operation=20)
    assert "WO1" in err.message and "FINAL-PUMP" in err.message and "no samples" in err.message
    opened = _final(plant, "F1", True)
    assert isinstance(opened[0], e.InspectionTaskOpened) and opened[0].sample_size == 2
    err = plant.refuse(c.CompleteOperation, "FINAL_INSPECTION_MISSING", "work_order", work_order="WO1", operation=20)
    assert "1 of 2 samples" in err.message
    [verdict] = [ev for ev in _final(plant, "F2", True) if isinstance(ev, e.FinalInspectionVerdict)]
    assert verdict.verdict == "passed"
    events = plant.do(c.CompleteOperation, work_order="WO1", operation=20)
    assert any(isinstance(ev, e.WorkOrderCompleted) for ev in events)


def test_a_failed_final_inspection_refuses_completion_until_a_new_one_passes(plant: Plant) -> None:
    _final_plan(plant)
    _run_to_last_operation(plant)
    events = _final(plant, "F1", False)
    [verdict] = [ev for ev in events if isinstance(ev, e.FinalInspectionVerdict)]
    assert (verdict.verdict, verdict.ncr) == ("failed", "NCR-F1")
    assert plant.state.nonconformances["NCR-F1"].work_order == "WO1"
    plant.refuse(c.CompleteOperation, "FINAL_INSPECTION_FAILED", "work_order", work_order="WO1", operation=20)
    again = _final(plant, "F2", True)
    assert isinstance(again[0], e.InspectionTaskOpened)  # a new round after the rework
    plant.do(c.CompleteOperation, work_order="WO1", operation=20)
    assert plant.wo("WO1").status == "completed"


def test_an_order_of_another_item_is_not_held_by_a_final_plan(plant: Plant) -> None:
    plant.do(c.DefineInspectionPlan, plan="FINAL-GASKET", description="", kind="final", item="GASKET",
             characteristics=(FINISH,), roles=QUALITY)
    _run_to_last_operation(plant)
    plant.do(c.CompleteOperation, work_order="WO1", operation=20)
    plant.refuse(c.RecordInspection, "WRONG_ITEM", "plan", inspection="F1", plan="FINAL-GASKET", work_order="WO1",
                 roles=QUALITY, measurements=(c.Measurement(characteristic="finish", passed=True),))


# --- shift OEE -----------------------------------------------------------------------------------


def _shift(**fields: Any) -> dict[str, Any]:
    return {"workstation": "WS1", "shift": "early", "day": date(2026, 6, 15), "start": NOW - timedelta(hours=8),
            "end": NOW, "planned_minutes": D(480), "run_minutes": D(400), "good": D(90), "scrap": D(10),
            "availability": D("0.8333"), "performance": D("0.9"), "quality": D("0.9"), "oee": D("0.675"), **fields}


def test_a_closed_shift_records_its_oee(plant: Plant) -> None:
    [closed] = plant.do(c.CloseShiftOee, roles=frozenset({"service"}), **_shift())
    assert isinstance(closed, e.ShiftOeeClosed) and closed.oee == D("0.675") and closed.subject == "workstation:WS1"


@pytest.mark.parametrize(("fields", "field"), [
    ({"availability": D("1.2")}, "availability"), ({"end": NOW - timedelta(hours=9)}, "end"),
    ({"good": D(-1)}, "good"), ({"end": NOW + timedelta(hours=1)}, "end"),
])
def test_a_shift_oee_that_cannot_be_is_refused(plant: Plant, fields: dict[str, Any], field: str) -> None:
    with pytest.raises(Exception) as caught:
        plant.decide(c.CloseShiftOee, **_shift(**fields))
    assert getattr(caught.value, "field", None) == field


def test_a_lot_waiting_on_a_plan_redefined_as_another_kind_still_gets_its_verdict(plant: Plant) -> None:
    _po(plant)
    _incoming_plan(plant, sample_size=1)
    _receive(plant)
    plant.do(c.DefineInspectionPlan, plan="INC-SCREW", description="now general", characteristics=(FINISH,),
             item="SCREW", roles=QUALITY)
    [verdict] = [ev for ev in _sample(plant, "I1", True) if isinstance(ev, e.SupplierLotVerdict)]
    assert verdict.verdict == "accepted" and plant.lot("S1").status == "available"
