"""Traceability against a real node: a supplier lot goes into a sub-assembly order, its output into a final order
that serves a customer order; forward and backward traces, a recall report, the produced-output rules and
``takt trace`` on the command line."""
from __future__ import annotations

import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path
from typing import Any

from edge.domain import commands as c
from tests.integration.conftest import RunningNode

ADMIN: dict[str, Any] = {"actor": "seed", "actor_roles": frozenset({"admin"}), "origin": "erp"}


def _plant(node: RunningNode) -> None:
    """Screws (from a supplier) -> motor sub-assembly MOTOR (WO-S) -> pump PUMP (WO-F for customer order SO-9)."""
    for key, item in (("i1", "SCREW"), ("i2", "MOTOR"), ("i3", "PUMP")):
        node.service.handle(c.DefineItem(idempotency_key=key, item=item, description=item.title(), unit="pcs",
                                         revision="A", **ADMIN))
    for key, b in (("b1", "RECV"), ("b2", "LINE"), ("b3", "FG")):
        node.service.handle(c.DefineBin(idempotency_key=key, bin=b, zone="Z", **ADMIN))
    for key, wo, item, bom, so in (("w1", "WO-S", "MOTOR", "SCREW", None), ("w2", "WO-F", "PUMP", "MOTOR", "SO-9")):
        node.service.handle(c.ReleaseWorkOrder(
            idempotency_key=key, work_order=wo, item=item, item_revision="A", bom_revision="1", quantity=D(10),
            operations=(c.OperationSpec(operation=10, description="Build", workstation="WS1"),),
            bom=(c.BomLineSpec(line=1, item=bom, item_revision="A", quantity_per=D(1)),), customer_order=so,
            **ADMIN))
    assert node.post("warehouse", "/lots", {"lot": "SC-1", "item": "SCREW", "quantity": "100", "bin": "LINE",
                                            "supplier_lot": "ACME-77"}).status_code == 201
    assert node.post("warehouse", "/lots", {"lot": "SC-2", "item": "SCREW", "quantity": "100",
                                            "bin": "LINE"}).status_code == 201


def _build(node: RunningNode) -> None:
    issue = node.post("operator", "/work-orders/WO-S/issues", {"lot": "SC-1", "bin": "LINE", "quantity": "6"})
    assert issue.status_code == 201, issue.text
    node.post("operator", "/work-orders/WO-S/operations/10/start", {})
    node.post("operator", "/work-orders/WO-S/operations/10/production", {"good": "6"})
    made = node.post("operator", "/work-orders/WO-S/output", {"lot": "MO-1", "quantity": "6", "bin": "LINE"})
    assert made.status_code == 201, made.text
    assert node.post("operator", "/work-orders/WO-F/issues", {"lot": "MO-1", "bin": "LINE",
                                                              "quantity": "4"}).status_code == 201
    node.post("operator", "/work-orders/WO-F/operations/10/start", {})
    node.post("operator", "/work-orders/WO-F/operations/10/production", {"good": "4"})
    assert node.post("operator", "/work-orders/WO-F/output", {"lot": "PU-1", "quantity": "4",
                                                              "bin": "FG"}).status_code == 201


def test_a_work_orders_output_is_a_lot_of_its_item_no_more_than_reported_good(node: RunningNode) -> None:
    _plant(node)
    issue = node.post("operator", "/work-orders/WO-S/issues", {"lot": "SC-1", "bin": "LINE", "quantity": "6"})
    assert issue.status_code == 201
    node.post("operator", "/work-orders/WO-S/operations/10/start", {})
    node.post("operator", "/work-orders/WO-S/operations/10/production", {"good": "5"})
    too_many = node.post("operator", "/work-orders/WO-S/output", {"lot": "MO-1", "quantity": "6", "bin": "LINE"})
    assert too_many.status_code == 409 and too_many.json()["code"] == "OUTPUT_EXCEEDS_GOOD"
    assert "reported 5 good" in too_many.json()["message"]
    assert node.post("operator", "/work-orders/WO-S/output", {"lot": "MO-1", "quantity": "3",
                                                              "bin": "LINE"}).status_code == 201
    second = node.post("operator", "/work-orders/WO-S/output", {"lot": "MO-2", "quantity": "3", "bin": "LINE"})
    assert second.status_code == 409 and "at most 2 more" in second.json()["message"]
    lot = node.client("operator").get("/api/v1/lots/MO-1").json()
    assert (lot["item"], lot["item_revision"], lot["work_order"]) == ("MOTOR", "A", "WO-S")
    moves = node.client("operator").get("/api/v1/lots/MO-1/moves").json()["moves"]
    assert [(m["kind"], m["work_order"]) for m in moves] == [("produce", "WO-S")]


def test_forward_backward_and_recall(node: RunningNode) -> None:
    _plant(node)
    _build(node)
    reader = node.client("quality")
    forward = reader.get("/api/v1/trace/SC-1").json()
    assert [(x["lot"], x["depth"], x["via"]) for x in forward["lots"]] == [
        ("SC-1", 0, None), ("MO-1", 1, "WO-S"), ("PU-1", 2, "WO-F")]
    assert [o["work_order"] for o in forward["work_orders"]] == ["WO-S", "WO-F"]
    assert forward["customer_orders"] == ["SO-9"]
    untouched = reader.get("/api/v1/trace/SC-2").json()
    assert untouched["work_orders"] == [] and untouched["customer_orders"] == []

    backward = reader.get("/api/v1/trace/PU-1?direction=backward").json()
    assert [(x["lot"], x["via"]) for x in backward["lots"]] == [("PU-1", None), ("MO-1", "WO-F"), ("SC-1", "WO-S")]
    screws = next(x for x in backward["lots"] if x["lot"] == "SC-1")
    assert screws["supplier_lot"] == "ACME-77" and screws["quantity"] == "6"

    recall = reader.get("/api/v1/recall/SC-1").json()
    assert recall["origin"]["supplier_lot"] == "ACME-77"
    assert {(r["lot"], r["bin"], r["quantity"]) for r in recall["in_stock"]} == {
        ("SC-1", "LINE", "94"), ("MO-1", "LINE", "2"), ("PU-1", "FG", "4")}
    assert reader.get("/api/v1/trace/NOPE").status_code == 404
    assert reader.get("/api/v1/trace/SC-1?direction=sideways").status_code == 422


def test_takt_trace_on_the_command_line(node: RunningNode, tmp_path: Path) -> None:
    _plant(node)
    _build(node)
    url = str(node.store.engine.url)
    done = subprocess.run([sys.executable, "-m", "takt.cli", "trace", "PU-1", "--backward", "--database-url", url],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "<- WO-F <- lot MO-1" in done.stdout and "<- WO-S <- lot SC-1" in done.stdout
    recall = subprocess.run([sys.executable, "-m", "takt.cli", "trace", "SC-1", "--recall", "--database-url", url],
                            capture_output=True, text=True, timeout=60)
    assert "customer orders: SO-9" in recall.stdout and "in stock: lot PU-1 in bin FG: 4" in recall.stdout
    unknown = subprocess.run([sys.executable, "-m", "takt.cli", "trace", "NOPE", "--database-url", url],
                             capture_output=True, text=True, timeout=60)
    assert unknown.returncode == 1 and "lot NOPE is not known here" in unknown.stderr
