"""Kitting reads: a work order's pick list (FEFO lots in bin walk order, edge.domain.picking) and its short picks.

The pick list is computed from the store's tables (never the writer's cache): the order, its BOM lines, the bins,
and the lots of the BOM's items with their stock, loaded into a small ``PlantState``.
"""
from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from sqlalchemy import Connection, select

from edge.domain import DomainError
from edge.domain.picking import PickList, pick_list
from edge.domain.plant import PlantState
from edge.store import Store, schema
from edge.store.users import User
from takt.api.auth import current_user
from takt.api.contract import BEARER, READ_RESPONSES
from takt.api.reads import quantity_text

router = APIRouter(prefix="/api/v1", responses=READ_RESPONSES, dependencies=BEARER)  # takt.api.contract
T = schema.ENTITY_TABLES


def kitting_state(conn: Connection, work_order: str) -> PlantState:
    """The part of the plant's state a pick list of ``work_order`` reads."""
    state = PlantState()

    def load(name: str, query: Any) -> list[Any]:
        spec = T[name]
        target = getattr(state, name)
        rows = [spec.entity(r) for r in conn.execute(query)]
        for entity in rows:
            target[spec.key_of(entity)] = entity
        return rows

    wo, bom, lots, stock = T["work_orders"].table, T["bom_lines"].table, T["lots"].table, T["stock"].table
    load("work_orders", select(wo).where(wo.c.work_order == work_order))
    lines = load("bom_lines", select(bom).where(bom.c.work_order == work_order))
    load("bins", select(T["bins"].table))
    items = sorted({ln.item for ln in lines})
    if items:
        # Other open orders that need the same items: what is kitted for them is theirs, and they share the
        # staging bin's unkitted stock with this one (edge.domain.picking).
        others = select(bom.c.work_order).where(bom.c.item.in_(items), bom.c.work_order != work_order)
        load("work_orders", select(wo).where(wo.c.work_order.in_(others),
                                             wo.c.status.not_in(("completed", "cancelled"))))
        load("bom_lines", select(bom).where(bom.c.work_order.in_(others)))
        load("staged", select(T["staged"].table).where(T["staged"].table.c.work_order.in_(
            select(wo.c.work_order).where(wo.c.status.not_in(("completed", "cancelled"))))))
        found = load("lots", select(lots).where(lots.c.item.in_(items), lots.c.status == "available"))
        codes = [lot.lot for lot in found]
        for i in range(0, len(codes), 500):
            load("stock", select(stock).where(stock.c.lot.in_(codes[i:i + 500])))
    state.reindex()
    return state


def _default_staging_bin(request: Request, state: PlantState, work_order: str, conn: Connection) -> str | None:
    """The line-side bin of the scanning device at the workstation of the order's first open operation."""
    ops = T["operations"].table
    rows = conn.execute(select(ops.c.workstation).where(ops.c.work_order == work_order,
                                                        ops.c.status != "completed").order_by(ops.c.operation))
    stations = [r[0] for r in rows]
    node = request.app.state.node
    scanning = getattr(getattr(node, "config", None), "scanning", None)
    devices = list(getattr(scanning, "devices", []) or [])
    for station in stations:
        for device in devices:
            if device.workstation == station and device.bin:
                return str(device.bin)
    return None


def pick_list_json(found: PickList, short_picks: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "work_order": found.work_order, "staging_bin": found.staging_bin, "complete": found.complete,
        "lines": [{"bom_line": ln.bom_line, "item": ln.item, "item_revision": ln.item_revision,
                   "needed": quantity_text(ln.needed), "staged": quantity_text(ln.staged),
                   "to_pick": quantity_text(ln.to_pick), "short": quantity_text(ln.short)} for ln in found.lines],
        "picks": [{"bom_line": p.bom_line, "item": p.item, "item_revision": p.item_revision, "lot": p.lot,
                   "bin": p.bin, "walk_sequence": p.walk_sequence, "quantity": quantity_text(p.quantity),
                   "expiry": p.expiry.isoformat() if p.expiry else None} for p in found.picks],
        "short_picks": short_picks,
    }


@router.get("/work-orders/{work_order}/pick-list", tags=["inventory"],
            summary="The pick list that kits a work order: FEFO lots, in bin walk order, and its short picks")
def get_pick_list(request: Request, work_order: str, staging_bin: str | None = None, on: date | None = None,
                  _: User = Depends(current_user)) -> dict[str, Any]:
    store: Store = request.app.state.store
    today = on or datetime.now(UTC).date()
    with store.engine.connect() as conn:
        state = kitting_state(conn, work_order)
        target = staging_bin or _default_staging_bin(request, state, work_order, conn)
        if target is None:
            raise HTTPException(422, {"code": "STAGING_BIN_REQUIRED", "field": "staging_bin",
                                      "message": f"name the staging bin to kit {work_order} into: no scanning "
                                                 "device at its workstations has a line-side bin"})
        try:
            found = pick_list(state, work_order, target, today)
        except DomainError as err:
            status = 404 if err.code == "UNKNOWN_WORK_ORDER" else 409 if err.code == "WORK_ORDER_CLOSED" else 422
            raise HTTPException(status, {"code": err.code, "message": err.message, "field": err.field}) from None
        sp = schema.short_picks
        shorts = [{k: (quantity_text(v) if k in ("asked", "picked") else v.isoformat() if k == "at" else v)
                   for k, v in r._mapping.items() if k != "seq"}
                  for r in conn.execute(select(sp).where(sp.c.work_order == work_order).order_by(sp.c.seq))]
    return pick_list_json(found, shorts)
