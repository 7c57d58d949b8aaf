"""Work orders, operations, production reports and labour: the rules of the pure domain."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from edge.domain import commands as c
from edge.domain import events as e
from tests.unit.plant_helpers import NOW, D, Plant


def test_operation_lifecycle_released_running_paused_running_completed(plant: Plant) -> None:
    assert (plant.op("WO1", 10).status, plant.wo("WO1").status) == ("released", "released")

    [started] = plant.do(c.StartOperation, work_order="WO1", operation=10)
    assert started == e.OperationStarted(work_order="WO1", operation=10, at=NOW)
    assert (plant.op("WO1", 10).status, plant.op("WO1", 10).started_at) == ("in_progress", NOW)
    assert plant.wo("WO1").status == "in_progress"

    plant.do(c.PauseOperation, work_order="WO1", operation=10, reason="waiting for screws")
    assert (plant.op("WO1", 10).status, plant.op("WO1", 10).pause_reason) == ("paused", "waiting for screws")
    assert plant.wo("WO1").status == "paused"

    later = NOW + timedelta(hours=1)
    plant.do(c.ResumeOperation, work_order="WO1", operation=10, now=later)
    assert (plant.op("WO1", 10).status, plant.op("WO1", 10).pause_reason) == ("in_progress", None)
    assert plant.op("WO1", 10).started_at == NOW  # a resume does not restart the clock
    assert plant.wo("WO1").status == "in_progress"

    done = plant.do(c.CompleteOperation, work_order="WO1", operation=10, now=later)
    assert [type(ev) for ev in done] == [e.OperationCompleted]  # operation 20 is still open
    assert (plant.op("WO1", 10).status, plant.op("WO1", 10).completed_at) == ("completed", later)
    # One operation done and the next not started: the order is still in progress.
    assert plant.wo("WO1").status == "in_progress"


def test_order_completes_when_its_last_operation_completes(plant: Plant) -> None:
    plant.do(c.SetDispatchList, workstation="WS2", sequence=(c.DispatchSlot(work_order="WO1", operation=20),))
    for op in (10, 20):
        plant.do(c.StartOperation, work_order="WO1", operation=op)
        plant.do(c.ReportProduction, work_order="WO1", operation=op, good=D(10))
    done = plant.do(c.CompleteOperation, work_order="WO1", operation=20)
    assert [type(ev) for ev in done] == [e.OperationCompleted]
    assert plant.wo("WO1").status == "in_progress"  # operation 10 is still running

    events = plant.do(c.CompleteOperation, work_order="WO1", operation=10)
    assert events[-1] == e.WorkOrderCompleted(work_order="WO1", good=D(10), scrap=D(0), at=NOW)
    assert plant.wo("WO1").status == "completed"
    assert plant.state.dispatch_list("WS2") == []  # a completed order leaves the dispatch list
    plant.refuse(c.StartOperation, "WORK_ORDER_COMPLETED", "work_order", work_order="WO1", operation=10)
    plant.refuse(c.ReportProduction, "WORK_ORDER_COMPLETED", "work_order", work_order="WO1", operation=20, good=D(1))


def test_only_the_last_operation_counts_good_for_the_order_but_every_scrap_counts(plant: Plant) -> None:
    for op in (10, 20):
        plant.do(c.StartOperation, work_order="WO1", operation=op)
    plant.do(c.ReportProduction, work_order="WO1", operation=10, good=D(9), scrap=D(1), scrap_reason="bent")
    plant.do(c.ReportProduction, work_order="WO1", operation=20, good=D(8), scrap=D(1), scrap_reason="leak")
    assert (plant.op("WO1", 10).good, plant.op("WO1", 20).good) == (D(9), D(8))
    assert (plant.wo("WO1").good, plant.wo("WO1").scrap) == (D(8), D(2))


@pytest.mark.parametrize(
    ("setup", "command", "fields", "code"),
    [
        ([], c.PauseOperation, {"reason": "jam"}, "OPERATION_NOT_RUNNING"),
        ([], c.ResumeOperation, {}, "OPERATION_NOT_PAUSED"),
        ([], c.CompleteOperation, {}, "OPERATION_NOT_STARTED"),
        ([], c.ReportProduction, {"good": D(1)}, "OPERATION_NOT_RUNNING"),
        (["start"], c.StartOperation, {}, "OPERATION_ALREADY_STARTED"),
        (["start"], c.ResumeOperation, {}, "OPERATION_NOT_PAUSED"),
        (["start", "pause"], c.StartOperation, {}, "OPERATION_PAUSED"),
        (["start", "pause"], c.PauseOperation, {"reason": "jam"}, "OPERATION_NOT_RUNNING"),
        (["start", "complete"], c.StartOperation, {}, "OPERATION_COMPLETED"),
        (["start", "complete"], c.CompleteOperation, {}, "OPERATION_COMPLETED"),
        (["start", "complete"], c.ReportProduction, {"good": D(1)}, "OPERATION_NOT_RUNNING"),
        (["start", "complete"], c.ClockOnLabour, {"operator": "bo"}, "OPERATION_COMPLETED"),
    ],
)
def test_an_operation_refuses_a_transition_its_status_does_not_allow(
    plant: Plant, setup: list[str], command: type[c.Command], fields: dict[str, Any], code: str
) -> None:
    steps: dict[str, tuple[type[c.Command], dict[str, Any]]] = {
        "start": (c.StartOperation, {}),
        "pause": (c.PauseOperation, {"reason": "break"}),
        "complete": (c.CompleteOperation, {}),
    }
    for step in setup:
        kind, extra = steps[step]
        plant.do(kind, work_order="WO1", operation=10, **extra)
    plant.refuse(command, code, "operation", work_order="WO1", operation=10, **fields)


def test_a_report_on_a_paused_operation_is_accepted(plant: Plant) -> None:
    plant.do(c.StartOperation, work_order="WO1", operation=10)
    plant.do(c.PauseOperation, work_order="WO1", operation=10, reason="end of shift")
    plant.do(c.ReportProduction, work_order="WO1", operation=10, good=D(3))
    assert plant.op("WO1", 10).good == D(3)


def test_unknown_work_order_and_operation_are_named(plant: Plant) -> None:
    plant.refuse(c.StartOperation, "UNKNOWN_WORK_ORDER", "work_order", work_order="WO9", operation=10)
    err = plant.refuse(c.StartOperation, "UNKNOWN_OPERATION", "operation", work_order="WO1", operation=30)
    assert "has no operation 30 (it has 10, 20)" in err.message


def test_pausing_needs_a_reason(plant: Plant) -> None:
    plant.do(c.StartOperation, work_order="WO1", operation=10)
    plant.refuse(c.PauseOperation, "MISSING_REASON", "reason", work_order="WO1", operation=10, reason="  ")


# --- over-production -------------------------------------------------------------------------------


def test_production_within_the_tolerance_is_accepted(plant: Plant) -> None:
    plant.do(c.StartOperation, work_order="WO1", operation=10)
    plant.do(c.ReportProduction, work_order="WO1", operation=10, good=D(6))
    plant.do(c.ReportProduction, work_order="WO1", operation=10, good=D(5))  # 11 of 10 with 10 % tolerance
    assert plant.op("WO1", 10).good == D(11)


def test_production_beyond_the_tolerance_is_refused(plant: Plant) -> None:
    plant.do(c.StartOperation, work_order="WO1", operation=10)
    plant.do(c.ReportProduction, work_order="WO1", operation=10, good=D(6))
    err = plant.refuse(c.ReportProduction, "OVER_PRODUCTION", "good", work_order="WO1", operation=10,
                       good=D("5.5"))
    assert "would reach 11.5 good of 10 ordered" in err.message
    assert "allows at most 11" in err.message
    assert plant.op("WO1", 10).good == D(6)


def test_without_tolerance_not_one_unit_more_than_ordered(plant: Plant) -> None:
    plant.do(c.ReleaseWorkOrder, work_order="WO2", item="PUMP", item_revision="A", bom_revision="3", quantity=D(5),
             operations=(c.OperationSpec(operation=10, description="Assemble", workstation="WS1"),))
    plant.do(c.StartOperation, work_order="WO2", operation=10)
    plant.do(c.ReportProduction, work_order="WO2", operation=10, good=D(5))
    plant.refuse(c.ReportProduction, "OVER_PRODUCTION", "good", work_order="WO2", operation=10, good=D("0.000001"))
    # Scrap is not capped by the order quantity: it is what really happened.
    plant.do(c.ReportProduction, work_order="WO2", operation=10, scrap=D(2), scrap_reason="cracked")


def test_scrap_needs_a_reason(plant: Plant) -> None:
    plant.do(c.StartOperation, work_order="WO1", operation=10)
    plant.refuse(c.ReportProduction, "MISSING_REASON", "scrap_reason", work_order="WO1", operation=10,
                 good=D(1), scrap=D(1))
    plant.refuse(c.ReportProduction, "MISSING_REASON", "scrap_reason", work_order="WO1", operation=10,
                 scrap=D(1), scrap_reason=" ")
    [ev] = plant.do(c.ReportProduction, work_order="WO1", operation=10, scrap=D(1), scrap_reason="porosity")
    assert isinstance(ev, e.ProductionReported) and ev.scrap_reason == "porosity"
    assert plant.wo("WO1").scrap == D(1)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"good": D(0), "scrap": D(0)}, "good"),
        ({"good": D(-1)}, "good"),
        ({"good": D("0.0000001")}, "good"),
        ({"good": D("NaN")}, "good"),
        ({"scrap": D(-2), "scrap_reason": "x"}, "scrap"),
    ],
)
def test_a_report_with_an_impossible_quantity_is_invalid(plant: Plant, fields: dict[str, Any], field: str) -> None:
    plant.do(c.StartOperation, work_order="WO1", operation=10)
    err = plant.refuse(c.ReportProduction, "INVALID_QUANTITY", field, work_order="WO1", operation=10, **fields)
    assert err.invalid


# --- labour ----------------------------------------------------------------------------------------


def test_clock_on_then_off_records_the_minutes(plant: Plant) -> None:
    plant.do(c.ClockOnLabour, operator="bo", work_order="WO1", operation=10)
    assert ("bo", "WO1", 10) in plant.state.clock_ons
    off = plant.do(c.ClockOffLabour, operator="bo", work_order="WO1", operation=10,
                   now=NOW + timedelta(minutes=90, seconds=30))
    assert off == [e.LabourClockedOff(operator="bo", work_order="WO1", operation=10, since=NOW,
                                      at=NOW + timedelta(minutes=90, seconds=30), minutes=D("90.50"))]
    assert plant.state.clock_ons == {}


def test_a_double_clock_on_is_refused(plant: Plant) -> None:
    plant.do(c.ClockOnLabour, operator="bo", work_order="WO1", operation=10)
    plant.refuse(c.ClockOnLabour, "ALREADY_CLOCKED_ON", "operator", operator="bo", work_order="WO1", operation=10)
    # Someone else, or the same person on another operation, is fine.
    plant.do(c.ClockOnLabour, operator="cy", work_order="WO1", operation=10)
    plant.do(c.ClockOnLabour, operator="bo", work_order="WO1", operation=20)


def test_clock_off_without_clock_on_is_refused(plant: Plant) -> None:
    plant.refuse(c.ClockOffLabour, "NOT_CLOCKED_ON", "operator", operator="bo", work_order="WO1", operation=10)


def test_completing_an_operation_clocks_off_everyone_on_it(plant: Plant) -> None:
    plant.do(c.StartOperation, work_order="WO1", operation=10)
    plant.do(c.ClockOnLabour, operator="bo", work_order="WO1", operation=10)
    plant.do(c.ClockOnLabour, operator="cy", work_order="WO1", operation=10, now=NOW + timedelta(minutes=30))
    plant.do(c.ClockOnLabour, operator="di", work_order="WO1", operation=20)
    end = NOW + timedelta(hours=2)
    events = plant.do(c.CompleteOperation, work_order="WO1", operation=10, now=end)
    offs = [ev for ev in events if isinstance(ev, e.LabourClockedOff)]
    assert [(ev.operator, ev.minutes) for ev in offs] == [("bo", D("120.00")), ("cy", D("90.00"))]
    assert list(plant.state.clock_ons) == [("di", "WO1", 20)]  # the next operation's labour keeps running


# --- releasing work orders -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"work_order": "WO1"}, "DUPLICATE_WORK_ORDER", "work_order"),
        ({"item": "VALVE"}, "UNKNOWN_ITEM", "item"),
        ({"quantity": D(0)}, "INVALID_QUANTITY", "quantity"),
        ({"operations": ()}, "MISSING_VALUE", "operations"),
        ({"operations": (c.OperationSpec(operation=10, description="a", workstation="WS1"),
                         c.OperationSpec(operation=10, description="b", workstation="WS1"))},
         "DUPLICATE_OPERATION", "operations[1].operation"),
        ({"bom": (c.BomLineSpec(line=1, item="NUT", item_revision="A", quantity_per=D(1)),)},
         "UNKNOWN_ITEM", "bom[0].item"),
        ({"bom": (c.BomLineSpec(line=1, item="SCREW", item_revision="B", quantity_per=D(-4)),)},
         "INVALID_QUANTITY", "bom[0].quantity_per"),
    ],
)
def test_a_work_order_release_is_checked(plant: Plant, overrides: dict[str, Any], code: str, field: str) -> None:
    fields: dict[str, Any] = dict(
        work_order="WO2", item="PUMP", item_revision="A", bom_revision="3", quantity=D(5),
        operations=(c.OperationSpec(operation=10, description="Assemble", workstation="WS1"),),
    )
    fields.update(overrides)
    plant.refuse(c.ReleaseWorkOrder, code, field, **fields)


def test_a_dispatch_list_only_holds_operations_of_its_workstation(plant: Plant) -> None:
    plant.refuse(c.SetDispatchList, "WRONG_WORKSTATION", "sequence[1]", workstation="WS1",
                 sequence=(c.DispatchSlot(work_order="WO1", operation=10), c.DispatchSlot(work_order="WO1", operation=20)))
    plant.do(c.SetDispatchList, workstation="WS1", sequence=(c.DispatchSlot(work_order="WO1", operation=10),))
    assert [(d.position, d.work_order, d.operation) for d in plant.state.dispatch_list("WS1")] == [(1, "WO1", 10)]


def test_a_completed_operation_is_not_dispatched(plant: Plant) -> None:
    plant.do(c.StartOperation, work_order="WO1", operation=10)
    plant.do(c.CompleteOperation, work_order="WO1", operation=10)
    plant.refuse(c.SetDispatchList, "OPERATION_COMPLETED", "sequence[0]", workstation="WS1",
                 sequence=(c.DispatchSlot(work_order="WO1", operation=10),))
