"""Quality rules (inspections, nonconformances, dispositions) and machine states."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from edge.domain import commands as c
from edge.domain import events as e
from tests.unit.plant_helpers import NOW, QUALITY, D, Plant, use_as_is

BORE = c.CharacteristicSpec(characteristic="bore", kind="numeric", nominal=D(10), lsl=D("9.95"), usl=D("10.05"),
                            unit="mm")
FINISH = c.CharacteristicSpec(characteristic="finish", kind="attribute")


@pytest.fixture
def qplant(plant: Plant) -> Plant:
    plant.do(c.DefineInspectionPlan, plan="IN-SCREW", description="Incoming screws", item="SCREW",
             characteristics=(BORE, FINISH))
    plant.do(c.ReceiveLot, lot="L2", item="SCREW", item_revision=None, quantity=D(40), bin="RECV", quarantine=True)
    plant.do(c.MoveStock, lot="L2", from_bin="RECV", to_bin="A-02-3", quantity=D(15))
    return plant


def _inspect(plant: Plant, inspection: str, bore: D | None, finish: bool | None, lot: str | None = "L2") -> list[Any]:
    return plant.do(c.RecordInspection, inspection=inspection, plan="IN-SCREW", lot=lot, roles=QUALITY,
                    measurements=(c.Measurement(characteristic="bore", value=bore),
                                  c.Measurement(characteristic="finish", passed=finish)))


@pytest.mark.parametrize(
    ("bore", "passed"),
    [(D("9.95"), True), (D("10.05"), True), (D("10"), True), (D("9.949"), False), (D("10.0501"), False)],
)
def test_a_numeric_characteristic_passes_between_its_limits_inclusive(qplant: Plant, bore: D, passed: bool) -> None:
    [recorded, *_] = _inspect(qplant, "I1", bore, True)
    assert isinstance(recorded, e.InspectionRecorded)
    assert recorded.results[0] == e.MeasuredCharacteristic(characteristic="bore", value=bore, passed=passed)
    assert recorded.passed is passed


def test_a_one_sided_limit_checks_only_that_side(plant: Plant) -> None:
    torque = c.CharacteristicSpec(characteristic="torque", kind="numeric", lsl=D(5))
    plant.do(c.DefineInspectionPlan, plan="P-T", description="Torque", characteristics=(torque,), hold_on_fail=False)
    [ok] = plant.do(c.RecordInspection, inspection="T1", plan="P-T",
                    measurements=(c.Measurement(characteristic="torque", value=D(999)),))
    [low] = plant.do(c.RecordInspection, inspection="T2", plan="P-T",
                     measurements=(c.Measurement(characteristic="torque", value=D("4.99")),))
    assert (ok.passed, low.passed) == (True, False)


def test_an_attribute_characteristic_is_what_the_inspector_says(qplant: Plant) -> None:
    [good] = _inspect(qplant, "I1", D(10), True)
    bad = _inspect(qplant, "I2", D(10), False)
    assert good.passed is True
    assert bad[0].passed is False and bad[0].results[1] == e.MeasuredCharacteristic(
        characteristic="finish", value=None, passed=False)


def test_a_passed_inspection_changes_no_lot(qplant: Plant) -> None:
    events = _inspect(qplant, "I1", D(10), True)
    assert [type(ev) for ev in events] == [e.InspectionRecorded]
    assert qplant.lot("L2").status == "quarantine"
    assert "I1" in qplant.state.inspections


@pytest.mark.parametrize(
    ("measurements", "code", "field"),
    [
        ((c.Measurement(characteristic="bore", value=D(10)),), "INCOMPLETE_INSPECTION", "measurements"),
        ((c.Measurement(characteristic="bore", value=None), c.Measurement(characteristic="finish", passed=True)),
         "MISSING_VALUE", "measurements[0].value"),
        ((c.Measurement(characteristic="bore", value=D("NaN")), c.Measurement(characteristic="finish", passed=True)),
         "MISSING_VALUE", "measurements[0].value"),
        ((c.Measurement(characteristic="bore", value=D(10)), c.Measurement(characteristic="finish")),
         "MISSING_VALUE", "measurements[1].passed"),
        ((c.Measurement(characteristic="bore", value=D(10)), c.Measurement(characteristic="finish", passed=True),
          c.Measurement(characteristic="colour", passed=True)), "UNKNOWN_CHARACTERISTIC", "measurements[2].characteristic"),
        ((c.Measurement(characteristic="bore", value=D(10)), c.Measurement(characteristic="bore", value=D(10))),
         "DUPLICATE_CHARACTERISTIC", "measurements[1].characteristic"),
    ],
)
def test_an_inspection_must_measure_exactly_the_plan(
    qplant: Plant, measurements: tuple[c.Measurement, ...], code: str, field: str
) -> None:
    err = qplant.refuse(c.RecordInspection, code, field, inspection="I1", plan="IN-SCREW", lot="L2",
                        measurements=measurements)
    assert err.invalid


def test_an_incomplete_inspection_names_what_is_missing(qplant: Plant) -> None:
    err = qplant.refuse(c.RecordInspection, "INCOMPLETE_INSPECTION", "measurements", inspection="I1", plan="IN-SCREW",
                        measurements=(c.Measurement(characteristic="finish", passed=True),))
    assert err.message == "not measured: bore"


def test_an_inspection_is_recorded_once_and_against_a_known_plan(qplant: Plant) -> None:
    _inspect(qplant, "I1", D(10), True)
    qplant.refuse(c.RecordInspection, "DUPLICATE_INSPECTION", "inspection", inspection="I1", plan="IN-SCREW",
                  measurements=())
    qplant.refuse(c.RecordInspection, "UNKNOWN_INSPECTION_PLAN", "plan", inspection="I2", plan="NOPE", measurements=())


def test_a_failed_inspection_raises_an_ncr_and_holds_the_lot(qplant: Plant) -> None:
    events = _inspect(qplant, "I1", D("10.2"), True)
    assert [type(ev) for ev in events] == [e.InspectionRecorded, e.NonconformanceRaised, e.LotStatusChanged]
    ncr = qplant.state.nonconformances["NCR-I1"]
    assert (ncr.lot, ncr.status, ncr.description) == ("L2", "open", "inspection I1 failed on bore")
    assert qplant.lot("L2").status == "hold"
    assert events[2] == e.LotStatusChanged(lot="L2", status="hold", previous="quarantine",
                                           reason="inspection I1 failed", ncr="NCR-I1")
    qplant.refuse(c.ReleaseLot, "NONCONFORMANCE_OPEN", "lot", lot="L2", reason="looks ok", roles=QUALITY)


def test_a_plan_without_hold_on_fail_records_the_failure_only(qplant: Plant) -> None:
    qplant.do(c.DefineInspectionPlan, plan="AUDIT", description="Audit", hold_on_fail=False,
              characteristics=(FINISH,))
    events = qplant.do(c.RecordInspection, inspection="A1", plan="AUDIT", lot="L2",
                       measurements=(c.Measurement(characteristic="finish", passed=False),))
    assert [type(ev) for ev in events] == [e.InspectionRecorded]
    assert qplant.lot("L2").status == "quarantine"


@pytest.mark.parametrize(
    ("spec", "code", "field"),
    [
        (c.CharacteristicSpec(characteristic="len", kind="numeric"), "MISSING_LIMITS", "characteristics[0].lsl"),
        (c.CharacteristicSpec(characteristic="len", kind="numeric", lsl=D(2), usl=D(1)), "INVALID_LIMITS",
         "characteristics[0].lsl"),
        (c.CharacteristicSpec(characteristic="len", kind="colour"), "INVALID_KIND",  # type: ignore[arg-type]
         "characteristics[0].kind"),
    ],
)
def test_an_inspection_plan_is_checked(plant: Plant, spec: c.CharacteristicSpec, code: str, field: str) -> None:
    plant.refuse(c.DefineInspectionPlan, code, field, plan="P", description="p", characteristics=(spec,))


# --- nonconformance disposition --------------------------------------------------------------------


def test_only_quality_dispositions_a_nonconformance(qplant: Plant) -> None:
    _inspect(qplant, "I1", D("10.2"), True)
    qplant.refuse(c.DispositionNonconformance, "ROLE_REQUIRED", None, ncr="NCR-I1", disposition="use_as_is",
                  roles=frozenset({"operator", "supervisor", "warehouse"}))
    assert qplant.state.nonconformances["NCR-I1"].status == "open"


def test_a_scrap_disposition_empties_every_bin_of_the_lot(qplant: Plant) -> None:
    _inspect(qplant, "I1", D("10.2"), True)
    events = qplant.do(c.DispositionNonconformance, ncr="NCR-I1", disposition="scrap", comment="bore oversize",
                       actor="qa-eve", roles=QUALITY)
    moved = [ev for ev in events if isinstance(ev, e.StockMoved)]
    assert sorted((ev.kind, ev.from_bin, ev.quantity) for ev in moved) == [
        ("scrap", "A-02-3", D(15)), ("scrap", "RECV", D(25))]
    assert qplant.stock("L2") == {}
    assert (qplant.lot("L2").quantity, qplant.lot("L2").status) == (D(0), "consumed")
    ncr = qplant.state.nonconformances["NCR-I1"]
    assert (ncr.status, ncr.disposition, ncr.dispositioned_by) == ("closed", "scrap", "qa-eve")


def test_use_as_is_releases_the_lot(plant: Plant) -> None:
    plant.do(c.RaiseNonconformance, ncr="NCR-1", description="scratched", lot="L1")
    assert plant.lot("L1").status == "hold"
    plant.do(c.DispositionNonconformance, ncr="NCR-1", disposition="use_as_is", roles=QUALITY, **use_as_is())
    assert plant.lot("L1").status == "available"
    assert plant.stock("L1") == {"LINE1": D(100)}


def test_use_as_is_keeps_the_hold_while_another_ncr_is_open(plant: Plant) -> None:
    plant.do(c.RaiseNonconformance, ncr="NCR-1", description="scratched", lot="L1")
    plant.do(c.RaiseNonconformance, ncr="NCR-2", description="wrong colour", lot="L1")
    plant.do(c.DispositionNonconformance, ncr="NCR-1", disposition="use_as_is", roles=QUALITY, **use_as_is())
    assert plant.lot("L1").status == "hold"
    plant.do(c.DispositionNonconformance, ncr="NCR-2", disposition="use_as_is", roles=QUALITY, **use_as_is())
    assert plant.lot("L1").status == "available"


def test_rework_closes_the_ncr_and_leaves_the_lot_on_hold(plant: Plant) -> None:
    plant.do(c.RaiseNonconformance, ncr="NCR-1", description="burrs", lot="L1")
    plant.do(c.DispositionNonconformance, ncr="NCR-1", disposition="rework", roles=QUALITY)
    assert plant.lot("L1").status == "hold"
    plant.do(c.ReleaseLot, lot="L1", reason="deburred", roles=QUALITY)  # now nothing blocks the release
    assert plant.lot("L1").status == "available"


def test_a_disposition_is_given_once_and_must_be_a_known_one(plant: Plant) -> None:
    plant.do(c.RaiseNonconformance, ncr="NCR-1", description="burrs", lot="L1")
    plant.refuse(c.DispositionNonconformance, "INVALID_DISPOSITION", "disposition", ncr="NCR-1",
                 disposition="ignore", roles=QUALITY)
    plant.refuse(c.DispositionNonconformance, "UNKNOWN_NCR", "ncr", ncr="NCR-9", disposition="scrap", roles=QUALITY)
    plant.do(c.DispositionNonconformance, ncr="NCR-1", disposition="rework", roles=QUALITY)
    plant.refuse(c.DispositionNonconformance, "NONCONFORMANCE_CLOSED", "ncr", ncr="NCR-1", disposition="scrap",
                 roles=QUALITY)


def test_a_nonconformance_names_a_lot_or_a_work_order(plant: Plant) -> None:
    plant.refuse(c.RaiseNonconformance, "MISSING_VALUE", "lot", ncr="NCR-1", description="?")
    plant.refuse(c.RaiseNonconformance, "UNKNOWN_LOT", "lot", ncr="NCR-1", description="?", lot="L9")
    plant.do(c.RaiseNonconformance, ncr="NCR-1", description="wrong torque", work_order="WO1")
    plant.refuse(c.RaiseNonconformance, "DUPLICATE_NCR", "ncr", ncr="NCR-1", description="again", work_order="WO1")


# --- machines --------------------------------------------------------------------------------------


def test_a_machine_state_change_records_the_previous_state(plant: Plant) -> None:
    [first] = plant.do(c.SetMachineState, equipment="M1", state="running")
    assert (first.previous, first.since) == (None, NOW)
    later = NOW + timedelta(minutes=5)
    [down] = plant.do(c.SetMachineState, equipment="M1", state="down", reason="jam", since=later)
    assert (down.previous, down.previous_since, down.since) == ("running", NOW, later)
    ms = plant.state.machine_states["M1"]
    assert (ms.state, ms.reason, ms.since) == ("down", "jam", later)


def test_an_unknown_machine_is_refused(plant: Plant) -> None:
    plant.refuse(c.SetMachineState, "UNKNOWN_EQUIPMENT", "equipment", equipment="M9", state="running")


def test_an_unknown_state_is_invalid(plant: Plant) -> None:
    err = plant.refuse(c.SetMachineState, "INVALID_STATE", "state", equipment="M1", state="exploded")
    assert err.invalid


def test_a_signal_older_than_the_current_state_is_stale(plant: Plant) -> None:
    plant.do(c.SetMachineState, equipment="M1", state="running", since=NOW)
    plant.refuse(c.SetMachineState, "STALE_SIGNAL", "since", equipment="M1", state="idle",
                 since=NOW - timedelta(milliseconds=1))


def test_the_same_state_again_records_nothing(plant: Plant) -> None:
    plant.do(c.SetMachineState, equipment="M1", state="down", reason="jam", since=NOW)
    assert plant.do(c.SetMachineState, equipment="M1", state="down", reason="jam", since=NOW + timedelta(seconds=9)) == []
    assert plant.state.machine_states["M1"].since == NOW  # the state began when it first began
    # The same state for another reason is a change.
    [ev] = plant.do(c.SetMachineState, equipment="M1", state="down", reason="no material",
                    since=NOW + timedelta(seconds=10))
    assert ev.previous == "down"


def test_a_time_without_a_zone_is_invalid_input(plant: Plant) -> None:
    naive = NOW.replace(tzinfo=None)
    err = plant.refuse(c.SetMachineState, "INVALID_TIME", "since", equipment="M1", state="running", since=naive)
    assert err.invalid
    plant.refuse(c.SetMachineState, "INVALID_TIME", "occurred_at", equipment="M1", state="running",
                 occurred_at=naive)
    plant.refuse(c.MoveStock, "INVALID_TIME", "occurred_at", lot="L1", from_bin="LINE1", to_bin="A-02-3",
                 quantity=D(1), occurred_at=naive)


def test_an_inspection_of_an_operation_names_an_operation_of_that_order(plant: Plant) -> None:
    torque = c.CharacteristicSpec(characteristic="torque", kind="numeric", lsl=D(5))
    plant.do(c.DefineInspectionPlan, plan="P-T", description="Torque", characteristics=(torque,))
    measured = (c.Measurement(characteristic="torque", value=D(6)),)
    plant.refuse(c.RecordInspection, "UNKNOWN_OPERATION", "operation", inspection="T1", plan="P-T",
                 work_order="WO1", operation=30, measurements=measured)
    plant.refuse(c.RecordInspection, "MISSING_VALUE", "work_order", inspection="T1", plan="P-T",
                 operation=10, measurements=measured)
    [ok] = plant.do(c.RecordInspection, inspection="T1", plan="P-T", work_order="WO1", operation=10,
                    measurements=measured)
    assert ok.operation == 10


def test_a_machine_state_from_a_clock_running_ahead_is_refused(plant: Plant) -> None:
    err = plant.refuse(c.SetMachineState, "FUTURE_TIME", "since", equipment="M1", state="running",
                       since=NOW + timedelta(minutes=6))
    assert err.invalid and "device's clock" in err.message
    # Within the tolerance a device's clock may be a little ahead; the state is recorded.
    [ev] = plant.do(c.SetMachineState, equipment="M1", state="running", since=NOW + timedelta(minutes=4))
    assert ev.since == NOW + timedelta(minutes=4)


def test_any_command_stamped_in_the_future_is_refused(plant: Plant) -> None:
    plant.refuse(c.MoveStock, "FUTURE_TIME", "occurred_at", lot="L1", from_bin="LINE1", to_bin="A-02-3",
                 quantity=D(1), occurred_at=NOW + timedelta(hours=1))
