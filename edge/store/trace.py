"""Traceability over the recorded moves: where a lot went (forward) and what went into it (backward).

The genealogy graph is in the ``moves`` history: a lot **issued** to a work order (net of returns) is an input of
that order; a lot **produced** by an order (its good output put into stock) is an output. Forward from a supplier
lot: the orders it went into, the lots they produced, the orders those went into, ... and the customer orders at the
end. Backward from a finished lot: the order that produced it, the lots issued to that order, and so on down to the
supplier lots and the purchase orders they came on.

Shipments end the forward trace: a lot **shipped** on a pallet (GS1 SSCC) against a sales order (``moves`` of kind
``ship``) reaches that pallet, the sales order and its customer; a lot still packed on a pallet not shipped yet
reaches that pallet. Backward from an SSCC: the lots on the pallet, then each lot's backward trace.

A **split** of a lot under inspection into accepted and rejected sub-lots (``lot_splits``) links them too: forward
from the lot to its sub-lots, backward from a sub-lot to the lot it was split off.

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


def _splits(conn: Connection, by: Literal["parent", "lot"], keys: list[str]) -> list[tuple[str, str, Decimal, str]]:
    """(parent, sub-lot, quantity, verdict) of the splits of lots under inspection, by parent or by sub-lot."""
    t = schema.lot_splits
    out: list[tuple[str, str, Decimal, str]] = []
    for part in _chunks(keys):
        rows = conn.execute(select(t.c.parent, t.c.lot, t.c.quantity, t.c.verdict).where(t.c[by].in_(part)))
        out += [(r.parent, r.lot, r.quantity, r.verdict) for r in rows]
    return out


def trace(conn: Connection, lot: str, direction: Direction = "forward") -> dict[str, Any]:
    """The lots and work orders reachable from ``lot`` in ``direction``, level by level (``depth``)."""
    lots_t = schema.ENTITY_TABLES["lots"].table
    if conn.execute(select(lots_t.c.lot).where(lots_t.c.lot == lot)).first() is None:
        raise UnknownLot(f"lot {lot} is not known here")
    lots: dict[str, dict[str, Any]] = {lot: {"lot": lot, "depth": 0, "via": None, "quantity": None}}
    orders: dict[str, dict[str, Any]] = {}
    splits: list[dict[str, Any]] = []
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
        split_links = _splits(conn, "parent" if direction == "forward" else "lot", frontier)
        new_orders = sorted({wo for _, wo, _ in links} - set(orders))
        for lot_name, wo, qty in links:
            orders.setdefault(wo, {"work_order": wo, "depth": depth, "inputs": {}, "outputs": {}})
            orders[wo][reached_as][lot_name] = qty
        frontier = []
        for parent, child, qty, verdict in split_links:  # a split: the sub-lots of a lot, or the lot a sub-lot is of
            splits.append({"parent": parent, "lot": child, "quantity": qty, "verdict": verdict, "depth": depth})
            reached = child if direction == "forward" else parent
            if reached not in lots:
                lots[reached] = {"lot": reached, "depth": depth, "via": None, "quantity": qty,
                                 "split": parent if direction == "forward" else child}
                frontier.append(reached)
        for lot_name, wo, qty in then(conn, "work_order", new_orders):
            orders[wo][then_as][lot_name] = qty
            if lot_name not in lots:
                lots[lot_name] = {"lot": lot_name, "depth": depth, "via": wo, "quantity": qty}
                frontier.append(lot_name)
    _describe(conn, lots, orders)
    pallets = _pallets(conn, list(lots)) if direction == "forward" else []
    customer_orders = {o["customer_order"] for o in orders.values() if o.get("customer_order")}
    customer_orders |= {p["sales_order"] for p in pallets if p["sales_order"]}
    return {"lot": lot, "direction": direction, "lots": sorted(lots.values(), key=lambda x: (x["depth"], x["lot"])),
            "work_orders": sorted(orders.values(), key=lambda x: (x["depth"], x["work_order"])),
            "pallets": pallets, "customer_orders": sorted(customer_orders),
            "shipments": _shipments(pallets), "splits": sorted(splits, key=lambda x: (x["depth"], x["lot"]))}


def _pallets(conn: Connection, lots: list[str], units: Iterable[dict[str, Any]] = ()) -> list[dict[str, Any]]:
    """The pallets that hold or held some of ``lots``: shipped ones (with their sales order and customer) and
    open ones, each with the traced lots on it; and the pallets ``units`` were packed on by their serials (each
    such pallet lists those serials under ``units``)."""
    p_t, pl_t = schema.ENTITY_TABLES["pallets"].table, schema.ENTITY_TABLES["pallet_lines"].table
    found: dict[str, dict[str, Any]] = {}
    by_sscc: dict[str, list[str]] = {}
    for u in units:
        if u.get("sscc"):
            by_sscc.setdefault(u["sscc"], []).append(u["serial"])
    queries = [pl_t.c.lot.in_(part) for part in _chunks(lots)]
    queries += [pl_t.c.sscc.in_(part) for part in _chunks(sorted(by_sscc))]
    for where in queries:
        rows = conn.execute(select(p_t, pl_t.c.lot, pl_t.c.item, pl_t.c.quantity)
                            .select_from(pl_t.join(p_t, p_t.c.sscc == pl_t.c.sscc)).where(where))
        for r in rows:
            if r.sscc in found and any(x["lot"] == r.lot for x in found[r.sscc]["lots"]):
                continue
            pallet = found.setdefault(r.sscc, {"sscc": r.sscc, "status": r.status, "bin": r.bin,
                                               "sales_order": r.sales_order, "customer": r.customer,
                                               "shipped_at": r.shipped_at, "lots": []})
            pallet["lots"].append({"lot": r.lot, "item": r.item, "quantity": r.quantity})
    for pallet in found.values():
        pallet["lots"].sort(key=lambda x: x["lot"])
        if pallet["sscc"] in by_sscc:
            pallet["units"] = sorted(by_sscc[pallet["sscc"]])
    return sorted(found.values(), key=lambda x: x["sscc"])


def _shipments(pallets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per sales order: its customer and the shipped pallets."""
    out: dict[str, dict[str, Any]] = {}
    for p in pallets:
        if p["status"] == "shipped" and p["sales_order"]:
            entry = out.setdefault(p["sales_order"], {"sales_order": p["sales_order"], "customer": p["customer"],
                                                      "pallets": []})
            entry["pallets"].append(p["sscc"])
    return sorted(out.values(), key=lambda x: x["sales_order"])


class UnknownPallet(LookupError):
    pass


def trace_pallet(conn: Connection, sscc: str) -> dict[str, Any]:
    """Backward from a pallet: what is on it, where it went, and the backward trace of every lot on it (the orders
    that made them, what went into those, ... the supplier lots)."""
    p_t, pl_t = schema.ENTITY_TABLES["pallets"].table, schema.ENTITY_TABLES["pallet_lines"].table
    pallet = conn.execute(select(p_t).where(p_t.c.sscc == sscc)).first()
    if pallet is None:
        raise UnknownPallet(f"pallet {sscc} is not known here")
    on = [dict(r._mapping) for r in conn.execute(select(pl_t.c.lot, pl_t.c.item, pl_t.c.quantity)
                                                  .where(pl_t.c.sscc == sscc).order_by(pl_t.c.lot))]
    lots: dict[str, dict[str, Any]] = {}
    orders: dict[str, dict[str, Any]] = {}
    for line in on:
        found = trace(conn, line["lot"], "backward")
        for x in found["lots"]:
            seen = lots.get(x["lot"])
            if seen is None or x["depth"] + 1 < seen["depth"]:
                lots[x["lot"]] = {**x, "depth": x["depth"] + 1}
        for o in found["work_orders"]:
            if o["work_order"] not in orders or o["depth"] + 1 < orders[o["work_order"]]["depth"]:
                orders[o["work_order"]] = {**o, "depth": o["depth"] + 1}
    supplier_lots = sorted({x["supplier_lot"] for x in lots.values() if x.get("supplier_lot")})
    return {"sscc": sscc, "status": pallet.status, "bin": pallet.bin, "sales_order": pallet.sales_order,
            "customer": pallet.customer, "packed_by": pallet.packed_by, "packed_at": pallet.packed_at,
            "shipped_at": pallet.shipped_at, "content": on,
            "lots": sorted(lots.values(), key=lambda x: (x["depth"], x["lot"])),
            "work_orders": sorted(orders.values(), key=lambda x: (x["depth"], x["work_order"])),
            "supplier_lots": supplier_lots}


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


# --- serialised units -------------------------------------------------------------------------------------------
#
# A unit's genealogy is in ``unit_components`` (the serials and lots fitted into it) and ``units`` (its work order
# and the output lot it went into stock with). Backward from a unit: its components, and for each component lot the
# lot's own backward trace (the supplier lots). Forward from a component serial or lot: the units it went into,
# their output lots, the pallets those are on and the customer shipments. Each is a few indexed lookups
# (``ix_units_serial``, ``unit_components`` by serial, component serial or lot), however many units the store holds.


class UnknownUnit(LookupError):
    pass


def _unit_rows(conn: Connection, serials: list[str]) -> list[dict[str, Any]]:
    u = schema.ENTITY_TABLES["units"].table
    out: list[dict[str, Any]] = []
    for part in _chunks(serials):
        out += [dict(r._mapping) for r in conn.execute(select(u).where(u.c.serial.in_(part)))]
    return out


def trace_unit(conn: Connection, serial: str, item: str | None = None) -> dict[str, Any]:
    """Backward from a unit: its work order, the instruction revisions followed, the steps done, the components
    fitted (serial or lot) and the supplier lots they came from."""
    found = [r for r in _unit_rows(conn, [serial]) if item is None or r["item"] == item]
    if not found:
        raise UnknownUnit(f"unit {serial} is not known here")
    unit = min(found, key=lambda r: r["item"])
    uc, us = schema.unit_components, schema.unit_steps
    components = [dict(r._mapping) for r in conn.execute(
        select(uc.c.component, uc.c.component_lot, uc.c.component_serial, uc.c.operation, uc.c.at)
        .where(uc.c.serial == serial, uc.c.item == unit["item"]).order_by(uc.c.seq))]
    steps = [dict(r._mapping) for r in conn.execute(
        select(us.c.operation, us.c.instruction_revision, us.c.step, us.c.kind, us.c.passed, us.c.result, us.c.value,
               us.c.scanned, us.c.photo, us.c.note, us.c.ncr, us.c.actor, us.c.started_at, us.c.at)
        .where(us.c.serial == serial, us.c.item == unit["item"], us.c.work_order == unit["work_order"])
        .order_by(us.c.seq))]
    lots_t = schema.ENTITY_TABLES["lots"].table
    component_lots = sorted({c["component_lot"] for c in components if c["component_lot"]})
    origins: dict[str, Any] = {}
    for part in _chunks(component_lots):
        for r in conn.execute(select(lots_t.c.lot, lots_t.c.item, lots_t.c.supplier_lot, lots_t.c.work_order)
                              .where(lots_t.c.lot.in_(part))):
            origins[r.lot] = {"lot": r.lot, "item": r.item, "supplier_lot": r.supplier_lot, "work_order": r.work_order}
    wo_t = schema.ENTITY_TABLES["work_orders"].table
    order = conn.execute(select(wo_t.c.customer_order, wo_t.c.status).where(
        wo_t.c.work_order == unit["work_order"])).first()
    return {"serial": serial, "direction": "backward", "unit": unit, "components": components, "steps": steps,
            "component_lots": [origins[x] for x in component_lots if x in origins],
            "customer_order": order.customer_order if order else None,
            "pallets": _pallets(conn, [unit["lot"]] if unit["lot"] else [], [unit])}


def trace_component(conn: Connection, key: str, component: str | None = None) -> dict[str, Any]:
    """Forward from a component serial or a component lot: every unit it went into (with the units that went into
    those, for sub-assemblies with serials of their own), their output lots, the pallets and customer shipments."""
    uc = schema.unit_components
    units: dict[tuple[str, str], dict[str, Any]] = {}
    frontier: list[tuple[str | None, str]] = [(component, key)]
    by_lot = True
    depth = 0
    while frontier and depth < MAX_DEPTH:
        depth += 1
        serials = [s for _, s in frontier]
        links: list[Any] = []
        for part in _chunks(serials):
            links += list(conn.execute(select(uc.c.item, uc.c.serial, uc.c.component, uc.c.component_serial,
                                              uc.c.component_lot).where(uc.c.component_serial.in_(part))))
            if by_lot:  # the first key may be a lot: every unit that got some of it, by serial or not (a recall)
                links += list(conn.execute(select(uc.c.item, uc.c.serial, uc.c.component, uc.c.component_serial,
                                                  uc.c.component_lot).where(uc.c.component_lot.in_(part))))
        by_lot = False
        wanted = {(it, s) for it, s in frontier}
        frontier = []
        for r in links:
            via = next((v for v in (r.component_serial, r.component_lot)
                        if v is not None and ((None, v) in wanted or (r.component, v) in wanted)), None)
            if via is None:
                continue
            k = (r.item, r.serial)
            if k not in units:
                units[k] = {"item": r.item, "serial": r.serial, "depth": depth, "via": via}
                frontier.append(k)
    if not units and depth <= 1:
        known = conn.execute(select(uc.c.seq).where(
            (uc.c.component_serial == key) | (uc.c.component_lot == key)).limit(1)).first()
        lots_t = schema.ENTITY_TABLES["lots"].table
        if known is None and conn.execute(select(lots_t.c.lot).where(lots_t.c.lot == key)).first() is None:
            raise UnknownUnit(f"{key} is no component serial or lot known here")
    rows = {(r["item"], r["serial"]): r for r in _unit_rows(conn, sorted({s for _, s in units}))}
    for k, entry in units.items():
        row = rows.get(k)
        if row is not None:
            entry.update(work_order=row["work_order"], status=row["status"], lot=row["lot"],
                         operation=row["operation"], sscc=row["sscc"])
    out_lots = sorted({u["lot"] for u in units.values() if u.get("lot")})
    pallets = _pallets(conn, out_lots, units.values())  # by output lot, and by serial where packed by serial
    wo_t = schema.ENTITY_TABLES["work_orders"].table
    orders = sorted({u["work_order"] for u in units.values() if u.get("work_order")})
    customer_orders: set[str] = set()
    for part in _chunks(orders):
        customer_orders |= {r.customer_order for r in conn.execute(
            select(wo_t.c.customer_order).where(wo_t.c.work_order.in_(part))) if r.customer_order}
    customer_orders |= {p["sales_order"] for p in pallets if p["sales_order"]}
    return {"key": key, "direction": "forward",
            "units": sorted(units.values(), key=lambda x: (x["depth"], x["item"], x["serial"])),
            "lots": out_lots, "work_orders": orders, "pallets": pallets,
            "customer_orders": sorted(customer_orders), "shipments": _shipments(pallets)}
