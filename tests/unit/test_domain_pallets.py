"""SSCC pallets: packed with lots in a bin (SSCC from the site's company prefix and a sequence), added to, shipped
against a sales order (stock leaves the bin, the order's shipped quantity goes up); a lot on hold, a pallet twice, more
than ordered are refused."""
from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from edge.domain import commands as c
from edge.domain import events as e
from edge.domain.contexts.pallets import next_sscc
from edge.domain.gs1 import check_digit as sscc_check_digit
from edge.labels import sscc
from tests.unit.plant_helpers import QUALITY, D, Plant

ADMIN = frozenset({"admin"})
PREFIX = "4012345"
SETTINGS: dict[str, Any] = {"company_prefix": PREFIX, "extension_digit": 3}


@pytest.fixture
def dock() -> Plant:
    p = Plant()
    for item in ("PUMP", "VALVE"):
        p.do(c.DefineItem, item=item, description=item.title(), unit="pcs", revision="A", roles=ADMIN)
    for code in ("FG-1", "SHIP-1"):
        p.do(c.DefineBin, bin=code, zone="shipping" if code.startswith("SHIP") else "storage", roles=ADMIN)
    for lot, item, quantity in (("P-1", "PUMP", 40), ("P-2", "PUMP", 30), ("V-1", "VALVE", 10)):
        p.do(c.ReceiveLot, lot=lot, item=item, item_revision=None, quantity=D(quantity), bin="SHIP-1",
             expiry=date(2027, 1, 1))
    p.do(c.DefineCustomer, customer="ACME", name="Acme Pumps", origin="erp")
    p.do(c.DefineSalesOrder, sales_order="SO-1", customer="ACME", origin="erp",
         lines=(c.SalesOrderLineSpec(line=1, item="PUMP", quantity=D(50)),
                c.SalesOrderLineSpec(line=2, item="PUMP", quantity=D(20))))
    return p


def test_the_sscc_comes_from_the_company_prefix_and_a_sequence_with_its_check_digit(dock: Plant) -> None:
    [packed] = dock.do(c.PackPallet, bin="SHIP-1", lines=(c.PalletLineSpec(lot="P-1", quantity=D(20)),), **SETTINGS)
    assert isinstance(packed, e.PalletPacked)
    assert packed.sscc == "340123450000000017"  # 3 + 4012345 + 000000001 + check digit 7 (worked by hand)
    assert packed.sscc == sscc(3, PREFIX, 1)  # the label module's SSCC agrees
    assert sscc_check_digit(packed.sscc[:17]) == int(packed.sscc[17])
    assert next_sscc(dock.state, PREFIX, 3) == sscc(3, PREFIX, 2)
    assert next_sscc(dock.state, PREFIX, 0).startswith("04012345000000001")  # another extension: its own sequence
    dock.refuse(c.PackPallet, "NO_COMPANY_PREFIX", "sscc", bin="SHIP-1",
                lines=(c.PalletLineSpec(lot="P-1", quantity=D(1)),))


def test_a_pallet_is_packed_and_added_to_from_the_stock_of_its_bin(dock: Plant) -> None:
    [packed] = dock.do(c.PackPallet, bin="SHIP-1", lines=(c.PalletLineSpec(lot="P-1", quantity=D(30)),), **SETTINGS)
    code = packed.sscc
    dock.do(c.AddToPallet, sscc=code, lot="P-2", quantity=D(10))
    dock.do(c.AddToPallet, sscc=code, lot="P-2", quantity=D(5))
    lines = {lot: ln.quantity for (sscc, lot), ln in dock.state.pallet_lines.items() if sscc == code}
    assert lines == {"P-1": D(30), "P-2": D(15)}
    assert dock.stock("P-1") == {"SHIP-1": D(40)}  # packed stock stays in the bin until shipped
    # Stock already on an open pallet is not packed twice.
    err = dock.refuse(c.PackPallet, "INSUFFICIENT_STOCK", "lines[0].quantity", bin="SHIP-1",
                      lines=(c.PalletLineSpec(lot="P-1", quantity=D(11)),), **SETTINGS)
    assert err.message == "bin SHIP-1 holds 10 of lot P-1 not packed on a pallet yet; 11 asked"
    dock.refuse(c.PackPallet, "INSUFFICIENT_STOCK", "lines[0].quantity", bin="FG-1",
                lines=(c.PalletLineSpec(lot="P-1", quantity=D(1)),), **SETTINGS)
    dock.refuse(c.PackPallet, "DUPLICATE_SSCC", "sscc", bin="SHIP-1", sscc=code,
                lines=(c.PalletLineSpec(lot="P-1", quantity=D(1)),))
    dock.refuse(c.PackPallet, "INVALID_SSCC", "sscc", bin="SHIP-1", sscc="340123450000000019",
                lines=(c.PalletLineSpec(lot="P-1", quantity=D(1)),))
    dock.refuse(c.PackPallet, "DUPLICATE_LOT", "lines[1].lot", bin="SHIP-1", **SETTINGS,
                lines=(c.PalletLineSpec(lot="P-1", quantity=D(1)), c.PalletLineSpec(lot="P-1", quantity=D(1))))
    dock.do(c.HoldLot, lot="P-2", reason="suspect seal", roles=QUALITY)
    dock.refuse(c.AddToPallet, "LOT_ON_HOLD", "lot", sscc=code, lot="P-2", quantity=D(1))


def test_shipping_a_pallet_takes_its_stock_out_and_raises_the_orders_shipped_quantity(dock: Plant) -> None:
    [packed] = dock.do(c.PackPallet, bin="SHIP-1", lines=(c.PalletLineSpec(lot="P-1", quantity=D(40)),
                                                          c.PalletLineSpec(lot="P-2", quantity=D(20))), **SETTINGS)
    events = dock.do(c.ShipPallet, sscc=packed.sscc, sales_order="SO-1")
    moves = [ev for ev in events if isinstance(ev, e.StockMoved)]
    assert [(m.lot, m.kind, m.from_bin, m.to_bin, m.quantity, m.lot_quantity_delta, m.sales_order, m.sscc)
            for m in moves] == [("P-1", "ship", "SHIP-1", None, D(40), D(-40), "SO-1", packed.sscc),
                                ("P-2", "ship", "SHIP-1", None, D(20), D(-20), "SO-1", packed.sscc)]
    shipped = events[-1]
    assert isinstance(shipped, e.PalletShipped) and shipped.customer == "ACME"
    assert [(ln.lot, ln.quantity, ln.line) for ln in shipped.lines] == [("P-1", D(40), 1), ("P-2", D(10), 1),
                                                                         ("P-2", D(10), 2)]
    assert dock.stock("P-1") == {} and dock.stock("P-2") == {"SHIP-1": D(10)}
    assert dock.state.lots["P-1"].status == "consumed"
    assert [dock.state.sales_order_lines[("SO-1", n)].shipped for n in (1, 2)] == [D(50), D(10)]
    pallet = dock.state.pallets[packed.sscc]
    assert (pallet.status, pallet.sales_order, pallet.customer) == ("shipped", "SO-1", "ACME")
    # A pallet ships once; a shipped pallet takes nothing more.
    err = dock.refuse(c.ShipPallet, "PALLET_SHIPPED", "sscc", sscc=packed.sscc, sales_order="SO-1")
    assert "against sales order SO-1" in err.message
    dock.refuse(c.AddToPallet, "PALLET_SHIPPED", "sscc", sscc=packed.sscc, lot="P-2", quantity=D(1))
    # CRM sending the order again keeps what was shipped.
    dock.do(c.DefineSalesOrder, sales_order="SO-1", customer="ACME", origin="erp",
            lines=(c.SalesOrderLineSpec(line=1, item="PUMP", quantity=D(60)),
                   c.SalesOrderLineSpec(line=2, item="PUMP", quantity=D(20))))
    assert dock.state.sales_order_lines[("SO-1", 1)].shipped == D(50)


def test_a_pallet_with_a_lot_on_hold_or_more_than_ordered_or_another_item_is_not_shipped(dock: Plant) -> None:
    [first] = dock.do(c.PackPallet, bin="SHIP-1", lines=(c.PalletLineSpec(lot="P-1", quantity=D(40)),), **SETTINGS)
    dock.do(c.HoldLot, lot="P-1", reason="customer complaint", roles=QUALITY)
    err = dock.refuse(c.ShipPallet, "LOT_ON_HOLD", "sscc", sscc=first.sscc, sales_order="SO-1")
    assert err.message == f"lot P-1 on pallet {first.sscc} is on hold: the pallet is not shipped"
    [valves] = dock.do(c.PackPallet, bin="SHIP-1", lines=(c.PalletLineSpec(lot="V-1", quantity=D(10)),), **SETTINGS)
    dock.refuse(c.ShipPallet, "NOT_ON_SALES_ORDER", "sales_order", sscc=valves.sscc, sales_order="SO-1")
    [pumps] = dock.do(c.PackPallet, bin="SHIP-1", lines=(c.PalletLineSpec(lot="P-2", quantity=D(30)),), **SETTINGS)
    dock.do(c.DefineSalesOrder, sales_order="SO-2", customer="ACME", origin="erp",
            lines=(c.SalesOrderLineSpec(line=1, item="PUMP", quantity=D(25)),))
    dock.refuse(c.ShipPallet, "OVER_SHIPMENT", "sales_order", sscc=pumps.sscc, sales_order="SO-2")
    dock.refuse(c.ShipPallet, "UNKNOWN_SALES_ORDER", "sales_order", sscc=pumps.sscc, sales_order="SO-9")
    dock.refuse(c.ShipPallet, "UNKNOWN_PALLET", "sscc", sscc="340123450000009999", sales_order="SO-1")


def test_stock_packed_on_an_open_pallet_stays_there_until_taken_off(dock: Plant) -> None:
    [packed] = dock.do(c.PackPallet, bin="SHIP-1", lines=(c.PalletLineSpec(lot="P-1", quantity=D(30)),), **SETTINGS)
    err = dock.refuse(c.MoveStock, "STOCK_ON_PALLET", "quantity", lot="P-1", from_bin="SHIP-1", to_bin="FG-1",
                      quantity=D(11))
    assert err.message == (f"bin SHIP-1 holds 40 of lot P-1, 30 of it packed on pallet {packed.sscc}; 11 asked: "
                           "take it off the pallet first")
    [moved] = dock.do(c.MoveStock, lot="P-1", from_bin="SHIP-1", to_bin="FG-1", quantity=None)  # the unpacked rest
    assert moved.quantity == D(10)
    dock.refuse(c.RemoveFromPallet, "INSUFFICIENT_STOCK", "quantity", sscc=packed.sscc, lot="P-1", quantity=D(31))
    dock.refuse(c.RemoveFromPallet, "NOT_ON_PALLET", "lot", sscc=packed.sscc, lot="P-2", quantity=D(1))
    dock.do(c.RemoveFromPallet, sscc=packed.sscc, lot="P-1", quantity=D(30))
    assert (packed.sscc, "P-1") not in dock.state.pallet_lines
    dock.do(c.MoveStock, lot="P-1", from_bin="SHIP-1", to_bin="FG-1", quantity=D(30))
