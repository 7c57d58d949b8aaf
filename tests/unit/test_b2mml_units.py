"""Serialised units in B2MML V0600 material information (issue 21): a unit is a MaterialSubLot of its order's output
(its serial the sub-lot's ID, with the GTIN where it is GS1 AI 21), and a component serial fitted into it the
sub-lot's permanent assembly; the document validates against the MESA schemas."""
from __future__ import annotations

from decimal import Decimal

from edge.domain import commands as c
from erp_sync.b2mml import Schemas, render_material_information
from tests.unit.test_b2mml import NOW, SHARED, Journal, children, pytestmark, text

__all__ = ["pytestmark"]  # skipped like test_b2mml where the schemas are not installed
ADMIN = frozenset({"admin"})


def test_a_unit_and_its_fitted_component_are_material_sub_lots() -> None:
    j = Journal()
    j.do(c.DefineItem, roles=ADMIN, item="PUMP-SER", description="Pump", unit="pcs", revision="A", serialised=True,
         gtin="09506000134352")
    j.do(c.ReleaseWorkOrder, roles=ADMIN, work_order="WO-SER", item="PUMP-SER", item_revision="A", bom_revision="1",
         quantity=Decimal(2), operations=(c.OperationSpec(operation=10, description="Assemble", workstation="WS-10"),),
         bom=(c.BomLineSpec(line=1, item="MOTOR-075", item_revision="A", quantity_per=Decimal(1)),))
    j.do(c.IssueToWorkOrder, work_order="WO-SER", lot="MOT-8812", bin="LS-10", quantity=Decimal(1), serial="M-77")
    j.do(c.DefineWorkInstruction, roles=ADMIN, item="PUMP-SER", operation=10, revision="1", item_revision="A",
         title="Assemble", steps=(c.InstructionStepSpec(step=1, kind="scan", component="MOTOR-075"),))
    j.do(c.SerialiseUnit, work_order="WO-SER", operation=10, gs1=True)
    j.do(c.RecordStep, work_order="WO-SER", operation=10, instruction_revision="1", step=1, serial="WO-SER-0001",
         scanned="M-77")
    doc = render_material_information(j.entries, node_id="node-a", state=j.state, created=NOW)
    assert doc is not None
    verdict, root = Schemas(SHARED).validate(doc.xml)
    assert verdict.ok, verdict.describe() + "\n" + doc.xml.decode()
    assert root is not None
    lots = [lot for lot in children(root, "DataArea/MaterialInformation/MaterialLot") if text(lot, "ID") == "WO-SER"]
    assert len(lots) == 2
    serialised, fitted = (children(lot, "MaterialSubLot")[0] for lot in lots)
    assert (text(serialised, "ID"), text(serialised, "MaterialLotID"), text(serialised, "Quantity/QuantityString")) == (
        "WO-SER-0001", "WO-SER", "1")
    props = {text(p, "ID"): text(p, "Value/ValueString") for p in children(serialised, "MaterialSublotProperty")}
    assert props == {"Operation": "10", "SerialSource": "gs1", "GTIN": "09506000134352"}
    assert (text(fitted, "AssemblySubLotID/ID"), text(fitted, "AssemblySubLotID/MaterialLotID"),
            text(fitted, "AssemblyRelationship")) == ("M-77", "MOT-8812", "Permanent")
