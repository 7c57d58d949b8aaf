"""Kitting over the HTTP API: a work order's pick list (FEFO, walk order, never held or expired lots), picks to the
staging bin, short picks with their reason, and the refusals."""
from __future__ import annotations

from datetime import date, timedelta

from tests.integration.conftest import RunningNode

TODAY = date.today()


def seed(node: RunningNode) -> None:
    """Screws in two storage bins (walk 20 and 10), one expired lot, one held lot; WO-7 needs 40 screws."""
    for body in ({"item": "PUMP-100", "description": "Pump", "unit": "pcs", "revision": "C"},
                 {"item": "SCREW-M4", "description": "Screw M4", "unit": "pcs", "revision": "B"}):
        assert node.post("service", "/items", body).status_code == 201
    for bin_body in ({"bin": "A-01", "zone": "storage", "walk_sequence": 20},
                     {"bin": "A-02", "zone": "storage", "walk_sequence": 10},
                     {"bin": "LINE-1", "zone": "line-side"}):
        assert node.post("service", "/bins", bin_body).status_code == 201, bin_body
    lots = (("L-SOON", "A-01", 25, 30), ("L-LATER", "A-02", 100, 200), ("L-HELD", "A-02", 50, 10))
    for lot, bin_code, quantity, days in lots:
        assert node.post("warehouse", "/lots", {"lot": lot, "item": "SCREW-M4", "quantity": str(quantity),
                                                "bin": bin_code,
                                                "expiry": str(TODAY + timedelta(days=days))}).status_code == 201
    assert node.post("warehouse", "/lots", {"lot": "L-OLD", "item": "SCREW-M4", "quantity": "80", "bin": "A-02",
                                            "expiry": str(TODAY - timedelta(days=3)),
                                            "occurred_at": f"{TODAY - timedelta(days=60)}T08:00:00Z"}).status_code == 201
    assert node.post("quality", "/lots/L-HELD/hold", {"reason": "suspect thread"}).status_code == 201
    wo = {"work_order": "WO-7", "item": "PUMP-100", "item_revision": "C", "bom_revision": "3", "quantity": "10",
          "operations": [{"operation": 10, "description": "Assemble", "workstation": "WS-ASSY"}],
          "bom": [{"line": 1, "item": "SCREW-M4", "item_revision": "B", "quantity_per": "4"}]}
    assert node.post("service", "/work-orders", wo).status_code == 201


def pick_list(node: RunningNode, **params: str) -> dict[str, object]:
    r = node.client("warehouse").get("/api/v1/work-orders/WO-7/pick-list", params={"staging_bin": "LINE-1", **params})
    assert r.status_code == 200, r.text
    body: dict[str, object] = r.json()
    return body


def test_the_pick_list_is_fefo_in_walk_order_and_picks_are_recorded(node: RunningNode) -> None:
    seed(node)
    listed = pick_list(node)
    assert listed["picks"] == [
        {"bom_line": 1, "item": "SCREW-M4", "item_revision": "B", "lot": "L-LATER", "bin": "A-02", "walk_sequence": 10,
         "quantity": "15", "expiry": str(TODAY + timedelta(days=200))},
        {"bom_line": 1, "item": "SCREW-M4", "item_revision": "B", "lot": "L-SOON", "bin": "A-01", "walk_sequence": 20,
         "quantity": "25", "expiry": str(TODAY + timedelta(days=30))}]
    assert listed["lines"] == [{"bom_line": 1, "item": "SCREW-M4", "item_revision": "B", "needed": "40",
                                "staged": "0", "to_pick": "40", "short": "0"}]

    r = node.post("warehouse", "/work-orders/WO-7/picks", {"lot": "L-SOON", "from_bin": "A-01", "to_bin": "LINE-1",
                                                           "quantity": "25", "asked": "25"})
    assert r.status_code == 201, r.text
    assert [ev["type"] for ev in r.json()["events"]] == ["StockMoved"]
    r = node.post("warehouse", "/work-orders/WO-7/picks", {"lot": "L-LATER", "from_bin": "A-02", "to_bin": "LINE-1",
                                                           "quantity": "9", "asked": "15",
                                                           "short_reason": "6 crushed"})
    assert r.status_code == 201, r.text
    assert [ev["type"] for ev in r.json()["events"]] == ["StockMoved", "ShortPickRecorded"]

    listed = pick_list(node)
    assert listed["lines"][0]["staged"] == "34"  # type: ignore[index]
    assert [(p["lot"], p["quantity"]) for p in listed["picks"]] == [("L-LATER", "6")]  # type: ignore[attr-defined]
    shorts = listed["short_picks"]
    assert [(s["lot"], s["bin"], s["asked"], s["picked"], s["reason"], s["actor"]) for s in shorts] == [  # type: ignore[attr-defined]
        ("L-LATER", "A-02", "15", "9", "6 crushed", "warehouse1")]
    moves = node.client("warehouse").get("/api/v1/lots/L-SOON/moves").json()["moves"]
    assert (moves[-1]["kind"], moves[-1]["from_bin"], moves[-1]["to_bin"], moves[-1]["work_order"],
            moves[-1]["actor"]) == ("pick", "A-01", "LINE-1", "WO-7", "warehouse1")


def test_picks_are_refused_with_the_reason_and_record_nothing(node: RunningNode) -> None:
    seed(node)
    before = node.journal_count()
    cases = (
        ({"lot": "L-HELD", "from_bin": "A-02", "quantity": "5", "asked": "5"}, 409, "LOT_ON_HOLD", "lot"),
        ({"lot": "L-OLD", "from_bin": "A-02", "quantity": "5", "asked": "5"}, 409, "LOT_EXPIRED", "lot"),
        ({"lot": "L-SOON", "from_bin": "A-01", "quantity": "5", "asked": "9"}, 422, "MISSING_REASON", "short_reason"),
        ({"lot": "L-SOON", "from_bin": "A-01", "quantity": "-1", "asked": "9"}, 422, "INVALID_REQUEST", "quantity"),
        ({"lot": "L-SOON", "from_bin": "A-01", "quantity": "5"}, 422, "INVALID_REQUEST", "asked"),
    )
    for body, status, code, field in cases:
        r = node.post("warehouse", "/work-orders/WO-7/picks", {"to_bin": "LINE-1", **body})
        assert (r.status_code, r.json()["code"], r.json()["field"]) == (status, code, field), r.text
    assert "FEFO pick is L-SOON in bin A-01" in node.post(
        "warehouse", "/work-orders/WO-7/picks", {"lot": "L-OLD", "from_bin": "A-02", "to_bin": "LINE-1",
                                                 "quantity": "5", "asked": "5"}).json()["message"]
    assert node.journal_count() == before


def test_the_pick_list_needs_a_staging_bin_and_a_known_order(node: RunningNode) -> None:
    seed(node)
    client = node.client("warehouse")
    r = client.get("/api/v1/work-orders/WO-7/pick-list")
    assert (r.status_code, r.json()["code"], r.json()["field"]) == (422, "STAGING_BIN_REQUIRED", "staging_bin")
    r = client.get("/api/v1/work-orders/WO-404/pick-list", params={"staging_bin": "LINE-1"})
    assert (r.status_code, r.json()["code"]) == (404, "UNKNOWN_WORK_ORDER")
    r = client.get("/api/v1/work-orders/WO-7/pick-list", params={"staging_bin": "NOWHERE"})
    assert (r.status_code, r.json()["code"], r.json()["field"]) == (422, "UNKNOWN_BIN", "staging_bin")
