"""Work instructions that capture data and serialised units, in the pure domain (issue 21)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from edge.domain import commands as c
from edge.domain import events as e
from tests.unit.plant_helpers import NOW, Plant

D = Decimal
ADMIN = frozenset({"admin"})
QUALITY = frozenset({"quality"})

STEPS_10 = (
    c.InstructionStepSpec(step=1, kind="scan", texts=("en=Scan the motor's serial", "nl=Scan het serienummer van de "
                                                      "motor"), component="MOTOR", on_fail="block"),
    c.InstructionStepSpec(step=2, kind="scan", texts=("en=Scan the torque program",), expect="P7"),
    c.InstructionStepSpec(step=3, kind="check", texts=("en=Impeller turns freely",)),
)
STEPS_20 = (
    c.InstructionStepSpec(step=1, kind="measure", texts=("en=Pressure",), lsl=D("9.5"), usl=D("10.5"), unit="bar",
                          on_fail="ncr"),
    c.InstructionStepSpec(step=2, kind="signoff", texts=("en=Second person signs",)),
)


def pump_plant() -> Plant:
    p = Plant(NOW)
    p.do(c.DefineItem, item="PUMP", description="Pump", unit="pcs", revision="B", serialised=True,
         gtin="09506000134352", roles=ADMIN)
    p.do(c.DefineItem, item="MOTOR", description="Motor", unit="pcs", revision="A", roles=ADMIN)
    p.do(c.DefineBin, bin="LINE1", zone="L")
    p.do(c.ReleaseWorkOrder, work_order="WO1", item="PUMP", item_revision="B", bom_revision="1", quantity=D(3),
         operations=(c.OperationSpec(operation=10, description="Assemble", workstation="WS1"),
                     c.OperationSpec(operation=20, description="Test", workstation="WS2"),
                     c.OperationSpec(operation=30, description="Pack", workstation="WS3")),
         bom=(c.BomLineSpec(line=1, item="MOTOR", item_revision="A", quantity_per=D(1)),))
    p.do(c.ReceiveLot, lot="M-LOT", item="MOTOR", item_revision=None, quantity=D(10), bin="LINE1",
         expiry=date(2027, 1, 1))
    for serial in ("MS-1", "MS-2"):
        p.do(c.IssueToWorkOrder, work_order="WO1", lot="M-LOT", bin="LINE1", quantity=D(1), serial=serial)
    p.do(c.DefineWorkInstruction, item="PUMP", operation=10, revision="3", item_revision="B", title="Assemble",
         steps=STEPS_10, roles=ADMIN)
    p.do(c.DefineWorkInstruction, item="PUMP", operation=20, revision="1", item_revision="B", title="Test",
         steps=STEPS_20, roles=ADMIN)
    p.do(c.DefineWorkInstruction, item="PUMP", operation=10, revision="2", item_revision="A", title="Old",
         steps=STEPS_10, roles=ADMIN)
    return p


def test_a_unit_gets_its_serial_at_the_first_operation_from_the_pattern() -> None:
    p = pump_plant()
    [ev] = p.do(c.SerialiseUnit, work_order="WO1", operation=10, pattern="P{yy}-{n:03d}")
    assert (ev.serial, ev.source) == ("P26-001", "pattern")
    [ev] = p.do(c.SerialiseUnit, work_order="WO1", operation=10, pattern="P{yy}-{n:03d}", gs1=True)
    assert (ev.serial, ev.gtin, ev.source) == ("P26-002", "09506000134352", "gs1")
    p.refuse(c.SerialiseUnit, "NOT_FIRST_OPERATION", "operation", work_order="WO1", operation=20)
    p.refuse(c.SerialiseUnit, "DUPLICATE_SERIAL", "serial", work_order="WO1", operation=10, serial="P26-001")
    p.refuse(c.SerialiseUnit, "WRONG_ITEM", "serial", work_order="WO1", operation=10, serial="X1",
             gtin="09506000134369")
    p.do(c.SerialiseUnit, work_order="WO1", operation=10, serial="LBL-9", gtin="9506000134352")
    p.refuse(c.SerialiseUnit, "TOO_MANY_UNITS", "work_order", work_order="WO1", operation=10)


def test_steps_in_order_a_failing_step_blocks_then_the_unit_moves_on_and_a_failed_measurement_raises_an_ncr() -> None:
    p = pump_plant()
    p.do(c.SerialiseUnit, work_order="WO1", operation=10, serial="SN1")
    step: dict[str, Any] = {"work_order": "WO1", "operation": 10, "instruction_revision": "3", "serial": "SN1"}
    p.refuse(c.RecordStep, "STEP_OUT_OF_ORDER", "step", step=2, scanned="P7", **step)
    p.refuse(c.RecordStep, "INSTRUCTION_REVISION_MISMATCH", "instruction_revision",
             **{**step, "instruction_revision": "2"}, step=1, scanned="MS-1")
    [ev] = p.do(c.RecordStep, step=1, scanned="MS-9", **step)  # no such serial issued: the step fails and blocks
    assert not ev.passed and ev.ncr is None
    p.refuse(c.RecordStep, "STEP_BLOCKED", "step", step=2, scanned="P7", **step)
    events = p.do(c.RecordStep, step=1, scanned="MS-1", **step)
    assert [type(x).__name__ for x in events] == ["StepRecorded", "UnitComponentFitted"]
    p.do(c.RecordStep, step=2, scanned="P7", **step)
    events = p.do(c.RecordStep, step=3, result="done", **step)
    assert [type(x).__name__ for x in events] == ["StepRecorded", "UnitOperationCompleted", "ProductionReported"]
    unit = p.state.units[("PUMP", "SN1")]
    assert (unit.operation, unit.status, unit.instructions) == (20, "in_progress", ("10=3",))
    # the motor is in SN1: a second unit cannot take it
    p.do(c.SerialiseUnit, work_order="WO1", operation=10, serial="SN2")
    [ev] = p.do(c.RecordStep, step=1, scanned="MS-1", **{**step, "serial": "SN2"})
    assert not ev.passed and "already in unit SN1" in ev.note
    # operation 20: out of limits raises a nonconformance that holds the unit
    test: dict[str, Any] = {"work_order": "WO1", "operation": 20, "instruction_revision": "1", "serial": "SN1"}
    events = p.do(c.RecordStep, step=1, value=D("11.2"), **test)
    assert [type(x).__name__ for x in events] == ["StepRecorded", "NonconformanceRaised"]
    ncr = events[1].ncr
    assert p.state.units[("PUMP", "SN1")].status == "hold"
    p.refuse(c.RecordStep, "UNIT_ON_HOLD", "serial", step=2, result="done", **test)
    p.do(c.DispositionNonconformance, ncr=ncr, disposition="rework", roles=QUALITY, actor="qa")
    assert p.state.units[("PUMP", "SN1")].status == "in_progress"
    # the sign-off is a second person's signature
    p.refuse(c.RecordStep, "SIGNATURE_REQUIRED", "X-Takt-Pin", step=2, result="done", **test)
    sig = c.SignatureSpec(signature="SIG-00000000000000AA", signer_name="Ana", meaning="approved")
    p.refuse(c.RecordStep, "SAME_PERSON", "X-Takt-Pin", step=2, result="done", signature=sig, **test)
    events = p.do(c.RecordStep, step=2, result="done", signature=sig, actor="qa", **test)
    assert isinstance(events[-1], e.RecordsSigned)
    assert p.state.units[("PUMP", "SN1")].operation == 30


def test_a_unit_completes_an_operation_without_instruction_and_lot_built_items_follow_steps_per_order() -> None:
    p = pump_plant()
    p.do(c.SerialiseUnit, work_order="WO1", operation=10, serial="SN1")
    p.refuse(c.CompleteUnitOperation, "STEPS_OPEN", "serial", work_order="WO1", operation=10, serial="SN1")
    p.refuse(c.CompleteUnitOperation, "UNIT_ELSEWHERE", "operation", work_order="WO1", operation=30, serial="SN1")
    p.refuse(c.RecordStep, "MISSING_VALUE", "serial", work_order="WO1", operation=10, instruction_revision="3", step=1,
             scanned="MS-1")


def test_a_measurement_step_with_a_plan_is_an_inspection_result_that_feeds_spc() -> None:
    p = pump_plant()
    p.do(c.DefineInspectionPlan, plan="IP-TEST", description="Test", roles=QUALITY, characteristics=(
        c.CharacteristicSpec(characteristic="pressure", kind="numeric", lsl=D("9.5"), usl=D("10.5"), unit="bar"),))
    p.do(c.DefineWorkInstruction, item="PUMP", operation=20, revision="2", item_revision="B", title="Test", roles=ADMIN,
         steps=(c.InstructionStepSpec(step=1, kind="measure", lsl=D("9.5"), usl=D("10.5"), plan="IP-TEST",
                                      characteristic="pressure"),))
    p.refuse(c.DefineWorkInstruction, "UNKNOWN_CHARACTERISTIC", "steps[0].characteristic", item="PUMP", operation=20,
             revision="3", item_revision="B", title="Test", roles=ADMIN,
             steps=(c.InstructionStepSpec(step=1, kind="measure", lsl=D(1), plan="IP-TEST", characteristic="nope"),))
    p.do(c.SerialiseUnit, work_order="WO1", operation=10, serial="SN1")
    captures: list[dict[str, Any]] = [{"scanned": "MS-1"}, {"scanned": "P7"}, {"result": "done"}]
    for n, capture in enumerate(captures, start=1):
        p.do(c.RecordStep, work_order="WO1", operation=10, instruction_revision="3", serial="SN1", step=n, **capture)
    events = p.do(c.RecordStep, work_order="WO1", operation=20, instruction_revision="2", serial="SN1", step=1,
                  value=D("10.1"))
    assert [type(x).__name__ for x in events] == ["StepRecorded", "InspectionRecorded", "UnitOperationCompleted",
                                                  "ProductionReported"]
    assert list(p.state.spc[("IP-TEST", "pressure")].recent) == [10.1]


def _through_operation_10(p: Plant, serial: str, motor: str) -> None:
    step: dict[str, Any] = {"work_order": "WO1", "operation": 10, "instruction_revision": "3", "serial": serial}
    p.do(c.SerialiseUnit, work_order="WO1", operation=10, serial=serial)
    p.do(c.RecordStep, step=1, scanned=motor, **step)
    p.do(c.RecordStep, step=2, scanned="P7", **step)
    p.do(c.RecordStep, step=3, result="done", **step)


def _reinspect(p: Plant, inspection: str, work_order: str, ok: bool) -> list[Any]:
    return p.do(c.RecordInspection, inspection=inspection, plan="RE-PUMP", work_order=work_order, roles=QUALITY,
                measurements=(c.Measurement(characteristic="visual", passed=ok),))


def test_a_rework_holds_its_units_until_the_reinspection_passes_or_scraps_them_when_it_fails() -> None:
    p = pump_plant()
    p.do(c.DefineInspectionPlan, plan="RE-PUMP", description="Re-inspection", sample_size=1, roles=QUALITY,
         characteristics=(c.CharacteristicSpec(characteristic="visual", kind="attribute"),))
    rework = c.ReworkSpec(operations=(c.ReworkOperationSpec(description="Reseat seal", workstation="WS2"),),
                          plan="RE-PUMP")
    test: dict[str, Any] = {"work_order": "WO1", "operation": 20, "instruction_revision": "1"}
    sig = c.SignatureSpec(signature="SIG-00000000000000BB", signer_name="Quinn", meaning="approved")
    # SN1: its step's NCR is dispositioned rework (rework operations on WO1): held until the re-inspection passes
    _through_operation_10(p, "SN1", "MS-1")
    ncr = p.do(c.RecordStep, step=1, value=D("11.2"), serial="SN1", **test)[1].ncr
    events = p.do(c.DispositionNonconformance, ncr=ncr, disposition="rework", rework=rework, roles=QUALITY, actor="qa")
    opened = next(ev for ev in events if isinstance(ev, e.ReworkOpened))
    assert (opened.subjects, opened.operations[0].operation) == (("unit:SN1",), 40)
    unit = p.state.units[("PUMP", "SN1")]
    assert (unit.status, unit.ncr) == ("hold", ncr)
    err = p.refuse(c.RecordStep, "UNIT_ON_HOLD", "serial", step=2, result="done", signature=sig, actor="qa",
                   serial="SN1", **test)
    assert f"rework RW-{ncr}" in err.message
    p.refuse(c.CompleteUnitOperation, "UNIT_ON_HOLD", "serial", work_order="WO1", operation=20, serial="SN1")
    p.do(c.StartOperation, work_order="WO1", operation=40)
    p.do(c.CompleteOperation, work_order="WO1", operation=40)
    verdict = next(ev for ev in _reinspect(p, "R1", "WO1", True) if isinstance(ev, e.ReworkVerdict))
    assert verdict.verdict == "passed"
    unit = p.state.units[("PUMP", "SN1")]
    assert (unit.status, unit.ncr, unit.operation) == ("in_progress", None, 20)
    p.do(c.RecordStep, step=2, result="done", signature=sig, actor="qa", serial="SN1", **test)
    p.do(c.CompleteUnitOperation, work_order="WO1", operation=30, serial="SN1")
    # the rework's operation 40 is for the units it held, not the next operation of the routing
    assert (p.state.units[("PUMP", "SN1")].status, p.state.units[("PUMP", "SN1")].operation) == ("completed", None)
    # SN2, named as a subject of a rework order: the re-inspection fails, the new NCR's scrap scraps it
    _through_operation_10(p, "SN2", "MS-2")
    ncr2 = p.do(c.RecordStep, step=1, value=D("8.1"), serial="SN2", **test)[1].ncr
    p.refuse(c.DispositionNonconformance, "UNKNOWN_UNIT", "rework.subjects[0]", ncr=ncr2, disposition="rework",
             rework=c.ReworkSpec(operations=rework.operations, plan="RE-PUMP", subjects=("unit:NOPE",)), roles=QUALITY)
    p.do(c.DispositionNonconformance, ncr=ncr2, disposition="rework", roles=QUALITY, actor="qa",
         rework=c.ReworkSpec(operations=rework.operations, plan="RE-PUMP", mode="order", rework_order="RWO-2",
                             subjects=("unit:SN2",)))
    p.do(c.StartOperation, work_order="RWO-2", operation=10)
    p.do(c.CompleteOperation, work_order="RWO-2", operation=10)
    events = _reinspect(p, "R2", "RWO-2", False)
    verdict = next(ev for ev in events if isinstance(ev, e.ReworkVerdict))
    assert (verdict.verdict, verdict.new_ncr) == ("failed", "NCR-R2")
    unit = p.state.units[("PUMP", "SN2")]
    assert (unit.status, unit.ncr) == ("hold", "NCR-R2")
    p.do(c.DispositionNonconformance, ncr="NCR-R2", disposition="scrap", roles=QUALITY, actor="qa")
    assert p.state.units[("PUMP", "SN2")].status == "scrapped"


def test_a_completed_unit_in_stock_is_packed_on_a_pallet_by_its_serial() -> None:
    p = pump_plant()
    _through_operation_10(p, "SN1", "MS-1")
    _through_operation_10(p, "SN2", "MS-2")
    test: dict[str, Any] = {"work_order": "WO1", "operation": 20, "instruction_revision": "1", "serial": "SN1"}
    sig = c.SignatureSpec(signature="SIG-00000000000000CC", signer_name="Quinn", meaning="approved")
    p.do(c.RecordStep, step=1, value=D("10.0"), **test)
    p.do(c.RecordStep, step=2, result="done", signature=sig, actor="qa", **test)
    p.do(c.CompleteUnitOperation, work_order="WO1", operation=30, serial="SN1")
    p.do(c.DefineBin, bin="FG", zone="F")
    p.do(c.ReceiveLot, lot="OTHER", item="PUMP", item_revision=None, quantity=D(1), bin="FG")
    sscc = "009506000100000018"
    p.do(c.PackPallet, bin="FG", sscc=sscc, lines=(c.PalletLineSpec(lot="OTHER", quantity=D(1)),))
    p.refuse(c.AddUnitsToPallet, "UNIT_NOT_IN_STOCK", "serials[0]", sscc=sscc, serials=("SN1",))
    p.refuse(c.AddUnitsToPallet, "UNIT_NOT_COMPLETED", "serials[0]", sscc=sscc, serials=("SN2",))
    p.refuse(c.AddUnitsToPallet, "UNKNOWN_UNIT", "serials[0]", sscc=sscc, serials=("SN9",))
    p.refuse(c.AddUnitsToPallet, "MISSING_VALUE", "serials", sscc=sscc, serials=())
    p.do(c.ReceiveProducedLot, work_order="WO1", lot="FG-1", quantity=D(1), bin="FG")
    p.refuse(c.AddUnitsToPallet, "DUPLICATE_SERIAL", "serials[1]", sscc=sscc, serials=("SN1", "SN1"))
    [ev] = p.do(c.AddUnitsToPallet, sscc=sscc, serials=("SN1",))
    assert (ev.lot, ev.serial, ev.quantity) == ("FG-1", "SN1", 1)
    assert p.state.units[("PUMP", "SN1")].sscc == sscc
    assert p.state.pallet_lines[(sscc, "FG-1")].quantity == 1
    p.refuse(c.AddUnitsToPallet, "UNIT_ON_PALLET", "serials[0]", sscc=sscc, serials=("SN1",))
    # a packed unit a rework holds keeps its pallet from shipping
    p.do(c.DefineInspectionPlan, plan="RE-PUMP", description="Re-inspection", sample_size=1, roles=QUALITY,
         characteristics=(c.CharacteristicSpec(characteristic="visual", kind="attribute"),))
    p.do(c.RaiseNonconformance, ncr="NCR-X", work_order="WO1", description="dented")
    p.do(c.DispositionNonconformance, ncr="NCR-X", disposition="rework", roles=QUALITY, actor="qa", rework=c.ReworkSpec(
        operations=(c.ReworkOperationSpec(description="Fix", workstation="WS2"),), plan="RE-PUMP",
        mode="order", subjects=("unit:SN1",)))
    assert (p.state.units[("PUMP", "SN1")].status, p.state.units[("PUMP", "SN1")].operation) == ("hold", None)
    p.do(c.DefineCustomer, customer="C1", name="Acme", roles=ADMIN)
    p.do(c.DefineSalesOrder, sales_order="SO-1", customer="C1", roles=ADMIN,
         lines=(c.SalesOrderLineSpec(line=1, item="PUMP", quantity=D(2)),))
    p.refuse(c.ShipPallet, "UNIT_ON_HOLD", "sscc", sscc=sscc, sales_order="SO-1")
    p.do(c.RemoveFromPallet, sscc=sscc, lot="FG-1", quantity=D(1))  # the lot off the pallet: the unit too
    assert p.state.units[("PUMP", "SN1")].sscc is None
