"""Incoming, in-process and final inspection over the node's API, and what goes to the central side over the wire:
supplier-lot verdicts into the SRM's supplier quality, and the OEE of closed shifts."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from edge.domain import commands as c
from edge.store.verify import verify
from simulators.erp import RunningErpSim, running_erp_sim
from tests.integration.conftest import RunningNode, start_node
from tests.integration.test_sync import _pull, _push, plan, release, run

TOKENS = {"token-node-a-0000000": "node-a"}


@pytest.fixture
def edge(tmp_path: Path) -> Iterator[RunningNode]:
    running = start_node(f"sqlite:///{tmp_path}/edge.sqlite", "node-a")
    yield running
    running.stop()


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[RunningErpSim]:
    with running_erp_sim(f"sqlite:///{tmp_path}/central.sqlite", TOKENS) as running:
        plan(running)
        running.call("PUT", "/central/v1/bins", {"bin": "RECV", "zone": "R"})
        running.call("PUT", "/central/v1/bins", {"bin": "LINE", "zone": "L"})
        yield running


def _incoming_plan(sim: RunningErpSim) -> None:
    sim.call("PUT", "/central/v1/inspection-plans", {
        "plan": "INC-HOUSING", "description": "Incoming housings", "item": "HOUSING", "kind": "incoming",
        "sample_size": 3, "accept_number": 0,
        "characteristics": [{"characteristic": "finish", "kind": "attribute"}]})
    sim.call("PUT", "/central/v1/purchase-orders", {"purchase_order": "PO-7", "supplier": "ACME", "lines": [
        {"line": 1, "item": "HOUSING", "quantity": "200", "expected_lots": [
            {"supplier_lot": "ACME-A1", "quantity": "100"}, {"supplier_lot": "ACME-A2", "quantity": "100"}]}]})


def _sample(edge: RunningNode, inspection: str, lot: str, passed: bool) -> Any:
    return edge.post("quality", "/inspections", {"inspection": inspection, "plan": "INC-HOUSING", "lot": lot,
                                                 "measurements": [{"characteristic": "finish", "passed": passed}]})


def test_supplier_lot_verdicts_reach_the_srms_supplier_quality(sim: RunningErpSim, edge: RunningNode) -> None:
    _incoming_plan(sim)
    release(sim, "WO-1", 10)
    assert run(_pull(edge.service, sim.url, "node-a")).refused == 0
    receipt = edge.post("warehouse", "/purchase-orders/PO-7/receipts",
                        {"lot": "H-1", "item": "HOUSING", "quantity": "100", "bin": "RECV",
                         "supplier_lot": "ACME-A1"})
    assert receipt.status_code == 201, receipt.text
    lot = edge.client("operator").get("/api/v1/lots/H-1").json()
    assert lot["status"] == "quarantine"
    # not usable while it awaits inspection: the refusal names the lot and why
    issue = edge.post("operator", "/work-orders/WO-1/issues", {"lot": "H-1", "bin": "RECV", "quantity": "1"})
    assert issue.status_code == 409
    assert issue.json()["code"] == "LOT_AWAITING_INSPECTION" and "H-1" in issue.json()["message"]
    due = edge.client("quality").get("/api/v1/inspections/due").json()
    [task] = due["open_tasks"]
    assert (task["task"], task["lot"], task["sample_size"], task["supplier"]) == ("INC-H-1", "H-1", 3, "ACME")
    for i in range(3):
        assert _sample(edge, f"I-{i}", "H-1", True).status_code == 201
    assert edge.client("operator").get("/api/v1/lots/H-1").json()["status"] == "available"
    assert edge.post("operator", "/work-orders/WO-1/issues",
                     {"lot": "H-1", "bin": "RECV", "quantity": "1"}).status_code == 201

    edge.post("warehouse", "/purchase-orders/PO-7/receipts",
              {"lot": "H-2", "item": "HOUSING", "quantity": "100", "bin": "RECV", "supplier_lot": "ACME-A2"})
    for i, ok in enumerate((True, False, True)):
        assert _sample(edge, f"J-{i}", "H-2", ok).status_code == 201
    assert edge.client("operator").get("/api/v1/lots/H-2").json()["status"] == "hold"

    pushed = run(_push(edge.store, sim.url, "node-a"))
    assert pushed.refused == 0
    [acme] = sim.call("GET", "/central/v1/supplier-quality", supplier="ACME")
    assert (acme["lots"], acme["accepted"], acme["rejected"], acme["acceptance_rate"]) == (2, 1, 1, 0.5)
    verdicts = {v["lot"]: v for v in acme["verdicts"]}
    assert (verdicts["H-1"]["verdict"], verdicts["H-1"]["supplier_lot"], verdicts["H-1"]["purchase_order"],
            verdicts["H-1"]["samples"]) == ("accepted", "ACME-A1", "PO-7", 3)
    assert (verdicts["H-2"]["verdict"], verdicts["H-2"]["failed"], verdicts["H-2"]["ncr"]) == ("rejected", 1,
                                                                                             "NCR-J-2")
    messages = {e["type"]: e["message"] for e in sim.call("GET", "/central/v1/nodes/node-a/events", limit=5000)}
    assert messages["SupplierLotVerdict"] == "SupplierLotVerdict"
    assert verify(edge.store).ok  # tasks, verdicts and lot statuses replay from the journal alone


def test_in_process_due_and_final_inspection_over_the_api(sim: RunningErpSim, edge: RunningNode) -> None:
    sim.call("PUT", "/central/v1/inspection-plans", {
        "plan": "IPC-PUMP", "description": "Bore", "item": "PUMP", "operation": 10, "kind": "in_process",
        "every_n_parts": 5, "every_minutes": 30, "flag_overdue": True, "overdue_grace_parts": "1",
        "characteristics": [{"characteristic": "bore", "kind": "numeric", "lsl": "9.9", "usl": "10.1"}]})
    sim.call("PUT", "/central/v1/inspection-plans", {
        "plan": "FINAL-PUMP", "description": "Final test", "item": "PUMP", "kind": "final", "sample_size": 1,
        "characteristics": [{"characteristic": "leak", "kind": "attribute"}]})
    release(sim, "WO-2", 10)
    assert run(_pull(edge.service, sim.url, "node-a")).refused == 0
    op = "/work-orders/WO-2/operations/10"
    assert edge.post("operator", f"{op}/start", {}).status_code == 201
    reader = edge.client("operator")
    [standing] = reader.get("/api/v1/inspections/due", params={"workstation": "ASSY"}).json()["in_process"]
    assert (standing["due"], standing["plan"], standing["every_n_parts"]) == (False, "IPC-PUMP", 5)
    later = (datetime.now(UTC) + timedelta(minutes=31)).isoformat()
    by_time = reader.get("/api/v1/inspections/due", params={"at": later}).json()["due"]
    assert [(d["work_order"], d["reason"]) for d in by_time] == [("WO-2", "time")]
    edge.post("operator", f"{op}/production", {"good": "5"})
    [by_count] = reader.get("/api/v1/inspections/due").json()["due"]
    assert (by_count["reason"], by_count["parts_since"]) == ("count", "5")
    edge.post("operator", f"{op}/production", {"good": "2"})  # 2 beyond the due count, grace 1: flagged
    flagged = [e for e in reader.get("/api/v1/journal", params={"limit": 1000}).json()["events"]
               if e["type"] == "InspectionOverdueFlagged"]
    assert len(flagged) == 1
    assert edge.post("quality", "/inspections", {
        "inspection": "Q-1", "plan": "IPC-PUMP", "work_order": "WO-2", "operation": 10,
        "measurements": [{"characteristic": "bore", "value": "10.0"}]}).status_code == 201
    assert reader.get("/api/v1/inspections/due").json()["due"] == []
    assert edge.service.state.inspection_intervals  # counting on: the replay must rebuild it
    assert verify(edge.store).ok

    refused = edge.post("operator", f"{op}/complete", {})
    assert refused.status_code == 409 and refused.json()["code"] == "FINAL_INSPECTION_MISSING"
    assert "WO-2" in refused.json()["message"]
    assert edge.post("quality", "/inspections", {
        "inspection": "F-1", "plan": "FINAL-PUMP", "work_order": "WO-2",
        "measurements": [{"characteristic": "leak", "passed": True}]}).status_code == 201
    assert edge.post("operator", f"{op}/complete", {}).status_code == 201
    assert reader.get("/api/v1/work-orders/WO-2").json()["status"] == "completed"
    assert run(_push(edge.store, sim.url, "node-a")).refused == 0
    assert verify(edge.store).ok  # the in-process counts and the final task replay from the journal alone


def test_a_closed_shift_sends_its_oee_to_the_erp(sim: RunningErpSim, edge: RunningNode) -> None:
    release(sim, "WO-3", 100)
    assert run(_pull(edge.service, sim.url, "node-a")).refused == 0
    edge.service.handle(c.DefineEquipment(idempotency_key="eq", actor="seed", actor_roles=frozenset({"admin"}),
                                          origin="erp", equipment="M-1", workstation="ASSY"))
    yesterday = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
    meta: dict[str, Any] = {"actor": "ana", "actor_roles": frozenset({"operator", "service"})}
    edge.service.handle(c.StartOperation(idempotency_key="s", work_order="WO-3", operation=10,
                                         occurred_at=yesterday + timedelta(hours=6), **meta))
    for key, state, hour in (("m1", "running", 6), ("m2", "down", 18)):
        edge.service.handle(c.SetMachineState(idempotency_key=key, equipment="M-1", state=state,  # type: ignore[arg-type]
                                              reason="jam" if state == "down" else None,
                                              since=yesterday + timedelta(hours=hour), **meta))
    edge.service.handle(c.ReportProduction(idempotency_key="p", work_order="WO-3", operation=10, good=D(90),
                                           scrap=D(10), scrap_reason="burr",
                                           occurred_at=yesterday + timedelta(hours=12), **meta))
    closing = edge.client("supervisor").post("/api/v1/oee/close")
    assert closing.status_code == 200, closing.text
    closed = [s for s in closing.json()["closed"] if s["workstation"] == "ASSY"]
    assert [s["day"] for s in closed] == [yesterday.date().isoformat()]
    assert edge.client("supervisor").post("/api/v1/oee/close").json()["closed"] == []  # closed once
    assert edge.client("operator").post("/api/v1/oee/close").status_code == 403

    assert run(_push(edge.store, sim.url, "node-a")).refused == 0
    [row] = sim.call("GET", "/central/v1/shift-oee", node="node-a", workstation="ASSY")
    expected = edge.client("operator").get("/api/v1/oee", params={
        "workstation": "ASSY", "from": yesterday.isoformat(), "to": (yesterday + timedelta(days=1)).isoformat(),
    }).json()["workstations"][0]["shifts"][0]
    assert row["day"] == yesterday.date().isoformat() and row["shift"] == expected["shift"]
    assert D(row["availability"]) == D(str(expected["availability"])).quantize(D("0.0001"))
    assert D(row["availability"]) == D("0.5")  # running 06:00-18:00 of 24 h
    assert D(row["quality"]) == D("0.9") and D(row["good"]) == 90
