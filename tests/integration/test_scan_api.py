"""POST /api/v1/scans over HTTP: a handheld user's scans change its context and book through the one write path;
refusals come back with the plant's code (409) or the label's fault (422), and nothing is recorded."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from edge.domain import commands as c
from edge.domain.scans import LabelPatterns, ScanContext
from scanners.gs1 import GS
from scanners.pipeline import ScanPipeline

from .conftest import RunningNode

D = Decimal
ADMIN: dict[str, Any] = {"actor": "setup", "actor_roles": frozenset({"admin", "warehouse"})}
GTIN = "09501101530003"


def _seed(node: RunningNode) -> None:
    for command in (
        c.DefineItem(idempotency_key="i1", item="SCREW", description="Screw", unit="pcs", revision="B", **ADMIN),
        c.DefineItem(idempotency_key="i2", item="GASKET", description="Gasket", unit="pcs", revision="C", **ADMIN),
        c.DefineItem(idempotency_key="i3", item="PUMP", description="Pump", unit="pcs", revision="A", **ADMIN),
        c.DefineBin(idempotency_key="b1", bin="LINE1", zone="L", **ADMIN),
        c.ReleaseWorkOrder(idempotency_key="wo", work_order="WO1", item="PUMP", item_revision="A", bom_revision="3",
                           quantity=D(10), operations=(c.OperationSpec(operation=10, description="Build",
                                                                       workstation="WS1"),),
                           bom=(c.BomLineSpec(line=1, item="SCREW", item_revision="B", quantity_per=D(4)),),
                           **ADMIN),
        c.ReceiveLot(idempotency_key="r1", lot="L1", item="SCREW", item_revision="B", quantity=D(100), bin="LINE1",
                     expiry=date(2099, 12, 31), **ADMIN),
        c.ReceiveLot(idempotency_key="r2", lot="LGSK", item="GASKET", item_revision="C", quantity=D(100),
                     bin="LINE1", **ADMIN),
    ):
        node.service.handle(command)
    pipeline = ScanPipeline(node.service, {"WS1-terminal": ScanContext(device="", bin="LINE1")},
                            LabelPatterns({"work_order": r"WO\d+", "bin": r"BIN:(?P<value>.+)"}))
    app: Any = node.server.config.app
    app.state.scans = pipeline


def scan(node: RunningNode, text: str, key: str | None = None, **extra: Any) -> Any:
    return node.post("operator", "/scans", {"text": text, **extra}, key=key)


def test_a_handheld_selects_work_order_and_bin_then_books_a_gs1_lot(node: RunningNode) -> None:
    _seed(node)
    assert scan(node, "WO1").json()["message"] == "work order WO1 selected"
    assert scan(node, "BIN:LINE1").json()["label"] == "bin"
    label = f"]C101{GTIN}10L1{GS}308"
    booked = scan(node, label, key="read-1")
    assert booked.status_code == 200, booked.text
    body = booked.json()
    assert body["ok"] and body["command"] == "IssueToWorkOrder" and body["device"] == "handheld:operator1"
    seq = node.journal_count()
    again = scan(node, label, key="read-1")  # the same physical read retried: nothing new
    assert again.json()["replayed"] is True and node.journal_count() == seq


def test_refusals_carry_the_code_and_record_nothing(node: RunningNode) -> None:
    _seed(node)
    scan(node, "WO1")
    scan(node, "BIN:LINE1")
    seq = node.journal_count()
    wrong = scan(node, f"]C101{GTIN}10LGSK{GS}301")
    assert wrong.status_code == 409 and wrong.json()["code"] == "WRONG_ITEM" and "needs SCREW" in wrong.json()["message"]
    assert wrong.json()["scan"]["label"] == "lot"
    bad = scan(node, f"]C101{GTIN[:-1]}7{GS}10L1")
    assert bad.status_code == 422 and bad.json()["code"] == "GS1_INVALID" and bad.json()["field"] == "scan"
    assert "check digit" in bad.json()["message"]
    unknown = scan(node, "hello")
    assert unknown.status_code == 422 and unknown.json()["code"] == "UNKNOWN_LABEL"
    assert node.journal_count() == seq


def test_a_configured_terminal_and_request_errors(node: RunningNode) -> None:
    _seed(node)
    assert scan(node, "]C0WO1", device="WS1-terminal").json()["label"] == "work_order"  # AIM identifier on
    booked = scan(node, f"]d201{GTIN}10L1{GS}304", device="WS1-terminal")
    assert booked.status_code == 200 and "4 of lot L1 issued to work order WO1" in booked.json()["message"]
    assert scan(node, "WO1", device="nope").json()["code"] == "UNKNOWN_DEVICE"
    missing_key = node.client("operator").post("/api/v1/scans", json={"text": "WO1"})
    assert missing_key.status_code == 400
    empty = scan(node, "")
    assert empty.status_code == 422 and empty.json()["field"] == "text"


def test_the_scan_route_is_in_the_openapi_document(node: RunningNode) -> None:
    doc = node.client("operator").get("/openapi.json").json()
    post = doc["paths"]["/api/v1/scans"]["post"]
    assert {"200", "409", "422", "503"} <= set(post["responses"])
    assert "ScanRequest" in doc["components"]["schemas"] and "Refusal" in doc["components"]["schemas"]


def test_the_issue_route_takes_a_serial_and_refuses_it_twice(node: RunningNode) -> None:
    _seed(node)
    body = {"lot": "L1", "bin": "LINE1", "quantity": "1", "serial": "SN-1"}
    assert node.post("operator", "/work-orders/WO1/issues", body).status_code == 201
    again = node.post("operator", "/work-orders/WO1/issues", body)
    assert again.status_code == 409 and again.json()["code"] == "DUPLICATE_SERIAL" and again.json()["field"] == "serial"


def test_a_handheld_puts_away_and_moves_by_scanning(node: RunningNode) -> None:
    _seed(node)
    for command in (c.DefineBin(idempotency_key="b2", bin="A-02-3", zone="A", **ADMIN),
                    c.DefineBin(idempotency_key="b3", bin="SMALL", zone="A", capacity=D(10), **ADMIN),
                    c.DefineBin(idempotency_key="b4", bin="CAGE", zone="Q", allowed_items=("GASKET",), **ADMIN)):
        node.service.handle(command)
    # putaway: the bin the lot is at, its label (no quantity: all of it), the bin it goes to
    assert "scan a lot label" in scan(node, "BIN:LINE1", task="putaway").json()["message"]
    picked = scan(node, "LOT-L1", task="putaway")
    assert picked.status_code == 422  # not a label: nothing carried
    picked = scan(node, f"]C101{GTIN}10L1", task="putaway")
    assert picked.status_code == 200 and "scan the bin to put it away" in picked.json()["message"]
    seq = node.journal_count()
    for to_bin, code, field in (("NOWHERE", "UNKNOWN_BIN", "to_bin"), ("SMALL", "BIN_FULL", "to_bin"),
                                ("CAGE", "ITEM_NOT_ALLOWED_IN_BIN", "to_bin")):
        refused = scan(node, f"BIN:{to_bin}", task="putaway")
        assert refused.status_code == 409 and (refused.json()["code"], refused.json()["field"]) == (code, field)
    assert node.journal_count() == seq  # refused: nothing booked, the lot still waits for its bin
    booked = scan(node, "BIN:A-02-3", task="putaway")
    assert booked.status_code == 200 and booked.json()["command"] == "MoveStock", booked.text
    assert "lot L1 put away from bin LINE1 to bin A-02-3" in booked.json()["message"]
    lot = node.client("operator").get("/api/v1/lots/L1").json()
    assert {row["bin"]: D(row["quantity"]) for row in lot["stock"]} == {"A-02-3": D(100)}
    moves = node.client("operator").get("/api/v1/lots/L1/moves").json()
    assert moves["moves"][-1]["kind"] == "putaway" and moves["moves"][-1]["actor"] == "operator1"
    # move: the label's quantity (AI 30) from the bin the device is at; more than there is is refused
    scan(node, "BIN:A-02-3", task="move")
    scan(node, f"]C101{GTIN}10L1{GS}30150", task="move")
    too_much = scan(node, "BIN:LINE1", task="move")
    assert too_much.status_code == 409 and too_much.json()["code"] == "INSUFFICIENT_STOCK"
    scan(node, f"]C101{GTIN}10L1{GS}3040", task="move")
    moved = scan(node, "BIN:LINE1", task="move")
    assert moved.status_code == 200 and "40 of lot L1 moved from bin A-02-3 to bin LINE1" in moved.json()["message"]
    lot = node.client("operator").get("/api/v1/lots/L1").json()
    assert {row["bin"]: D(row["quantity"]) for row in lot["stock"]} == {"A-02-3": D(60), "LINE1": D(40)}
    bad_task = scan(node, "BIN:LINE1", task="dance")
    assert bad_task.status_code == 422 and bad_task.json()["field"] == "task"


def test_items_carry_a_gtin_that_labels_are_checked_against_and_received_by(node: RunningNode) -> None:
    _seed(node)
    item = {"item": "SCREW", "description": "Screw", "unit": "pcs", "revision": "B"}
    bad = node.post("service", "/items", {**item, "gtin": "09501101530004"})
    assert bad.status_code == 422 and bad.json()["field"] == "gtin" and "expected 3" in bad.json()["message"]
    assert node.post("service", "/items", {**item, "gtin": GTIN}).status_code == 201
    assert node.post("service", "/items", {**item, "item": "GASKET", "revision": "C",
                                           "gtin": "4012345000016"}).status_code == 201
    listed = {row["item"]: row["gtin"] for row in node.client("operator").get("/api/v1/items").json()["items"]}
    assert listed["SCREW"] == GTIN and listed["PUMP"] is None
    # consumption: a lot label whose GTIN is another item's than the lot's is refused, nothing booked
    scan(node, "WO1")
    scan(node, "BIN:LINE1")
    seq = node.journal_count()
    wrong = scan(node, f"]C10104012345000016{GS}10L1{GS}304")
    assert wrong.status_code == 409 and (wrong.json()["code"], wrong.json()["field"]) == ("WRONG_ITEM", "gtin")
    assert "is item GASKET, but lot L1 is item SCREW" in wrong.json()["message"] and node.journal_count() == seq
    # receiving: a GS1 label of a lot not known yet books it into the device's bin, the item named by its GTIN
    not_warehouse = scan(node, f"]C101{GTIN}10L9{GS}3012", task="receive")
    assert not_warehouse.status_code == 409 and not_warehouse.json()["code"] == "ROLE_REQUIRED"
    headers = {"Idempotency-Key": "rcv-1"}
    warehouse = node.client("warehouse")
    assert warehouse.post("/api/v1/scans", json={"text": "BIN:LINE1", "task": "receive"}, headers=headers).is_success
    received = warehouse.post("/api/v1/scans", json={"text": f"]C101{GTIN}1727123110L9{GS}3012", "task": "receive"},
                              headers={"Idempotency-Key": "rcv-2"})
    assert received.status_code == 200 and received.json()["command"] == "ReceiveLot", received.text
    lot = node.client("operator").get("/api/v1/lots/L9").json()
    assert (lot["item"], lot["item_revision"], D(lot["quantity"]), lot["expiry"]) == ("SCREW", "B", D(12), "2027-12-31")
    unknown = warehouse.post("/api/v1/scans", json={"text": f"]C10108712345678906{GS}10L10{GS}301",
                                                    "task": "receive"}, headers={"Idempotency-Key": "rcv-3"})
    assert unknown.status_code == 409 and unknown.json()["code"] == "UNKNOWN_GTIN"


def test_a_handheld_receives_supplier_labels_against_a_purchase_order(node: RunningNode) -> None:
    _seed(node)
    assert node.post("service", "/items", {"item": "SCREW", "description": "Screw", "unit": "pcs", "revision": "B",
                                           "gtin": GTIN}).status_code == 201
    node.service.handle(c.DefinePurchaseOrder(
        idempotency_key="po-1", actor="erp-sync", actor_roles=frozenset({"service"}), origin="erp",
        purchase_order="PO-1", supplier="ACME", lines=(c.PurchaseOrderLineSpec(line=1, item="SCREW", quantity=D(20)),)))
    warehouse = node.client("warehouse")

    def receive(text: str, key: str, **extra: Any) -> Any:
        return warehouse.post("/api/v1/scans", json={"text": text, "task": "receive", **extra},
                              headers={"Idempotency-Key": key})

    assert receive("BIN:LINE1", "po-r1", purchase_order="PO-1").is_success
    booked = receive(f"]C101{GTIN}10S-77{GS}3012", "po-r2")  # the order stays chosen for the next labels
    assert booked.status_code == 200 and booked.json()["command"] == "ReceiveAgainstPurchaseOrder", booked.text
    assert "received into bin LINE1 on PO-1" in booked.json()["message"]
    over = receive(f"]C101{GTIN}10S-78{GS}3012", "po-r3")
    assert over.status_code == 409 and over.json()["code"] == "OVER_RECEIPT"
    assert "expects 8 more SCREW" in over.json()["message"]
    [po] = warehouse.get("/api/v1/purchase-orders").json()["purchase_orders"]
    assert po["lines"][0]["received"] == "12"
    lot = warehouse.get("/api/v1/lots/S-77").json()
    assert (lot["item"], lot["supplier_lot"]) == ("SCREW", "S-77")
    # without the order (an empty value ends it), the same kind of label is a plain receipt
    plain = receive(f"]C101{GTIN}10S-79{GS}305", "po-r4", purchase_order="")
    assert plain.status_code == 200 and plain.json()["command"] == "ReceiveLot", plain.text
    # and the route for terminals and integrations books on a line directly
    direct = node.post("warehouse", "/purchase-orders/PO-1/receipts", {"line": 1, "lot": "S-80", "quantity": "8",
                                                                       "bin": "LINE1", "supplier_lot": "S-80"})
    assert direct.status_code == 201, direct.text
    assert warehouse.get("/api/v1/purchase-orders").json()["purchase_orders"][0]["lines"][0]["received"] == "20"


def test_a_lots_genealogy_nets_returns_and_names_the_customer_order(node: RunningNode) -> None:
    _seed(node)
    assert node.post("warehouse", "/lots", {"lot": "L5", "item": "SCREW", "quantity": "50", "bin": "LINE1",
                                            "supplier_lot": "ACME-77"}).status_code == 201
    issue = {"lot": "L5", "bin": "LINE1", "quantity": "12"}
    assert node.post("operator", "/work-orders/WO1/issues", issue).status_code == 201
    assert node.post("operator", "/work-orders/WO1/returns", {**issue, "quantity": "4"}).status_code == 201
    tree = node.client("operator").get("/api/v1/lots/L5/genealogy").json()
    assert tree["received"]["supplier_lot"] == "ACME-77" and tree["received"]["purchase_order"] is None
    [used] = tree["consumed_in"]
    assert (used["work_order"], used["quantity"], used["item"]) == ("WO1", "8", "PUMP")
    assert node.client("operator").get("/api/v1/lots/NOPE/genealogy").status_code == 404
