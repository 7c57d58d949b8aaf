"""Traceability over the recorded moves: where a lot went (forward) and what went into it (backward).

The genealogy graph is in the ``moves`` history: a lot **issued** to a work order (net of returns) is an input of
that order; a lot **produced** by an order (its good output put into stock) is an output. Forward from a supplier
lot: the orders it went into, the lots they produced, the orders those went into, ... and the customer orders at the
end. Backward from a finished lot: the order that produced it, the lots issued to that order, and so on down to the
supplier lots and the purchase orders they came on.

Each level is one query per direction over indexed columns (``moves.lot``, ``moves.work_order``), so a trace costs a
few queries per level however large the history is. A **recall** is the forward trace with where every affected lot
is now (bin and quantity) and which customer orders it reached.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import Connection, case, func, select

from edge.store import schema

Direction = Literal["forward", "backward"]
MAX_DEPTH = 50  # a cycle in the data (an order consuming its own output) must not loop forever

_M = schema.moves
_NET = func.sum(case((_M.c.kind == "return", -_M.c.quantity), else_=_M.c.quantity))


class UnknownLot(LookupError):
    pass


def _chunks(values: list[str], size: int = 500) -> Iterable[list[str]]:
    for i in range(0, len(values), size):
        yield values[i:i + size]


def _issued(conn: Connection, by: Literal["lot", "work_order"], keys: list[str]) -> list[tuple[str, str, Decimal]]:
    """(lot, work order, net quantity) of the issues (net of returns) by lot or by work order."""
    out: list[tuple[str, str, Decimal]] = []
    for part in _chunks(keys):
        rows = conn.execute(select(_M.c.lot, _M.c.work_order, _NET.label("net")).where(
            _M.c[by].in_(part), _M.c.kind.in_(("issue", "return"))).group_by(_M.c.lot, _M.c.work_order))
        out += [(r.lot, r.work_order, r.net) for r in rows if r.net > 0]
    return out


def _produced(conn: Connection, by: Literal["lot", "work_order"], keys: list[str]) -> list[tuple[str, str, Decimal]]:
    """(lot, work order, quantity) of the lots work orders produced, by lot or by work order."""
    out: list[tuple[str, str, Decimal]] = []
    for part in _chunks(keys):
        rows = conn.execute(select(_M.c.lot, _M.c.work_order, _M.c.quantity).where(
            _M.c[by].in_(part), _M.c.kind == "produce"))
        out += [(r.lot, r.work_order, r.quantity) for r in rows]
    return out


def trace(conn: Connection, lot: str, direction: Direction = "forward") -> dict[str, Any]:
    """The lots and work orders reachable from ``lot`` in ``direction``, level by level (``depth``)."""
    lots_t = schema.ENTITY_TABLES["lots"].table
    if conn.execute(select(lots_t.c.lot).where(lots_t.c.lot == lot)).first() is None:
        raise UnknownLot(f"lot {lot} is not known here")
    lots: dict[str, dict[str, Any]] = {lot: {"lot": lot, "depth": 0, "via": None, "quantity": None}}
    orders: dict[str, dict[str, Any]] = {}
    frontier = [lot]
    depth = 0
    while frontier and depth < MAX_DEPTH:
        depth += 1
        # forward: the orders these lots went into, then what those orders made; backward: the orders that made
        # these lots, then what went into those orders
        if direction == "forward":
            reach, reached_as, then, then_as = _issued, "inputs", _produced, "outputs"
        else:
            reach, reached_as, then, then_as = _produced, "outputs", _issued, "inputs"
        links = reach(conn, "lot", frontier)
        new_orders = sorted({wo for _, wo, _ in links} - set(orders))
        for lot_name, wo, qty in links:
            orders.setdefault(wo, {"work_order": wo, "depth": depth, "inputs": {}, "outputs": {}})
            orders[wo][reached_as][lot_name] = qty
        frontier = []
        for lot_name, wo, qty in then(conn, "work_order", new_orders):
            orders[wo][then_as][lot_name] = qty
            if lot_name not in lots:
                lots[lot_name] = {"lot": lot_name, "depth": depth, "via": wo, "quantity": qty}
                frontier.append(lot_name)
    _describe(conn, lots, orders)
    return {"lot": lot, "direction": direction, "lots": sorted(lots.values(), key=lambda x: (x["depth"], x["lot"])),
            "work_orders": sorted(orders.values(), key=lambda x: (x["depth"], x["work_order"])),
            "customer_orders": sorted({o["customer_order"] for o in orders.values() if o.get("customer_order")})}


def _describe(conn: Connection, lots: dict[str, dict[str, Any]], orders: dict[str, dict[str, Any]]) -> None:
    """Add what each lot and order is (item, revision, status, supplier lot, customer order)."""
    lots_t, wo_t = schema.ENTITY_TABLES["lots"].table, schema.ENTITY_TABLES["work_orders"].table
    for part in _chunks(list(lots)):
        for r in conn.execute(select(lots_t.c.lot, lots_t.c.item, lots_t.c.item_revision, lots_t.c.status,
                                     lots_t.c.supplier_lot, lots_t.c.expiry).where(lots_t.c.lot.in_(part))):
            lots[r.lot].update(item=r.item, item_revision=r.item_revision, status=r.status, supplier_lot=r.supplier_lot,
                               expiry=r.expiry)
    for part in _chunks(list(orders)):
        for o in conn.execute(select(wo_t.c.work_order, wo_t.c.item, wo_t.c.item_revision, wo_t.c.status,
                                     wo_t.c.customer_order).where(wo_t.c.work_order.in_(part))):
            orders[o.work_order].update(item=o.item, item_revision=o.item_revision, status=o.status,
                                        customer_order=o.customer_order)


def recall(conn: Connection, lot: str) -> dict[str, Any]:
    """Everything a recall of ``lot`` touches: the forward trace, where each affected lot is now, the customer
    orders, and where the lot came from."""
    found = trace(conn, lot, "forward")
    stock = schema.ENTITY_TABLES["stock"].table
    names = [x["lot"] for x in found["lots"]]
    where: list[dict[str, Any]] = []
    for part in _chunks(names):
        where += [{"lot": r.lot, "bin": r.bin, "quantity": r.quantity}
                  for r in conn.execute(select(stock).where(stock.c.lot.in_(part)))]
    j = schema.journal
    receipt = conn.execute(select(j.c.payload).where(j.c.subject == f"lot:{lot}", j.c.type == "LotReceived")
                           .order_by(j.c.seq).limit(1)).scalar_one_or_none()
    origin = None
    if receipt is not None:
        data = json.loads(receipt)
        origin = {k: data.get(k) for k in ("supplier_lot", "purchase_order", "po_line", "work_order", "at")}
    return {**found, "origin": origin, "in_stock": sorted(where, key=lambda x: (x["lot"], x["bin"]))}
