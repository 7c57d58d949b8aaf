"""SSCC pallets against a real node and the central simulator over HTTP: a sales order from CRM (pulled), lots built
from a supplier lot packed onto a pallet with an SSCC from the site's sequence, its SSCC label, the pallet shipped
against the order (refused twice, refused with a lot on hold), the pallet and the order in the genealogy (forward,
recall, backward from the SSCC), and the shipment pushed to the central side, which books it per sales order line."""
from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from edge.labels import sscc
from edge.store.sync import SyncLedger
from erp_sync.client import CentralClient
from erp_sync.pull import Puller
from erp_sync.push import Pusher
from simulators.erp import RunningErpSim, running_erp_sim
from tests.integration.conftest import RunningNode, start_node
from tests.integration.test_trace import _build, _plant

TOKEN = "token-node-p-0000000"
PREFIX = "8712345"


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[RunningErpSim]:
    with running_erp_sim(f"sqlite:///{tmp_path}/central.sqlite", {TOKEN: "node-p"}) as running:
        running.call("PUT", "/central/v1/items", {"item": "PUMP", "description": "Pump", "family": "pumps"})
        running.call("PUT", "/central/v1/customers", {"customer": "C-9", "name": "Waterworks BV"})
        running.call("PUT", "/central/v1/sales-orders", {"sales_order": "SO-9", "customer": "C-9", "lines": [
            {"line": 1, "item": "PUMP", "quantity": "4"}]})
        yield running


@pytest.fixture
def edge(tmp_path: Path) -> Iterator[RunningNode]:
    running = start_node(f"sqlite:///{tmp_path}/edge.sqlite", "node-p")
    app: Any = running.server.config.app  # the site's settings, as warehouse: and labels: in a site file give them
    app.state.gs1_company_prefix, app.state.sscc_extension_digit = PREFIX, 1
    app.state.node.config = SimpleNamespace(labels=SimpleNamespace(printer_host=None, folder=tmp_path / "labels"))
    yield running
    running.stop()


def ok(r: Any) -> Any:
    assert r.status_code in (200, 201), r.text
    return r.json()


async def _sync(edge: RunningNode, url: str, *, pull: bool) -> Any:
    async with CentralClient(url, TOKEN, "node-p", timeout_s=5) as client:
        if pull:
            return await Puller(edge.service, client).pull()
        return await Pusher(edge.store, "node-p", client).push()


def test_a_pallet_is_packed_labelled_shipped_traced_and_booked_centrally(sim: RunningErpSim,
                                                                        edge: RunningNode) -> None:
    report = asyncio.run(_sync(edge, sim.url, pull=True))
    assert report.refused == 0, SyncLedger(edge.store).exceptions()
    _plant(edge)
    _build(edge)  # supplier lot SC-1 (ACME-77) -> MO-1 (WO-S) -> PU-1, 4 pumps in bin FG (WO-F)

    packed = ok(edge.post("warehouse", "/pallets", {"bin": "FG", "lines": [{"lot": "PU-1", "quantity": "3"}]}))
    [event] = packed["events"]
    assert event["type"] == "PalletPacked" and event["subject"].startswith("pallet:")
    code = event["subject"].removeprefix("pallet:")  # the answer names the pallet the node numbered
    assert code == sscc(1, PREFIX, 1)  # extension 1, the site's company prefix, serial 1, check digit
    ok(edge.post("warehouse", f"/pallets/{code}/lots", {"lot": "PU-1", "quantity": "1"}))
    refused = edge.post("warehouse", f"/pallets/{code}/lots", {"lot": "PU-1", "quantity": "1"})
    assert (refused.status_code, refused.json()["code"]) == (409, "INSUFFICIENT_STOCK")
    pallet = ok(edge.client("warehouse").get(f"/api/v1/pallets/{code}"))
    assert (pallet["status"], pallet["bin"], pallet["lines"]) == ("open", "FG", [
        {"lot": "PU-1", "item": "PUMP", "quantity": "4"}])

    label = ok(edge.post("warehouse", f"/pallets/{code}/label", {}))
    assert f"(00){code}" in label["zpl"] and label["printed_to"].endswith(f"sscc-{code}.zpl")
    assert Path(label["printed_to"]).read_text() == label["zpl"]

    shipped = ok(edge.post("warehouse", f"/pallets/{code}/ship", {"sales_order": "SO-9"}))
    assert [ev["type"] for ev in shipped["events"]] == ["StockMoved", "PalletShipped"]
    again = edge.post("warehouse", f"/pallets/{code}/ship", {"sales_order": "SO-9"})
    assert (again.status_code, again.json()["code"], again.json()["field"]) == (409, "PALLET_SHIPPED", "sscc")
    reader = edge.client("quality")
    assert reader.get("/api/v1/lots/PU-1").json()["stock"] == []
    order = ok(reader.get("/api/v1/sales-orders/SO-9"))
    assert ([(ln["line"], ln["quantity"], ln["shipped"]) for ln in order["lines"]], order["pallets"]) == (
        [(1, "4", "4")], [code])
    [ship] = [m for m in reader.get("/api/v1/lots/PU-1/moves").json()["moves"] if m["kind"] == "ship"]
    assert (ship["from_bin"], ship["to_bin"], ship["sales_order"], ship["sscc"], ship["actor"]) == (
        "FG", None, "SO-9", code, "warehouse1")

    # Genealogy: forward from the supplier lot reaches the pallet and the customer's order ...
    forward = ok(reader.get("/api/v1/trace/SC-1"))
    assert [(p["sscc"], p["status"], p["sales_order"], p["customer"]) for p in forward["pallets"]] == [
        (code, "shipped", "SO-9", "C-9")]
    assert forward["shipments"] == [{"sales_order": "SO-9", "customer": "C-9", "pallets": [code]}]
    assert forward["customer_orders"] == ["SO-9"]
    recall = ok(reader.get("/api/v1/recall/SC-1"))
    assert [p["sscc"] for p in recall["pallets"]] == [code] and recall["customer_orders"] == ["SO-9"]
    assert ok(reader.get("/api/v1/trace/SC-2"))["pallets"] == []  # the other supplier lot went nowhere
    # ... and backward from the SSCC down to the supplier lot.
    back = ok(reader.get(f"/api/v1/pallets/{code}/trace"))
    assert [(x["lot"], x["depth"]) for x in back["lots"]] == [("PU-1", 1), ("MO-1", 2), ("SC-1", 3)]
    assert [o["work_order"] for o in back["work_orders"]] == ["WO-F", "WO-S"]
    assert (back["supplier_lots"], back["sales_order"], back["customer"]) == (["ACME-77"], "SO-9", "C-9")
    assert reader.get("/api/v1/pallets/100000000000000000/trace").json()["code"] == "UNKNOWN_PALLET"
    url = edge.store.url
    cli = subprocess.run([sys.executable, "-m", "takt.cli", "trace", code, "--pallet", "--database-url", url],
                         capture_output=True, text=True, timeout=60)
    assert cli.returncode == 0, cli.stderr
    assert f"pallet {code} (shipped to C-9 on sales order SO-9)" in cli.stdout
    assert "supplier lots: ACME-77" in cli.stdout
    cli = subprocess.run([sys.executable, "-m", "takt.cli", "trace", "SC-1", "--recall", "--database-url", url],
                         capture_output=True, text=True, timeout=60)
    assert f"pallet {code} (shipped to C-9 on sales order SO-9): PU-1 4" in cli.stdout, cli.stdout

    # A pallet with a lot on hold does not ship.
    ok(edge.post("warehouse", "/lots", {"lot": "PU-9", "item": "PUMP", "quantity": "2", "bin": "FG"}))
    second = ok(edge.post("warehouse", "/pallets", {"bin": "FG", "lines": [{"lot": "PU-9", "quantity": "2"}]}))
    other = second["events"][0]["subject"].removeprefix("pallet:")
    assert other == sscc(1, PREFIX, 2)
    ok(edge.post("quality", "/lots/PU-9/hold", {"reason": "customer complaint"}))
    held = edge.post("warehouse", f"/pallets/{other}/ship", {"sales_order": "SO-9"})
    assert (held.status_code, held.json()["code"]) == (409, "LOT_ON_HOLD"), held.text
    assert "PU-9" in held.json()["message"] and other in held.json()["message"]

    # The central side (CRM) books the shipment per sales order line.
    asyncio.run(_sync(edge, sim.url, pull=False))
    # The work orders were released on the node, not by the ERP, so the ERP refuses their events (as it would);
    # nothing of the pallets or the shipment is refused.
    parked = SyncLedger(edge.store).exceptions()
    assert {x.code for x in parked} == {"UNKNOWN_ORDER"}
    assert not [x for x in parked if x.subject.startswith("pallet:") or x.subject == "lot:PU-1"]
    central = sim.call("GET", "/central/v1/sales-orders/SO-9/shipments")
    assert [(ln["line"], ln["quantity"], ln["shipped"]) for ln in central["lines"]] == [(1, "4", "4")]
    assert [(p["sscc"], p["node"], p["customer"], [(x["lot"], x["quantity"], x["line"]) for x in p["lots"]])
            for p in central["pallets"]] == [(code, "node-p", "C-9", [("PU-1", "4", 1)])]
    events = sim.call("GET", "/central/v1/nodes/node-p/events", after=0, limit=5000)
    rows = events["events"] if isinstance(events, dict) else events
    messages = {(r["type"], r["message"]) for r in rows if r["type"].startswith("Pallet")}
    assert messages == {("PalletPacked", "MaterialSubLot"), ("PalletLotAdded", "MaterialSubLot"),
                        ("PalletShipped", "MaterialActual")}


def test_a_bins_hard_putaway_rules_come_from_the_erp_and_hold_at_the_edge(sim: RunningErpSim,
                                                                          edge: RunningNode) -> None:
    sim.call("PUT", "/central/v1/bins", {"bin": "SHIP-1", "zone": "shipping", "lot_policy": "one_lot",
                                         "max_per_item": "40"})
    report = asyncio.run(_sync(edge, sim.url, pull=True))
    assert report.refused == 0, SyncLedger(edge.store).exceptions()
    [row] = [b for b in ok(edge.client("warehouse").get("/api/v1/bins"))["bins"] if b["bin"] == "SHIP-1"]
    assert (row["lot_policy"], row["max_per_item"]) == ("one_lot", "40")
    ok(edge.post("warehouse", "/lots", {"lot": "P-1", "item": "PUMP", "quantity": "30", "bin": "SHIP-1"}))
    second = edge.post("warehouse", "/lots", {"lot": "P-2", "item": "PUMP", "quantity": "1", "bin": "SHIP-1"})
    assert (second.status_code, second.json()["code"], second.json()["field"]) == (409, "BIN_ONE_LOT", "bin")
    assert "bin SHIP-1 holds one lot only (rule: lot policy one_lot) and holds lot P-1" in second.json()["message"]
