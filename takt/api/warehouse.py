"""Warehouse reads: the ranked putaway suggestion for a lot (edge.domain.putaway) and the pallets (SSCC) packed here.

Computed from the store's tables (never the writer's cache): the bins, the stock and the lots in stock, loaded into a
small ``PlantState`` (edge.store.partial_state).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from sqlalchemy import Connection, select

from edge.domain import putaway
from edge.store import Store, schema
from edge.store.partial_state import storage_state as storage_state  # the pages read it from here too
from edge.store.trace import UnknownPallet, trace_pallet
from edge.store.users import User
from takt.api.auth import current_user
from takt.api.contract import BEARER, READ_RESPONSES
from takt.api.models import Quantity
from takt.api.reads import _jsonable_deep, quantity_text

router = APIRouter(prefix="/api/v1", responses=READ_RESPONSES, dependencies=BEARER)  # takt.api.contract
T = schema.ENTITY_TABLES


def suggestion_json(candidates: list[putaway.Candidate]) -> list[dict[str, Any]]:
    return [{"rank": i + 1, "bin": s.bin, "zone": s.zone, "why": s.why, "reason": s.reason,
             "free": None if s.free is None else quantity_text(s.free)} for i, s in enumerate(candidates)]


def _refuse(status: int, code: str, message: str, field: str) -> HTTPException:
    return HTTPException(status, {"code": code, "message": message, "field": field})


@router.get("/putaway/suggest", tags=["inventory"],
            summary="The bins to put a received or produced lot away in, best first, each with its reason")
def get_putaway_suggestion(
        request: Request, item: str | None = Query(None, max_length=200), lot: str | None = Query(None, max_length=200),
        qty: Annotated[Quantity | None, Query(description="how much goes away (default: the lot's stock in from_bin, "
                                                          "or in all bins)")] = None,
        from_bin: str | None = Query(None, max_length=200, description="the bin the lot is in now (left out)"),
        limit: int = Query(10, ge=1, le=100), _: User = Depends(current_user)) -> dict[str, Any]:
    store: Store = request.app.state.store
    rules: tuple[putaway.PutawayRule, ...] = getattr(request.app.state, "putaway_rules", ()) or ()
    with store.engine.connect() as conn:
        state = storage_state(conn, lot)
    if lot is not None:
        found = state.lots.get(lot)
        if found is None:
            raise _refuse(404, "UNKNOWN_LOT", f"lot {lot} is not known here", "lot")
        if item is not None and item != found.item:
            raise _refuse(422, "WRONG_ITEM", f"lot {lot} is item {found.item}, not {item}", "item")
        item = found.item
    if item is None:
        raise _refuse(422, "MISSING_VALUE", "name the item or the lot", "item")
    if qty is None:
        if lot is None:
            raise _refuse(422, "MISSING_VALUE", "give qty (or a lot to take its stock)", "qty")
        qty = sum((row.quantity for (lt, b), row in state.stock.items()
                   if lt == lot and (from_bin is None or b == from_bin)), Decimal(0))
        if qty <= 0:
            raise _refuse(422, "MISSING_VALUE", f"lot {lot} has no stock{f' in {from_bin}' if from_bin else ''}: "
                          "give qty", "qty")
    zones, rule = putaway.zones_for(item, rules)
    found_bins = putaway.suggest(state, item, qty, rules, lot=lot, exclude=from_bin, limit=limit)
    return {"item": item, "lot": lot, "quantity": quantity_text(qty), "zones": list(zones), "rule": rule,
            "suggestions": suggestion_json(found_bins)}


# --- pallets (GS1 SSCC) ------------------------------------------------------------------------------------------


def _pallet(conn: Connection, sscc: str) -> dict[str, Any]:
    p_t, pl_t = T["pallets"].table, T["pallet_lines"].table
    row = conn.execute(select(p_t).where(p_t.c.sscc == sscc)).first()
    if row is None:
        raise _refuse(404, "UNKNOWN_PALLET", f"pallet {sscc} is not known here", "sscc")
    lines = [{"lot": r.lot, "item": r.item, "quantity": quantity_text(r.quantity)}
             for r in conn.execute(select(pl_t).where(pl_t.c.sscc == sscc).order_by(pl_t.c.lot))]
    return {**_jsonable(dict(row._mapping)), "lines": lines}


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if hasattr(v, "isoformat") else quantity_text(v) if isinstance(v, Decimal) else v
            for k, v in row.items()}


@router.get("/pallets", tags=["shipping"], summary="Pallets (SSCC), open ones or those of a sales order")
def list_pallets(request: Request, status: str | None = Query(None, pattern="^(open|shipped)$"),
                 sales_order: str | None = Query(None, max_length=200),
                 _: User = Depends(current_user)) -> dict[str, Any]:
    p_t = T["pallets"].table
    query = select(p_t.c.sscc).order_by(p_t.c.sscc)
    if status is not None:
        query = query.where(p_t.c.status == status)
    if sales_order is not None:
        query = query.where(p_t.c.sales_order == sales_order)
    store: Store = request.app.state.store
    with store.engine.connect() as conn:
        return {"pallets": [_pallet(conn, code) for code in conn.execute(query.limit(1000)).scalars()]}


@router.get("/pallets/{sscc}", tags=["shipping"], summary="A pallet: its lots, bin, status and where it was shipped")
def get_pallet(request: Request, sscc: str, _: User = Depends(current_user)) -> dict[str, Any]:
    store: Store = request.app.state.store
    with store.engine.connect() as conn:
        return _pallet(conn, sscc)


@router.get("/pallets/{sscc}/trace", tags=["shipping"],
            summary="Backward from a pallet: its lots, the orders that made them, ... the supplier lots")
def get_pallet_trace(request: Request, sscc: str, _: User = Depends(current_user)) -> dict[str, Any]:
    store: Store = request.app.state.store
    with store.engine.connect() as conn:
        try:
            found: dict[str, Any] = _jsonable_deep(trace_pallet(conn, sscc))
        except UnknownPallet:
            raise _refuse(404, "UNKNOWN_PALLET", f"pallet {sscc} is not known here", "sscc") from None
    return found


@router.get("/sales-orders/{sales_order}", tags=["shipping"],
            summary="A sales order (from CRM) with what was shipped of each line and on which pallets")
def get_sales_order(request: Request, sales_order: str, _: User = Depends(current_user)) -> dict[str, Any]:
    so_t, sl_t, p_t = T["sales_orders"].table, T["sales_order_lines"].table, T["pallets"].table
    store: Store = request.app.state.store
    with store.engine.connect() as conn:
        row = conn.execute(select(so_t).where(so_t.c.sales_order == sales_order)).first()
        if row is None:
            raise _refuse(404, "UNKNOWN_SALES_ORDER", f"sales order {sales_order} is not known here", "sales_order")
        lines = [_jsonable(dict(r._mapping)) for r in conn.execute(
            select(sl_t).where(sl_t.c.sales_order == sales_order).order_by(sl_t.c.line))]
        pallets = list(conn.execute(select(p_t.c.sscc).where(p_t.c.sales_order == sales_order)
                                    .order_by(p_t.c.sscc)).scalars())
    return {**_jsonable(dict(row._mapping)), "lines": lines, "pallets": pallets}
