"""The HTTP API over the wire (uvicorn on a free port): the use cases, refusals, auth, idempotency."""
from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal

import httpx
import pytest

from edge.domain import commands as c
from edge.store.verify import verify
from tests.integration.conftest import TOKENS, RunningNode, start_node

TODAY = date.today()


def seed(node: RunningNode) -> None:
    """A small site: a pump made from screws, bins in three zones, two lots of screws (one expired)."""
    for body in (
        {"item": "PUMP-100", "description": "Pump", "unit": "pcs", "revision": "C"},
        {"item": "SCREW-M4", "description": "Screw M4", "unit": "pcs", "revision": "B"},
    ):
        assert node.post("service", "/items", body).status_code == 201
    bins: tuple[dict[str, object], ...] = (
        {"bin": "RCV-01", "zone": "receiving"},
        {"bin": "A-02-3", "zone": "storage", "capacity": "1000"},
        {"bin": "LINE-1", "zone": "line-side", "allowed_items": ["SCREW-M4"]},
    )
    for bin_body in bins:
        assert node.post("service", "/bins", bin_body).status_code == 201
    assert node.post("warehouse", "/lots", {"lot": "L118", "item": "SCREW-M4", "quantity": "500",
                                            "bin": "A-02-3", "expiry": str(TODAY + timedelta(days=90))}).status_code == 201
    # An expired lot can only exist because it was received before it expired.
    assert node.post("warehouse", "/lots", {"lot": "L123", "item": "SCREW-M4", "quantity": "50", "bin": "LINE-1",
                                            "expiry": str(TODAY - timedelta(days=30)),
                                            "occurred_at": f"{TODAY - timedelta(days=60)}T08:00:00Z"}).status_code == 201
    wo = {"work_order": "WO-1001", "item": "PUMP-100", "item_revision": "C", "bom_revision": "3", "quantity": "10",
          "operations": [{"operation": 10, "description": "Assemble", "workstation": "WS-ASSY"},
                         {"operation": 20, "description": "Test", "workstation": "WS-TEST"}],
          "bom": [{"line": 1, "item": "SCREW-M4", "item_revision": "B", "quantity_per": "4"}]}
    assert node.post("service", "/work-orders", wo).status_code == 201


def test_a_work_order_runs_from_release_to_completion(node: RunningNode) -> None:
    seed(node)
    r = node.post("warehouse", "/stock/moves", {"lot": "L118", "from_bin": "A-02-3", "to_bin": "LINE-1",
                                                "quantity": "40"})
    assert r.status_code == 201, r.text
    for path in ("/work-orders/WO-1001/operations/10/start", "/work-orders/WO-1001/operations/10/clock-on"):
        assert node.post("operator", path, {}).status_code == 201
    r = node.post("operator", "/work-orders/WO-1001/issues", {"lot": "L118", "bin": "LINE-1", "quantity": "40"})
    assert r.status_code == 201, r.text
    r = node.post("operator", "/work-orders/WO-1001/operations/10/production",
                  {"good": 10, "scrap": 1, "scrap_reason": "thread stripped"})
    assert r.status_code == 201, r.text
    r = node.post("operator", "/work-orders/WO-1001/operations/10/complete", {})
    assert [e["type"] for e in r.json()["events"]] == ["LabourClockedOff", "OperationCompleted"]
    assert node.post("operator", "/work-orders/WO-1001/operations/20/start", {}).status_code == 201
    assert node.post("operator", "/work-orders/WO-1001/operations/20/production", {"good": "10"}).status_code == 201
    r = node.post("operator", "/work-orders/WO-1001/operations/20/complete", {})
    assert r.json()["events"][-1]["type"] == "WorkOrderCompleted"

    order = node.client("operator").get("/api/v1/work-orders/WO-1001").json()
    assert order["status"] == "completed"
    assert (order["good"], order["scrap"]) == ("10", "1")
    assert order["bom"][0]["consumed"] == "40"
    lot = node.client("operator").get("/api/v1/lots/L118").json()
    assert lot["quantity"] == "460" and lot["stock"] == [{"bin": "A-02-3", "quantity": "460"}]
    # Every mutation is attributable: the journal names the user behind each event.
    events = node.client("admin").get("/api/v1/journal", params={"limit": 1000}).json()["events"]
    actors = {e["type"]: e["actor"] for e in events}
    assert actors["ProductionReported"] == "operator1" and actors["LotReceived"] == "warehouse1"
    assert verify(node.store).ok


def test_an_expired_lot_is_refused_with_the_fefo_lot_and_nothing_is_recorded(node: RunningNode) -> None:
    seed(node)
    before = node.journal_count()
    r = node.post("operator", "/work-orders/WO-1001/issues", {"lot": "L123", "bin": "LINE-1", "quantity": "4"})
    assert r.status_code == 409
    body = r.json()
    assert body["code"] == "LOT_EXPIRED" and body["field"] == "lot"
    assert body["message"] == (f"lot L123 expired on {TODAY - timedelta(days=30)}; FEFO pick is L118 in bin A-02-3")
    assert node.journal_count() == before
    assert node.client("operator").get("/api/v1/lots/L123").json()["quantity"] == "50"


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/stock/moves", {"lot": "L118", "from_bin": "A-02-3", "to_bin": "LINE-1", "quantity": "-5"}, "quantity"),
    ("/stock/moves", {"lot": "L118", "from_bin": "A-02-3", "to_bin": "LINE-1", "quantity": "0"}, "quantity"),
    ("/stock/moves", {"lot": "L118", "from_bin": "A-02-3", "to_bin": "LINE-1", "quantity": "1.0000001"}, "quantity"),
    ("/stock/moves", {"lot": "L118", "from_bin": "A-02-3", "quantity": "5"}, "to_bin"),
    ("/stock/moves", {"lot": "L118", "from_bin": "A-02-3", "to_bin": "LINE-1", "quantity": "five"}, "quantity"),
    ("/stock/moves", {"lot": "L118", "from_bin": "A-02-3", "to_bin": "LINE-1", "quantity": 5, "qty": 5}, "qty"),
    ("/lots", {"lot": "L9", "item": "SCREW-M4", "quantity": "1", "bin": "A-02-3", "expiry": "2026-13-40"}, "expiry"),
    ("/work-orders", {"work_order": "WO-9", "item": "PUMP-100", "item_revision": "C", "bom_revision": "3",
                      "quantity": "1", "operations": [{"operation": 10}]}, "operations[0].workstation"),
    ("/stock/scrap", {"lot": "L118", "bin": "A-02-3", "quantity": "1", "reason": ""}, "reason"),
])
def test_malformed_requests_get_422_naming_the_field_and_change_nothing(
        node: RunningNode, path: str, body: dict[str, object], field: str) -> None:
    seed(node)
    before = node.journal_count()
    r = node.post("admin", path, body)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "INVALID_REQUEST"
    assert r.json()["field"] == field
    assert r.json()["message"].startswith(f"{field}: ")
    assert node.journal_count() == before


def test_broken_json_and_oversized_bodies_are_refused(node: RunningNode) -> None:
    client = node.client("admin")
    r = client.post("/api/v1/stock/moves", content=b'{"lot": "L1", "quantity": ',
                    headers={"Idempotency-Key": "k-broken", "Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["code"] == "INVALID_REQUEST"
    big = {"bin": "X", "zone": "Z", "allowed_items": ["I" * 90] * 800}
    r = node.post("admin", "/bins", big)
    assert r.status_code == 413 and r.json()["code"] == "REQUEST_TOO_LARGE"
    assert node.journal_count() == 0


def test_domain_refusals_say_why_and_record_nothing(node: RunningNode) -> None:
    seed(node)
    before = node.journal_count()
    cases = [
        ("/stock/moves", {"lot": "L118", "from_bin": "A-02-3", "to_bin": "NOWHERE", "quantity": "1"},
         "UNKNOWN_BIN", "to_bin"),
        ("/stock/moves", {"lot": "L118", "from_bin": "A-02-3", "to_bin": "LINE-1", "quantity": "501"},
         "INSUFFICIENT_STOCK", "quantity"),
        ("/lots", {"lot": "L200", "item": "PUMP-100", "quantity": "1", "bin": "LINE-1"},
         "ITEM_NOT_ALLOWED_IN_BIN", "bin"),
        ("/lots", {"lot": "L201", "item": "SCREW-M4", "quantity": "501", "bin": "A-02-3"}, "BIN_FULL", "bin"),
        ("/work-orders/WO-1001/operations/10/production", {"good": "1"}, "OPERATION_NOT_RUNNING", "operation"),
    ]
    for path, body, code, field in cases:
        r = node.post("admin", path, body)
        assert r.status_code == 409, (path, r.text)
        assert (r.json()["code"], r.json()["field"]) == (code, field)
        assert r.json()["message"]
    assert node.journal_count() == before


def test_idempotency_key_replays_the_first_answer(node: RunningNode) -> None:
    seed(node)
    body = {"lot": "L118", "from_bin": "A-02-3", "to_bin": "LINE-1", "quantity": "5"}
    first = node.post("warehouse", "/stock/moves", body, key="move-42")
    again = node.post("warehouse", "/stock/moves", body, key="move-42")
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert again.json()["events"] == first.json()["events"] and again.json()["replayed"] is True
    stock = node.client("warehouse").get("/api/v1/lots/L118").json()["stock"]
    assert {"bin": "LINE-1", "quantity": "5"} in stock
    count = node.journal_count()
    other = node.post("warehouse", "/stock/moves", {**body, "quantity": "6"}, key="move-42")
    assert other.status_code == 422 and other.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    missing = node.client("warehouse").post("/api/v1/stock/moves", json=body)
    assert missing.status_code == 400 and missing.json()["field"] == "Idempotency-Key"
    assert node.journal_count() == count


def test_every_mutating_route_needs_a_token(node: RunningNode) -> None:
    spec = httpx.get(f"{node.url}/openapi.json").json()
    mutating = [(method, path) for path, ops in spec["paths"].items() for method in ops if method in ("post", "put")
                and path != "/api/v1/sessions"]  # the badge logon that gives a page its token
    assert len(mutating) >= 20
    for method, path in mutating:
        url = node.url + path
        for p in spec["paths"][path][method].get("parameters", []):  # a number where the route takes one (else 404)
            if p["in"] == "path":
                number = p["schema"].get("type") == "integer"
                url = url.replace("{" + p["name"] + "}", "10" if number else p["name"])
        r = httpx.request(method, url, json={}, headers={"Idempotency-Key": "x"})
        assert r.status_code == 401, (method, path, r.status_code)
        r = httpx.request(method, url, json={}, headers={"Idempotency-Key": "x", "Authorization": "Bearer wrong-token"})
        assert r.status_code == 401, (method, path)


@pytest.mark.parametrize(("role", "path", "body"), [
    ("operator", "/items", {"item": "X", "unit": "pcs", "revision": "A"}),
    ("warehouse", "/work-orders/WO-1001/operations/10/start", {}),
    ("operator", "/lots", {"lot": "L9", "item": "SCREW-M4", "quantity": "1", "bin": "A-02-3"}),
    ("supervisor", "/lots/L118/release", {"reason": "checked"}),
    ("operator", "/nonconformances/NCR-1/disposition", {"disposition": "scrap"}),
])
def test_roles_are_checked_on_every_mutation(node: RunningNode, role: str, path: str, body: dict[str, object]) -> None:
    seed(node)
    before = node.journal_count()
    r = node.post(role, path, body)
    assert r.status_code == 403 and r.json()["code"] == "FORBIDDEN"
    assert node.journal_count() == before


def test_quality_releases_a_held_lot_others_cannot(node: RunningNode) -> None:
    seed(node)
    assert node.post("operator", "/lots/L118/hold", {"reason": "burrs seen"}).status_code == 201
    r = node.post("operator", "/work-orders/WO-1001/issues", {"lot": "L118", "bin": "A-02-3", "quantity": "4"})
    assert r.json()["code"] == "LOT_ON_HOLD"
    assert node.post("quality", "/lots/L118/release", {"reason": "burrs within spec"}).status_code == 201
    assert node.client("quality").get("/api/v1/lots/L118").json()["status"] == "available"


def test_two_clients_racing_for_the_last_units_exactly_one_wins(node: RunningNode) -> None:
    seed(node)
    for round_ in range(10):
        lot = f"RACE-{round_}"
        assert node.post("warehouse", "/lots", {"lot": lot, "item": "SCREW-M4", "quantity": "3", "bin": "RCV-01"}
                         ).status_code == 201
        results: list[httpx.Response] = []
        barrier = threading.Barrier(2)

        def take(who: str, lot: str = lot, barrier: threading.Barrier = barrier,
                 results: list[httpx.Response] = results) -> None:
            with httpx.Client(base_url=node.url, headers={"Authorization": f"Bearer {TOKENS[who]}"}) as c:
                barrier.wait()
                results.append(c.post("/api/v1/stock/scrap", json={"lot": lot, "bin": "RCV-01", "quantity": "3",
                                                                   "reason": "damaged"},
                                      headers={"Idempotency-Key": f"{who}-{lot}"}))

        threads = [threading.Thread(target=take, args=(w,)) for w in ("warehouse", "quality")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = sorted(r.status_code for r in results)
        assert codes == [201, 409]
        loser = next(r for r in results if r.status_code == 409).json()
        assert loser["code"] == "INSUFFICIENT_STOCK"
        lot_state = node.client("admin").get(f"/api/v1/lots/{lot}").json()
        assert lot_state["quantity"] == "0" and lot_state["stock"] == [] and lot_state["status"] == "consumed"


def test_health_metrics_and_docs(node: RunningNode) -> None:
    seed(node)
    health = httpx.get(f"{node.url}/health", headers={"Authorization": f"Bearer {TOKENS['operator']}"})
    assert health.status_code == 200
    body = health.json()
    assert body["status"] == "ok" and body["store"]["status"] == "ok"
    assert body["store"]["last_seq"] == node.journal_count()
    assert body["components"]["writer"]["status"] == "running"
    metrics = httpx.get(f"{node.url}/metrics").text
    assert 'takt_commands_total{command="ReceiveLot",outcome="recorded"} 2.0' in metrics
    assert "takt_journal_last_seq" in metrics
    assert httpx.get(f"{node.url}/docs").status_code == 200


def test_health_reports_a_stopped_writer(node: RunningNode) -> None:
    node.service.stop()
    r = httpx.get(f"{node.url}/health", headers={"Authorization": f"Bearer {TOKENS['operator']}"})
    assert r.status_code == 503 and r.json()["components"]["writer"]["status"] == "stopped"
    refused = node.post("admin", "/items", {"item": "X", "unit": "pcs", "revision": "A"})
    assert refused.status_code == 503 and refused.json()["code"] == "STORE_UNAVAILABLE"


def test_the_api_works_on_postgresql(postgres_url: str) -> None:
    running = start_node(postgres_url, node_id="pg-node")
    try:
        seed(running)
        r = running.post("warehouse", "/stock/moves", {"lot": "L118", "from_bin": "A-02-3", "to_bin": "LINE-1",
                                                       "quantity": "12.5"})
        assert r.status_code == 201, r.text
        again = running.post("warehouse", "/stock/moves", {"lot": "L118", "from_bin": "A-02-3", "to_bin": "LINE-1",
                                                           "quantity": "12.5"}, key=r.json()["idempotency_key"])
        assert again.headers["Idempotent-Replayed"] == "true"
        stock = running.client("admin").get("/api/v1/stock", params={"item": "SCREW-M4"}).json()["stock"]
        assert {(s["lot"], s["bin"], s["quantity"]) for s in stock} == {
            ("L118", "A-02-3", "487.5"), ("L118", "LINE-1", "12.5"), ("L123", "LINE-1", "50")}
        assert verify(running.store).ok
    finally:
        running.stop()


def test_a_supervisor_assigns_or_writes_off_parts_a_machine_counted_without_an_operation(node: RunningNode) -> None:
    seed(node)
    assert node.post("service", "/equipment", {"equipment": "M-ASSY", "workstation": "WS-ASSY"}).status_code == 201
    # The signal mapping records these when the PLC counts parts and nothing runs on WS-ASSY (tested over the
    # wire in test_signal_mapping); here the service records them directly.
    node.service.handle(c.RecordUnassignedProduction(
        idempotency_key="plc:M-ASSY:good:1", actor="plc:PLC1", actor_roles=frozenset({"service"}),
        equipment="M-ASSY", good=Decimal(7), scrap=Decimal(1), note="no operation in progress on the workstation"))
    listed = node.client("operator").get("/api/v1/unassigned-production").json()["unassigned"]
    assert [(u["equipment"], u["good"], u["scrap"]) for u in listed] == [("M-ASSY", "7", "1")]

    path = "/equipment/M-ASSY/unassigned-production"
    r = node.post("operator", f"{path}/assign", {"work_order": "WO-1001", "operation": 10, "good": "5"})
    assert r.status_code == 403
    r = node.post("supervisor", f"{path}/assign", {"work_order": "WO-1001", "operation": 10, "good": "5"})
    assert r.status_code == 409 and r.json()["code"] == "OPERATION_NOT_RUNNING"  # never started: start it first
    r = node.post("supervisor", f"{path}/assign", {"work_order": "WO-1001", "operation": 20, "good": "5"})
    assert r.status_code == 409 and r.json()["code"] == "WRONG_WORKSTATION"
    assert node.post("operator", "/work-orders/WO-1001/operations/10/start", {}).status_code == 201
    r = node.post("supervisor", f"{path}/assign", {"work_order": "WO-1001", "operation": 10, "good": "8"})
    assert r.status_code == 409 and r.json()["field"] == "good"
    r = node.post("supervisor", f"{path}/assign", {"work_order": "WO-1001", "operation": 10, "good": "7"})
    assert r.status_code == 201, r.text
    assert [e["type"] for e in r.json()["events"]] == ["UnassignedProductionAssigned", "ProductionReported"]
    r = node.post("supervisor", f"{path}/write-off", {"scrap": "1"})
    assert r.status_code == 422 and "reason" in r.text
    r = node.post("supervisor", f"{path}/write-off", {"scrap": "1", "reason": "start-up scrap"})
    assert r.status_code == 201, r.text
    assert node.client("operator").get("/api/v1/unassigned-production").json()["unassigned"] == []
    order = node.client("operator").get("/api/v1/work-orders/WO-1001").json()
    assert order["operations"][0]["good"] == "7"
    assert verify(node.store).ok
