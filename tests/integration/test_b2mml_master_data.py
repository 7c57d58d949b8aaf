"""B2MML master data against a real node: material definitions, lots and equipment (V0401 and V0600, the published
Courbon examples among them) imported through the one write path, sent again (nothing recorded), refused with every
problem listed, and then a schedule that needs them; the inbox and POST /api/v1/b2mml take them too."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from erp_sync.b2mml import ScheduleRefused, Schemas, import_document
from erp_sync.b2mml_filedrop import read_inbox
from takt.config import load_config
from takt.runtime import Node
from tests.shared_data import MIRROR_HINT, SHARED_DATA

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "config" / "demo.yaml"
MASTER = ROOT / "tests" / "data" / "b2mml" / "master"
SHARED = SHARED_DATA / "b2mml"
COURBON = SHARED / "examples" / "courbon-v0401"
SITE = {"WS-10", "WS-20", "WS-30"}

pytestmark = pytest.mark.skipif(not (SHARED / "V0600").is_dir(), reason=MIRROR_HINT)


@pytest.fixture(scope="module")
def schemas() -> Schemas:
    return Schemas(SHARED)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Node]:
    node = Node(load_config(DEMO), data_dir=tmp_path / "data", config_file=DEMO).start()
    yield node
    node.stop()


@pytest.mark.parametrize("path", [MASTER / "material-v0600.xml", MASTER / "equipment-v0401.xml",
                                  MASTER / "equipment-v0600.xml", COURBON / "MAT-20121210170256-CRBN0001.xml"])
def test_each_master_data_document_imports_and_a_resend_records_nothing(demo: Node, schemas: Schemas,
                                                                        path: Path) -> None:
    verdict, _ = schemas.validate(path)
    assert verdict.ok, verdict.describe()
    first = import_document(demo.service, path, schemas_=schemas, workstations=SITE)
    assert first.defined and first.events > 0
    seq = demo.store.last_seq()
    again = import_document(demo.service, path, schemas_=schemas, workstations=SITE)
    assert again.defined == () and again.events == 0 and sorted(again.already_imported) == sorted(first.defined)
    assert demo.store.last_seq() == seq


def test_materials_lots_and_machines_are_defined_as_the_documents_say(demo: Node, schemas: Schemas) -> None:
    report = import_document(demo.service, MASTER / "material-v0600.xml", schemas_=schemas)
    assert report.defined == ("item PUMP-200", "item OIL-ISO46", "lot OIL-2026-0042")
    import_document(demo.service, MASTER / "equipment-v0401.xml", schemas_=schemas, workstations=SITE)
    import_document(demo.service, MASTER / "equipment-v0600.xml", schemas_=schemas, workstations=SITE)
    state = demo.store.load_state()
    assert (state.items["PUMP-200"].unit, state.items["PUMP-200"].revision) == ("pcs", "A")
    assert state.items["OIL-ISO46"].unit == "l" and state.items["OIL-ISO46"].description == "Hydraulic oil ISO VG 46"
    lot = state.lots["OIL-2026-0042"]
    assert (lot.item, lot.expiry, lot.supplier_lot) == ("OIL-ISO46", date(2028, 6, 30), "SHELL-77812")
    assert {e: state.equipment[e].workstation for e in ("NUTRUNNER-21", "LEAKTEST-22", "OVEN-31", "PRESS-11")} == {
        "NUTRUNNER-21": "WS-20", "LEAKTEST-22": "WS-20", "OVEN-31": "WS-30", "PRESS-11": "WS-10"}
    assert "WS-20" not in state.equipment  # the workstation holding them is the site file's


def test_a_published_lot_inside_its_materials_information_names_that_material(demo: Node, schemas: Schemas) -> None:
    import_document(demo.service, COURBON / "MAT-20121210170256-CRBN0001.xml", schemas_=schemas)
    report = import_document(demo.service, COURBON / "LOT-20121210170718-0001L0001.xml", schemas_=schemas)
    assert report.defined == ("lot CRBN0001_LOT01",)
    state = demo.store.load_state()
    assert state.items["CRBN0001"].unit == "KG"
    assert (state.lots["CRBN0001_LOT01"].item, state.lots["CRBN0001_LOT01"].expiry) == ("CRBN0001", date(2013, 12, 8))


def test_master_data_then_a_schedule_that_needs_it(demo: Node, schemas: Schemas) -> None:
    schedule = MASTER / "schedule-new-item-v0600.xml"
    with pytest.raises(ScheduleRefused) as refused:
        import_document(demo.service, schedule, schemas_=schemas, workstations=SITE)
    assert set(refused.value.problems) >= {
        "request WO-4001: UNKNOWN_ITEM: item PUMP-200 (to make) is not known here",
        "request WO-4001, SegmentRequirement 10: NUTRUNNER-21 is neither a workstation of this site (WS-10, WS-20, "
        "WS-30) nor a machine of one"}
    import_document(demo.service, MASTER / "material-v0600.xml", schemas_=schemas)
    import_document(demo.service, MASTER / "equipment-v0401.xml", schemas_=schemas, workstations=SITE)
    report = import_document(demo.service, schedule, schemas_=schemas, workstations=SITE)
    assert report.released == ("WO-4001",)
    state = demo.store.load_state()
    assert state.operations[("WO-4001", 10)].workstation == "WS-20"
    assert [(b.item, b.quantity_per) for b in state.bom_of("WO-4001")] == [("OIL-ISO46", Decimal("0.05"))]


def test_master_data_problems_are_listed_at_once(demo: Node, schemas: Schemas) -> None:
    text = (MASTER / "material-v0600.xml").read_text().replace(
        "<MaterialDefinitionID>OIL-ISO46</MaterialDefinitionID>", "<MaterialDefinitionID>OIL-XX</MaterialDefinitionID>")
    equipment = (MASTER / "equipment-v0401.xml").read_text().replace(
        "<ValueString>WS-30</ValueString>", "<ValueString>WS-99</ValueString>")
    with pytest.raises(ScheduleRefused, match="lot OIL-2026-0042: UNKNOWN_ITEM: item OIL-XX is not known here"):
        import_document(demo.service, text.encode(), schemas_=schemas)
    with pytest.raises(ScheduleRefused) as refused:
        import_document(demo.service, equipment.encode(), schemas_=schemas, workstations=SITE)
    assert refused.value.problems == ("equipment OVEN-31: WS-99 is not a workstation of this site (WS-10, WS-20, "
                                      "WS-30)",)
    assert "PUMP-200" not in demo.store.load_state().items  # nothing of a refused document is recorded


def test_the_inbox_takes_master_data_then_the_schedule(demo: Node, schemas: Schemas, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for order, path in enumerate([MASTER / "material-v0600.xml", MASTER / "equipment-v0401.xml",
                                  MASTER / "schedule-new-item-v0600.xml"]):
        (inbox / f"{order}-{path.name}").write_bytes(path.read_bytes())
    outcomes = read_inbox(demo.service, inbox, schemas_=schemas, workstations=SITE)
    assert [o.reason for o in outcomes] == [None, None, None]
    assert "WO-4001" in demo.store.load_state().work_orders
