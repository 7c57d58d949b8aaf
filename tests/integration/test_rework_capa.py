"""Rework, use as is, return to supplier, CAPA and partial acceptance over the node's API, and what reaches the
central side over the wire (the ERP simulator: the rework operations on the order, the SRM's supplier returns, the
QMS's CAPA records)."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from edge.store.users import save_user
from edge.store.verify import verify
from simulators.erp import RunningErpSim, running_erp_sim
from tests.integration.conftest import TOKENS as NODE_TOKENS
from tests.integration.conftest import RunningNode, start_node
from tests.integration.test_sync import _pull, _push, plan, release, run

TOKENS = {"token-node-a-0000000": "node-a"}
PIN = "2468"


@pytest.fixture
def edge(tmp_path: Path) -> Iterator[RunningNode]:
    running = start_node(f"sqlite:///{tmp_path}/edge.sqlite", "node-a")
    save_user(running.store, "quality1", "Test quality", ["quality"], NODE_TOKENS["quality"], pin=PIN)
    yield running
    running.stop()


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[RunningErpSim]:
    with running_erp_sim(f"sqlite:///{tmp_path}/central.sqlite", TOKENS) as running:
        plan(running)
        running.call("PUT", "/central/v1/bins", {"bin": "RECV", "zone": "R"})
        running.call("PUT", "/central/v1/bins", {"bin": "LINE", "zone": "L"})
        running.call("PUT", "/central/v1/inspection-plans", {
            "plan": "RE-PUMP", "description": "Re-inspection after rework", "item": "PUMP", "sample_size": 1,
            "characteristics": [{"characteristic": "leak", "kind": "attribute"}]})
        yield running


def _ok(response: Any) -> Any:
    assert response.status_code == 201, response.text
    return response.json()


def _lot(edge: RunningNode, lot: str) -> Any:
    return edge.client("operator").get(f"/api/v1/lots/{lot}").json()


def _reinspect(edge: RunningNode, inspection: str, lot: str, ok: bool) -> Any:
    return edge.post("quality", "/inspections", {"inspection": inspection, "plan": "RE-PUMP", "lot": lot,
                                                 "measurements": [{"characteristic": "leak", "passed": ok}]})


def test_ncr_rework_operations_reinspection_release_reach_the_erp(sim: RunningErpSim, edge: RunningNode) -> None:
    release(sim, "WO-1", 10)
    assert run(_pull(edge.service, sim.url, "node-a")).refused == 0
    _ok(edge.post("warehouse", "/lots", {"lot": "P-1", "item": "PUMP", "quantity": "10", "bin": "RECV"}))
    _ok(edge.post("quality", "/nonconformances", {"ncr": "NCR-1", "lot": "P-1", "work_order": "WO-1",
                                                  "description": "leaks at the flange"}))
    assert _lot(edge, "P-1")["status"] == "hold"
    rework = {"operations": [{"description": "Reseat flange gasket", "workstation": "ASSY",
                              "standard_minutes": "3"}], "plan": "RE-PUMP"}
    _ok(edge.post("quality", "/nonconformances/NCR-1/disposition", {"disposition": "rework", "rework": rework}))
    [opened] = edge.client("quality").get("/api/v1/reworks").json()["reworks"]
    assert (opened["work_order"], opened["operations"], opened["subjects"], opened["status"]) == (
        "WO-1", [20], ["lot:P-1"], "open")
    # the re-inspection waits for the rework operation; the lot stays held
    early = _reinspect(edge, "RI-0", "P-1", True)
    assert (early.status_code, early.json()["code"]) == (409, "REWORK_NOT_DONE")
    for step in ("start", "complete"):
        _ok(edge.post("operator", f"/work-orders/WO-1/operations/20/{step}", {}))
    assert _lot(edge, "P-1")["status"] == "hold"
    _ok(_reinspect(edge, "RI-1", "P-1", True))
    assert _lot(edge, "P-1")["status"] == "available"
    assert edge.client("quality").get("/api/v1/reworks", params={"status": "passed"}).json()["reworks"]

    pushed = run(_push(edge.store, sim.url, "node-a"))
    assert pushed.refused == 0  # the ERP learnt the rework operation before its start and completion
    order = sim.call("GET", "/central/v1/work-orders/WO-1")
    assert [(o["operation"], o["status"]) for o in order["operations"]] == [(10, "planned"), (20, "completed")]
    assert verify(edge.store).ok  # the rework, its operation, task and release replay from the journal alone


def test_a_rework_order_with_its_own_routing(sim: RunningErpSim, edge: RunningNode) -> None:
    assert run(_pull(edge.service, sim.url, "node-a")).refused == 0
    _ok(edge.post("warehouse", "/lots", {"lot": "P-2", "item": "PUMP", "quantity": "4", "bin": "RECV"}))
    _ok(edge.post("quality", "/nonconformances", {"ncr": "NCR-2", "lot": "P-2", "description": "wrong paint"}))
    rework = {"operations": [{"description": "Strip", "workstation": "ASSY"},
                             {"description": "Repaint", "workstation": "ASSY"}], "plan": "RE-PUMP", "mode": "order"}
    _ok(edge.post("quality", "/nonconformances/NCR-2/disposition", {"disposition": "rework", "rework": rework}))
    wo = edge.client("operator").get("/api/v1/work-orders/RW-NCR-2").json()
    assert (wo["item"], wo["quantity"]) == ("PUMP", "4")
    for n in (10, 20):
        for step in ("start", "complete"):
            _ok(edge.post("operator", f"/work-orders/RW-NCR-2/operations/{n}/{step}", {}))
    _ok(_reinspect(edge, "RI-2", "P-2", True))
    assert _lot(edge, "P-2")["status"] == "available"
    assert run(_push(edge.store, sim.url, "node-a")).refused == 0
    order = sim.call("GET", "/central/v1/work-orders/RW-NCR-2")
    assert [o["status"] for o in order["operations"]] == ["completed", "completed"]


def test_use_as_is_is_refused_without_a_signed_justification(edge: RunningNode) -> None:
    _ok(edge.post("service", "/items", {"item": "PUMP", "description": "Pump", "unit": "pcs", "revision": "A"}))
    _ok(edge.post("service", "/bins", {"bin": "RECV", "zone": "R"}))
    _ok(edge.post("warehouse", "/lots", {"lot": "P-3", "item": "PUMP", "quantity": "5", "bin": "RECV"}))
    _ok(edge.post("quality", "/nonconformances", {"ncr": "NCR-3", "lot": "P-3", "description": "cosmetic dent"}))
    before = edge.journal_count()
    unsigned = edge.post("quality", "/nonconformances/NCR-3/disposition",
                         {"disposition": "use_as_is", "comment": "dent inside the cosmetic limit"})
    assert (unsigned.status_code, unsigned.json()["code"], unsigned.json()["field"]) == (
        422, "SIGNATURE_REQUIRED", "X-Takt-Pin")
    with_pin = {"Idempotency-Key": "use-as-is-1", "X-Takt-Pin": PIN}
    no_reason = edge.client("quality").post("/api/v1/nonconformances/NCR-3/disposition",
                                            json={"disposition": "use_as_is"}, headers=with_pin)
    assert (no_reason.status_code, no_reason.json()["field"]) == (422, "comment")
    assert edge.journal_count() == before  # refused: nothing recorded
    signed = edge.client("quality").post(
        "/api/v1/nonconformances/NCR-3/disposition", json={"disposition": "use_as_is",
                                                           "comment": "dent inside the cosmetic limit"},
        headers={**with_pin, "Idempotency-Key": "use-as-is-2"})
    assert signed.status_code == 201, signed.text
    types = [ev["type"] for ev in signed.json()["events"]]
    assert types == ["DispositionProposed", "RecordsSigned"]  # the site's default: a second signer closes it


def test_return_to_supplier_reaches_the_srm(sim: RunningErpSim, edge: RunningNode) -> None:
    sim.call("PUT", "/central/v1/purchase-orders", {"purchase_order": "PO-7", "supplier": "ACME", "lines": [
        {"line": 1, "item": "HOUSING", "quantity": "50", "expected_lots": [{"supplier_lot": "ACME-9",
                                                                            "quantity": "50"}]}]})
    assert run(_pull(edge.service, sim.url, "node-a")).refused == 0
    _ok(edge.post("warehouse", "/purchase-orders/PO-7/receipts",
                  {"lot": "H-9", "item": "HOUSING", "quantity": "50", "bin": "RECV", "supplier_lot": "ACME-9"}))
    _ok(edge.post("quality", "/nonconformances", {"ncr": "NCR-9", "lot": "H-9", "description": "cracked castings"}))
    answer = _ok(edge.post("quality", "/nonconformances/NCR-9/disposition", {"disposition": "return_to_supplier"}))
    assert "SupplierReturnCreated" in [ev["type"] for ev in answer["events"]]
    assert _lot(edge, "H-9")["quantity"] == "0"
    assert run(_push(edge.store, sim.url, "node-a")).refused == 0
    [back] = sim.call("GET", "/central/v1/supplier-returns", supplier="ACME")
    assert (back["supplier_return"], back["lot"], back["supplier_lot"], back["purchase_order"], back["quantity"]) == (
        "RTS-NCR-9", "H-9", "ACME-9", "PO-7", "50")


def test_capa_and_a_lot_split_under_inspection_with_its_genealogy(sim: RunningErpSim, edge: RunningNode) -> None:
    sim.call("PUT", "/central/v1/inspection-plans", {
        "plan": "INC-HOUSING", "description": "Incoming housings", "item": "HOUSING", "kind": "incoming",
        "sample_size": 4, "characteristics": [{"characteristic": "finish", "kind": "attribute"}]})
    assert run(_pull(edge.service, sim.url, "node-a")).refused == 0
    _ok(edge.post("warehouse", "/lots", {"lot": "H-1", "item": "HOUSING", "quantity": "100", "bin": "RECV"}))
    assert _lot(edge, "H-1")["status"] == "quarantine"
    parts = [{"lot": "H-1A", "quantity": "70", "verdict": "accepted", "samples": 2, "failed": 0},
             {"lot": "H-1R", "quantity": "30", "verdict": "rejected", "samples": 2, "failed": 2}]
    wrong = edge.post("quality", "/lots/H-1/split", {"parts": [parts[0], {**parts[1], "quantity": "20"}]})
    assert (wrong.status_code, wrong.json()["code"], wrong.json()["field"]) == (422, "QUANTITY_MISMATCH", "parts")
    assert edge.post("operator", "/lots/H-1/split", {"parts": parts}).status_code == 403
    _ok(edge.post("quality", "/lots/H-1/split", {"parts": parts}))
    assert [(_lot(edge, x)["status"], _lot(edge, x)["quantity"]) for x in ("H-1", "H-1A", "H-1R")] == [
        ("consumed", "0"), ("available", "70"), ("hold", "30")]
    forward = edge.client("quality").get("/api/v1/trace/H-1").json()
    assert [(s["lot"], s["verdict"], s["quantity"]) for s in forward["splits"]] == [("H-1A", "accepted", "70"),
                                                                                  ("H-1R", "rejected", "30")]
    assert {x["lot"] for x in forward["lots"]} == {"H-1", "H-1A", "H-1R"}
    backward = edge.client("quality").get("/api/v1/trace/H-1R", params={"direction": "backward"}).json()
    assert [(x["lot"], x["depth"]) for x in backward["lots"]] == [("H-1R", 0), ("H-1", 1)]

    # the CAPA answering the rejected sub-lot's NCR, worked to its effectiveness check
    _ok(edge.post("quality", "/capa", {"capa": "CAPA-1", "problem": "porous housings from ACME",
                                       "ncrs": ["NCR-H-1R"], "containment": "sort the supplier's stock"}))
    _ok(edge.post("quality", "/capa/CAPA-1/root-cause", {
        "root_cause": "mould temperature not controlled", "fishbone": "method",
        "whys": ["porous castings", "gas in the melt", "mould too cold", "no temperature check"]}))
    _ok(edge.post("quality", "/capa/CAPA-1/actions", {"kind": "corrective", "description": "mould heater check",
                                                      "owner": "acme-qa", "due": "2026-01-15"}))
    bad = edge.post("quality", "/capa/CAPA-1/actions", {"kind": "curative", "description": "x", "owner": "y",
                                                        "due": "2026-01-15"})
    assert (bad.status_code, bad.json()["field"]) == (422, "kind")
    overdue = edge.client("operator").get("/api/v1/capa-actions/overdue").json()["actions"]
    assert [(a["capa"], a["action"], a["owner"]) for a in overdue] == [("CAPA-1", 1, "acme-qa")]
    _ok(edge.post("operator", "/capa/CAPA-1/actions/1/complete", {"result": "heater fitted"}))
    _ok(edge.post("quality", "/capa/CAPA-1/effectiveness", {"effective": True, "comment": "3 lots clean"}))
    capa = edge.client("quality").get("/api/v1/capa/CAPA-1").json()
    assert (capa["status"], capa["fishbone"], len(capa["whys"]), capa["overdue"]) == ("closed", "method", 4, 0)
    assert run(_push(edge.store, sim.url, "node-a")).refused == 0
    [central] = sim.call("GET", "/central/v1/capas", node="node-a")
    assert (central["status"], central["fishbone"], [a["status"] for a in central["actions"]]) == (
        "closed", "method", ["done"])
    assert verify(edge.store).ok
