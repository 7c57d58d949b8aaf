"""Parts of the plant's state read from the store's tables (never the writer's cache), for the reads that decide with
the domain: a work order's pick list (edge.domain.picking) and a lot's putaway suggestion (edge.domain.putaway)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Select, select

from edge.domain.plant import PlantState
from edge.store import schema

T = schema.ENTITY_TABLES


def _load(conn: Connection, state: PlantState, name: str, query: Select[Any]) -> list[Any]:
    """Read ``query``'s rows of the state table ``name`` into ``state``; the entities read."""
    spec = T[name]
    target = getattr(state, name)
    rows = [spec.entity(r) for r in conn.execute(query)]
    for entity in rows:
        target[spec.key_of(entity)] = entity
    return rows


def kitting_state(conn: Connection, work_order: str) -> PlantState:
    """The part of the plant's state a pick list of ``work_order`` reads."""
    state = PlantState()
    wo, bom, lots, stock = T["work_orders"].table, T["bom_lines"].table, T["lots"].table, T["stock"].table
    _load(conn, state, "work_orders", select(wo).where(wo.c.work_order == work_order))
    lines = _load(conn, state, "bom_lines", select(bom).where(bom.c.work_order == work_order))
    _load(conn, state, "bins", select(T["bins"].table))
    items = sorted({ln.item for ln in lines})
    if items:
        # Other open orders that need the same items: what is kitted for them is theirs, and they share the
        # staging bin's unkitted stock with this one (edge.domain.picking).
        others = select(bom.c.work_order).where(bom.c.item.in_(items), bom.c.work_order != work_order)
        _load(conn, state, "work_orders", select(wo).where(wo.c.work_order.in_(others),
                                                           wo.c.status.not_in(("completed", "cancelled"))))
        _load(conn, state, "bom_lines", select(bom).where(bom.c.work_order.in_(others)))
        _load(conn, state, "staged", select(T["staged"].table).where(T["staged"].table.c.work_order.in_(
            select(wo.c.work_order).where(wo.c.status.not_in(("completed", "cancelled"))))))
        found = _load(conn, state, "lots", select(lots).where(lots.c.item.in_(items), lots.c.status == "available"))
        codes = [lot.lot for lot in found]
        for i in range(0, len(codes), 500):
            _load(conn, state, "stock", select(stock).where(stock.c.lot.in_(codes[i:i + 500])))
    state.reindex()
    return state


def storage_state(conn: Connection, lot: str | None = None) -> PlantState:
    """Bins, stock, and the lots in stock (and ``lot``): what a putaway suggestion reads."""
    state = PlantState()
    lots, stock = T["lots"].table, T["stock"].table
    _load(conn, state, "bins", select(T["bins"].table))
    _load(conn, state, "stock", select(stock))
    _load(conn, state, "lots", select(lots).where(lots.c.lot.in_(select(stock.c.lot))))
    if lot is not None:
        _load(conn, state, "lots", select(lots).where(lots.c.lot == lot))
    state.reindex()
    return state
