"""Every number is bounded where it enters (issue 15): the reproducers of a security review over HTTP, a store that
already holds an unbounded record, and a property test that no request built from extreme numbers gets a 5xx."""
from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from edge.store import schema, sqlite_url
from tests.integration.conftest import RunningNode, start_node

HUGE_INT = 9223372036854775808  # one beyond SQLite's and PostgreSQL's BIGINT


def _line(node: RunningNode, plan_usl: str = "10.05") -> None:
    """A workstation with an order on its dispatch list and a numeric inspection plan on the order's item."""
    assert node.post("service", "/items", {"item": "SHAFT", "unit": "pcs", "revision": "A"}).status_code == 201
    wo = {"work_order": "WO-1", "item": "SHAFT", "item_revision": "A", "bom_revision": "1", "quantity": "10",
          "operations": [{"operation": 10, "description": "Turn", "workstation": "WS-1"}]}
    assert node.post("service", "/work-orders", wo).status_code == 201
    r = node.post("service", "/workstations/WS-1/dispatch-list",
                  {"sequence": [{"work_order": "WO-1", "operation": 10}]}, method="PUT")
    assert r.status_code == 201, r.text
    plan = {"plan": "IP-1", "item": "SHAFT", "characteristics": [
        {"characteristic": "diameter", "kind": "numeric", "nominal": "10", "lsl": "9.95", "usl": plan_usl}]}
    assert node.post("quality", "/inspection-plans", plan).status_code == 201


def test_an_unbounded_limit_or_measurement_is_refused_naming_the_field(node: RunningNode) -> None:
    _line(node)
    before = node.journal_count()
    plan = {"plan": "IP-2", "characteristics": [{"characteristic": "d", "kind": "numeric", "usl": "1E+1000000"}]}
    r = node.post("quality", "/inspection-plans", plan)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "characteristics[0].usl"
    assert "18 digits" in r.json()["message"]
    r = node.post("quality", "/inspections", {"inspection": "I-1", "plan": "IP-1", "work_order": "WO-1",
                                              "measurements": [{"characteristic": "diameter", "value": "-1E+999999"}]})
    assert r.status_code == 422 and r.json()["field"] == "measurements[0].value"
    for value in ("NaN", "Infinity", "-Infinity"):
        r = node.post("quality", "/inspections", {"inspection": "I-1", "plan": "IP-1", "work_order": "WO-1",
                                                  "measurements": [{"characteristic": "diameter", "value": value}]})
        assert r.status_code == 422 and r.json()["field"] == "measurements[0].value", (value, r.text)
    assert node.journal_count() == before
    assert node.client("operator").get("/api/v1/pages/line").status_code == 200


def test_a_store_that_already_holds_an_unbounded_record_still_shows_its_pages(node: RunningNode) -> None:
    """A limit of 1E+1000000 and a measurement of -1E+999999 recorded before numbers were bounded: the terminal,
    the line view and the chart answer, the numbers written out in scientific notation."""
    _line(node)
    r = node.post("operator", "/inspections", {"inspection": "I-1", "plan": "IP-1", "work_order": "WO-1",
                                               "operation": 10,
                                               "measurements": [{"characteristic": "diameter", "value": "10.01"}]})
    assert r.status_code == 201, r.text
    chars, results = schema.ENTITY_TABLES["characteristics"].table, schema.inspection_results
    with node.store.engine.begin() as conn:  # as an older node would have stored them
        conn.execute(update(chars).where(chars.c.plan == "IP-1").values(usl="1E+1000000", nominal="1E-1000000"))
        conn.execute(update(results).where(results.c.inspection == "I-1").values(
            results=[{"characteristic": "diameter", "value": "-1E+999999", "passed": True}]))
    reader = node.client("operator")
    line = reader.get("/api/v1/pages/line")
    assert line.status_code == 200, line.text
    assert line.json()["workstations"][0]["current"]["work_order"] == "WO-1"
    terminal = reader.get("/api/v1/pages/workstations/WS-1")
    assert terminal.status_code == 200, terminal.text
    shown = terminal.json()["inspections"][0]["characteristics"][0]
    assert (shown["usl"], shown["nominal"]) == ("1E+1000000", "1E-1000000")
    assert shown["recent"][0]["value"] == "-1E+999999"
    chart = reader.get("/api/v1/spc/IP-1/diameter")
    assert chart.status_code == 200, chart.text
    assert chart.json()["usl"] is None and chart.json()["points"] == []


def test_integers_beyond_the_store_are_refused_in_queries_paths_and_bodies(node: RunningNode) -> None:
    _line(node)
    admin = node.client("admin")
    r = admin.get("/api/v1/journal", params={"after": HUGE_INT})
    assert r.status_code == 422 and r.json()["field"] == "after", r.text
    assert admin.get("/api/v1/journal", params={"after": HUGE_INT - 1}).json()["events"] == []
    for action, body in (("retry", {}), ("set-aside", {"reason": "test"})):
        r = admin.post(f"/api/v1/sync/exceptions/{HUGE_INT}/{action}", json=body)
        assert r.status_code == 422 and r.json()["field"] == "exception_id", r.text
        assert admin.post(f"/api/v1/sync/exceptions/7/{action}", json=body).status_code == 404
    before = node.journal_count()
    r = node.post("operator", f"/work-orders/WO-1/operations/{HUGE_INT}/start", {})
    assert r.status_code == 422 and r.json()["field"] == "operation", r.text
    r = node.post("service", "/workstations/WS-1/dispatch-list",
                  {"sequence": [{"work_order": "WO-1", "operation": HUGE_INT}]}, method="PUT")
    assert r.status_code == 422 and r.json()["field"] == "sequence[0].operation", r.text
    r = node.post("supervisor", "/equipment/M-1/unassigned-production/assign",
                  {"work_order": "WO-1", "operation": HUGE_INT, "good": "1"})
    assert r.status_code == 422 and r.json()["field"] == "operation", r.text
    r = node.post("operator", "/inspections", {"inspection": "I-9", "plan": "IP-1", "work_order": "WO-1",
                                               "operation": HUGE_INT,
                                               "measurements": [{"characteristic": "diameter", "value": "10"}]})
    assert r.status_code == 422 and r.json()["field"] == "operation", r.text
    assert node.journal_count() == before
    assert node.post("operator", "/work-orders/WO-1/operations/10/start", {}).status_code == 201
    spec = admin.get("/openapi.json").json()
    started = spec["paths"]["/api/v1/work-orders/{work_order}/operations/{operation}/start"]["post"]
    assert next(p for p in started["parameters"] if p["name"] == "operation")["schema"]["maximum"] == 99999


def test_a_flag_or_text_where_a_whole_number_belongs_is_refused_naming_the_field(node: RunningNode) -> None:
    # Python counts a bool as an int: without a strict type `false` was stored as walk sequence 0 (schemathesis found it)
    before = node.journal_count()
    for value in (False, True, "5", 5.5):
        r = node.post("service", "/bins", {"bin": "B-W", "zone": "z", "walk_sequence": value})
        assert r.status_code == 422 and r.json()["field"] == "walk_sequence", (value, r.text)
        r = node.post("quality", "/inspection-plans", {"plan": "IP-W", "item": "SHAFT", "operation": 10,
                                                     "characteristics": [{"characteristic": "d", "kind": "numeric",
                                                                          "nominal": 10, "lsl": 9, "usl": 11}],
                                                     "sample_size": value})
        assert r.status_code == 422 and r.json()["field"] == "sample_size", (value, r.text)
    assert node.journal_count() == before
    assert node.post("service", "/bins", {"bin": "B-W", "zone": "z", "walk_sequence": 5.0}).status_code == 201  # JSON
    assert node.journal_count() == before + 1                                   # Schema counts 5.0 as an integer


# --- property: extreme numbers never make the API answer 5xx -----------------------------------------------------

EXTREMES: tuple[Any, ...] = (
    "1E+1000000", "-1E+999999", "1E-1000000", "0E+999999", "NaN", "-Infinity", "Infinity", "sNaN",
    HUGE_INT, -HUGE_INT - 1, 2**200, -(2**200), 1e308, -1e308, 1.5e-320, 0, -1, "99999999999999999999.9999999",
    "123456789012.123456", "0.0000001", "-0", "1e3", 2**31, 2**63 - 1,
)
number = st.one_of(st.sampled_from(EXTREMES), st.integers(min_value=-(2**70), max_value=2**70),
                   st.decimals(allow_nan=True, allow_infinity=True).map(str))

# A body of each command route with a number in every numeric field (the property puts extreme ones there).
TEMPLATES: tuple[tuple[str, str, str, dict[str, Any], tuple[str, ...]], ...] = (
    ("quality", "POST", "/inspection-plans", {"plan": "IP-X", "item": "SHAFT", "operation": 10, "characteristics": [
        {"characteristic": "d", "kind": "numeric", "nominal": 10, "lsl": 9, "usl": 11}], "sample_size": 2,
        "accept_number": 1, "overdue_grace_parts": 1, "plausible_bands": 10},
     ("operation", "characteristics.0.nominal", "characteristics.0.lsl", "characteristics.0.usl", "sample_size",
      "accept_number", "overdue_grace_parts", "plausible_bands")),
    ("operator", "POST", "/inspections", {"inspection": "I", "plan": "IP-1", "work_order": "WO-1", "operation": 10,
                                          "measurements": [{"characteristic": "diameter", "value": 10}]},
     ("operation", "measurements.0.value")),
    ("operator", "POST", "/work-orders/WO-1/operations/{n}/production", {"good": 1, "scrap": 0},
     ("good", "scrap", "{n}")),
    ("service", "POST", "/work-orders", {"work_order": "WO-X", "item": "SHAFT", "item_revision": "A",
                                         "bom_revision": "1", "quantity": 1, "overproduction_tolerance_pct": 0,
                                         "operations": [{"operation": 10, "workstation": "WS-1",
                                                         "standard_minutes": 1}],
                                         "bom": [{"line": 1, "item": "SHAFT", "item_revision": "A",
                                                  "quantity_per": 1}]},
     ("quantity", "overproduction_tolerance_pct", "operations.0.operation", "operations.0.standard_minutes",
      "bom.0.line", "bom.0.quantity_per")),
    ("service", "PUT", "/workstations/WS-1/dispatch-list", {"sequence": [{"work_order": "WO-1", "operation": 10}]},
     ("sequence.0.operation",)),
    ("service", "POST", "/bins", {"bin": "B-X", "zone": "z", "capacity": 1, "walk_sequence": 1, "max_per_item": 1},
     ("capacity", "walk_sequence", "max_per_item")),
    ("warehouse", "POST", "/lots", {"lot": "L-X", "item": "SHAFT", "quantity": 1, "bin": "B-1"}, ("quantity",)),
    ("warehouse", "POST", "/stock/adjustments", {"lot": "L-1", "bin": "B-1", "counted": 1, "reason": "count"},
     ("counted",)),
    ("warehouse", "POST", "/purchase-orders/PO-1/receipts", {"line": 1, "lot": "L-Y", "item": "SHAFT", "quantity": 1,
                                                            "bin": "B-1"}, ("line", "quantity")),
    ("warehouse", "POST", "/work-orders/WO-1/picks", {"lot": "L-1", "from_bin": "B-1", "to_bin": "B-1",
                                                      "quantity": 1, "asked": 1}, ("quantity", "asked")),
    ("supervisor", "POST", "/equipment/M-1/unassigned-production/assign", {"work_order": "WO-1", "operation": 10,
                                                                          "good": 1, "scrap": 0},
     ("operation", "good", "scrap")),
)


def _put(body: Any, path: list[str], value: Any) -> None:
    for part in path[:-1]:
        body = body[int(part)] if isinstance(body, list) else body[part]
    body[int(path[-1]) if isinstance(body, list) else path[-1]] = value


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    running = start_node(sqlite_url(Path(tmp_path_factory.mktemp("bounds"))))
    _line(running)
    assert running.post("service", "/bins", {"bin": "B-1", "zone": "storage"}).status_code == 201
    assert running.post("warehouse", "/lots", {"lot": "L-1", "item": "SHAFT", "quantity": 5,
                                               "bin": "B-1"}).status_code == 201
    yield running
    running.stop()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(template=st.sampled_from(TEMPLATES), data=st.data())
def test_no_request_built_from_extreme_numbers_gets_a_server_error(
        seeded: RunningNode, template: tuple[str, str, str, dict[str, Any], tuple[str, ...]], data: Any) -> None:
    role, method, path, body, numeric = template
    body = json.loads(json.dumps(body))
    for name in data.draw(st.lists(st.sampled_from(numeric), min_size=1, max_size=3, unique=True)):
        value = data.draw(number)
        if name == "{n}":
            path = path.replace("{n}", str(value if isinstance(value, int) else 10))
        else:
            _put(body, name.split("."), value)
    path = path.replace("{n}", "10")
    headers = {"Idempotency-Key": secrets.token_hex(8)}
    r = seeded.client(role).request(method, f"/api/v1{path}", content=json.dumps(body), headers={
        **headers, "Content-Type": "application/json"})
    assert r.status_code < 500, (path, body, r.status_code, r.text)
    if r.status_code == 422:
        assert r.json()["field"], r.text
    for read in ("/api/v1/pages/line", "/api/v1/pages/workstations/WS-1", "/api/v1/spc/IP-1/diameter"):
        assert seeded.client("operator").get(read).status_code == 200, read


def test_an_implausible_reading_is_refused_naming_the_value_and_a_plan_may_widen_the_range(node: RunningNode) -> None:
    _line(node)  # diameter 9.95..10.05: a band of 0.1, plausible 8.95..11.05
    before = node.journal_count()
    r = node.post("operator", "/inspections", {"inspection": "I-1", "plan": "IP-1", "work_order": "WO-1",
                                               "measurements": [{"characteristic": "diameter", "value": "100.1"}]})
    assert r.status_code == 422, r.text
    assert (r.json()["code"], r.json()["field"]) == ("IMPLAUSIBLE_VALUE", "measurements[0].value")
    assert node.journal_count() == before
    plan = {"plan": "IP-1", "item": "SHAFT", "plausible_bands": "1000", "characteristics": [
        {"characteristic": "diameter", "kind": "numeric", "nominal": "10", "lsl": "9.95", "usl": "10.05"}]}
    assert node.post("quality", "/inspection-plans", plan).status_code == 201
    r = node.post("operator", "/inspections", {"inspection": "I-1", "plan": "IP-1", "work_order": "WO-1",
                                               "measurements": [{"characteristic": "diameter", "value": "100.1"}]})
    assert r.status_code == 201, r.text
    r = node.post("quality", "/inspection-plans", {**plan, "plausible_bands": "0"})
    assert r.status_code == 422 and r.json()["field"] == "plausible_bands"
