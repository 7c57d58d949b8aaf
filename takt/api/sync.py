"""Routes for the sync with the central systems: how far behind it is, and the sync exceptions a supervisor
handles (retry after fixing the cause, or set aside with a reason). Also the central changes that came while an
order ran here (work-order conflicts), which a supervisor decides through the command route
``POST /api/v1/work-orders/{work_order}/conflict``.

Handling an exception is bookkeeping of the sync, not a plant fact: it is not journaled, but the exception keeps
who handled it, when, and their note, and the log says so.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import Field
from sqlalchemy import select

from edge.fields import RowId
from edge.store import schema
from edge.store.sync import NotFound, NotOpen, SyncException, SyncLedger
from edge.store.users import User
from takt.api import models as m
from takt.api.auth import authorize, current_user
from takt.api.contract import ACTION_RESPONSES, BEARER, READ_RESPONSES
from takt.api.reads import _rows, _store

if TYPE_CHECKING:  # the running node's daemon (takt.runtime imports erp_sync.daemon only when the site syncs)
    from erp_sync.daemon import SyncDaemon

router = APIRouter(prefix="/api/v1", responses=READ_RESPONSES, dependencies=BEARER)  # takt.api.contract
log = logging.getLogger("takt.sync")
SUPERVISING = frozenset({"supervisor", "admin"})


class RetryRequest(m.Request):  # a request model: no control characters but a note's tabs and line breaks
    note: Annotated[str, m.MULTI_LINE] = Field("", max_length=500, description="what was fixed")


class SetAsideRequest(m.Request):
    reason: str = Field(min_length=1, max_length=500, description="why this event need not reach the ERP")


async def _supervisor(request: Request) -> User:
    return await authorize(request, SUPERVISING)


def _ledger(request: Request) -> SyncLedger:
    return SyncLedger(_store(request))


def _daemon(request: Request) -> SyncDaemon | None:
    """The node's sync daemon (takt.api.app puts it in the app's state); None when the site has no sync section."""
    daemon: SyncDaemon | None = getattr(request.app.state, "sync", None)
    return daemon


@router.get("/sync/status", tags=["sync"], summary="How far the central systems have this node's events")
async def sync_status(request: Request, _: User = Depends(current_user)) -> dict[str, Any]:
    status = await run_in_threadpool(_ledger(request).status)
    daemon = _daemon(request)
    status["daemon"] = daemon.health.as_dict() if daemon is not None else None
    return status


@router.get("/sync/exceptions", tags=["sync"], summary="Sync exceptions, oldest first")
async def list_exceptions(request: Request, open_only: bool = False,
                          _: User = Depends(current_user)) -> dict[str, Any]:
    found = await run_in_threadpool(_ledger(request).exceptions, open_only=open_only)
    return {"exceptions": [e.as_dict() for e in found]}


def _handled(request: Request, exception_id: int, action: Callable[..., SyncException], *args: Any) -> dict[str, Any]:
    try:
        return dict(action(exception_id, *args).as_dict())
    except NotFound as exc:
        raise HTTPException(404, {"code": "UNKNOWN_SYNC_EXCEPTION", "message": str(exc), "field": "id"}) from None
    except NotOpen as exc:
        raise HTTPException(409, {"code": "SYNC_EXCEPTION_CLOSED", "message": str(exc), "field": "id"}) from None


@router.post("/sync/exceptions/{exception_id}/retry", tags=["sync"], responses=ACTION_RESPONSES,
             summary="Send the refused event (and those waiting behind it) again on the next round")
async def retry_exception(request: Request, exception_id: RowId, body: RetryRequest,
                          user: User = Depends(_supervisor)) -> dict[str, Any]:
    found = await run_in_threadpool(_handled, request, exception_id, _ledger(request).request_retry, user.user,
                                    body.note or None)
    log.info("sync exception %s: retry asked by %s", exception_id, user.user,
             extra={"exception": exception_id, "actor": user.user})
    _wake(request)
    return found


@router.post("/sync/exceptions/{exception_id}/set-aside", tags=["sync"], responses=ACTION_RESPONSES,
             summary="Do not send the refused event again; the events waiting behind it go on")
async def set_aside_exception(request: Request, exception_id: RowId, body: SetAsideRequest,
                              user: User = Depends(_supervisor)) -> dict[str, Any]:
    found = await run_in_threadpool(_handled, request, exception_id, _ledger(request).set_aside, user.user,
                                    body.reason)
    log.info("sync exception %s set aside by %s: %s", exception_id, user.user, body.reason,
             extra={"exception": exception_id, "actor": user.user})
    _wake(request)
    return found


def _wake(request: Request) -> None:
    daemon = _daemon(request)
    if daemon is not None:
        daemon.wake()


@router.get("/work-order-conflicts", tags=["work orders"],
            summary="Changes the ERP made to orders already running here, open ones first")
def list_conflicts(request: Request, _: User = Depends(current_user)) -> dict[str, Any]:
    t = schema.ENTITY_TABLES["work_order_conflicts"].table
    with _store(request).engine.connect() as conn:
        return {"conflicts": _rows(conn, select(t).order_by(t.c.status != "open", t.c.flagged_at))}


@router.get("/purchase-orders", tags=["inventory"], summary="Purchase orders with their lines and expected lots")
def list_purchase_orders(request: Request, status: str | None = "open",
                         _: User = Depends(current_user)) -> dict[str, Any]:
    T = schema.ENTITY_TABLES
    po, lines, lots = T["purchase_orders"].table, T["purchase_order_lines"].table, T["expected_lots"].table
    with _store(request).engine.connect() as conn:
        query = select(po).order_by(po.c.purchase_order)
        if status:
            query = query.where(po.c.status == status)
        orders = _rows(conn, query)
        all_lines = _rows(conn, select(lines).order_by(lines.c.purchase_order, lines.c.line))
        all_lots = _rows(conn, select(lots).order_by(lots.c.purchase_order, lots.c.line, lots.c.supplier_lot))
    for order in orders:
        key = order["purchase_order"]
        order["lines"] = [dict(ln, expected_lots=[x for x in all_lots if x["purchase_order"] == key
                                                  and x["line"] == ln["line"]])
                          for ln in all_lines if ln["purchase_order"] == key]
    return {"purchase_orders": orders}
