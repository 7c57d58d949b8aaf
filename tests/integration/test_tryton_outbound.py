"""Outbound against a live Tryton (trytond 8.2 started by the test run): a sale pulled from Tryton released in a
wave at the edge, picked to the packing bin (internal shipments), shipped in part on a pallet (a done customer
shipment with the picked lots; the sale keeps the rest to ship), and a line-side bin refilled by replenishment
tasks (internal shipments): Tryton's stock by location stays the edge's stock by bin."""
from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from edge.domain import commands as c
from edge.domain import events as e
from edge.store.sync import SyncLedger
from simulators.tryton import add_lot, place_sale, put_stock
from tests.integration.conftest import RunningNode
from tests.integration.test_tryton import (  # noqa: F401 - the fixtures tryton and edge
    Tryton,
    _pull,
    _push,
    customer_shipments,
    edge,
    edge_stock,
    run,
    tryton,
    tryton_stock,
)

pytestmark = pytest.mark.slow
WH: dict[str, Any] = {"actor": "wh-1", "actor_roles": frozenset({"warehouse"}), "source_device": "HH-1"}
_keys = iter(range(1, 1_000_000))


def handle(node: RunningNode, command: type[c.Command], **fields: Any) -> Any:
    return node.service.handle(command(idempotency_key=f"ob:{next(_keys)}", **WH, **fields))


def test_a_wave_picked_and_shipped_in_part_reaches_tryton_with_its_lots(
        tryton: Tryton, edge: RunningNode) -> None:  # noqa: F811 - the fixtures imported above
    t = tryton
    t.store = edge.store
    sale, number = place_sale(t.s, t.plant, D(5))
    assert run(_pull(edge.service, t.central())).refused == 0, SyncLedger(edge.store).exceptions(open_only=True)
    [sale_line] = t.s.model("sale.sale", "read", [sale], ["lines"])[0]["lines"]
    tag = f"OB{next(_keys)}"
    lots = {f"{tag}-1": ("A1", D(4)), f"{tag}-2": ("A1", D(6)), f"{tag}-3": ("A2", D(3))}
    for lot, (bin_code, quantity) in lots.items():
        add_lot(t.s, t.plant, lot, "PUMP")
        put_stock(t.s, t.plant, lot, "PUMP", bin_code, quantity)
        edge_stock(edge.service, lot, "PUMP", bin_code, quantity)
    first, second, third = lots
    state = edge.service.state
    [line] = [ln.line for (so, _), ln in state.sales_order_lines.items() if so == number]

    handle(edge, c.ReleaseWaves, to_bin="B1", lines=(c.OrderLineRef(sales_order=number, line=line),))
    [wave] = [w for w in state.waves.values() if w.status == "open"]
    picks = sorted((wp for (w, _), wp in state.wave_picks.items() if w == wave.wave), key=lambda wp: wp.pick)
    assert [(wp.lot, wp.bin, wp.quantity) for wp in picks] == [(first, "A1", D(4)), (second, "A1", D(1))]
    for wp in picks:
        handle(edge, c.PickWaveLine, wave=wave.wave, pick=wp.pick, bin=wp.bin, lot=wp.lot, quantity=wp.quantity,
               tote="T-1")
    # 3 of the 5 ordered packed and shipped: the rest stays open
    handle(edge, c.PackPallet, bin="B1", lines=(c.PalletLineSpec(lot=first, quantity=D(3)),),
           company_prefix="8712345")
    [sscc] = [code for code, pallet in state.pallets.items() if pallet.status == "open"]
    handle(edge, c.ShipPallet, sscc=sscc, sales_order=number)
    assert state.sales_order_lines[(number, line)].shipped == D(3)

    # a line-side bin (A2) below its minimum after a scrap: replenished from the storage zone
    zone = state.bins["A1"].zone
    handle(edge, c.DefineLineSideBin, bin="A2", item="PUMP", minimum=D(2), maximum=D(4), source_zone=zone)
    scrapped = handle(edge, c.ScrapStock, lot=third, bin="A2", quantity=D(2), reason="dropped")
    assert [x["type"] for x in scrapped.events][-1] == "ReplenishmentRaised"
    for task in [x for x in state.replenishment_tasks.values() if x.status == "open"]:
        assert task.lot is not None and task.from_bin is not None
        handle(edge, c.CompleteReplenishment, task=task.task, lot=task.lot, from_bin=task.from_bin,
               quantity=task.quantity)

    pushed = run(_push(edge.service, t.central()))
    assert pushed.refused == 0, SyncLedger(edge.store).exceptions(open_only=True)
    [shipment] = customer_shipments(t, [first])
    assert shipment["state"] == "done"
    assert [(m[0], m[1]) for m in shipment["outgoing_moves"]] == [(first, D(3))]
    origin = f"sale.line,{sale_line}"
    moves = t.s.search_read("stock.move", [("origin", "=", origin)], ["quantity", "state"])
    assert sorted((m["quantity"], m["state"]) for m in moves) == [(2.0, "draft"), (3.0, "done")]  # the rest to ship
    for lot in lots:
        for bin_code in ("A1", "A2", "B1"):
            assert tryton_stock(t, lot, bin_code) == state.stock_of(lot, bin_code), (lot, bin_code)
    assert state.stock_of(third, "A2") + state.stock_of(first, "A2") + state.stock_of(second, "A2") == D(4)
    assert isinstance(e.EVENT_TYPES["WaveReleased"], type)
