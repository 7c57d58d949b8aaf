"""Inspections that are due or open, over the API: ``GET /api/v1/inspections/due`` (in-process inspections per
workstation, judged at the request's time with edge.domain.sampling, with the open incoming and final inspections)
, ``GET /api/v1/inspection-tasks`` and ``GET /api/v1/inspection-plans`` (a rework's re-inspection plan is chosen from
them). ``POST /api/v1/oee/close`` closes the shifts that ended (takt.shift_close)."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from sqlalchemy import Connection, select

from edge.domain import sampling
from edge.store import schema
from edge.store.users import User
from takt.api.auth import allowed_roles, authorize, current_user
from takt.api.contract import ACTION_RESPONSES, BEARER, READ_RESPONSES
from takt.api.models import Moment
from takt.api.reads import _jsonable, _store, quantity_text
from takt.api.site import site_config
from takt.shift_close import close_ended_shifts

router = APIRouter(prefix="/api/v1", responses=READ_RESPONSES, dependencies=BEARER)  # takt.api.contract
T = schema.ENTITY_TABLES


def due_inspections(conn: Connection, at: datetime, workstation: str | None = None) -> list[dict[str, Any]]:
    """Where each in-process plan stands on the running operations (not completed, order not closed), due or not."""
    iv, plans, ops, wos = (T["inspection_intervals"].table, T["inspection_plans"].table, T["operations"].table,
                           T["work_orders"].table)
    query = (select(iv, plans.c.every_n_parts, plans.c.every_minutes, plans.c.sample_size, plans.c.description,
                    plans.c.flag_overdue, ops.c.status.label("operation_status"))
             .join(plans, plans.c.plan == iv.c.plan)
             .join(ops, (ops.c.work_order == iv.c.work_order) & (ops.c.operation == iv.c.operation))
             .join(wos, wos.c.work_order == iv.c.work_order)
             .where(ops.c.status != "completed", wos.c.status.not_in(("completed", "cancelled")))
             .order_by(iv.c.workstation, iv.c.work_order, iv.c.operation, iv.c.plan))
    if workstation is not None:
        query = query.where(iv.c.workstation == workstation)
    out = []
    for r in conn.execute(query):
        due = sampling.interval_due(r.parts_since, r.since, at, r.every_n_parts, r.every_minutes)
        out.append({
            "workstation": r.workstation, "work_order": r.work_order, "operation": r.operation, "plan": r.plan,
            "description": r.description, "due": due is not None, "reason": due.reason if due else None,
            "due_since": due.due_since.isoformat() if due and due.due_since else None,
            "parts_since": quantity_text(r.parts_since), "every_n_parts": r.every_n_parts,
            "minutes_since": round((at - r.since).total_seconds() / 60, 2), "every_minutes": r.every_minutes,
            "since": r.since.isoformat(), "samples": r.samples, "sample_size": r.sample_size or 1,
            "overdue_parts": quantity_text(r.overdue_parts), "flagged": r.flagged,
        })
    return out


def open_tasks(conn: Connection, kind: str | None = None, status: str | None = "open") -> list[dict[str, Any]]:
    t = T["inspection_tasks"].table
    query = select(t).order_by(t.c.opened_at, t.c.task)
    if status is not None:
        query = query.where(t.c.status == status)
    if kind is not None:
        query = query.where(t.c.kind == kind)
    return [_jsonable(dict(r._mapping)) for r in conn.execute(query)]


@router.get("/inspections/due", tags=["quality"],
            summary="In-process inspections per workstation (due or not, at the given time) and open incoming and "
                    "final inspections")
def get_due(request: Request, workstation: str | None = None,
            at: Moment | None = Query(None, description="judge at this time (default: now)"),
            _: User = Depends(current_user)) -> dict[str, Any]:
    if at is not None and at.tzinfo is None:
        raise HTTPException(422, {"code": "INVALID_TIME", "field": "at",
                                  "message": "at needs a time zone (e.g. 2026-11-25T06:00:00Z)"})
    when = (at or datetime.now(UTC)).astimezone(UTC)
    with _store(request).engine.connect() as conn:
        in_process = due_inspections(conn, when, workstation)
        tasks = open_tasks(conn)
    return {"at": when.isoformat(), "due": [x for x in in_process if x["due"]], "in_process": in_process,
            "open_tasks": tasks}


@router.get("/inspection-tasks", tags=["quality"], summary="Incoming and final inspection tasks and their verdicts")
def get_tasks(request: Request, kind: str | None = None, status: str | None = None,
              _: User = Depends(current_user)) -> dict[str, Any]:
    with _store(request).engine.connect() as conn:
        return {"inspection_tasks": open_tasks(conn, kind, status)}


@router.get("/inspection-plans", tags=["quality"], summary="Inspection plans (of an item, or for any item)")
def get_plans(request: Request, item: str | None = None, _: User = Depends(current_user)) -> dict[str, Any]:
    t = T["inspection_plans"].table
    query = select(t).order_by(t.c.plan).limit(1000)
    if item is not None:
        query = query.where((t.c.item == item) | t.c.item.is_(None))
    with _store(request).engine.connect() as conn:
        return {"inspection_plans": [_jsonable(dict(r._mapping)) for r in conn.execute(query)]}


@router.post("/oee/close", tags=["machines"], status_code=200, responses=ACTION_RESPONSES,
             summary="Record the OEE of every shift that ended (in the last two days) and was not closed yet")
async def close_shifts(request: Request) -> dict[str, Any]:
    await authorize(request, allowed_roles("supervisor", "service"))
    closed = await close_ended_shifts(request.app.state.service, request.app.state.store, site_config(request),
                                      datetime.now(UTC))
    return {"closed": closed}
