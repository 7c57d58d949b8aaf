"""Warehouse over the HTTP API: putaway rules (ranked suggestion, hard bin rules refused, override reason on the
move), and kitting two orders into one shared staging bin."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from edge.domain.putaway import PutawayRule
from tests.integration.conftest import RunningNode

TODAY = date.today()


def ok(r: Any) -> Any:
    assert r.status_code in (200, 201), r.text
    return r.json()


def seed_storage(node: RunningNode) -> None:
    for item in ("HOUSING", "FROZEN-PEAS", "SEAL"):
        ok(node.post("service", "/items", {"item": item, "description": item.title(), "unit": "pcs",
                                           "revision": "A"}))
    for body in ({"bin": "REC", "zone": "receiving"},
                 {"bin": "B-DED", "zone": "storage", "capacity": "100", "allowed_items": ["HOUSING"]},
                 {"bin": "B-FREE", "zone": "storage", "capacity": "500"},
                 {"bin": "B-ONELOT", "zone": "storage", "lot_policy": "one_lot"},
                 {"bin": "B-MAX", "zone": "storage", "max_per_item": "40"},
                 {"bin": "C-1", "zone": "cold", "capacity": "50"}):
        ok(node.post("service", "/bins", body))
    app: Any = node.server.config.app  # the site's rules, as a configuration's warehouse.putaway_rules gives them
    app.state.putaway_rules = (PutawayRule(item="FROZEN-*", zones=("cold",)),)
    for lot, item, quantity, where in (("H-1", "HOUSING", 30, "REC"), ("F-1", "FROZEN-PEAS", 20, "REC"),
                                       ("S-0", "SEAL", 5, "B-ONELOT"), ("S-1", "SEAL", 60, "REC")):
        ok(node.post("warehouse", "/lots", {"lot": lot, "item": item, "quantity": str(quantity), "bin": where,
                                            "expiry": str(TODAY + timedelta(days=90))}))


def test_the_putaway_suggestion_is_ranked_with_its_reason(node: RunningNode) -> None:
    seed_storage(node)
    wh = node.client("warehouse")
    found = ok(wh.get("/api/v1/putaway/suggest", params={"lot": "H-1", "from_bin": "REC"}))
    assert (found["item"], found["quantity"], found["zones"]) == ("HOUSING", "30", ["storage"])
    assert [(s["rank"], s["bin"], s["why"], s["free"]) for s in found["suggestions"]] == [
        (1, "B-DED", "dedicated", "70"), (2, "B-FREE", "empty", "470"), (3, "B-MAX", "empty", None)]
    assert found["suggestions"][0]["reason"].startswith("dedicated to HOUSING; zone storage")
    frozen = ok(wh.get("/api/v1/putaway/suggest", params={"item": "FROZEN-PEAS", "qty": "20"}))
    assert [s["bin"] for s in frozen["suggestions"]] == ["C-1"] and frozen["rule"] == "putaway rule 1 (FROZEN-*)"
    assert ok(wh.get("/api/v1/putaway/suggest", params={"item": "FROZEN-PEAS", "qty": "51"}))["suggestions"] == []
    for params, status, code in (({"lot": "NOPE"}, 404, "UNKNOWN_LOT"), ({}, 422, "MISSING_VALUE"),
                                 ({"item": "SEAL"}, 422, "MISSING_VALUE"),
                                 ({"lot": "H-1", "item": "SEAL"}, 422, "WRONG_ITEM")):
        r = wh.get("/api/v1/putaway/suggest", params=params)
        assert (r.status_code, r.json()["code"]) == (status, code), params


def test_a_putaway_elsewhere_needs_an_override_reason_and_hard_rules_are_refused(node: RunningNode) -> None:
    seed_storage(node)
    before = node.journal_count()
    r = node.post("warehouse", "/stock/moves", {"lot": "H-1", "from_bin": "REC", "to_bin": "B-FREE",
                                                "quantity": "30", "putaway": True})
    assert r.status_code == 409 and r.json()["code"] == "PUTAWAY_OVERRIDE_REASON_REQUIRED", r.text
    assert r.json()["field"] == "override_reason" and "suggested bin B-DED" in r.json()["message"]
    for to_bin, quantity, code in (("B-ONELOT", "10", "BIN_ONE_LOT"), ("B-MAX", "41", "BIN_ITEM_MAX")):
        r = node.post("warehouse", "/stock/moves", {"lot": "S-1", "from_bin": "REC", "to_bin": to_bin,
                                                    "quantity": quantity, "putaway": True,
                                                    "override_reason": "told to"})
        assert (r.status_code, r.json()["code"], r.json()["field"]) == (409, code, "to_bin"), r.text
        assert f"bin {to_bin}" in r.json()["message"] and "(rule: " in r.json()["message"]
    assert node.journal_count() == before  # refused: nothing recorded
    ok(node.post("warehouse", "/stock/moves", {"lot": "H-1", "from_bin": "REC", "to_bin": "B-FREE", "quantity": "30",
                                               "putaway": True, "reason": "receipt 4711",
                                               "override_reason": "B-DED is blocked by a pallet"}))
    [move] = [m for m in ok(node.client("warehouse").get("/api/v1/lots/H-1/moves"))["moves"] if m["kind"] == "putaway"]
    assert (move["actor"], move["from_bin"], move["to_bin"], move["reason"], move["suggested_bin"],
            move["override_reason"]) == ("warehouse1", "REC", "B-FREE", "receipt 4711", "B-DED",
                                         "B-DED is blocked by a pallet")
    assert move["at"]


def test_two_orders_kitted_into_one_staging_bin_each_count_only_their_own_stock(node: RunningNode) -> None:
    for body in ({"item": "PUMP", "description": "Pump", "unit": "pcs", "revision": "C"},
                 {"item": "SCREW", "description": "Screw", "unit": "pcs", "revision": "B"}):
        ok(node.post("service", "/items", body))
    for body in ({"bin": "A-01", "zone": "storage"}, {"bin": "LINE-1", "zone": "line-side"}):
        ok(node.post("service", "/bins", body))
    ok(node.post("warehouse", "/lots", {"lot": "S-1", "item": "SCREW", "quantity": "100", "bin": "A-01"}))
    for wo in ("WO-1", "WO-2"):
        ok(node.post("service", "/work-orders", {
            "work_order": wo, "item": "PUMP", "item_revision": "C", "bom_revision": "1", "quantity": "10",
            "operations": [{"operation": 10, "description": "Assemble", "workstation": "WS"}],
            "bom": [{"line": 1, "item": "SCREW", "item_revision": "B", "quantity_per": "4"}]}))
    ok(node.post("warehouse", "/work-orders/WO-1/picks", {"lot": "S-1", "from_bin": "A-01", "to_bin": "LINE-1",
                                                          "quantity": "40", "asked": "40"}))

    def line(wo: str) -> dict[str, Any]:
        listed = ok(node.client("warehouse").get(f"/api/v1/work-orders/{wo}/pick-list",
                                                 params={"staging_bin": "LINE-1"}))
        return {"staged": listed["lines"][0]["staged"], "to_pick": listed["lines"][0]["to_pick"],
                "picks": [(p["bin"], p["quantity"]) for p in listed["picks"]], "complete": listed["complete"]}

    assert line("WO-1") == {"staged": "40", "to_pick": "0", "picks": [], "complete": True}
    # Before the fix WO-2 also counted WO-1's 40 in LINE-1 as staged and asked for nothing.
    assert line("WO-2") == {"staged": "0", "to_pick": "40", "picks": [("A-01", "40")], "complete": False}
