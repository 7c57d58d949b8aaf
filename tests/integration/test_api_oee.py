"""OEE by shift over the HTTP API: machine states, production reports and standard minutes recorded through the
write path, read back per shift with the losses by reason; bad periods are refused naming the field."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.conftest import RunningNode

BASE = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=2)


def at(hours: float) -> str:
    return (BASE + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


def seed(node: RunningNode) -> None:
    assert node.post("service", "/items", {"item": "PUMP", "description": "Pump", "unit": "pcs",
                                           "revision": "A"}).status_code == 201
    assert node.post("service", "/equipment", {"equipment": "M1", "workstation": "WS-ASSY"}).status_code == 201
    wo = {"work_order": "WO-1", "item": "PUMP", "item_revision": "A", "bom_revision": "1", "quantity": "500",
          "operations": [{"operation": 10, "description": "Assemble", "workstation": "WS-ASSY",
                          "standard_minutes": "6"}]}
    assert node.post("service", "/work-orders", wo).status_code == 201
    for state, reason, hours in (("running", None, 0), ("down", "jam", 6), ("running", None, 7),
                                 ("idle", "no order", 23), ("running", None, 24)):
        r = node.client("service").put("/api/v1/equipment/M1/state", json={"state": state, "reason": reason,
                                                                           "since": at(hours)},
                                       headers={"Idempotency-Key": f"state-{hours}"})
        assert r.status_code == 201, r.text
    assert node.post("operator", "/work-orders/WO-1/operations/10/start", {"occurred_at": at(1)}).status_code == 201
    for hours, good, scrap in ((12, "100", "4"), (30, "10", "0")):
        r = node.post("operator", "/work-orders/WO-1/operations/10/production",
                      {"good": good, "scrap": scrap, "scrap_reason": "leak" if scrap != "0" else None,
                       "occurred_at": at(hours)})
        assert r.status_code == 201, r.text


def test_oee_per_shift_with_the_losses_by_reason(node: RunningNode) -> None:
    seed(node)
    r = node.client("supervisor").get("/api/v1/oee", params={"workstation": "WS-ASSY", "from": at(0), "to": at(48)})
    assert r.status_code == 200, r.text
    body = r.json()
    [ws] = body["workstations"]
    first, second = ws["shifts"]  # no shift calendar in this site: one 24-hour shift a day (UTC)
    assert (first["shift"], first["start"], first["planned_minutes"], first["run_minutes"]) == (
        "day", BASE.isoformat(), 1440.0, 1320.0)
    assert (first["good"], first["scrap"], first["ideal_minutes"]) == ("100", "4", 624.0)
    assert first["availability"] == pytest.approx(1320 / 1440, abs=1e-4)
    assert first["performance"] == pytest.approx(624 / 1320, abs=1e-4)
    assert first["quality"] == pytest.approx(100 / 104, abs=1e-4)
    assert first["oee"] == pytest.approx(1320 / 1440 * 624 / 1320 * 100 / 104, abs=1e-4)
    assert first["losses"] == [{"state": "down", "reason": "jam", "minutes": 60.0},
                               {"state": "idle", "reason": "no order", "minutes": 60.0}]
    assert (second["run_minutes"], second["good"], second["losses"]) == (1440.0, "10", [])
    assert ws["loss_tree"] == {"down": {"jam": 60.0}, "idle": {"no order": 60.0}}


def test_bad_periods_and_unknown_workstations_are_refused(node: RunningNode) -> None:
    seed(node)
    client = node.client("supervisor")
    for params, status, field in (({"from": at(5), "to": at(1)}, 422, "from"),
                                  ({"from": "2026-11-01T00:00:00", "to": at(1)}, 422, "from"),
                                  ({"from": at(0), "to": at(24 * 200)}, 422, "from"),
                                  ({"workstation": "WS-NONE"}, 404, "workstation")):
        r = client.get("/api/v1/oee", params=params)
        assert (r.status_code, r.json()["field"]) == (status, field), r.text
    assert client.get("/api/v1/oee").status_code == 200
