"""SPC over the API against a real node: the chart of a characteristic (limits from its baseline, the rules each
point breaks, Cp/Cpk, X-bar R by subgroups), and the alert and nonconformance the write path records."""
from __future__ import annotations

from typing import Any

from edge.store import schema
from tests.integration.conftest import RunningNode

PLAN = {"plan": "IP-SHAFT", "description": "Shaft diameter", "hold_on_fail": False, "spc_nonconformance": True,
        "characteristics": [{"characteristic": "shaft", "kind": "numeric", "nominal": "20", "lsl": "19.9",
                             "usl": "20.1", "unit": "mm"},
                            {"characteristic": "burr", "kind": "attribute"}]}


def inspect(node: RunningNode, i: int, value: str) -> Any:
    return node.post("quality", "/inspections", {"inspection": f"S{i}", "plan": "IP-SHAFT", "measurements": [
        {"characteristic": "shaft", "value": value}, {"characteristic": "burr", "passed": True}]})


def test_a_characteristics_chart_its_alerts_and_its_capability(node: RunningNode) -> None:
    assert node.post("service", "/inspection-plans", PLAN).status_code == 201
    for i in range(50):  # baseline and a stable process: 19.99 / 20.01
        assert inspect(node, i, "20.01" if i % 2 else "19.99").status_code == 201
    reader = node.client("operator")
    early = reader.get("/api/v1/spc/IP-SHAFT/shaft").json()
    # baseline: the first 25 (13 x 19.99, 12 x 20.01), moving range 0.02: sigma = 0.02 / 1.128
    assert early["limits"]["center"] == 19.9996 and early["limits"]["ucl"] == 20.052791
    assert early["capability"] == {"cp": 1.88, "cpk": 1.872}  # Cpk from the nearer specification limit
    assert not any(p["violations"] for p in early["points"])
    # the process jumps: 20.07 is within specification (the part passes) but beyond the control limit
    answer = inspect(node, 50, "20.07")
    assert answer.status_code == 201
    types = [e["type"] for e in answer.json()["events"]]
    assert types == ["InspectionRecorded", "SpcRuleViolated", "NonconformanceRaised"]
    chart = reader.get("/api/v1/spc/IP-SHAFT/shaft").json()
    last = chart["points"][-1]
    assert (last["inspection"], last["value"]) == ("S50", 20.07)
    assert last["violations"] == [{"rule": 1, "side": "above", "message": "a point above the 3-sigma limit"}]
    ncr = reader.get("/api/v1/nonconformances").json()["nonconformances"][0]
    assert ncr["ncr"] == "NCR-S50" and "SPC rule 1" in ncr["description"]
    # X-bar R by subgroups of five
    xbar = reader.get("/api/v1/spc/IP-SHAFT/shaft?subgroup=5").json()
    assert xbar["chart"] == "xbar_r" and xbar["baseline"] == {"needed": 125, "have": 51}
    assert xbar["limits"] is None  # 25 subgroups of five are needed for its limits
    # what has no chart
    assert reader.get("/api/v1/spc/IP-SHAFT/burr").status_code == 422
    missing = reader.get("/api/v1/spc/IP-SHAFT/nope")
    assert missing.status_code == 404 and missing.json()["code"] == "UNKNOWN_CHARACTERISTIC"


def test_a_restarted_node_judges_the_next_result_the_same(node: RunningNode) -> None:
    """The SPC series is rebuilt from the inspection results when the writer reloads its state."""
    assert node.post("service", "/inspection-plans", {**PLAN, "spc_nonconformance": False}).status_code == 201
    for i in range(25):
        inspect(node, i, "20.01" if i % 2 else "19.99")
    from datetime import UTC, datetime
    from decimal import Decimal

    from edge.domain import commands as c
    from edge.domain import decide

    reloaded = node.store.load_state()  # as at a restart: the state comes back from the store
    key = ("IP-SHAFT", "shaft")
    assert reloaded.spc[key].limits == node.service.state.spc[key].limits
    assert list(reloaded.spc[key].recent) == list(node.service.state.spc[key].recent)
    command = c.RecordInspection(idempotency_key="k", actor="priya", actor_roles=frozenset({"quality"}),
                                 inspection="S99", plan="IP-SHAFT", measurements=(
                                     c.Measurement(characteristic="shaft", value=Decimal("19.92")),
                                     c.Measurement(characteristic="burr", passed=True)))
    assert [type(ev).__name__ for ev in decide(reloaded, command, datetime.now(UTC))] == [
        "InspectionRecorded", "SpcRuleViolated"]
    answer = inspect(node, 99, "19.92")  # and the running node says the same
    assert [e["type"] for e in answer.json()["events"]] == ["InspectionRecorded", "SpcRuleViolated"]
    with node.store.engine.connect() as conn:
        count = conn.execute(schema.journal.select().where(schema.journal.c.type == "SpcRuleViolated")).all()
    assert len(count) == 1
