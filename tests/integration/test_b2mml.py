"""The B2MML adapter against a real node store: schedule import through the one write path (whole or nothing,
harmless to repeat), the file-drop outbox and inbox, and `takt b2mml check|import|export` with their exit codes."""
from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from edge.domain import commands as c
from erp_sync.b2mml import ScheduleRefused, Schemas, import_schedule
from erp_sync.b2mml_filedrop import CURSOR_FILE, inbox_task, outbox_task, read_cursor, read_inbox, write_outbox
from takt.cli import app
from takt.config import load_config
from takt.runtime import Node
from tests.shared_data import MIRROR_HINT, SHARED_DATA

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "config" / "demo.yaml"
DATA = ROOT / "tests" / "data" / "b2mml"
SHARED = SHARED_DATA / "b2mml"
SCHEDULE = DATA / "schedule-v0600.xml"
V0600 = "{http://www.mesa.org/xml/B2MML-V0600}"
D = Decimal
OPERATOR = frozenset({"operator", "warehouse"})
runner = CliRunner()

pytestmark = pytest.mark.skipif(not (SHARED / "V0600").is_dir(), reason=MIRROR_HINT)


@pytest.fixture(scope="module")
def schemas() -> Schemas:
    return Schemas(SHARED)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Node]:
    node = Node(load_config(DEMO), data_dir=tmp_path / "data", config_file=DEMO).start()
    yield node
    node.stop()


def variant(tmp_path: Path, name: str, *changes: tuple[str, str]) -> Path:
    text = SCHEDULE.read_text()
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / name
    path.write_text(text)
    return path


# --- import through the one write path ---------------------------------------------------------------


def test_a_schedule_releases_its_work_orders_once(demo: Node, schemas: Schemas) -> None:
    before = demo.store.last_seq()
    report = import_schedule(demo.service, SCHEDULE, schemas_=schemas, dispatch=True)
    assert report.released == ("WO-2001", "WO-2002") and report.already_imported == ()
    assert sorted(report.dispatch_lists) == ["WS-10", "WS-20", "WS-30"]
    state = demo.store.load_state()
    wo = state.work_orders["WO-2001"]
    assert (wo.item, wo.item_revision, wo.bom_revision, wo.quantity, wo.status) == ("PUMP-100", "C", "7", D(30),
                                                                                     "released")
    assert [(op.operation, op.workstation) for op in state.operations_of("WO-2002")] == [
        (10, "WS-10"), (20, "WS-20"), (30, "WS-30")]
    assert [(d.work_order, d.operation) for d in state.dispatch_list("WS-10")] == [("WO-2002", 10), ("WO-2001", 10)]
    entries = list(demo.store.journal(after=before))
    assert [e.type for e in entries] == ["WorkOrderReleased", "WorkOrderReleased", "DispatchListSet",
                                         "DispatchListSet", "DispatchListSet"]
    assert {(e.origin, e.actor) for e in entries} == {("erp", "erp-sync")}
    assert entries[0].idempotency_key == "b2mml:APS-2026-49:WO-2001"

    last = demo.store.last_seq()
    again = import_schedule(demo.service, SCHEDULE, schemas_=schemas, dispatch=True)
    assert again.released == () and again.already_imported == ("WO-2001", "WO-2002") and again.events == 0
    v0401 = import_schedule(demo.service, DATA / "schedule-v0401.xml", schemas_=schemas)
    assert v0401.already_imported == ("WO-2001", "WO-2002")
    assert demo.store.last_seq() == last  # a re-import records nothing


def test_a_schema_invalid_schedule_changes_nothing(demo: Node, schemas: Schemas, tmp_path: Path) -> None:
    bad = variant(tmp_path, "bad.xml", ("<Priority>1</Priority>", "<Priority>urgent</Priority>"))
    before = demo.store.last_seq()
    with pytest.raises(ScheduleRefused) as refused:
        import_schedule(demo.service, bad, schemas_=schemas)
    assert refused.value.reason.startswith("schema: not valid B2MML V0600 SyncProductionSchedule at ")
    assert refused.value.path == "/SyncProductionSchedule/DataArea/ProductionSchedule/ProductionRequest[1]/Priority"
    assert demo.store.last_seq() == before
    assert "WO-2001" not in demo.store.load_state().work_orders


def test_one_refused_request_keeps_the_whole_schedule_out(demo: Node, schemas: Schemas, tmp_path: Path) -> None:
    # WO-2001 alone would be fine; WO-2002 needs an item the edge does not know.
    bad = variant(tmp_path, "unknown-item.xml", ("<MaterialDefinitionID>MOTOR-150</MaterialDefinitionID>",
                                                 "<MaterialDefinitionID>MOTOR-999</MaterialDefinitionID>"))
    before = demo.store.last_seq()
    with pytest.raises(ScheduleRefused) as refused:
        import_schedule(demo.service, bad, schemas_=schemas, dispatch=True)
    assert refused.value.request == "WO-2002" and refused.value.code == "UNKNOWN_ITEM"
    assert "MOTOR-999" in refused.value.reason
    assert demo.store.last_seq() == before
    state = demo.store.load_state()
    assert "WO-2001" not in state.work_orders and "WO-2002" not in state.work_orders


def test_a_request_of_an_existing_work_order_is_refused(demo: Node, schemas: Schemas, tmp_path: Path) -> None:
    clash = variant(tmp_path, "clash.xml", ("<ID>WO-2002</ID>", "<ID>WO-1001</ID>"))  # a demo work order
    before = demo.store.last_seq()
    with pytest.raises(ScheduleRefused, match="request WO-1001: DUPLICATE_WORK_ORDER"):
        import_schedule(demo.service, clash, schemas_=schemas)
    assert demo.store.last_seq() == before


def test_a_schedule_sent_again_changed_changes_its_orders_and_a_cancel_cancels_them(demo: Node, schemas: Schemas,
                                                                                     tmp_path: Path) -> None:
    produced = ("<QuantityString>30</QuantityString><DataType>decimal</DataType><UnitOfMeasure>pcs</UnitOfMeasure>"
                "</Quantity>\n          </MaterialProducedRequirement>")
    import_schedule(demo.service, SCHEDULE, schemas_=schemas, dispatch=True)
    changed = variant(tmp_path, "changed.xml", (produced, produced.replace(">30<", ">31<")))
    report = import_schedule(demo.service, changed, schemas_=schemas, dispatch=True)
    assert report.changed == ("WO-2001",) and report.released == () and "WO-2002" in report.already_imported
    assert demo.store.load_state().work_orders["WO-2001"].quantity == D(31)
    seq = demo.store.last_seq()
    again = import_schedule(demo.service, changed, schemas_=schemas, dispatch=True)  # resent: nothing recorded
    assert again.changed == () and again.events == 0 and demo.store.last_seq() == seq
    # an order started here cannot change any more: refused with the reason, nothing recorded
    demo.service.handle(c.StartOperation(idempotency_key="s1", actor="anna", actor_roles=OPERATOR,
                                         work_order="WO-2001", operation=10))
    seq = demo.store.last_seq()
    later = variant(tmp_path, "later.xml", (produced, produced.replace(">30<", ">32<")))
    with pytest.raises(ScheduleRefused) as refused:
        import_schedule(demo.service, later, schemas_=schemas)
    assert refused.value.code == "WORK_ORDER_STARTED" and refused.value.request == "WO-2001"
    assert "cannot change any more: operation 10 is in progress" in refused.value.reason
    assert demo.store.last_seq() == seq and demo.store.load_state().work_orders["WO-2001"].quantity == D(31)
    # the Cancel verb (V0600) cancels the request it names; sent again, nothing
    for path in (DATA / "cancel-v0600.xml", DATA / "cancel-whole-v0401.xml"):
        verdict, _ = schemas.validate(path)
        assert verdict.ok, verdict.describe()
    cancelled = import_schedule(demo.service, DATA / "cancel-v0600.xml", schemas_=schemas)
    assert cancelled.cancelled == ("WO-2002",) and demo.store.load_state().work_orders["WO-2002"].status == "cancelled"
    seq = demo.store.last_seq()
    assert import_schedule(demo.service, DATA / "cancel-v0600.xml", schemas_=schemas).events == 0
    # a V0401 Sync with action Delete cancels the whole schedule: WO-2001 is started, so all of it is refused
    with pytest.raises(ScheduleRefused, match="WO-2001 cannot be cancelled any more: operation 10 is in progress"):
        import_schedule(demo.service, DATA / "cancel-whole-v0401.xml", schemas_=schemas)
    assert demo.store.last_seq() == seq


# --- the file drop -----------------------------------------------------------------------------------


def produce(node: Node) -> None:
    handle = node.service.handle
    meta: dict[str, Any] = {"actor": "anna", "actor_roles": OPERATOR}
    handle(c.StartOperation(idempotency_key="p1", **meta, work_order="WO-1001", operation=10))
    handle(c.ClockOnLabour(idempotency_key="p2", **meta, operator="anna", work_order="WO-1001", operation=10))
    handle(c.IssueToWorkOrder(idempotency_key="p3", **meta, work_order="WO-1001", lot="IMP-5510", bin="A-01-2",
                              quantity=D(3)))
    handle(c.ReportProduction(idempotency_key="p4", **meta, work_order="WO-1001", operation=10, good=D(3)))
    handle(c.ClockOffLabour(idempotency_key="p5", **meta, operator="anna", work_order="WO-1001", operation=10))
    handle(c.ReceiveLot(idempotency_key="p6", **meta, lot="H-9001", item="HOUSING-20", item_revision=None,
                        quantity=D(12), bin="REC-01", supplier_lot="GJ-60001"))


def test_the_outbox_writes_valid_documents_once(demo: Node, schemas: Schemas, tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    seeded = demo.store.last_seq()
    first = write_outbox(demo.store, demo.node_id, outbox, schemas_=schemas)
    assert first.files == () and first.cursor == seeded  # the seed is ERP-origin: nothing goes back
    produce(demo)
    last = demo.store.last_seq()
    written = write_outbox(demo.store, demo.node_id, outbox, schemas_=schemas)
    names = sorted(p.name for p in written.files)
    node = demo.node_id
    assert names == [f"{node}_MaterialInformation_{seeded + 1:012d}-{last:012d}.xml",
                     f"{node}_ProductionPerformance_{seeded + 1:012d}-{last:012d}.xml"]
    assert sorted(p.name for p in outbox.iterdir()) == sorted([*names, CURSOR_FILE])  # no temporary files left
    for path in written.files:
        verdict, root = schemas.validate(path)
        assert verdict.ok, verdict.describe()
        assert root is not None
    perf = ET.parse(outbox / names[1]).getroot()
    lots = perf.findall(f".//{V0600}MaterialConsumedActual/{V0600}MaterialLotID")
    assert [lot.text for lot in lots] == ["IMP-5510"]
    assert read_cursor(outbox) == last
    again = write_outbox(demo.store, demo.node_id, outbox, schemas_=schemas)
    assert again.files == () and again.cursor == last


def test_the_inbox_applies_good_files_and_rejects_bad_ones_with_the_reason(demo: Node, schemas: Schemas,
                                                                           tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a-schedule.xml").write_bytes(SCHEDULE.read_bytes())
    variant(inbox, "b-broken.xml", ("<Priority>1</Priority>", "<Priority>urgent</Priority>"))
    (inbox / "c-half-written.xml.tmp").write_text("<Sync")
    before = demo.store.last_seq()
    outcomes = read_inbox(demo.service, inbox, schemas_=schemas)
    assert [(o.file.parent.name, o.file.name) for o in outcomes] == [("done", "a-schedule.xml"),
                                                                     ("rejected", "b-broken.xml")]
    reason = (inbox / "rejected" / "b-broken.xml.reason.txt").read_text()
    assert reason.startswith("schema: not valid B2MML V0600") and "Priority" in reason
    assert (inbox / "c-half-written.xml.tmp").exists()
    assert demo.store.last_seq() == before + 2
    (inbox / "a-schedule.xml").write_bytes(SCHEDULE.read_bytes())  # the ERP sends it again
    (again,) = read_inbox(demo.service, inbox, schemas_=schemas)
    assert again.report is not None and again.report.already_imported == ("WO-2001", "WO-2002")
    assert again.file.parent.name == "done" and again.file.name != "a-schedule.xml"  # the first one is kept
    assert demo.store.last_seq() == before + 2


async def test_the_outbox_task_keeps_writing_new_events(demo: Node, schemas: Schemas, tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    task = asyncio.create_task(outbox_task(demo.store, demo.node_id, outbox, interval=0.05, schemas_=schemas))
    try:
        await asyncio.to_thread(produce, demo)
        last = demo.store.last_seq()
        for _ in range(400):
            if read_cursor(outbox) == last:
                break
            await asyncio.sleep(0.05)
        assert read_cursor(outbox) == last
        files = sorted(outbox.glob("*.xml"))
        assert files and all(schemas.validate(f)[0].ok for f in files)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_the_inbox_task_picks_up_a_dropped_file(demo: Node, schemas: Schemas, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    task = asyncio.create_task(inbox_task(demo.service, inbox, interval=0.05, schemas_=schemas))
    try:
        staged = inbox / ".incoming.tmp"
        staged.write_bytes(SCHEDULE.read_bytes())
        staged.rename(inbox / "week-49.xml")
        for _ in range(400):
            if (inbox / "done" / "week-49.xml").exists():
                break
            await asyncio.sleep(0.05)
        assert (inbox / "done" / "week-49.xml").exists()
        assert "WO-2001" in demo.store.load_state().work_orders
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


# --- the command line --------------------------------------------------------------------------------


def test_check_exit_codes(tmp_path: Path) -> None:
    ok = runner.invoke(app, ["b2mml", "check", str(SCHEDULE), "--schemas", str(SHARED)])
    assert ok.exit_code == 0, ok.output
    assert "valid B2MML V0600 SyncProductionSchedule" in ok.output
    lot = SHARED / "examples" / "courbon-v0401" / "LOT-20121210170718-0001L0001.xml"
    assert runner.invoke(app, ["b2mml", "check", str(lot), "--schemas", str(SHARED)]).exit_code == 0
    bad = variant(tmp_path, "bad.xml", ("<Priority>1</Priority>", "<Priority>urgent</Priority>"))
    refused = runner.invoke(app, ["b2mml", "check", str(bad), "--schemas", str(SHARED)])
    assert refused.exit_code == 1
    assert "INVALID" in refused.output and "ProductionRequest[1]/Priority" in refused.output
    missing = runner.invoke(app, ["b2mml", "check", str(SCHEDULE), "--schemas", str(tmp_path / "none")])
    assert missing.exit_code == 2 and "TAKT_B2MML_SCHEMAS" in missing.output


def test_import_and_export_on_a_stopped_node(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    node = Node(load_config(DEMO), data_dir=data_dir, config_file=DEMO).start()
    try:
        produce(node)
    finally:
        node.stop()
    bad = variant(tmp_path, "unknown-item.xml", ("<MaterialDefinitionID>MOTOR-150</MaterialDefinitionID>",
                                                 "<MaterialDefinitionID>MOTOR-999</MaterialDefinitionID>"))
    refused = runner.invoke(app, ["b2mml", "import", str(bad), "--data-dir", str(data_dir), "--schemas", str(SHARED)])
    assert refused.exit_code == 1
    assert "request WO-2002: UNKNOWN_ITEM" in refused.output and "nothing was applied" in refused.output
    args = ["b2mml", "import", str(SCHEDULE), "--data-dir", str(data_dir), "--schemas", str(SHARED)]
    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.output
    assert "2 work orders released" in done.output
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and "2 imported before" in again.output
    cancel = runner.invoke(app, ["b2mml", "import", str(DATA / "cancel-v0600.xml"), "--data-dir", str(data_dir),
                                 "--schemas", str(SHARED)])
    assert cancel.exit_code == 0 and "1 cancelled" in cancel.output and "WO-2002" in cancel.output, cancel.output
    out = tmp_path / "performance.xml"
    lots = tmp_path / "lots.xml"
    exported = runner.invoke(app, ["b2mml", "export", "--out", str(out), "--materials", str(lots),
                                   "--data-dir", str(data_dir), "--schemas", str(SHARED)])
    assert exported.exit_code == 0, exported.output
    assert Schemas(SHARED).validate(out)[0].ok and Schemas(SHARED).validate(lots)[0].ok
    assert "ProductionPerformance" in exported.output and "MaterialInformation" in exported.output
    no_store = runner.invoke(app, ["b2mml", "import", str(SCHEDULE), "--data-dir", str(tmp_path / "nowhere")])
    assert no_store.exit_code == 1 and "no store" in no_store.output


@pytest.mark.slow
def test_shift_oee_and_inspection_plans_export_as_valid_documents_over_http_and_the_cli(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from takt.api.app import create_app

    checker = Schemas(SHARED)
    data_dir = tmp_path / "data"
    node = Node(load_config(DEMO), data_dir=data_dir, config_file=DEMO).start()
    try:
        produce(node)  # 3 good on WS-10 now
        with TestClient(create_app(node)) as client:
            service = {"Authorization": "Bearer demo-service-token-0000000"}
            oee = client.get("/api/v1/b2mml/oee", headers=service)
            specs = client.get("/api/v1/b2mml/test-specifications", headers=service)
            forbidden = client.get("/api/v1/b2mml/oee", headers={"Authorization": "Bearer demo-operator-token-000000"})
            unknown = client.get("/api/v1/b2mml/test-specifications?plan=NO-SUCH-PLAN", headers=service)
            naive = client.get("/api/v1/b2mml/oee?from=2026-12-01T00:00:00", headers=service)
    finally:
        node.stop()
    assert oee.status_code == 200 and oee.headers["content-type"].startswith("application/xml"), oee.text
    assert checker.validate(oee.content)[0].ok, checker.validate(oee.content)[0].describe()
    root = ET.fromstring(oee.content)
    ws10 = [r for r in root.iter(f"{V0600}ProductionResponse") if r.findtext(f"{V0600}ID", "").startswith("OEE/WS-10/")]
    good = [d.findtext(f"{V0600}Value/{V0600}ValueString") for r in ws10 for d in r.iter(f"{V0600}ProductionData")
            if d.findtext(f"{V0600}ID") == "GoodQuantity"]
    assert "3" in good and all(r.find(f"{V0600}SegmentResponse/{V0600}ProductionData") is not None for r in ws10)
    assert specs.status_code == 200 and checker.validate(specs.content)[0].ok
    v0700 = "{http://www.mesa.org/xml/B2MML}"
    plans = {t.findtext(f"{v0700}ID"): t for t in ET.fromstring(specs.content).iter(f"{v0700}TestSpecification")}
    assert "FI-PUMP-150" in plans and plans["FI-PUMP-150"].findtext(f"{v0700}TestableObjectID") == "PUMP-150"
    limits = {p.findtext(f"{v0700}ID"): p.findtext(f"{v0700}Value/{v0700}ValueString")
              for p in plans["FI-PUMP-150"].iter(f"{v0700}TestSpecificationProperty")}
    assert limits["LSL"] == "3"
    assert forbidden.status_code == 403 and unknown.status_code == 404 and naive.status_code == 422
    oee_file, specs_file = tmp_path / "oee.xml", tmp_path / "specs.xml"
    exported = runner.invoke(app, ["b2mml", "export", "--oee", str(oee_file), "--specifications", str(specs_file),
                                   "--data-dir", str(data_dir), "--schemas", str(SHARED)])  # no site: a day a shift
    assert exported.exit_code == 0, exported.output
    assert checker.validate(oee_file)[0].ok and checker.validate(specs_file)[0].ok
    assert "valid B2MML V0700" in exported.output
    nothing = runner.invoke(app, ["b2mml", "export", "--data-dir", str(data_dir), "--schemas", str(SHARED)])
    assert nothing.exit_code == 2 and "--oee" in nothing.output


def test_import_with_the_site_configuration_checks_its_workstations(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(DEMO.read_text().replace("data_dir: data ", f"data_dir: {tmp_path / 'data'} ", 1))
    Node(load_config(site), config_file=site).start().stop()
    elsewhere = variant(tmp_path, "elsewhere.xml", ("<EquipmentID>WS-30</EquipmentID>", "<EquipmentID>WS-31</EquipmentID>"))
    refused = runner.invoke(app, ["b2mml", "import", str(elsewhere), "--config", str(site), "--schemas", str(SHARED)])
    assert refused.exit_code == 1 and "WS-31 is neither a workstation of this site" in refused.output
    done = runner.invoke(app, ["b2mml", "import", str(SCHEDULE), "--config", str(site), "--schemas", str(SHARED)])
    assert done.exit_code == 0, done.output


def test_a_running_node_takes_schedules_from_its_inbox_and_writes_its_outbox(tmp_path: Path) -> None:
    """The file drop as a site configures it (``b2mml`` section), in a node served by ``takt run``."""
    import shutil
    import subprocess
    import sys
    import time

    import httpx

    from tests.integration.conftest import free_port

    port = free_port()
    demo_text = (ROOT / "config" / "demo.yaml").read_text()
    site = tmp_path / "site.yaml"
    site.write_text(demo_text + "\nb2mml:\n  inbox: to-mes\n  outbox: from-mes\n  interval_s: 0.2\n")
    proc = subprocess.Popen([sys.executable, "-m", "takt.cli", "run", "--config", str(site), "--port", str(port),
                             "--data-dir", str(tmp_path / "data")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    operator = {"Authorization": "Bearer demo-operator-token-000000"}
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        shutil.copy(SCHEDULE, tmp_path / "to-mes" / "schedule.xml")
        deadline = time.monotonic() + 20
        while httpx.get(f"{base}/api/v1/work-orders/WO-2001", headers=operator).status_code != 200:
            assert time.monotonic() < deadline, "the schedule in the inbox was not applied"
            time.sleep(0.2)
        assert (tmp_path / "to-mes" / "done" / "schedule.xml").exists()
        started = httpx.post(f"{base}/api/v1/work-orders/WO-2001/operations/10/start", json={},
                             headers={**operator, "Idempotency-Key": "fd-1"})
        assert started.status_code == 201, started.text
        deadline = time.monotonic() + 20
        while not list((tmp_path / "from-mes").glob("*.xml")):
            assert time.monotonic() < deadline, "nothing was written to the outbox"
            time.sleep(0.2)
        schemas = Schemas(SHARED)
        for document in (tmp_path / "from-mes").glob("*.xml"):
            assert schemas.validate(document.read_bytes())[0].ok, document
    finally:
        proc.terminate()
        proc.wait(15)
