"""Read routes: the current state and the journal, read from the store's tables (never the writer's cache)."""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from sqlalchemy import Connection, case, func, select

from edge.fields import JournalSeq, decimal_text
from edge.store import Store, schema
from edge.store.trace import UnknownLot, recall, trace
from edge.store.users import User
from takt.api.auth import current_user
from takt.api.contract import BEARER, READ_RESPONSES

router = APIRouter(prefix="/api/v1", responses=READ_RESPONSES, dependencies=BEARER)  # takt.api.contract
T = schema.ENTITY_TABLES


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _rows(conn: Connection, query: Any) -> list[dict[str, Any]]:
    return [_jsonable(dict(r._mapping)) for r in conn.execute(query)]


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in row.items():
        if hasattr(v, "isoformat"):
            out[k] = v.isoformat()
        elif isinstance(v, Decimal):
            out[k] = quantity_text(v)
        else:
            out[k] = v
    return out


def quantity_text(value: Decimal) -> str:
    """A quantity as plain text without trailing zeros, the same on SQLite and PostgreSQL (12.5, 460); never raises,
    whatever the store holds (edge.fields.decimal_text)."""
    return decimal_text(value)


def _not_found(what: str, code: str, key: str) -> HTTPException:
    return HTTPException(404, {"code": f"UNKNOWN_{code}", "message": f"{what} {key} is not known here", "field": None})


@router.get("/me", tags=["users"], summary="Who the token belongs to")
def me(user: User = Depends(current_user)) -> dict[str, Any]:
    return {"user": user.user, "name": user.name, "roles": sorted(user.roles), "language": user.language}


@router.get("/work-orders", tags=["work orders"], summary="Work orders, newest release last")
def list_work_orders(request: Request, status: str | None = None, _: User = Depends(current_user)) -> dict[str, Any]:
    t = T["work_orders"].table
    query = select(t).order_by(t.c.due.is_(None), t.c.due, t.c.work_order)
    if status:
        query = query.where(t.c.status == status)
    with _store(request).engine.connect() as conn:
        return {"work_orders": _rows(conn, query)}


@router.get("/work-orders/{work_order}", tags=["work orders"], summary="A work order with operations and BOM lines")
def get_work_order(request: Request, work_order: str, _: User = Depends(current_user)) -> dict[str, Any]:
    wo, ops, bom = T["work_orders"].table, T["operations"].table, T["bom_lines"].table
    with _store(request).engine.connect() as conn:
        found = _rows(conn, select(wo).where(wo.c.work_order == work_order))
        if not found:
            raise _not_found("work order", "WORK_ORDER", work_order)
        result = found[0]
        result["operations"] = _rows(conn, select(ops).where(ops.c.work_order == work_order).order_by(ops.c.operation))
        result["bom"] = _rows(conn, select(bom).where(bom.c.work_order == work_order).order_by(bom.c.line))
        clock = T["clock_ons"].table
        result["clocked_on"] = _rows(conn, select(clock).where(clock.c.work_order == work_order))
    return result


@router.get("/workstations/{workstation}/dispatch-list", tags=["work orders"],
            summary="A workstation's dispatch list in APS sequence")
def get_dispatch_list(request: Request, workstation: str, _: User = Depends(current_user)) -> dict[str, Any]:
    d, ops = T["dispatch"].table, T["operations"].table
    query = (
        select(d.c.position, d.c.work_order, d.c.operation, ops.c.description, ops.c.status, ops.c.good, ops.c.scrap)
        .join(ops, (ops.c.work_order == d.c.work_order) & (ops.c.operation == d.c.operation))
        .where(d.c.workstation == workstation).order_by(d.c.position)
    )
    with _store(request).engine.connect() as conn:
        return {"workstation": workstation, "sequence": _rows(conn, query)}


@router.get("/lots/{lot}", tags=["inventory"], summary="A lot with its stock by bin")
def get_lot(request: Request, lot: str, _: User = Depends(current_user)) -> dict[str, Any]:
    lots, stock = T["lots"].table, T["stock"].table
    with _store(request).engine.connect() as conn:
        found = _rows(conn, select(lots).where(lots.c.lot == lot))
        if not found:
            raise _not_found("lot", "LOT", lot)
        result = found[0]
        result["stock"] = _rows(conn, select(stock.c.bin, stock.c.quantity).where(stock.c.lot == lot)
                                .order_by(stock.c.bin))
    return result


@router.get("/lots/{lot}/moves", tags=["inventory"],
            summary="Who moved a lot, with which device, when, from where to where and why")
def get_lot_moves(request: Request, lot: str, _: User = Depends(current_user)) -> dict[str, Any]:
    mv, j = schema.moves, schema.journal
    # the device is the journal's (kept for every event; none once the journal row is archived by retention)
    query = (select(mv, j.c.source_device.label("device")).select_from(mv.outerjoin(j, j.c.seq == mv.c.seq))
             .where(mv.c.lot == lot).order_by(mv.c.seq))
    with _store(request).engine.connect() as conn:
        return {"lot": lot, "moves": _rows(conn, query)}


@router.get("/lots/{lot}/genealogy", tags=["inventory"],
            summary="Where a lot came from (supplier lot, purchase order) and went (work orders, customer orders)")
def get_lot_genealogy(request: Request, lot: str, _: User = Depends(current_user)) -> dict[str, Any]:
    lots, mv, wo, j = T["lots"].table, schema.moves, T["work_orders"].table, schema.journal
    with _store(request).engine.connect() as conn:
        found = _rows(conn, select(lots).where(lots.c.lot == lot))
        if not found:
            raise _not_found("lot", "LOT", lot)
        receipt = conn.execute(select(j.c.payload).where(j.c.subject == f"lot:{lot}", j.c.type == "LotReceived")
                               .order_by(j.c.seq).limit(1)).scalar_one_or_none()
        # issues count up, returns count down: what stayed in each order
        net = func.sum(case((mv.c.kind == "return", -mv.c.quantity), else_=mv.c.quantity))
        used = conn.execute(
            select(mv.c.work_order, net.label("quantity"), func.min(mv.c.at).label("first"), wo.c.item,
                   wo.c.item_revision, wo.c.customer_order, wo.c.status)
            .join(wo, wo.c.work_order == mv.c.work_order)
            .where(mv.c.lot == lot, mv.c.kind.in_(("issue", "return")))
            .group_by(mv.c.work_order, wo.c.item, wo.c.item_revision, wo.c.customer_order, wo.c.status)
            .order_by(func.min(mv.c.seq))).all()
    result = found[0]
    received: dict[str, Any] | None = None
    if receipt is not None:
        data = json.loads(receipt)
        received = {k: data.get(k) for k in ("at", "bin", "quantity", "supplier_lot", "purchase_order", "po_line",
                                             "work_order")}
    consumed = [_jsonable({"work_order": r.work_order, "quantity": r.quantity, "first_issued_at": r.first,
                           "item": r.item, "item_revision": r.item_revision, "customer_order": r.customer_order,
                           "status": r.status}) for r in used if r.quantity]
    return {"lot": lot, "item": result["item"], "item_revision": result["item_revision"],
            "supplier_lot": result["supplier_lot"], "received": received, "consumed_in": consumed,
            "customer_orders": sorted({c["customer_order"] for c in consumed if c["customer_order"]})}


@router.get("/stock", tags=["inventory"], summary="Stock by lot and bin, optionally for one item or one bin")
def get_stock(request: Request, item: str | None = None, bin: str | None = None,
              _: User = Depends(current_user)) -> dict[str, Any]:
    stock, lots = T["stock"].table, T["lots"].table
    query = (select(stock.c.lot, stock.c.bin, stock.c.quantity, lots.c.item, lots.c.item_revision, lots.c.status,
                    lots.c.expiry)
             .join(lots, lots.c.lot == stock.c.lot).order_by(stock.c.bin, stock.c.lot))
    if item:
        query = query.where(lots.c.item == item)
    if bin:
        query = query.where(stock.c.bin == bin)
    with _store(request).engine.connect() as conn:
        return {"stock": _rows(conn, query)}


@router.get("/bins", tags=["inventory"], summary="Bins with their zone, capacity and allowed items")
def list_bins(request: Request, _: User = Depends(current_user)) -> dict[str, Any]:
    t = T["bins"].table
    with _store(request).engine.connect() as conn:
        return {"bins": _rows(conn, select(t).order_by(t.c.bin))}


@router.get("/items", tags=["master data"], summary="Items with their current revision")
def list_items(request: Request, _: User = Depends(current_user)) -> dict[str, Any]:
    t = T["items"].table
    with _store(request).engine.connect() as conn:
        return {"items": _rows(conn, select(t).order_by(t.c.item))}


@router.get("/equipment/{equipment}/state", tags=["machines"], summary="A machine's current state")
def get_machine_state(request: Request, equipment: str, _: User = Depends(current_user)) -> dict[str, Any]:
    t = T["machine_states"].table
    with _store(request).engine.connect() as conn:
        found = _rows(conn, select(t).where(t.c.equipment == equipment))
    if not found:
        raise _not_found("machine state of", "EQUIPMENT", equipment)
    return found[0]


@router.get("/nonconformances", tags=["quality"], summary="Nonconformances, open ones first")
def list_nonconformances(request: Request, _: User = Depends(current_user)) -> dict[str, Any]:
    t = T["nonconformances"].table
    with _store(request).engine.connect() as conn:
        return {"nonconformances": _rows(conn, select(t).order_by(t.c.status.desc(), t.c.ncr))}


@router.get("/journal", tags=["journal"], summary="Journal events after a sequence number, in order")
def get_journal(request: Request, after: Annotated[JournalSeq, Query(description="events after this sequence")] = 0,
                limit: int = Query(100, ge=1, le=1000),
                _: User = Depends(current_user)) -> dict[str, Any]:
    j = schema.journal
    query = select(j).where(j.c.seq > after).order_by(j.c.seq).limit(limit)
    with _store(request).engine.connect() as conn:
        events = _rows(conn, query)
    for ev in events:
        ev["payload"] = json.loads(ev["payload"])
    return {"events": events, "last_seq": events[-1]["seq"] if events else after}


def _traced(request: Request, lot: str, fn: Any, *args: Any) -> dict[str, Any]:
    with _store(request).engine.connect() as conn:
        try:
            found: dict[str, Any] = _jsonable_deep(fn(conn, lot, *args))
            return found
        except UnknownLot:
            raise _not_found("lot", "LOT", lot) from None


def _jsonable_deep(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable_deep(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable_deep(v) for v in value]
    if isinstance(value, Decimal):
        return quantity_text(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


@router.get("/trace/{lot}", tags=["inventory"],
            summary="Trace a lot: forward (the orders it went into, the lots they made, ... the customer orders) or "
                    "backward (the order that made it, what went into that order, ... the supplier lots)")
def get_trace(request: Request, lot: str, direction: str = Query("forward", pattern="^(forward|backward)$"),
              _: User = Depends(current_user)) -> dict[str, Any]:
    return _traced(request, lot, trace, direction)


@router.get("/recall/{lot}", tags=["inventory"],
            summary="A recall report: every lot, order and customer order a lot reached, and where those lots are now")
def get_recall(request: Request, lot: str, _: User = Depends(current_user)) -> dict[str, Any]:
    return _traced(request, lot, recall)


@router.get("/unassigned-production", tags=["work orders"],
            summary="Parts machines counted with no operation to take them, waiting for a supervisor")
def list_unassigned_production(request: Request, _: User = Depends(current_user)) -> dict[str, Any]:
    t = T["unassigned_production"].table
    with _store(request).engine.connect() as conn:
        return {"unassigned": _rows(conn, select(t).order_by(t.c.since))}


@router.get("/stock/counts/pending", tags=["inventory"], summary="Counts waiting for a supervisor's approval")
def list_pending_counts(request: Request, _: User = Depends(current_user)) -> dict[str, Any]:
    t = T["pending_counts"].table
    with _store(request).engine.connect() as conn:
        return {"counts": _rows(conn, select(t).order_by(t.c.at))}
