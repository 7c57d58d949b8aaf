"""Rework, use as is, return to supplier, CAPA and partial acceptance: the pure rules (edge.domain.contexts.capa)."""
from __future__ import annotations

from datetime import date

import pytest

from edge.domain import commands as c
from edge.domain import events as e
from tests.unit.plant_helpers import QUALITY, D, Plant

VISUAL = c.CharacteristicSpec(characteristic="visual", kind="attribute")
SIGNED = c.SignatureSpec(signature="SIG-00000000000000A1", signer_name="Quinn Quality", meaning="approved")
FLOOR = frozenset({"operator"})


@pytest.fixture
def ncr_plant(plant: Plant) -> Plant:
    """Lot P1 of pumps from WO1, on hold under NCR-1; a re-inspection plan RE-PUMP (2 samples)."""
    plant.do(c.DefineInspectionPlan, plan="RE-PUMP", description="Re-inspection", characteristics=(VISUAL,),
             sample_size=2, roles=QUALITY)
    plant.do(c.ReceiveLot, lot="P1", item="PUMP", item_revision=None, quantity=D(6), bin="A-02-3")
    plant.do(c.RaiseNonconformance, ncr="NCR-1", lot="P1", work_order="WO1", description="scratched housings")
    assert plant.lot("P1").status == "hold"
    return plant


def _rework(mode: str | None = None, **more: object) -> c.ReworkSpec:
    return c.ReworkSpec(operations=(c.ReworkOperationSpec(description="Polish housing", workstation="WS1"),
                                    c.ReworkOperationSpec(description="Re-test", workstation="WS2")),
                        plan="RE-PUMP", mode=mode, **more)  # type: ignore[arg-type]


def _reinspect(plant: Plant, inspection: str, ok: bool) -> list[object]:
    return plant.do(c.RecordInspection, inspection=inspection, plan="RE-PUMP", lot="P1", roles=QUALITY,
                    measurements=(c.Measurement(characteristic="visual", passed=ok),))


def _do_operations(plant: Plant, work_order: str, *operations: int) -> None:
    for n in operations:
        plant.do(c.StartOperation, work_order=work_order, operation=n, roles=FLOOR)
        plant.do(c.CompleteOperation, work_order=work_order, operation=n, roles=FLOOR)


def test_rework_adds_operations_to_the_work_order_and_releases_the_lot_after_its_reinspection(ncr_plant: Plant) -> None:
    events = ncr_plant.do(c.DispositionNonconformance, ncr="NCR-1", disposition="rework", rework=_rework(),
                          roles=QUALITY)
    opened = next(ev for ev in events if isinstance(ev, e.ReworkOpened))
    assert (opened.mode, opened.work_order, [o.operation for o in opened.operations]) == ("operations", "WO1",
                                                                                           [30, 40])
    assert ncr_plant.op("WO1", 30).description == "Polish housing"
    assert ncr_plant.state.inspection_tasks["RWK-NCR-1"].kind == "rework"
    # the re-inspection waits for the rework operations
    ncr_plant.refuse(c.RecordInspection, "REWORK_NOT_DONE", "plan", inspection="R0", plan="RE-PUMP", lot="P1",
                     roles=QUALITY, measurements=(c.Measurement(characteristic="visual", passed=True),))
    _do_operations(ncr_plant, "WO1", 30, 40)
    assert [type(ev).__name__ for ev in _reinspect(ncr_plant, "R1", True)] == ["InspectionRecorded"]  # 1 of 2
    assert ncr_plant.lot("P1").status == "hold"
    events = _reinspect(ncr_plant, "R2", True)
    verdict = next(ev for ev in events if isinstance(ev, e.ReworkVerdict))
    assert verdict.verdict == "passed"
    assert ncr_plant.lot("P1").status == "available"
    assert ncr_plant.state.reworks["RW-NCR-1"].status == "passed"


def test_a_failed_reinspection_keeps_the_lot_held_under_a_new_ncr(ncr_plant: Plant) -> None:
    ncr_plant.do(c.DispositionNonconformance, ncr="NCR-1", disposition="rework", rework=_rework(), roles=QUALITY)
    _do_operations(ncr_plant, "WO1", 30, 40)
    _reinspect(ncr_plant, "R1", True)
    _reinspect(ncr_plant, "R2", False)
    assert ncr_plant.lot("P1").status == "hold"
    assert ncr_plant.state.nonconformances["NCR-R2"].status == "open"
    assert ncr_plant.state.reworks["RW-NCR-1"].status == "failed"


def test_rework_on_a_rework_order_with_its_own_routing(ncr_plant: Plant) -> None:
    ncr_plant.do(c.DispositionNonconformance, ncr="NCR-1", disposition="rework", roles=QUALITY,
                 rework=_rework("order", rework_order="RWO-1"))
    wo = ncr_plant.wo("RWO-1")
    assert (wo.item, wo.quantity, wo.status) == ("PUMP", D(6), "released")
    assert [op.operation for op in ncr_plant.state.operations_of("RWO-1")] == [10, 20]
    _do_operations(ncr_plant, "RWO-1", 10, 20)
    _reinspect(ncr_plant, "R1", True)
    _reinspect(ncr_plant, "R2", True)
    assert ncr_plant.lot("P1").status == "available"


def test_the_sites_rework_mode_applies_when_the_user_names_none(ncr_plant: Plant) -> None:
    ncr_plant.do(c.DispositionNonconformance, ncr="NCR-1", disposition="rework", rework=_rework(), roles=QUALITY,
                 rework_mode="order")
    assert ncr_plant.state.reworks["RW-NCR-1"].work_order == "RW-NCR-1"


def test_a_rework_names_a_known_reinspection_plan_and_subjects(ncr_plant: Plant) -> None:
    bad_plan = c.ReworkSpec(operations=_rework().operations, plan="NOPE")
    ncr_plant.refuse(c.DispositionNonconformance, "UNKNOWN_INSPECTION_PLAN", "rework.plan", ncr="NCR-1",
                     disposition="rework", rework=bad_plan, roles=QUALITY)
    ncr_plant.refuse(c.DispositionNonconformance, "INVALID_SUBJECT", "rework.subjects[0]", ncr="NCR-1",
                     disposition="rework", rework=_rework(subjects=("pallet:1",)), roles=QUALITY)
    ncr_plant.refuse(c.DispositionNonconformance, "MISSING_VALUE", "rework.operations", ncr="NCR-1",
                     disposition="rework", rework=c.ReworkSpec(operations=(), plan="RE-PUMP"), roles=QUALITY)


def test_use_as_is_needs_a_signed_justification(ncr_plant: Plant) -> None:
    ncr_plant.refuse(c.DispositionNonconformance, "MISSING_VALUE", "comment", ncr="NCR-1", disposition="use_as_is",
                     roles=QUALITY, signature=SIGNED)
    ncr_plant.refuse(c.DispositionNonconformance, "SIGNATURE_REQUIRED", "X-Takt-Pin", ncr="NCR-1",
                     disposition="use_as_is", comment="cosmetic, inside the customer's spec", roles=QUALITY)
    events = ncr_plant.do(c.DispositionNonconformance, ncr="NCR-1", disposition="use_as_is", roles=QUALITY,
                          comment="cosmetic, inside the customer's spec", signature=SIGNED)
    assert isinstance(events[-1], e.RecordsSigned)
    assert ncr_plant.lot("P1").status == "available"


def test_return_to_supplier_creates_the_supplier_return(plant: Plant) -> None:
    plant.do(c.ReceiveLot, lot="S1", item="GASKET", item_revision=None, quantity=D(20), bin="CAGE",
             supplier_lot="ACME-7")
    plant.do(c.RaiseNonconformance, ncr="NCR-S", lot="S1", description="torn gaskets")
    events = plant.do(c.DispositionNonconformance, ncr="NCR-S", disposition="return_to_supplier", roles=QUALITY)
    [ret] = [ev for ev in events if isinstance(ev, e.SupplierReturnCreated)]
    assert (ret.supplier_return, ret.lot, ret.quantity, ret.supplier_lot) == ("RTS-NCR-S", "S1", D(20), "ACME-7")
    assert plant.stock("S1") == {}


def test_a_capa_is_worked_from_problem_to_effectiveness(ncr_plant: Plant) -> None:
    ncr_plant.do(c.OpenCapa, capa="CAPA-1", problem="scratched housings", ncrs=("NCR-1",),
                 containment="100% visual check", roles=QUALITY)
    ncr_plant.refuse(c.RecordRootCause, "MISSING_VALUE", "whys", capa="CAPA-1", root_cause="fixture", roles=QUALITY)
    ncr_plant.refuse(c.RecordRootCause, "INVALID_VALUE", "fishbone", capa="CAPA-1", root_cause="fixture",
                     fishbone="money", roles=QUALITY)
    ncr_plant.do(c.RecordRootCause, capa="CAPA-1", root_cause="worn fixture pad", fishbone="machine",
                 whys=("housing scratched", "pad worn", "no pad in PM plan"), roles=QUALITY)
    ncr_plant.do(c.PlanCapaAction, capa="CAPA-1", kind="corrective", description="replace pad", owner="maint",
                 due=date(2026, 6, 1), roles=QUALITY)
    ncr_plant.do(c.PlanCapaAction, capa="CAPA-1", kind="preventive", description="pad in PM plan", owner="pm",
                 due=date(2026, 7, 1), roles=QUALITY)
    assert sorted(ncr_plant.state.capa_actions) == [("CAPA-1", 1), ("CAPA-1", 2)]
    ncr_plant.refuse(c.CheckCapaEffectiveness, "ACTIONS_OPEN", "capa", capa="CAPA-1", effective=True,
                     comment="no scratches in 3 weeks", roles=QUALITY)
    ncr_plant.do(c.CompleteCapaAction, capa="CAPA-1", action=1, result="done", roles=FLOOR)
    ncr_plant.do(c.CompleteCapaAction, capa="CAPA-1", action=2, roles=QUALITY)
    ncr_plant.refuse(c.CompleteCapaAction, "ACTION_DONE", "action", capa="CAPA-1", action=2, roles=QUALITY)
    ncr_plant.do(c.CheckCapaEffectiveness, capa="CAPA-1", effective=True, comment="no scratches in 3 weeks",
                 roles=QUALITY)
    capa = ncr_plant.state.capas["CAPA-1"]
    assert (capa.status, capa.fishbone, len(capa.whys), capa.ncrs) == ("closed", "machine", 3, ("NCR-1",))
    ncr_plant.refuse(c.OpenCapa, "UNKNOWN_NCR", "ncrs[0]", capa="CAPA-2", problem="x", ncrs=("NCR-9",),
                     roles=QUALITY)
    ncr_plant.refuse(c.OpenCapa, "ROLE_REQUIRED", None, capa="CAPA-2", problem="x", roles=FLOOR)


def test_a_lot_under_inspection_splits_into_accepted_and_rejected_sub_lots(plant: Plant) -> None:
    plant.do(c.DefineInspectionPlan, plan="IN-GASKET", description="Incoming gaskets", item="GASKET", kind="incoming",
             sample_size=5, characteristics=(VISUAL,), roles=QUALITY)
    plant.do(c.ReceiveLot, lot="G1", item="GASKET", item_revision=None, quantity=D(30), bin="CAGE")
    assert plant.lot("G1").status == "quarantine"
    parts = (c.SubLotSpec(lot="G1-A", quantity=D(20), verdict="accepted", samples=3, failed=0),
             c.SubLotSpec(lot="G1-R", quantity=D(10), verdict="rejected", samples=2, failed=2))
    plant.refuse(c.SplitLot, "QUANTITY_MISMATCH", "parts", lot="G1", roles=QUALITY,
                 parts=(parts[0], c.SubLotSpec(lot="G1-R", quantity=D(5), verdict="rejected")))
    plant.refuse(c.SplitLot, "ROLE_REQUIRED", None, lot="G1", parts=parts, roles=FLOOR)
    events = plant.do(c.SplitLot, lot="G1", parts=parts, roles=QUALITY)
    assert [type(ev).__name__ for ev in events].count("SubLotSplit") == 2
    assert (plant.lot("G1").status, plant.lot("G1").quantity) == ("consumed", D(0))
    assert (plant.lot("G1-A").status, plant.stock("G1-A")) == ("available", {"CAGE": D(20)})
    assert (plant.lot("G1-R").status, plant.stock("G1-R")) == ("hold", {"CAGE": D(10)})
    assert plant.state.nonconformances["NCR-G1-R"].lot == "G1-R"
    assert plant.state.inspection_tasks["INC-G1"].status == "split"
    plant.refuse(c.SplitLot, "LOT_NOT_UNDER_INSPECTION", "lot", lot="G1-A", parts=parts, roles=QUALITY)
