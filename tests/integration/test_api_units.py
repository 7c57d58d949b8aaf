"""Work instructions and serialised units over the HTTP API (issue 21): a pump's units through three operations,
a failing step blocking, a failed measurement raising a nonconformance, a second person's sign-off with the PIN,
an instruction revision for another item revision refused, and the forward trace from a component serial to the
unit and its customer shipment."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from edge.domain import commands as c
from edge.domain.gs1 import check_digit
from edge.store.users import save_user
from edge.store.verify import verify
from takt.config import load_config
from takt.runtime import Node
from tests.integration.conftest import RunningNode, start_node

ROOT = Path(__file__).resolve().parents[2]
# a 1x1 PNG
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002"
                    "0000050001e226059b0000000049454e44ae426082")

SECOND_TOKEN = "second-person-token-0001"


def instruction(operation: int, revision: str, item_revision: str, steps: list[dict[str, Any]]) -> dict[str, Any]:
    return {"item": "PUMP", "operation": operation, "revision": revision, "item_revision": item_revision,
            "title": f"Operation {operation}", "steps": steps}


def seed_pump(node: RunningNode) -> None:
    """A serialised pump (revision B) built in three operations with instructions; motors issued by serial."""
    for body in ({"item": "PUMP", "description": "Pump", "unit": "pcs", "revision": "B", "serialised": True,
                  "gtin": "09506000134352"},
                 {"item": "MOTOR", "description": "Motor", "unit": "pcs", "revision": "A"}):
        assert node.post("service", "/items", body).status_code == 201
    for bin_body in ({"bin": "LINE-1", "zone": "line"}, {"bin": "FG", "zone": "finished"}):
        assert node.post("service", "/bins", bin_body).status_code == 201
    wo = {"work_order": "WO-P", "item": "PUMP", "item_revision": "B", "bom_revision": "1", "quantity": "2",
          "operations": [{"operation": 10, "description": "Assemble", "workstation": "WS-1"},
                         {"operation": 20, "description": "Test", "workstation": "WS-2"},
                         {"operation": 30, "description": "Pack", "workstation": "WS-3"}],
          "bom": [{"line": 1, "item": "MOTOR", "item_revision": "A", "quantity_per": "1"}],
          "customer_order": "SO-1"}
    assert node.post("service", "/work-orders", wo).status_code == 201
    assert node.post("warehouse", "/lots", {"lot": "M-LOT-7", "item": "MOTOR", "quantity": "5",
                                            "bin": "LINE-1"}).status_code == 201
    for serial in ("MOT-001", "MOT-002"):
        r = node.post("operator", "/work-orders/WO-P/issues", {"lot": "M-LOT-7", "bin": "LINE-1", "quantity": "1",
                                                               "serial": serial})
        assert r.status_code == 201, r.text
    steps_10 = [{"step": 1, "kind": "scan", "texts": ["en=Scan the motor", "nl=Scan de motor"],
                 "component": "MOTOR", "media": ["image:motor.png"]},
                {"step": 2, "kind": "scan", "texts": ["en=Scan the torque program"], "expect": "P7"},
                {"step": 3, "kind": "check", "texts": ["en=Impeller turns freely", "nl=Waaier draait vrij"]}]
    steps_20 = [{"step": 1, "kind": "measure", "texts": ["en=Pressure"], "lsl": "9.5", "usl": "10.5", "unit": "bar",
                 "on_fail": "ncr"},
                {"step": 2, "kind": "signoff", "texts": ["en=Test signed off by a second person"]}]
    for body in (instruction(10, "3", "B", steps_10), instruction(20, "1", "B", steps_20),
                 instruction(10, "2", "A", steps_10)):
        r = node.post("quality", "/work-instructions", body)
        assert r.status_code == 201, r.text


def step(node: RunningNode, operation: int, revision: str, serial: str, number: int, role: str = "operator",
         **capture: Any) -> Any:
    return node.post(role, f"/work-orders/WO-P/operations/{operation}/steps",
                     {"instruction_revision": revision, "step": number, "serial": serial, **capture})


def test_a_pump_through_three_operations_with_a_failing_step_an_ncr_and_a_second_persons_sign_off(
        node: RunningNode) -> None:
    seed_pump(node)
    save_user(node.store, "qa2", "Second Person", ["quality"], SECOND_TOKEN, pin="2468")
    r = node.post("operator", "/work-orders/WO-P/operations/10/units", {})
    assert r.status_code == 201, r.text
    serial = "WO-P-0001"  # the site's default pattern
    assert r.json()["events"][0]["subject"] == "work_order:WO-P"
    shown = node.client("operator").get("/api/v1/work-orders/WO-P/operations/10/instruction",
                                        params={"serial": serial, "language": "nl"}).json()
    assert (shown["revision"], shown["steps"][0]["text"]) == ("3", "Scan de motor")
    assert shown["steps"][0]["media"][0]["url"] == "/api/v1/work-instructions/media/motor.png"

    # the old instruction (written for item revision A) is refused for this order (revision B)
    r = step(node, 10, "2", serial, 1, scanned="MOT-001")
    assert (r.status_code, r.json()["code"], r.json()["field"]) == (409, "INSTRUCTION_REVISION_MISMATCH",
                                                                    "instruction_revision")
    assert "use instruction revision 3" in r.json()["message"]
    # a wrong scan fails the step and blocks the next one
    r = step(node, 10, "3", serial, 1, scanned="MOT-999")
    assert r.status_code == 201
    assert r.json()["step"] == {"step": 1, "passed": False, "ncr": None,
                                "note": "MOT-999 is no serial or lot of MOTOR issued to WO-P"}
    assert step(node, 10, "3", serial, 2, scanned="P7").json()["code"] == "STEP_BLOCKED"
    assert step(node, 10, "3", serial, 1, scanned="MOT-001").status_code == 201
    assert step(node, 10, "3", serial, 2, scanned="P7").status_code == 201
    r = step(node, 10, "3", serial, 3, result="done")
    assert [ev["type"] for ev in r.json()["events"]] == ["StepRecorded", "UnitOperationCompleted", "ProductionReported"]

    # test: out of limits raises a nonconformance that holds the unit
    r = step(node, 20, "1", serial, 1, value="11.2")
    assert [ev["type"] for ev in r.json()["events"]] == ["StepRecorded", "NonconformanceRaised"]
    ncr = r.json()["events"][1]["subject"].removeprefix("ncr:")
    assert ncr == f"NCR-WO-P-20-{serial}-1"
    assert step(node, 20, "1", serial, 2, result="done").json()["code"] == "UNIT_ON_HOLD"
    assert node.post("quality", f"/nonconformances/{ncr}/disposition", {"disposition": "rework"},
                     ).status_code == 201
    # the sign-off: without the PIN refused, the same person refused, a second person with the PIN signs
    r = step(node, 20, "1", serial, 2, role="operator", result="done")
    assert (r.status_code, r.json()["code"]) == (422, "SIGNATURE_REQUIRED")
    r = node.client("quality").post("/api/v1/work-orders/WO-P/operations/20/steps", json={
        "instruction_revision": "1", "step": 2, "serial": serial, "result": "done"}, headers={
        "Authorization": f"Bearer {SECOND_TOKEN}", "X-Takt-Pin": "2468", "Idempotency-Key": "signoff-1"})
    assert r.status_code == 201, r.text
    assert [ev["type"] for ev in r.json()["events"]] == ["StepRecorded", "UnitOperationCompleted", "ProductionReported",
                                                     "RecordsSigned"]
    # operation 30 has no instruction: the unit's operation is completed by hand
    r = node.post("operator", f"/work-orders/WO-P/operations/30/units/{serial}/complete", {})
    assert r.status_code == 201, r.text
    units = node.client("operator").get("/api/v1/work-orders/WO-P/units").json()["units"]
    assert [(u["serial"], u["status"], u["operation"], u["instructions"]) for u in units] == [
        (serial, "completed", None, ["10=3", "20=1"])]

    # into stock, on a pallet, shipped; then traced forward from the motor's serial
    r = node.post("operator", "/work-orders/WO-P/output", {"lot": "FG-1", "quantity": "1", "bin": "FG"})
    assert r.status_code == 201, r.text
    for cmd in (c.DefineCustomer(idempotency_key="cu", actor="sync", origin="erp", customer="C1", name="Acme"),
                c.DefineSalesOrder(idempotency_key="so", actor="sync", origin="erp", sales_order="SO-1",
                                   customer="C1", lines=(c.SalesOrderLineSpec(line=1, item="PUMP",
                                                                              quantity=Decimal(1)),))):
        node.service.handle(cmd)
    body = "095060001" + "0000001"
    sscc = "0" + body + str(check_digit("0" + body))
    assert node.post("warehouse", "/pallets", {"bin": "FG", "sscc": sscc,
                                               "lines": [{"lot": "FG-1", "quantity": "1"}]}).status_code == 201
    assert node.post("warehouse", f"/pallets/{sscc}/ship", {"sales_order": "SO-1"}).status_code == 201
    forward = node.client("quality").get("/api/v1/trace/components/MOT-001").json()
    assert [(u["serial"], u["lot"]) for u in forward["units"]] == [(serial, "FG-1")]
    assert forward["customer_orders"] == ["SO-1"]
    assert forward["shipments"] == [{"sales_order": "SO-1", "customer": "C1", "pallets": [sscc]}]
    by_lot = node.client("quality").get("/api/v1/trace/components/M-LOT-7").json()  # a recall of the motor lot
    assert [(u["serial"], u["via"]) for u in by_lot["units"]] == [(serial, "M-LOT-7")]
    backward = node.client("quality").get(f"/api/v1/units/{serial}").json()
    assert [(x["component"], x["component_serial"], x["component_lot"]) for x in backward["components"]] == [
        ("MOTOR", "MOT-001", "M-LOT-7")]
    assert [(s["operation"], s["step"], s["passed"]) for s in backward["steps"]] == [
        (10, 1, False), (10, 1, True), (10, 2, True), (10, 3, True), (20, 1, False), (20, 2, True)]
    assert node.client("quality").get("/api/v1/trace/components/NOPE").status_code == 404
    # replaying the journal into an empty store gives the same units, runs, steps and components
    report = verify(node.store)
    assert report.ok, report.differences


def test_a_scanned_gs1_label_gives_the_serial_and_bad_input_changes_nothing(node: RunningNode) -> None:
    seed_pump(node)
    before = node.journal_count()
    r = node.post("operator", "/work-orders/WO-P/operations/10/units", {"serial": "(01)09506000134369(21)X1"})
    assert (r.status_code, r.json()["code"], r.json()["field"]) == (409, "WRONG_ITEM", "serial")
    r = node.post("operator", "/work-orders/WO-P/operations/20/units", {})
    assert (r.status_code, r.json()["code"]) == (409, "NOT_FIRST_OPERATION")
    r = node.post("operator", "/work-orders/WO-P/operations/10/steps", {"instruction_revision": "3", "step": 1,
                                                                        "serial": "NOPE", "value": "1e5"})
    assert (r.status_code, r.json()["field"]) == (422, "value")
    assert node.journal_count() == before
    r = node.post("operator", "/work-orders/WO-P/operations/10/units", {"serial": "]C1010950600013435221SN-77"})
    assert r.status_code == 201, r.text
    units = node.client("operator").get("/api/v1/work-orders/WO-P/units").json()["units"]
    assert [(u["serial"], u["source"]) for u in units] == [("SN-77", "scanned")]


def test_instructions_from_the_sites_folder_with_their_images_served_for_offline_use(tmp_path: Path) -> None:
    """The site's instruction folder: its YAML files are recorded at start like master data, their images are served
    by the node with a cache lifetime (the page keeps them for when the node is away); a file that is not an image or
    PDF of the folder is not served."""
    folder = tmp_path / "site" / "instructions"
    folder.mkdir(parents=True)
    (folder / "pump-100-op10.yaml").write_text(
        "item: PUMP-100\noperation: 10\nrevision: '5'\nitem_revision: C\ntitle: Assemble PUMP-100\nsteps:\n"
        "  - {step: 1, kind: check, texts: ['en=Housing clean', 'nl=Huis schoon'], media: ['image:housing.png']}\n"
        "  - {step: 2, kind: measure, texts: ['en=Gap'], lsl: '0.1', usl: '0.3', unit: mm}\n", encoding="utf-8")
    (folder / "housing.png").write_bytes(PNG)
    site_file = tmp_path / "site" / "takt.yaml"
    site_file.write_text((ROOT / "config" / "demo.yaml").read_text(encoding="utf-8")
                         + f"\ninstructions:\n  folder: instructions\nlabels:\n  folder: {tmp_path / 'labels'}\n",
                         encoding="utf-8")
    site = Node(load_config(site_file), data_dir=tmp_path / "data").start()
    running = start_node("", site=site)
    try:
        shown = running.client("operator").get("/api/v1/work-orders/WO-1001/operations/10/instruction").json()
        assert (shown["revision"], shown["title"], [s["text"] for s in shown["steps"]]) == (
            "5", "Assemble PUMP-100", ["Housing clean", "Gap"])
        image = running.client("operator").get(shown["steps"][0]["media"][0]["url"])
        assert (image.status_code, image.content, image.headers["content-type"]) == (200, PNG, "image/png")
        assert "max-age" in image.headers["cache-control"]
        for name in ("pump-100-op10.yaml", "..%2Ftakt.yaml", "missing.png"):
            assert running.client("operator").get(f"/api/v1/work-instructions/media/{name}").status_code == 404
        assert running.client("operator").get(
            "/api/v1/work-orders/WO-1001/operations/20/instruction").json()["code"] == "NO_INSTRUCTION"
        # PUMP-100 made serialised with a GTIN: its first unit gets a serial and a GS1 label (AI 01 and 21)
        assert running.post("service", "/items", {"item": "PUMP-100", "description": "Pump", "unit": "pcs",
                                                  "revision": "C", "serialised": True,
                                                  "gtin": "09506000134352"}).status_code == 201
        assert running.post("operator", "/work-orders/WO-1001/operations/10/units", {}).status_code == 201
        printed = running.post("operator", "/units/WO-1001-0001/label", {"copies": 1})
        assert printed.status_code == 201, printed.text
        assert "(01)09506000134352(21)WO-1001-0001" in printed.json()["zpl"]
        assert (tmp_path / "labels").is_dir() and any((tmp_path / "labels").iterdir())
    finally:
        running.stop()
        site.stop()


def test_a_lot_built_order_follows_its_instruction_with_a_photo_from_the_terminal(node: RunningNode) -> None:
    """An item that is not serialised: its order's steps are recorded against the order (no serial), with the
    instruction revision; a photo step takes the id the node gave the uploaded picture."""
    assert node.post("service", "/items", {"item": "FRAME", "description": "Frame", "unit": "pcs",
                                           "revision": "A"}).status_code == 201
    assert node.post("service", "/work-orders", {
        "work_order": "WO-F", "item": "FRAME", "item_revision": "A", "bom_revision": "1", "quantity": "50",
        "operations": [{"operation": 10, "description": "Weld", "workstation": "WS-1"}]}).status_code == 201
    assert node.post("quality", "/work-instructions", {
        "item": "FRAME", "operation": 10, "revision": "2", "item_revision": "A", "title": "Weld",
        "steps": [{"step": 1, "kind": "photo", "texts": ["en=Photo of the weld seam"]}]}).status_code == 201
    refused = node.client("operator").post("/api/v1/photos", content=b"not a picture",
                                           headers={"Content-Type": "text/plain"})
    assert (refused.status_code, refused.json()["code"]) == (422, "INVALID_PHOTO")
    taken = node.client("operator").post("/api/v1/photos", content=PNG, headers={"Content-Type": "image/png"})
    assert taken.status_code == 201, taken.text
    photo = taken.json()["photo"]
    r = node.post("operator", "/work-orders/WO-F/operations/10/steps", {"instruction_revision": "2", "step": 1,
                                                                        "serial": "X"})
    assert (r.status_code, r.json()["code"]) == (422, "NOT_SERIALISED")
    r = node.post("operator", "/work-orders/WO-F/operations/10/steps", {"instruction_revision": "2", "step": 1,
                                                                        "photo": photo})
    assert r.status_code == 201 and r.json()["step"]["passed"] is True, r.text
    shown = node.client("operator").get("/api/v1/work-orders/WO-F/operations/10/instruction").json()
    assert (shown["run"]["revision"], shown["run"]["step"], shown["run"]["status"]) == ("2", 1, "done")
    assert node.client("quality").get(f"/api/v1/photos/{photo}").content == PNG


def test_a_unit_held_by_its_rework_until_the_reinspection_then_packed_on_a_pallet_by_serial(
        node: RunningNode) -> None:
    """Issue 21's seam: a rework disposition of a unit's NCR holds the unit until the re-inspection passes; the
    completed unit is packed by its serial, and the forward trace from its motor's serial reaches the pallet and the
    customer shipment by the unit's serial."""
    seed_pump(node)
    save_user(node.store, "qa2", "Second Person", ["quality"], SECOND_TOKEN, pin="2468")
    assert node.post("quality", "/inspection-plans", {
        "plan": "RE-PUMP", "description": "Re-inspection", "item": "PUMP", "sample_size": 1,
        "characteristics": [{"characteristic": "leak", "kind": "attribute"}]}).status_code == 201
    serial = "SN-1"
    assert node.post("operator", "/work-orders/WO-P/operations/10/units", {"serial": serial}).status_code == 201
    for n, capture in ((1, {"scanned": "MOT-001"}), (2, {"scanned": "P7"}), (3, {"result": "done"})):
        assert step(node, 10, "3", serial, n, **capture).status_code == 201
    r = step(node, 20, "1", serial, 1, value="11.2")
    ncr = r.json()["events"][1]["subject"].removeprefix("ncr:")
    rework = {"operations": [{"description": "Reseat seal", "workstation": "WS-2"}], "plan": "RE-PUMP",
              "mode": "order", "rework_order": "RWO-1"}
    r = node.post("quality", f"/nonconformances/{ncr}/disposition", {"disposition": "rework", "rework": rework})
    assert r.status_code == 201, r.text
    [opened] = node.client("quality").get("/api/v1/reworks").json()["reworks"]
    assert opened["subjects"] == [f"unit:{serial}"]
    [unit] = node.client("operator").get("/api/v1/work-orders/WO-P/units").json()["units"]
    assert (unit["status"], unit["ncr"]) == ("hold", ncr)
    r = step(node, 20, "1", serial, 2, result="done")
    assert (r.status_code, r.json()["code"]) == (409, "UNIT_ON_HOLD")
    assert f"rework RW-{ncr}" in r.json()["message"]
    for action in ("start", "complete"):
        assert node.post("operator", f"/work-orders/RWO-1/operations/10/{action}", {}).status_code == 201
    r = node.post("quality", "/inspections", {"inspection": "RI-1", "plan": "RE-PUMP", "work_order": "RWO-1",
                                              "measurements": [{"characteristic": "leak", "passed": True}]})
    assert r.status_code == 201, r.text
    [unit] = node.client("operator").get("/api/v1/work-orders/WO-P/units").json()["units"]
    assert (unit["status"], unit["ncr"], unit["operation"]) == ("in_progress", None, 20)
    r = node.client("quality").post("/api/v1/work-orders/WO-P/operations/20/steps", json={
        "instruction_revision": "1", "step": 2, "serial": serial, "result": "done"}, headers={
        "Authorization": f"Bearer {SECOND_TOKEN}", "X-Takt-Pin": "2468", "Idempotency-Key": "signoff-r"})
    assert r.status_code == 201, r.text
    assert node.post("operator", f"/work-orders/WO-P/operations/30/units/{serial}/complete", {}).status_code == 201

    # packed by serial: refused while not in stock, then on the pallet; shipped; traced forward by serial
    body = "095060001" + "0000002"
    sscc = "0" + body + str(check_digit("0" + body))
    assert node.post("warehouse", "/lots", {"lot": "FG-0", "item": "PUMP", "quantity": "1", "bin": "FG"}
                     ).status_code == 201
    assert node.post("warehouse", "/pallets", {"bin": "FG", "sscc": sscc,
                                               "lines": [{"lot": "FG-0", "quantity": "1"}]}).status_code == 201
    r = node.post("warehouse", f"/pallets/{sscc}/units", {"serials": [serial]})
    assert (r.status_code, r.json()["code"], r.json()["field"]) == (409, "UNIT_NOT_IN_STOCK", "serials[0]")
    assert node.post("operator", "/work-orders/WO-P/output", {"lot": "FG-1", "quantity": "1", "bin": "FG"}
                     ).status_code == 201
    r = node.post("warehouse", f"/pallets/{sscc}/units", {"serials": ["NOPE"]})
    assert (r.status_code, r.json()["code"], r.json()["field"]) == (409, "UNKNOWN_UNIT", "serials[0]")
    r = node.post("warehouse", f"/pallets/{sscc}/units", {"serials": [serial]})
    assert r.status_code == 201, r.text
    r = node.post("warehouse", f"/pallets/{sscc}/units", {"serials": [serial]})
    assert (r.status_code, r.json()["code"]) == (409, "UNIT_ON_PALLET")
    for cmd in (c.DefineCustomer(idempotency_key="cu", actor="sync", origin="erp", customer="C1", name="Acme"),
                c.DefineSalesOrder(idempotency_key="so", actor="sync", origin="erp", sales_order="SO-1",
                                   customer="C1", lines=(c.SalesOrderLineSpec(line=1, item="PUMP",
                                                                              quantity=Decimal(2)),))):
        node.service.handle(cmd)
    assert node.post("warehouse", f"/pallets/{sscc}/ship", {"sales_order": "SO-1"}).status_code == 201
    forward = node.client("quality").get("/api/v1/trace/components/MOT-001").json()
    assert [(u["serial"], u["lot"], u["sscc"]) for u in forward["units"]] == [(serial, "FG-1", sscc)]
    [pallet] = forward["pallets"]
    assert (pallet["sscc"], pallet["units"], pallet["customer"]) == (sscc, [serial], "C1")
    assert forward["shipments"] == [{"sales_order": "SO-1", "customer": "C1", "pallets": [sscc]}]
    backward = node.client("quality").get(f"/api/v1/units/{serial}").json()
    assert [p["sscc"] for p in backward["pallets"]] == [sscc]
    report = verify(node.store)
    assert report.ok, report.differences


def test_an_instruction_read_with_an_operation_of_a_thousand_digits_is_refused_naming_it(node: RunningNode) -> None:
    r = node.client("operator").get(f"/api/v1/work-orders/WO-P/operations/{'9' * 1000}/instruction")
    assert r.status_code == 422 and "operation" in r.text
