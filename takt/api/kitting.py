"""Kitting reads: a work order's pick list (FEFO lots in bin walk order, edge.domain.picking) and its short picks.

The pick list is computed from the store's tables (never the writer's cache): the order, its BOM lines, the bins,
and the lots of the BOM's items with their stock, loaded into a small ``PlantState`` (edge.store.partial_state).
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from sqlalchemy import Connection, select

from edge.domain import DomainError
from edge.domain.picking import PickList, pick_list
from edge.domain.plant import PlantState
from edge.store import Store, schema
from edge.store.partial_state import kitting_state
from edge.store.users import User
from takt.api.auth import current_user
from takt.api.contract import BEARER, READ_RESPONSES
from takt.api.models import Day
from takt.api.reads import quantity_text
from takt.api.site import site_config

router = APIRouter(prefix="/api/v1", responses=READ_RESPONSES, dependencies=BEARER)  # takt.api.contract
T = schema.ENTITY_TABLES


def _default_staging_bin(request: Request, state: PlantState, work_order: str, conn: Connection) -> str | None:
    """The line-side bin of the scanning device at the workstation of the order's first open operation."""
    ops = T["operations"].table
    rows = conn.execute(select(ops.c.workstation).where(ops.c.work_order == work_order,
                                                        ops.c.status != "completed").order_by(ops.c.operation))
    stations = [r[0] for r in rows]
    site = site_config(request)
    devices = site.scanning.devices if site is not None else []
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
def get_pick_list(request: Request, work_order: str, staging_bin: str | None = None, on: Day | None = None,
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
