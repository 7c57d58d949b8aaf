"""B2MML as senders write it: every schema-valid shape of ProductionSchedule and ProductionRequest read into
work-order commands (no schedule ID, several requests, nested segments, MaterialRequirement with equipment locations,
production parameters, units), and refusals that list every problem at once. Each shape is its own document in
tests/data/b2mml, validated against the MESA schema before it is used."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest

from edge.domain import PlantState
from edge.domain import commands as c
from erp_sync.b2mml import ScheduleRefused, Schemas, check_schedule, read_schedule
from erp_sync.b2mml.units import UnitMismatch, convert
from tests.unit.test_b2mml import NOW, SHARED, demo_state

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "b2mml"
D = Decimal
LOCATIONS = {"LINE1-SUPERMARKET": "bin:A-01-1", "CELL-10": "workstation:WS-10"}
SITE = {"WS-10", "WS-20", "WS-30"}
SHAPES = ["schedule-v0401-nested.xml", "request-v0600.xml", "schedule-v0600-bare.xml"]

pytestmark = pytest.mark.skipif(not (SHARED / "V0600").is_dir(), reason="MESA B2MML schemas not installed: "
                                                                        "scripts/test fetches them when it can")


@pytest.fixture(scope="module")
def schemas() -> Schemas:
    return Schemas(SHARED)


def releases(schemas: Schemas, source: str | bytes | Path, state: PlantState | None = None
             ) -> dict[str, c.ReleaseWorkOrder]:
    mapped = check_schedule(source if not isinstance(source, str) else source.encode(), state or demo_state(),
                            schemas_=schemas, locations=LOCATIONS, workstations=SITE)
    return {p.command.work_order: p.command for p in mapped.commands if isinstance(p.command, c.ReleaseWorkOrder)}


@pytest.mark.parametrize("name", SHAPES)
def test_each_shape_is_a_schema_valid_document(schemas: Schemas, name: str) -> None:
    verdict, _ = schemas.validate(DATA / name)
    assert verdict.ok, verdict.describe()


@pytest.mark.parametrize("name", SHAPES)
def test_each_shape_passes_the_dry_run(schemas: Schemas, name: str) -> None:
    from erp_sync.b2mml import dry_run

    state = demo_state()
    mapped = check_schedule(DATA / name, state, schemas_=schemas, locations=LOCATIONS, workstations=SITE,
                            dispatch=True)
    dry_run(mapped.commands, state, NOW)


def test_nested_segments_become_the_operations_in_document_order(schemas: Schemas) -> None:
    wo = releases(schemas, DATA / "schedule-v0401-nested.xml")["WO-3001"]
    assert wo.item == "PUMP-100" and wo.quantity == 24 and wo.bom_revision == "7"
    assert [(o.operation, o.workstation, o.segment, o.description) for o in wo.operations] == [
        (10, "WS-10", "0010/0010", "Pre-assemble motor and impeller"),
        (20, "WS-20", "0010/0020", "Final assembly"),
        (30, "WS-30", "0010/0030", "Pressure test and pack"),
    ]
    # the parameters of the outer segment go to each step; a step's own of the same ID wins; the order's own
    # (BOMRevision) are the work order's fields, not setpoints
    assert [o.parameters for o in wo.operations] == [
        ("Program=P100-STD", "PressForce=12"), ("Program=P100-FINAL", "Torque=25"),
        ("Program=P100-STD", "TestPressure=10")]
    # material locations: through the site's table, and a bin of that code
    assert wo.operations[0].staging == ("IMPELLER-7=bin:A-01-1", "MOTOR-075=workstation:WS-10")
    assert wo.operations[1].staging == ("BOLT-M8X25=bin:A-01-2",)
    # 2 DZN of housings and 24 C62 of seal kits for 24 pumps: one each
    assert [(b.line, b.item, b.quantity_per) for b in wo.bom] == [
        (1, "IMPELLER-7", D(1)), (2, "MOTOR-075", D(1)), (3, "HOUSING-20", D(1)), (4, "SEAL-KIT-3", D(1)),
        (5, "GREASE-LT2", D("0.05")), (6, "BOLT-M8X25", D(8))]


def test_segments_without_operation_numbers_are_numbered_by_position_and_keep_their_ids(schemas: Schemas) -> None:
    wo = releases(schemas, DATA / "schedule-v0401-nested.xml")["WO-3002"]
    assert [(o.operation, o.segment, o.workstation) for o in wo.operations] == [
        (10, "0010/0010/A", "WS-10"), (20, "0010/0010/B", "WS-10"), (30, "0010/0020", "WS-20")]
    assert wo.quantity == 12  # 1 DZN made
    assert wo.due is not None and wo.due.isoformat() == "2026-12-10"


def test_a_request_as_the_document_is_a_schedule_of_one(schemas: Schemas) -> None:
    wo = releases(schemas, DATA / "request-v0600.xml")["WO-3101"]
    assert [(o.operation, o.workstation, o.segment, o.parameters) for o in wo.operations] == [
        (10, "WS-10", None, ("PressForce=14",)), (20, "WS-20", None, ())]
    assert wo.operations[0].staging == ("IMPELLER-7=bin:A-01-1",)
    assert [(b.item, b.quantity_per) for b in wo.bom] == [("IMPELLER-7", D(1)), ("MOTOR-150", D(1)), ("HOUSING-20", D(1))]


def test_a_bare_schedule_without_id_holds_several_requests(schemas: Schemas) -> None:
    found = releases(schemas, DATA / "schedule-v0600-bare.xml")
    assert {wo: (r.item, r.quantity) for wo, r in found.items()} == {
        "WO-3201": ("PUMP-100", D(5)), "WO-3202": ("PUMP-100", D(3)), "WO-3203": ("PUMP-150", D(2))}


def test_a_schedule_without_id_is_keyed_by_sender_request_and_content(schemas: Schemas) -> None:
    text = (DATA / "schedule-v0401-nested.xml").read_text()
    first = releases(schemas, text)
    again = releases(schemas, text.replace("\n        ", "\n  "))  # laid out otherwise: the same content
    assert {k: v.idempotency_key for k, v in first.items()} == {k: v.idempotency_key for k, v in again.items()}
    assert first["WO-3001"].idempotency_key.startswith("b2mml:MES-OTHER:WO-3001:")
    changed = releases(schemas, text.replace("<QuantityString>192</QuantityString>",
                                             "<QuantityString>240</QuantityString>"))
    assert changed["WO-3001"].idempotency_key != first["WO-3001"].idempotency_key  # other content, other key
    assert changed["WO-3002"].idempotency_key == first["WO-3002"].idempotency_key  # the unchanged request
    other_sender = releases(schemas, text.replace("<LogicalID>MES-OTHER</LogicalID>", "<LogicalID>ERP</LogicalID>"))
    assert other_sender["WO-3002"].idempotency_key != first["WO-3002"].idempotency_key


def test_a_schedule_with_id_keeps_its_keys(schemas: Schemas) -> None:
    found = releases(schemas, DATA / "schedule-v0600.xml")
    assert found["WO-2001"].idempotency_key == "b2mml:APS-2026-49:WO-2001"
    # and its operations carry nothing new, so orders imported before keep their fingerprints
    assert all(o.segment is None and not o.parameters and not o.staging for o in found["WO-2001"].operations)


def test_the_refusal_lists_every_unknown_material_equipment_and_unit(schemas: Schemas) -> None:
    text = (DATA / "schedule-v0401-nested.xml").read_text()
    for old, new in [("<MaterialDefinitionID>MOTOR-075</MaterialDefinitionID>",
                      "<MaterialDefinitionID>MOTOR-999</MaterialDefinitionID>"),
                     ("<MaterialDefinitionID>MOTOR-150</MaterialDefinitionID>",
                      "<MaterialDefinitionID>MOTOR-777</MaterialDefinitionID>"),
                     ("<EquipmentID>CELL-10</EquipmentID>", "<EquipmentID>CELL-99</EquipmentID>"),
                     ("<EquipmentID>TESTRIG-30</EquipmentID>", "<EquipmentID>TESTRIG-99</EquipmentID>"),
                     ("<UnitOfMeasure>C62</UnitOfMeasure>", "<UnitOfMeasure>furlong</UnitOfMeasure>"),
                     ("<UnitOfMeasure>DZN</UnitOfMeasure>", "<UnitOfMeasure>kg</UnitOfMeasure>")]:
        assert old in text
        text = text.replace(old, new, 1)
    with pytest.raises(ScheduleRefused) as refused:
        releases(schemas, text)
    problems = refused.value.problems
    assert len(problems) == 6, problems
    joined = " | ".join(problems)
    for expected in ["item MOTOR-999 is not known here", "item MOTOR-777 is not known here",
                     "equipment location CELL-99 is not in the site's b2mml locations table",
                     "TESTRIG-99 is neither a workstation of this site", "unit 'furlong' is not known here",
                     "unit 'kg' (mass) cannot be converted to 'pcs' (count)"]:
        assert expected in joined, expected
    assert refused.value.request == "WO-3001" and refused.value.reason == "; ".join(problems)


def test_problems_of_several_requests_are_listed_each(schemas: Schemas) -> None:
    text = (DATA / "schedule-v0600-bare.xml").read_text()
    text = text.replace("<EquipmentID>WS-20</EquipmentID>", "", 1).replace(
        "<ValueString>2</ValueString>", "<ValueString>2</ValueString>", 1)
    text = text.replace("<QuantityString>2</QuantityString></Quantity></MaterialProducedRequirement>",
                        "<QuantityString>0</QuantityString></Quantity></MaterialProducedRequirement>")
    text = text.replace("<EquipmentRequirement></EquipmentRequirement>", "")
    verdict, root = schemas.validate(text.encode())
    assert verdict.ok, verdict.describe()
    assert root is not None
    with pytest.raises(ScheduleRefused) as refused:
        read_schedule(root, demo_state())
    assert refused.value.problems == (
        "request WO-3202: SegmentRequirement #1: no workstation (EquipmentRequirement/EquipmentID)",
        "request WO-3203: the quantity to make must be greater than zero, got 0")


def test_other_verbs_are_not_read_and_cancels_are_told_by_verb_or_delete_action(schemas: Schemas) -> None:
    from erp_sync.b2mml.reader import _Reader, cancels

    ns = "http://www.mesa.org/xml/B2MML-V0600"
    root = ET.fromstring(f'<AcknowledgeProductionSchedule xmlns="{ns}"/>')
    with pytest.raises(ScheduleRefused, match="AcknowledgeProductionSchedule is not a production schedule"):
        read_schedule(root, demo_state())
    r = _Reader(ns)
    delete = ET.fromstring(f'<SyncProductionSchedule xmlns="{ns}"><DataArea><Sync><ActionCriteria>'
                           f'<ActionExpression actionCode="Delete"/></ActionCriteria></Sync></DataArea>'
                           f'</SyncProductionSchedule>')
    assert cancels(r, delete) and cancels(r, ET.fromstring(f'<CancelProductionSchedule xmlns="{ns}"/>'))
    assert not cancels(r, ET.fromstring(f'<ChangeProductionSchedule xmlns="{ns}"/>'))
    named = ET.fromstring(f'<CancelProductionSchedule xmlns="{ns}"><DataArea><Cancel/><ProductionSchedule>'
                          f'<ID>S-1</ID><ProductionRequest><ID>WO-1</ID></ProductionRequest><ProductionRequest/>'
                          f'</ProductionSchedule></DataArea></CancelProductionSchedule>')
    with pytest.raises(ScheduleRefused, match="ProductionRequest #2 has no ID"):
        read_schedule(named, demo_state())
    whole = ET.fromstring(f'<CancelProductionSchedule xmlns="{ns}"><DataArea><Cancel/><ProductionSchedule>'
                          f'<ID>S-1</ID></ProductionSchedule></DataArea></CancelProductionSchedule>')
    read = read_schedule(whole, demo_state())
    assert read.commands == () and read.cancel_schedules == ("S-1",)


def test_units_convert_within_their_kind() -> None:
    assert convert(D(2), "DZN", "pcs") == 24
    assert convert(D(1500), "g", "kg") == D("1.5")
    assert convert(D(3), None, "kg") == 3 and convert(D(3), "box", "BOX") == 3
    with pytest.raises(UnitMismatch, match="mass"):
        convert(D(1), "kg", "m")
    with pytest.raises(UnitMismatch, match="not known"):
        convert(D(1), "box", "pcs")


def test_operations_without_the_new_fields_keep_their_fingerprint() -> None:
    plain = c.OperationSpec(operation=10, description="Cut", workstation="WS-10", standard_minutes=D(5))
    assert repr(plain) == ("OperationSpec(operation=10, description='Cut', workstation='WS-10', "
                           "standard_minutes=Decimal('5'))")
    with_setpoints = c.OperationSpec(operation=10, description="Cut", workstation="WS-10", standard_minutes=D(5),
                                     parameters=("Speed=3",))
    assert repr(with_setpoints) != repr(plain) and "Speed=3" in repr(with_setpoints)


# --- the way back: pallets as material information -------------------------------------------------------------


def test_pallets_packed_and_shipped_render_as_material_lots_assembled_of_their_lots(schemas: Schemas) -> None:
    from datetime import timedelta

    from edge.domain import events as e
    from edge.store.codec import encode_event
    from edge.store.store import JournalEntry
    from erp_sync.b2mml import render_material_information

    sscc = "003456789012345675"
    packed = e.PalletPacked(sscc=sscc, bin="SHIP-01", packed_by="anna", at=NOW, lines=(
        e.PalletContent(lot="P100-0001", item="PUMP-100", quantity=D(10)),
        e.PalletContent(lot="P100-0002", item="PUMP-100", quantity=D(6))))
    shipped = e.PalletShipped(sscc=sscc, sales_order="SO-90001", customer="ACME", bin="SHIP-01",
                              at=NOW + timedelta(hours=2), lines=(
                                  e.ShippedLine(lot="P100-0001", item="PUMP-100", quantity=D(10), line=1),
                                  e.ShippedLine(lot="P100-0002", item="PUMP-100", quantity=D(6), line=1)))
    entries = [JournalEntry(seq=seq, event_id=f"e{seq}", node_id="n", type=type(ev).__name__, subject=ev.subject,
                            payload=encode_event(ev), actor="anna", source_device=None, occurred_at=NOW,
                            recorded_at=NOW, origin="edge", idempotency_key=f"k{seq}", key_part=0)
               for seq, ev in ((1, packed), (2, shipped))]
    doc = render_material_information(entries, node_id="node-a", created=NOW)
    assert doc is not None and doc.events == 2
    verdict, root = schemas.validate(doc.xml)
    assert verdict.ok, verdict.describe()
    assert root is not None
    ns = "{http://www.mesa.org/xml/B2MML-V0600}"
    lots = root.findall(f"{ns}DataArea/{ns}MaterialInformation/{ns}MaterialLot")
    assert [lot.findtext(f"{ns}ID") for lot in lots] == [sscc, sscc]
    assert [(a.findtext(f"{ns}ID"), a.findtext(f"{ns}Quantity/{ns}QuantityString"))
            for a in lots[0].findall(f"{ns}AssemblyLotID")] == [("P100-0001", "10"), ("P100-0002", "6")]
    assert lots[0].findtext(f"{ns}StorageLocation") == "SHIP-01"
    assert "shipped to ACME on SO-90001" in (lots[1].findtext(f"{ns}Description") or "")


def test_inspection_verdicts_render_as_test_results_of_the_lot(schemas: Schemas) -> None:
    from edge.domain import events as e
    from edge.store.codec import encode_event
    from edge.store.store import JournalEntry
    from erp_sync.b2mml import render_material_information

    inspections = [
        e.InspectionRecorded(inspection="INS-1", plan="IP-HOUSING", lot="H-7", work_order=None, operation=None,
                             passed=False, at=NOW, results=(
                                 e.MeasuredCharacteristic(characteristic="bore_diameter", value=D("62.020"),
                                                          passed=False),
                                 e.MeasuredCharacteristic(characteristic="visual", value=None, passed=True))),
        e.InspectionRecorded(inspection="INS-2", plan="IP-PUMP-FINAL", lot=None, work_order="WO-1001", operation=30,
                             passed=True, at=NOW, results=(
                                 e.MeasuredCharacteristic(characteristic="test_pressure", value=D("10.1"),
                                                          passed=True),))]
    entries = [JournalEntry(seq=seq, event_id=f"e{seq}", node_id="n", type="InspectionRecorded", subject=ev.subject,
                            payload=encode_event(ev), actor="anna", source_device=None, occurred_at=NOW,
                            recorded_at=NOW, origin="edge", idempotency_key=f"k{seq}", key_part=0)
               for seq, ev in enumerate(inspections, start=1)]
    doc = render_material_information(entries, node_id="node-a", created=NOW)
    assert doc is not None
    verdict, root = schemas.validate(doc.xml)
    assert verdict.ok, verdict.describe()
    assert root is not None
    ns = "{http://www.mesa.org/xml/B2MML-V0600}"
    lots = root.findall(f"{ns}DataArea/{ns}MaterialInformation/{ns}MaterialLot")
    assert [lot.findtext(f"{ns}ID") for lot in lots] == ["H-7", "INS-2"]
    first = [p for p in lots[0].findall(f"{ns}MaterialLotProperty") if p.findtext(f"{ns}ID") == "Inspection"][0]
    assert first.findtext(f"{ns}Value/{ns}ValueString") == "FAIL"
    assert [(c.findtext(f"{ns}ID"), c.findtext(f"{ns}TestResult/{ns}Result/{ns}ValueString"))
            for c in first.findall(f"{ns}MaterialLotProperty")] == [("bore_diameter", "FAIL"), ("visual", "PASS")]
