"""The B2MML adapter without a store: validation against the MESA schemas, the schedule → command mapping, the
dry run, and rendering journal entries as V0600 production performance and material information."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from edge import reference
from edge.domain import PlantState, decide, evolve
from edge.domain import commands as c
from edge.domain import events as e
from edge.store.codec import encode_event
from edge.store.store import JournalEntry
from erp_sync.b2mml import (
    DEFAULT_SCHEMA_DIR,
    ScheduleRefused,
    Schemas,
    _minutes,
    dry_run,
    read_schedule,
    render,
    render_material_information,
    render_production_performance,
)
from takt.config import load_config
from takt.runtime import seed_commands
from tests.shared_data import MIRROR_HINT, SHARED_DATA

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "b2mml"
# the installed pinned schemas (edge.reference), else the mirror of ../shared/data/b2mml (tests.shared_data)
SHARED = reference.b2mml_schemas() or SHARED_DATA / "b2mml"
EXAMPLES = SHARED_DATA / "b2mml" / "examples"  # other senders' documents: test inputs from the mirror only
needs_examples = pytest.mark.skipif(not EXAMPLES.is_dir(), reason=MIRROR_HINT)
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
V0600 = "{http://www.mesa.org/xml/B2MML-V0600}"
D = Decimal

pytestmark = pytest.mark.skipif(not (SHARED / "V0600").is_dir(), reason="MESA B2MML schemas not installed: "
                                "takt reference fetch (scripts/test fetches them when it can)")


@pytest.fixture(scope="module")
def schemas() -> Schemas:
    return Schemas(SHARED)


def demo_state() -> PlantState:
    """The demo site's master data and opening stock, reached by deciding its seed commands."""
    state = PlantState()
    for seed in seed_commands(load_config(ROOT / "config" / "demo.yaml")):
        for ev in decide(state, seed.command, NOW):
            evolve(state, ev)
    state.take_dirty()
    return state


def schedule_root(schemas: Schemas, text: str | bytes) -> ET.Element:
    verdict, root = schemas.validate(text.encode() if isinstance(text, str) else text)
    assert verdict.ok, verdict.describe()
    assert root is not None
    return root


def v0600_sample() -> str:
    return (DATA / "schedule-v0600.xml").read_text()


# --- validation ------------------------------------------------------------------------------------


def test_the_default_schema_folder_is_the_shared_one() -> None:
    assert DEFAULT_SCHEMA_DIR.resolve() == SHARED.resolve()


@pytest.mark.parametrize("name", ["schedule-v0600.xml", "schedule-v0401.xml"])
def test_the_sample_schedules_are_valid(schemas: Schemas, name: str) -> None:
    verdict, _ = schemas.validate(DATA / name)
    assert verdict.ok, verdict.describe()
    assert verdict.document == "SyncProductionSchedule"
    assert verdict.version == ("V0600" if "0600" in name else "V0401")


@needs_examples
@pytest.mark.parametrize("name", ["LOT-20121210170718-0001L0001.xml", "MAT-20121210170256-CRBN0001.xml",
                                  "INV-20121210175555-0001L0001_01.xml"])
def test_the_published_v0401_examples_are_valid(schemas: Schemas, name: str) -> None:
    verdict, _ = schemas.validate(EXAMPLES / "courbon-v0401" / name)
    assert verdict.ok, verdict.describe()
    assert verdict.version == "V0401"


V0700_LOTS = (b'<?xml version="1.0"?><SyncMaterialInformation xmlns="http://www.mesa.org/xml/B2MML" releaseID="7.0">'
              b'<ApplicationArea><CreationDateTime>2026-12-01T08:00:00Z</CreationDateTime></ApplicationArea>'
              b'<DataArea><Sync/><MaterialInformation><ID>MI-1</ID><MaterialLot><ID>L118</ID>'
              b'<Status>Released</Status></MaterialLot></MaterialInformation></DataArea></SyncMaterialInformation>')


def test_a_v0700_document_is_told_by_its_namespace(schemas: Schemas) -> None:
    verdict, _ = schemas.validate(V0700_LOTS)
    assert (verdict.ok, verdict.version, verdict.document) == (True, "V0700", "SyncMaterialInformation")
    broken = V0700_LOTS.replace(b"<ID>L118</ID>", b"")  # a MaterialLot needs its ID
    verdict, _ = schemas.validate(broken)
    assert not verdict.ok and verdict.version == "V0700"
    assert verdict.path == "/SyncMaterialInformation/DataArea/MaterialInformation/MaterialLot"
    assert "ID" in (verdict.reason or "")


def test_an_invalid_value_is_named_with_its_path_and_the_schema_reason(schemas: Schemas) -> None:
    bad = v0600_sample().replace("<Priority>1</Priority>", "<Priority>urgent</Priority>")
    verdict, _ = schemas.validate(bad.encode())
    assert not verdict.ok
    assert verdict.path == "/SyncProductionSchedule/DataArea/ProductionSchedule/ProductionRequest[1]/Priority"
    assert "decimal" in (verdict.reason or "").lower() or "urgent" in (verdict.reason or "")
    assert verdict.describe().startswith("not valid B2MML V0600 SyncProductionSchedule at /SyncProductionSchedule/")


def test_a_missing_required_attribute_is_the_reason(schemas: Schemas) -> None:
    verdict, _ = schemas.validate(v0600_sample().replace(' releaseID="6.0"', "").encode())
    assert not verdict.ok and verdict.reason == "missing required attribute 'releaseID'"


def test_foreign_namespace_unknown_root_and_broken_xml_are_refused(schemas: Schemas) -> None:
    other = schemas.validate(b'<Order xmlns="urn:example:erp"><ID>1</ID></Order>')[0]
    assert not other.ok and other.version is None and "not a B2MML namespace" in (other.reason or "")
    unknown = schemas.validate(b'<Pizza xmlns="http://www.mesa.org/xml/B2MML-V0600"/>')[0]
    assert not unknown.ok and unknown.reason == "Pizza is not a document element of B2MML V0600"
    broken = schemas.validate(b"<SyncProductionSchedule")[0]
    assert not broken.ok and "not well-formed XML" in (broken.reason or "")


def test_entities_are_refused(schemas: Schemas) -> None:
    bomb = (b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "xxxxxxxx">]>'
            b'<ProductionSchedule xmlns="http://www.mesa.org/xml/B2MML-V0600"><ID>&x;</ID></ProductionSchedule>')
    verdict, _ = schemas.validate(bomb)
    assert not verdict.ok and "not well-formed XML" in (verdict.reason or "")


def test_a_missing_schema_folder_says_where_it_looked(tmp_path: Path) -> None:
    from erp_sync.b2mml import SchemasMissing

    with pytest.raises(SchemasMissing, match="TAKT_B2MML_SCHEMAS"):
        Schemas(tmp_path / "nowhere")


# --- the mapping -----------------------------------------------------------------------------------


def test_a_schedule_becomes_work_orders_with_routing_bom_and_dispatch(schemas: Schemas) -> None:
    state = demo_state()
    planned = read_schedule(schedule_root(schemas, v0600_sample()), state, dispatch=True)
    assert planned.schedules == ("APS-2026-49",)
    releases = {p.request: p.command for p in planned.commands if isinstance(p.command, c.ReleaseWorkOrder)}
    wo = releases["WO-2001"]
    assert isinstance(wo, c.ReleaseWorkOrder)
    assert (wo.idempotency_key, wo.origin, wo.actor, wo.actor_roles) == (
        "b2mml:APS-2026-49:WO-2001", "erp", "erp-sync", frozenset({"service"}))
    assert (wo.item, wo.item_revision, wo.bom_revision, wo.quantity) == ("PUMP-100", "C", "7", D(30))
    assert (wo.due, wo.customer_order, wo.overproduction_tolerance_pct) == (date(2026, 12, 9), "SO-90001", D(5))
    assert [(o.operation, o.workstation, o.standard_minutes, o.description) for o in wo.operations] == [
        (10, "WS-10", D(6), "Pre-assemble motor and impeller"),
        (20, "WS-20", D(9), "Final assembly"),  # SCREWDRIVER-20 is a machine of WS-20
        (30, "WS-30", D(4), "Pressure test and pack"),
    ]
    assert [(b.line, b.item, b.item_revision, b.quantity_per) for b in wo.bom] == [
        (1, "IMPELLER-7", "D", D(1)), (2, "MOTOR-075", "A", D(1)), (3, "HOUSING-20", "B", D(1)),
        (4, "SEAL-KIT-3", "B", D(1)), (5, "GREASE-LT2", "A", D("0.05")), (6, "BOLT-M8X25", "A", D(8)),
    ]
    assert releases["WO-2002"].operations[2].workstation == "WS-30"  # TESTRIG-30 stands for WS-30
    dispatch = {p.command.workstation: [(s.work_order, s.operation) for s in p.command.sequence]
                for p in planned.commands if isinstance(p.command, c.SetDispatchList)}
    # WO-2002 starts earlier at WS-10 (6 Dec) than WO-2001 (7 Dec): the earliest start goes first.
    assert dispatch == {"WS-10": [("WO-2002", 10), ("WO-2001", 10)], "WS-20": [("WO-2001", 20), ("WO-2002", 20)],
                        "WS-30": [("WO-2002", 30), ("WO-2001", 30)]}


def test_v0401_maps_to_the_same_commands(schemas: Schemas) -> None:
    state = demo_state()
    new = read_schedule(schedule_root(schemas, v0600_sample()), state)
    old = read_schedule(schedule_root(schemas, (DATA / "schedule-v0401.xml").read_bytes()), state)
    assert old.commands == new.commands  # BOMRevision as a production parameter stands in for V0600's Version


def test_revisions_in_the_document_win_over_the_edges(schemas: Schemas) -> None:
    text = v0600_sample().replace(
        "<UnitOfMeasure>pcs</UnitOfMeasure></Quantity>\n          </MaterialConsumedRequirement>",
        "<UnitOfMeasure>pcs</UnitOfMeasure></Quantity><MaterialConsumedRequirementProperty><ID>ItemRevision</ID>"
        "<Value><ValueString>E</ValueString></Value></MaterialConsumedRequirementProperty>"
        "<MaterialConsumedRequirementProperty><ID>QuantityPer</ID><Value><ValueString>1.25</ValueString></Value>"
        "</MaterialConsumedRequirementProperty>\n          </MaterialConsumedRequirement>", 1)
    wo = read_schedule(schedule_root(schemas, text), demo_state()).commands[0].command
    assert isinstance(wo, c.ReleaseWorkOrder)
    assert (wo.bom[0].item, wo.bom[0].item_revision, wo.bom[0].quantity_per) == ("IMPELLER-7", "E", D("1.25"))


@pytest.mark.parametrize(("change", "reason"), [
    (("<ID>APS-2026-49</ID>", ""), "ProductionSchedule #1 has no ID"),
    (("<ID>WO-2002</ID>", "<ID>WO-2001</ID>"), "request WO-2001 appears twice"),
    (("<Version>7</Version>", ""), "request WO-2001: no BOM revision"),
    (("<EquipmentRequirement><EquipmentID>WS-10</EquipmentID></EquipmentRequirement>", ""),
     "request WO-2001: SegmentRequirement 10: no workstation"),
    (("<ID>20</ID>", "<ID>final</ID>"), "SegmentRequirement final: its ID is not an operation number"),
    (("<Duration>PT4M</Duration>", "<Duration>P1M</Duration>"), "Duration 'P1M' is not a positive day/time"),
])
def test_a_schedule_the_mapping_cannot_read_is_refused_with_the_reason(
        schemas: Schemas, change: tuple[str, str], reason: str) -> None:
    text = v0600_sample().replace(*change, 1)
    with pytest.raises(ScheduleRefused) as refused:
        read_schedule(schedule_root(schemas, text), demo_state())
    assert reason in refused.value.reason


def test_two_segments_that_make_different_things_are_refused(schemas: Schemas) -> None:
    produced = ("<MaterialProducedRequirement><MaterialDefinitionID>MOTOR-075</MaterialDefinitionID><Quantity>"
                "<QuantityString>30</QuantityString></Quantity></MaterialProducedRequirement>")
    text = v0600_sample().replace("<EquipmentRequirement><EquipmentID>WS-10</EquipmentID></EquipmentRequirement>",
                                  "<EquipmentRequirement><EquipmentID>WS-10</EquipmentID></EquipmentRequirement>"
                                  + produced, 1)
    with pytest.raises(ScheduleRefused, match="differs from the first one") as refused:
        read_schedule(schedule_root(schemas, text), demo_state())
    assert refused.value.request == "WO-2001"


@needs_examples
def test_a_document_that_is_not_a_schedule_is_refused(schemas: Schemas) -> None:
    with pytest.raises(ScheduleRefused, match="SyncMaterialInformation is not a production schedule"):
        read_schedule(schedule_root(schemas, (EXAMPLES / "courbon-v0401" /
                                              "LOT-20121210170718-0001L0001.xml").read_bytes()), demo_state())
    with pytest.raises(ScheduleRefused, match="V0600 \\(or V0401\\)"):
        read_schedule(schedule_root(schemas, V0700_LOTS), demo_state())


def test_durations_become_minutes() -> None:
    assert _minutes("PT45M", "x") == D(45)
    assert _minutes("PT1H30M", "x") == D(90)
    assert _minutes("P1DT2H", "x") == D(1560)
    assert _minutes("PT90S", "x") == D("1.5")
    with pytest.raises(ScheduleRefused):
        _minutes("-PT5M", "x")


def test_the_dry_run_names_the_request_and_the_domain_reason(schemas: Schemas) -> None:
    state = demo_state()
    text = v0600_sample().replace("<MaterialDefinitionID>MOTOR-150</MaterialDefinitionID>",
                                  "<MaterialDefinitionID>MOTOR-999</MaterialDefinitionID>")
    planned = read_schedule(schedule_root(schemas, text), state, dispatch=True)
    with pytest.raises(ScheduleRefused) as refused:
        dry_run(planned.commands, state, NOW)
    assert refused.value.request == "WO-2002" and refused.value.code == "UNKNOWN_ITEM"
    assert refused.value.reason == "request WO-2002: UNKNOWN_ITEM: item MOTOR-999 is not known here (field bom[1].item)"


def test_the_dry_run_sees_earlier_commands_of_the_same_document(schemas: Schemas) -> None:
    state = demo_state()
    planned = read_schedule(schedule_root(schemas, v0600_sample()), state, dispatch=True)
    dry_run(planned.commands, state, NOW)  # the dispatch lists name work orders released just before them
    assert {"WO-2001", "WO-2002"} <= set(state.work_orders)


# --- rendering -------------------------------------------------------------------------------------


class Journal:
    """Events decided against the demo state, numbered and wrapped as journal entries."""

    def __init__(self) -> None:
        self.state = demo_state()
        self.entries: list[JournalEntry] = []
        self.at = NOW

    def do(self, kind: Any, origin: str = "edge", roles: frozenset[str] = frozenset({"operator", "warehouse"}),
           **fields: Any) -> None:
        self.at += timedelta(minutes=7)
        cmd = kind(idempotency_key=f"k{len(self.entries)}", actor="anna", actor_roles=roles, origin=origin,
                   occurred_at=self.at, **fields)
        for part, ev in enumerate(decide(self.state, cmd, self.at)):
            evolve(self.state, ev)
            seq = len(self.entries) + 1
            self.entries.append(JournalEntry(
                seq=seq, event_id=f"id-{seq}", node_id="node-a", type=type(ev).__name__, subject=ev.subject,
                payload=encode_event(ev), actor="anna", source_device=None, occurred_at=self.at, recorded_at=self.at,
                origin=origin, idempotency_key=cmd.idempotency_key, key_part=part))


def production_journal() -> Journal:
    j = Journal()
    j.do(c.StartOperation, work_order="WO-1001", operation=10)
    j.do(c.ClockOnLabour, operator="anna", work_order="WO-1001", operation=10)
    j.do(c.IssueToWorkOrder, work_order="WO-1001", lot="IMP-5510", bin="A-01-2", quantity=D(2))
    j.do(c.ReportProduction, work_order="WO-1001", operation=10, good=D(2), scrap=D(1), scrap_reason="bent shaft")
    j.do(c.ReturnFromWorkOrder, work_order="WO-1001", lot="IMP-5510", bin="A-01-2", quantity=D(1))
    j.do(c.ClockOffLabour, operator="anna", work_order="WO-1001", operation=10)
    j.do(c.CompleteOperation, work_order="WO-1001", operation=10)
    j.do(c.ReceiveLot, lot="H-9001", item="HOUSING-20", item_revision=None, quantity=D(12), bin="REC-01",
         supplier_lot="GJ-60001", expiry=date(2030, 1, 1))
    j.do(c.MoveStock, lot="H-9001", from_bin="REC-01", to_bin="A-01-1", quantity=D(12), putaway=True)
    j.do(c.HoldLot, lot="H-9001", reason="porosity suspected")
    j.do(c.DefineItem, origin="erp", roles=frozenset({"service"}), item="NEW-1", description="New", unit="pcs",
         revision="A")
    return j


def children(parent: ET.Element, path: str) -> list[ET.Element]:
    return parent.findall("/".join(f"{V0600}{p}" for p in path.split("/")))


def text(parent: ET.Element, path: str) -> str | None:
    found = children(parent, path)
    return found[0].text if found else None


def test_production_performance_validates_and_says_what_happened(schemas: Schemas) -> None:
    j = production_journal()
    doc = render_production_performance(j.entries, node_id="node-a", state=j.state, created=NOW)
    assert doc is not None
    verdict, root = schemas.validate(doc.xml)
    assert verdict.ok, verdict.describe() + "\n" + doc.xml.decode()
    assert (verdict.version, verdict.document) == ("V0600", "SyncProductionPerformance")
    assert root is not None
    assert (doc.first_seq, doc.last_seq, doc.document_id) == (1, len(j.entries), f"node-a:1-{len(j.entries)}")
    assert doc.file_name("node-a") == f"node-a_ProductionPerformance_000000000001-{len(j.entries):012d}.xml"
    (response,) = children(root, "DataArea/ProductionPerformance/ProductionResponse")
    assert (text(response, "ID"), text(response, "Version"), text(response, "ResponseState")) == (
        "WO-1001", "7", "Running")
    segments = {text(s, "ID"): s for s in children(response, "SegmentResponse")}
    op10 = segments["WO-1001/10"]
    assert text(op10, "Location/EquipmentID") == "WS-10"
    assert text(op10, "SegmentState") == "Completed"
    assert text(op10, "ActualStartTime") == (NOW + timedelta(minutes=7)).isoformat()
    (report,) = children(op10, "ProductionData")
    values = {text(pd, "ID"): text(pd, "Value/ValueString") for pd in children(report, "ProductionData")}
    assert values == {"GoodQuantity": "2", "ScrapQuantity": "1", "ScrapReason": "bent shaft"}
    (labour,) = children(op10, "PersonnelActual")
    assert (text(labour, "PersonID"), text(labour, "Quantity/QuantityString"),
            text(labour, "Quantity/UnitOfMeasure")) == ("anna", "28", "min")  # clocked on at +14 min, off at +42
    materials = segments["WO-1001/materials"]
    consumed = [(text(m, "MaterialDefinitionID"), text(m, "MaterialLotID"), text(m, "Quantity/QuantityString"))
                for m in children(materials, "MaterialConsumedActual")]
    assert consumed == [("IMPELLER-7", "IMP-5510", "2"), ("IMPELLER-7", "IMP-5510", "-1")]


def test_a_completed_work_order_reports_its_totals_and_its_product(schemas: Schemas) -> None:
    j = Journal()
    for op in (10, 20, 30):
        j.do(c.StartOperation, work_order="WO-1003", operation=op)
        j.do(c.ReportProduction, work_order="WO-1003", operation=op, good=D(10))
        if op == 30:  # the demo's final inspection of PUMP-150 (3 samples of 10) passes before the order completes
            for i in range(3):
                j.do(c.RecordInspection, inspection=f"FI-{i}", plan="FI-PUMP-150", lot=None, work_order="WO-1003",
                     operation=30, measurements=(c.Measurement(characteristic="motor_current", value=D("3.4")),
                                                 c.Measurement(characteristic="nameplate_ok", passed=True)))
        j.do(c.CompleteOperation, work_order="WO-1003", operation=op)
    assert "WorkOrderCompleted" in {entry.type for entry in j.entries}
    doc = render_production_performance(j.entries, node_id="node-a", state=j.state, created=NOW)
    assert doc is not None
    verdict, root = schemas.validate(doc.xml)
    assert verdict.ok, verdict.describe()
    assert root is not None
    (response,) = children(root, "DataArea/ProductionPerformance/ProductionResponse")
    assert text(response, "ResponseState") == "Completed"
    segments = {text(s, "ID"): s for s in children(response, "SegmentResponse")}
    assert text(segments["WO-1003/30"], "MaterialProducedActual/MaterialDefinitionID") == "PUMP-150"
    assert text(segments["WO-1003/30"], "MaterialProducedActual/Quantity/QuantityString") == "10"
    assert "MaterialProducedActual" not in doc.xml.decode().split("WO-1003/20")[1].split("WO-1003/30")[0]
    totals = {text(pd, "ID"): text(pd, "Value/ValueString") for pd in children(segments["WO-1003/completed"],
                                                                                "ProductionData")}
    assert totals == {"GoodQuantity": "10", "ScrapQuantity": "0"}


def test_material_information_validates_and_holds_a_lot_per_event(schemas: Schemas) -> None:
    j = production_journal()
    doc = render_material_information(j.entries, node_id="node-a", state=j.state, created=NOW)
    assert doc is not None
    verdict, root = schemas.validate(doc.xml)
    assert verdict.ok, verdict.describe() + "\n" + doc.xml.decode()
    assert root is not None
    lots = children(root, "DataArea/MaterialInformation/MaterialLot")
    events = [{text(p, "ID"): text(p, "Value/ValueString") for p in children(lot, "MaterialLotProperty")}
              for lot in lots]
    assert [ev["Event"] for ev in events] == ["LotReceived", "StockMoved", "LotStatusChanged"]
    received = lots[0]
    assert (text(received, "ID"), text(received, "MaterialDefinitionID"), text(received, "Status"),
            text(received, "StorageLocation"), text(received, "Quantity/QuantityString"),
            text(received, "Quantity/UnitOfMeasure")) == ("H-9001", "HOUSING-20", "Quarantine", "REC-01", "12", "pcs")
    # (Quarantine: the demo's housings await incoming inspection, plan IP-HOUSING-20-IN, also without an order.)
    assert events[0]["SupplierLot"] == "GJ-60001" and events[0]["ExpiryDate"] == "2030-01-01"
    assert events[1]["Movement"] == "putaway" and events[1]["ToBin"] == "A-01-1"
    assert text(lots[2], "Status") == "Hold" and events[2]["Reason"] == "porosity suspected"


def test_erp_origin_events_are_not_sent_back() -> None:
    j = Journal()
    j.do(c.DefineItem, origin="erp", roles=frozenset({"service"}), item="NEW-1", description="New", unit="pcs",
         revision="A")
    j.do(c.ReceiveLot, origin="erp", lot="H-9002", item="HOUSING-20", item_revision=None, quantity=D(1),
         bin="REC-01")
    assert render(j.entries, node_id="node-a", state=j.state) == []


def test_rendering_without_the_state_still_validates(schemas: Schemas) -> None:
    j = production_journal()
    for doc in render(j.entries, node_id="node/a b", created=NOW):
        assert schemas.validate(doc.xml)[0].ok
        assert doc.file_name("node/a b").startswith("node_a_b_")


def test_the_events_module_has_what_the_renderer_reads() -> None:
    # The renderer reads these event types by name from the journal: a rename would silently drop them.
    from erp_sync.b2mml import MATERIAL_EVENTS, PERFORMANCE_EVENTS

    assert (PERFORMANCE_EVENTS | MATERIAL_EVENTS | {"StockMoved"}) <= set(e.EVENT_TYPES)


def test_a_workstation_the_site_does_not_have_is_refused_when_the_site_is_known(schemas: Schemas) -> None:
    text = v0600_sample().replace("<EquipmentID>WS-30</EquipmentID>", "<EquipmentID>WS-31</EquipmentID>", 1)
    root = schedule_root(schemas, text)
    assert read_schedule(root, demo_state()).commands  # without the site's list it is taken as given
    with pytest.raises(ScheduleRefused, match="SegmentRequirement 30: WS-31 is neither a workstation of this site "
                                              r"\(WS-10, WS-20, WS-30\) nor a machine of one"):
        read_schedule(root, demo_state(), workstations={"WS-10", "WS-20", "WS-30"})
    # a machine of a known workstation is fine
    read_schedule(schedule_root(schemas, v0600_sample()), demo_state(), workstations={"WS-10", "WS-20", "WS-30"})


def test_characters_xml_cannot_hold_do_not_break_the_document(schemas: Schemas) -> None:
    j = Journal()
    j.do(c.StartOperation, work_order="WO-1001", operation=10)
    j.do(c.ReportProduction, work_order="WO-1001", operation=10, scrap=D(1), scrap_reason="dent\x1dL123")
    doc = render_production_performance(j.entries, node_id="node-a", state=j.state, created=NOW)
    assert doc is not None
    verdict, _ = schemas.validate(doc.xml)
    assert verdict.ok, verdict.describe()
    assert "dent\ufffdL123" in doc.xml.decode()


@pytest.mark.parametrize(("change", "reason"), [
    (("<QuantityString>30</QuantityString>", "<QuantityString>1E+1000000</QuantityString>"),
     "quantity '1E+1000000' is out of bounds: Decimal input should have no more than 18 digits"),
    (("<ValueString>5</ValueString>", "<ValueString>-1E+999999</ValueString>"),
     "OverproductionTolerancePct: '-1E+999999' is out of bounds"),
    (("<ID>20</ID>", "<ID>9223372036854775808</ID>"),
     "SegmentRequirement 9223372036854775808: operation 9223372036854775808 is out of bounds"),
    (("<Duration>PT6M</Duration>", "<Duration>P9999999999999D</Duration>"), "is implausibly long"),
])
def test_numbers_beyond_the_stores_bounds_are_refused_with_the_reason(
        schemas: Schemas, change: tuple[str, str], reason: str) -> None:
    """A schedule's numbers are bounded as the API bounds them (edge.fields), never passed on to fail later."""
    text = v0600_sample().replace(*change, 1)
    with pytest.raises(ScheduleRefused) as refused:
        read_schedule(schedule_root(schemas, text), demo_state())
    assert reason in refused.value.reason


def test_a_value_beyond_the_schema_validators_range_is_refused_not_a_crash(schemas: Schemas) -> None:
    text = v0600_sample().replace("<Duration>PT6M</Duration>", "<Duration>P99999999999999999999999999999D</Duration>")
    verdict, _ = schemas.validate(text.encode())
    assert not verdict.ok and "out of range" in verdict.describe()
