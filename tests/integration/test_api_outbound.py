"""Outbound over the HTTP API with sales orders pulled from the central simulator: a wave released (lots FEFO within
the customer's shelf life, reserved), picked with every scan checked, a pick corrected at packing and the mis-pick
report, a partial shipment on an SSCC pallet with its delivery note; a consumption at the line raising a
replenishment task that the handheld's route closes."""
from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from edge.store.sync import SyncLedger
from erp_sync.client import CentralClient
from erp_sync.pull import Puller
from erp_sync.push import Pusher
from simulators.erp import RunningErpSim, running_erp_sim
from tests.integration.conftest import RunningNode, start_node

TOKEN = "token-node-o-0000000"
TODAY = date.today()


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[RunningErpSim]:
    with running_erp_sim(f"sqlite:///{tmp_path}/central.sqlite", {TOKEN: "node-o"}) as running:
        for item in ("JAM", "LID"):
            running.call("PUT", "/central/v1/items", {"item": item, "description": item.title(), "family": "food"})
        running.call("PUT", "/central/v1/customers", {"customer": "FRESH", "name": "Fresh Foods"})
        running.call("PUT", "/central/v1/sales-orders", {"sales_order": "SO-1", "customer": "FRESH", "lines": [
            {"line": 1, "item": "JAM", "quantity": "30"}]})
        running.call("PUT", "/central/v1/sales-orders", {"sales_order": "SO-2", "customer": "FRESH", "lines": [
            {"line": 1, "item": "JAM", "quantity": "5"}], "allow_substitution": True})
        yield running


@pytest.fixture
def edge(tmp_path: Path) -> Iterator[RunningNode]:
    running = start_node(f"sqlite:///{tmp_path}/edge.sqlite", "node-o")
    app: Any = running.server.config.app  # the site's warehouse settings, as a site file gives them
    app.state.gs1_company_prefix, app.state.sscc_extension_digit = "8712345", 1
    app.state.min_shelf_life_pct, app.state.shelf_life_days = (("FRESH", 60),), (("JAM", 100),)
    yield running
    running.stop()


def ok(r: Any) -> Any:
    assert r.status_code in (200, 201), r.text
    return r.json()


def refused(r: Any, code: str, field: str) -> str:
    assert (r.status_code, r.json()["code"], r.json()["field"]) == (409, code, field), r.text
    return str(r.json()["message"])


def seed(edge: RunningNode, sim: RunningErpSim) -> None:
    async def pull() -> Any:
        async with CentralClient(sim.url, TOKEN, "node-o", timeout_s=5) as client:
            return await Puller(edge.service, client).pull()
    for body in ({"item": "JAM", "description": "Jam", "unit": "pcs", "revision": "A"},
                 {"item": "LID", "description": "Lid", "unit": "pcs", "revision": "A"}):
        ok(edge.post("service", "/items", body))
    for b in ({"bin": "A-01", "zone": "dry", "walk_sequence": 20}, {"bin": "A-02", "zone": "dry", "walk_sequence": 10},
              {"bin": "PACK", "zone": "ship"}, {"bin": "LINE-1", "zone": "line"}):
        ok(edge.post("service", "/bins", b))
    assert asyncio.run(pull()).refused == 0
    for lot, item, quantity, bin_code, days in (("J-SHORT", "JAM", 40, "A-02", 20), ("J-LONG", "JAM", 60, "A-01", 90),
                                                ("L-1", "LID", 200, "A-02", None)):
        ok(edge.post("warehouse", "/lots", {"lot": lot, "item": item, "quantity": str(quantity), "bin": bin_code,
                                            **({"expiry": str(TODAY + timedelta(days=days))} if days else {})}))


def test_a_wave_is_picked_scan_by_scan_corrected_and_shipped_in_part(edge: RunningNode, sim: RunningErpSim,
                                                                     tmp_path: Path) -> None:
    seed(edge, sim)
    released = ok(edge.post("warehouse", "/waves", {"to_bin": "PACK", "lines": [
        {"sales_order": "SO-1", "line": 1}, {"sales_order": "SO-2", "line": 1}]}))
    assert [ev["type"] for ev in released["events"]] == ["WaveReleased"]
    wave = ok(edge.client("warehouse").get("/api/v1/waves/W00001"))
    # FRESH needs 60 % of JAM's 100 days: J-SHORT (20 days) is never planned; one walk, both orders
    assert [(p["bin"], p["lot"], p["quantity"], p["sales_order"]) for p in wave["picks"]] == [
        ("A-01", "J-LONG", "30", "SO-1"), ("A-01", "J-LONG", "5", "SO-2")]
    assert wave["next_pick"] == 1
    before = edge.journal_count()
    message = refused(edge.post("warehouse", "/waves/W00001/picks/1", {"bin": "A-01", "lot": "J-SHORT",
                                                                        "quantity": "30", "tote": "T-1"}),
                      "SHELF_LIFE_TOO_SHORT", "lot")
    assert "lot J-LONG in bin A-01 fits" in message
    refused(edge.post("warehouse", "/waves/W00001/picks/1", {"bin": "A-02", "lot": "J-LONG", "quantity": "30",
                                                              "tote": "T-1"}), "WRONG_BIN", "bin")
    assert edge.journal_count() == before
    ok(edge.post("warehouse", "/waves/W00001/picks/1", {"bin": "A-01", "lot": "J-LONG", "quantity": "30",
                                                         "tote": "T-1"}, ))
    refused(edge.post("warehouse", "/waves/W00001/picks/2", {"bin": "A-01", "lot": "J-LONG", "quantity": "5",
                                                              "tote": "T-1"}), "TOTE_IN_USE", "tote")
    r = edge.client("warehouse").post("/api/v1/waves/W00001/picks/2", headers={
        "Idempotency-Key": "hh-2", "X-Takt-Device": "HH-07"}, json={"bin": "A-01", "lot": "J-LONG", "quantity": "5",
                                                                    "tote": "T-2"})
    assert r.status_code == 201, r.text
    assert ok(edge.client("warehouse").get("/api/v1/waves/W00001"))["status"] == "picked"
    moves = ok(edge.client("warehouse").get("/api/v1/lots/J-LONG/moves"))["moves"]
    assert [(m["kind"], m["to_bin"], m["sales_order"], m["actor"], m["device"]) for m in moves if m["kind"] == "pick"] == [
        ("pick", "PACK", "SO-1", "warehouse1", None), ("pick", "PACK", "SO-2", "warehouse1", "HH-07")]

    # found at packing: SO-2 should have had another lot; the report names the picker and the device
    ok(edge.post("quality", "/waves/W00001/picks/2/correction", {"right_lot": "J-SHORT", "found_at": "packing"}))
    report = ok(edge.client("supervisor").get("/api/v1/reports/mis-picks", params={"by": "picked_by"}))
    assert report["groups"] == [{"key": "warehouse1", "mis_picks": 1, "picks": 2}]
    [fix] = report["corrections"]
    assert (fix["wave"], fix["pick"], fix["wrong_lot"], fix["right_lot"], fix["device"], fix["zone"]) == (
        "W00001", 2, "J-LONG", "J-SHORT", "HH-07", "dry")
    assert ok(edge.client("supervisor").get("/api/v1/reports/mis-picks", params={"by": "item"}))["groups"][0][
        "key"] == "JAM"

    # SO-1: 20 of its 30 packed and shipped; the rest stays open
    packed = ok(edge.post("warehouse", "/pallets", {"bin": "PACK", "kind": "parcel", "gross_weight": "12.5",
                                                    "lines": [{"lot": "J-LONG", "quantity": "20"}]}))
    sscc = packed["events"][0]["subject"].removeprefix("pallet:")
    parcel = ok(edge.client("warehouse").get(f"/api/v1/pallets/{sscc}"))
    assert (parcel["kind"], parcel["gross_weight"]) == ("parcel", "12.5")
    app: Any = edge.server.config.app
    app.state.node.config = SimpleNamespace(labels=SimpleNamespace(printer_host=None, folder=tmp_path / "labels"))
    label = ok(edge.post("warehouse", f"/pallets/{sscc}/label", {}))
    assert f"(00){sscc}(3301)000125" in label["zpl"]  # the SSCC and the gross weight, 12.5 kg
    ok(edge.post("warehouse", f"/pallets/{sscc}/ship", {"sales_order": "SO-1"}))
    order = ok(edge.client("warehouse").get("/api/v1/sales-orders/SO-1"))
    assert [(ln["quantity"], ln["shipped"]) for ln in order["lines"]] == [("30", "20")]
    note = edge.client("warehouse").get("/api/v1/sales-orders/SO-1/delivery-note.pdf")
    assert note.status_code == 200 and note.content.startswith(b"%PDF")
    assert note.headers["content-type"] == "application/pdf"

    # the central side (CRM) learns the partial shipment and every pick and correction
    async def push() -> Any:
        async with CentralClient(sim.url, TOKEN, "node-o", timeout_s=5) as client:
            return await Pusher(edge.store, "node-o", client).push()
    asyncio.run(push())
    assert SyncLedger(edge.store).exceptions(open_only=True) == []
    central = sim.call("GET", "/central/v1/sales-orders/SO-1/shipments")
    assert [(ln["line"], ln["quantity"], ln["shipped"]) for ln in central["lines"]] == [(1, "30", "20")]
    events = sim.call("GET", "/central/v1/nodes/node-o/events", after=0, limit=5000)
    rows = events["events"] if isinstance(events, dict) else events
    assert {(r["type"], r["message"]) for r in rows if r["type"] in ("WaveReleased", "WavePicked", "PickCorrected")} == {
        ("WaveReleased", "WorkSchedule"), ("WavePicked", "WorkResponse"), ("PickCorrected", "WorkAlert")}
    same_after_a_restart(edge)


def test_waves_by_priority_and_by_carrier_cut_off_come_from_the_erps_orders(edge: RunningNode,
                                                                            sim: RunningErpSim) -> None:
    cutoff = f"{TODAY + timedelta(days=1)}T12:00:00Z"
    sim.call("PUT", "/central/v1/sales-orders", {"sales_order": "SO-3", "customer": "FRESH", "priority": 1,
                                                 "carrier": "UPS", "cutoff": cutoff, "lines": [
                                                     {"line": 1, "item": "LID", "quantity": "5"}]})
    seed(edge, sim)
    released = ok(edge.post("warehouse", "/waves", {"to_bin": "PACK", "group_by": "priority"}))
    assert [ev["type"] for ev in released["events"]] == ["WaveReleased", "WaveReleased"]
    waves = ok(edge.client("warehouse").get("/api/v1/waves"))["waves"]
    assert sorted((w["wave"], w["group"]) for w in waves) == [("W00001", "priority 1"), ("W00002", "priority -")]
    assert [p["sales_order"] for p in ok(edge.client("warehouse").get("/api/v1/waves/W00001"))["picks"]] == ["SO-3"]
    r = edge.client("warehouse").post("/api/v1/waves", headers={"Idempotency-Key": "w-bad"},
                                      json={"to_bin": "PACK", "group_by": "carrier"})
    assert r.status_code == 422 and r.json()["field"].endswith("group_by"), r.text


def test_a_consumption_at_the_line_raises_a_task_the_handheld_closes(edge: RunningNode, sim: RunningErpSim) -> None:
    seed(edge, sim)
    ok(edge.post("service", "/line-side-bins/LINE-1", {"item": "LID", "minimum": "10", "maximum": "50",
                                                        "pack": "20", "source_zone": "dry"}, method="PUT"))
    ok(edge.post("warehouse", "/stock/moves", {"lot": "L-1", "from_bin": "A-02", "to_bin": "LINE-1",
                                                "quantity": "15"}))
    wo = {"work_order": "WO-1", "item": "JAM", "item_revision": "A", "bom_revision": "1", "quantity": "10",
          "operations": [{"operation": 10, "description": "Close", "workstation": "WS-1"}],
          "bom": [{"line": 1, "item": "LID", "item_revision": "A", "quantity_per": "1"}]}
    ok(edge.post("service", "/work-orders", wo))
    issued = ok(edge.post("operator", "/work-orders/WO-1/issues", {"lot": "L-1", "bin": "LINE-1", "quantity": "8"}))
    assert [ev["type"] for ev in issued["events"]] == ["StockMoved", "ReplenishmentRaised"]
    bins = ok(edge.client("operator").get("/api/v1/line-side-bins", params={"below_min": "true"}))["bins"]
    assert [(b["bin"], b["item"], b["level"], b["coming"]) for b in bins] == [("LINE-1", "LID", "7", "60")]
    [task] = ok(edge.client("warehouse").get("/api/v1/replenishment-tasks"))["tasks"]
    assert (task["quantity"], task["lot"], task["from_bin"], task["priority"]) == ("60", "L-1", "A-02", 2)
    wrong = edge.post("warehouse", f"/replenishment-tasks/{task['task']}/done", {"lot": "J-LONG", "from_bin": "A-01",
                                                                                 "quantity": "60"})
    refused(wrong, "WRONG_ITEM", "lot")
    ok(edge.post("warehouse", f"/replenishment-tasks/{task['task']}/done", {"lot": "L-1", "from_bin": "A-02",
                                                                             "quantity": "60"}))
    assert ok(edge.client("operator").get("/api/v1/line-side-bins", params={"below_min": "true"}))["bins"] == []
    assert ok(edge.client("warehouse").get("/api/v1/replenishment-tasks"))["tasks"] == []
    # the site's warehouse.replenish_ahead_on_release: a release raises its BOM's replenishment ahead of need with it
    # (67 lids there; WO-2 needs 100 and 10 stay: 43 short, 3 packs of 20)
    app: Any = edge.server.config.app
    app.state.replenish_ahead_on_release = True
    released = ok(edge.post("service", "/work-orders", {**wo, "work_order": "WO-2", "quantity": "100"}))
    assert [ev["type"] for ev in released["events"]][-1] == "ReplenishmentRaised"
    [ahead] = ok(edge.client("warehouse").get("/api/v1/replenishment-tasks"))["tasks"]
    assert (ahead["quantity"], ahead["lot"], ahead["priority"]) == ("60", "L-1", 3)
    same_after_a_restart(edge)


def same_after_a_restart(edge: RunningNode) -> None:
    """The outbound tables the store holds load back into the state the writer keeps (reservations included)."""
    loaded, live = edge.store.load_state(), edge.service.state
    for table in ("waves", "wave_picks", "line_side_bins", "replenishment_tasks", "pallets", "sales_orders",
                  "reserved"):
        assert getattr(loaded, table) == getattr(live, table), table


def test_a_work_order_pulled_from_the_erp_raises_its_replenishment_ahead_where_the_site_asks(
        edge: RunningNode, sim: RunningErpSim) -> None:
    seed(edge, sim)
    ok(edge.post("service", "/line-side-bins/LINE-1", {"item": "LID", "minimum": "10", "maximum": "50",
                                                        "pack": "20", "source_zone": "dry"}, method="PUT"))
    sim.call("PUT", "/central/v1/workstations", {"workstation": "WS-1", "node": "node-o", "labour_rate": "60",
                                                 "machine_rate": "120", "equipment": []})
    sim.call("PUT", "/central/v1/routings", {"item": "JAM", "operations": [
        {"operation": 10, "description": "Close", "workstation": "WS-1", "standard_minutes": "1"}]})
    sim.call("POST", "/central/v1/boms", {"item": "JAM", "bom_revision": "A", "lines": [
        {"line": 1, "item": "LID", "quantity_per": "1"}]})
    sim.call("POST", "/central/v1/work-orders", {"work_order": "WO-9", "item": "JAM", "quantity": "30"})

    async def pull() -> Any:  # the sync daemon's puller with the site's warehouse.replenish_ahead_on_release
        async with CentralClient(sim.url, TOKEN, "node-o", timeout_s=5) as client:
            return await Puller(edge.service, client, replenish_ahead=True).pull()
    assert asyncio.run(pull()).refused == 0
    # LINE-1 is empty: WO-9 needs 30 and 10 stay, 2 packs of 20, raised with the release
    [task] = ok(edge.client("warehouse").get("/api/v1/replenishment-tasks"))["tasks"]
    assert (task["quantity"], task["lot"], task["priority"]) == ("40", "L-1", 3)
