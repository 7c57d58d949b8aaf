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
                                  MASTER / "equipment-v0600.xml", COURBON / "MAT-20121210170256-CRBN0001.xml",
                                  MASTER / "material-class-v0600.xml", MASTER / "material-class-v0401.xml",
                                  MASTER / "sublot-v0401.xml"])
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


def test_material_classes_give_their_materials_defaults_and_sub_lots_are_lots_of_their_lots_item(
        demo: Node, schemas: Schemas) -> None:
    report = import_document(demo.service, MASTER / "material-class-v0600.xml", schemas_=schemas)
    assert report.defined == ("item BOLT-M10X40", "item NUT-M10", "item RESIN-EP5", "lot EP5-2026-12",
                              "lot EP5-2026-12-D1", "lot EP5-2026-12-D2", "lot EP5-2026-12-D2-S7")
    state = demo.store.load_state()
    bolt, nut, resin = state.items["BOLT-M10X40"], state.items["NUT-M10"], state.items["RESIN-EP5"]
    assert (bolt.unit, bolt.revision, bolt.lot_controlled) == ("pcs", "C", False)  # its own revision wins
    assert (nut.unit, nut.revision, nut.lot_controlled) == ("pcs", "B", False)  # listed by the class
    assert (resin.unit, resin.lot_controlled) == ("kg", True)  # no class
    lots = {lot: (state.lots[lot].item, state.lots[lot].expiry, state.lots[lot].supplier_lot)
            for lot in ("EP5-2026-12-D1", "EP5-2026-12-D2", "EP5-2026-12-D2-S7")}
    assert lots == {"EP5-2026-12-D1": ("RESIN-EP5", date(2027, 6, 30), "HX-991"),
                    "EP5-2026-12-D2": ("RESIN-EP5", date(2027, 1, 31), "HX-991"),
                    "EP5-2026-12-D2-S7": ("RESIN-EP5", date(2027, 1, 31), "HX-991")}
    # V0401: a class of materials known here changes their lot control; sub-lots of a known lot on their own
    import_document(demo.service, MASTER / "material-class-v0401.xml", schemas_=schemas)
    import_document(demo.service, MASTER / "sublot-v0401.xml", schemas_=schemas)
    state = demo.store.load_state()
    assert not state.items["GREASE-LT2"].lot_controlled and state.items["GREASE-LT2"].unit == "pcs"
    assert state.lots["IMP-5510-BOX2"].item == "IMPELLER-7" and state.lots["IMP-5510-BOX2"].quantity == 0
    unknown = (MASTER / "sublot-v0401.xml").read_text().replace("IMP-5510</MaterialLotID>", "IMP-0000</MaterialLotID>")
    with pytest.raises(ScheduleRefused) as refused:
        import_document(demo.service, unknown.encode(), schemas_=schemas)
    assert len(refused.value.problems) == 2 and "its lot IMP-0000 is not known here" in refused.value.problems[0]


def test_personnel_become_users_with_their_roles_and_badges_and_directory_people_are_refused(
        demo: Node, schemas: Schemas) -> None:
    from edge.store.directory import DirectoryEntry, remember
    from edge.store.users import badge_hash, user_by_badge_hash, user_by_name

    store = demo.store
    for path in (MASTER / "personnel-v0600.xml", MASTER / "personnel-v0401.xml"):
        verdict, _ = schemas.validate(path)
        assert verdict.ok, verdict.describe()
    report = import_document(demo.service, MASTER / "personnel-v0600.xml", schemas_=schemas)
    assert report.defined == ("person jan", "person sara")
    jan, sara = user_by_name(store, "jan"), user_by_name(store, "sara")
    assert jan is not None and sara is not None
    assert (jan.name, jan.roles, jan.language, jan.active) == ("Jan Bakker", frozenset({"operator"}), "nl", True)
    assert sara.roles == frozenset({"quality"})  # "Welding certified" is no role: left out
    holder = user_by_badge_hash(store, badge_hash(store, "B-20417"))
    assert holder is not None and holder.user == "jan"
    again = import_document(demo.service, MASTER / "personnel-v0600.xml", schemas_=schemas)
    assert again.defined == () and again.already_imported == ("person jan", "person sara")
    # V0401, a class mapped through the site's table
    report = import_document(demo.service, MASTER / "personnel-v0401.xml", schemas_=schemas,
                             personnel_classes={"Shift lead": "supervisor"})
    piet = user_by_name(store, "piet")
    assert report.defined == ("person piet",) and piet is not None
    assert piet.roles == frozenset({"supervisor", "warehouse"})
    # the directory's people, the site's admin and a badge someone else holds: all refused at once, nothing written
    remember(store, DirectoryEntry(user="dirk", dn="uid=dirk,ou=people,dc=acme", name="Dirk Smit",
                                   roles=frozenset({"operator"})))
    text = ((MASTER / "personnel-v0600.xml").read_text().replace("<ID>jan</ID>", "<ID>admin</ID>")
            .replace("<PersonID>jan</PersonID>", "<PersonID>admin</PersonID>").replace("<ID>sara</ID>", "<ID>dirk</ID>"))
    stolen = (MASTER / "personnel-v0401.xml").read_text().replace("B-30555", "B-20417")
    with pytest.raises(ScheduleRefused) as refused:
        import_document(demo.service, text.encode(), schemas_=schemas)
    assert refused.value.code == "DIRECTORY_USER"
    assert [p.split(":")[0] for p in refused.value.problems] == ["person admin", "person dirk"]
    assert "admin" in refused.value.problems[0] and "directory" in refused.value.problems[1]
    with pytest.raises(ScheduleRefused, match="person piet: the badge is held by another user here"):
        import_document(demo.service, stolen.encode(), schemas_=schemas)
    admin, dirk = user_by_name(store, "admin"), user_by_name(store, "dirk")
    assert admin is not None and admin.name == "Demo administrator" and admin.roles == frozenset({"admin"})
    assert dirk is not None and dirk.name == "Dirk Smit" and dirk.roles == frozenset({"operator"})
