"""Maintenance over the API (reads): requests (``GET /api/v1/maintenance-requests``, one with its photos), and
preventive plans with where each stands by its use (``GET /api/v1/maintenance-plans``, the due and overdue ones at
``GET /api/v1/maintenance-plans/due``), judged at the request's time with edge.domain.maintenance. The commands are
takt.api.commands' (``/maintenance-requests/{request}/accept`` and the others)."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from sqlalchemy import Connection, select

from edge.domain.maintenance import plan_status
from edge.domain.model import MachineUsage, MaintenancePlan
from edge.store import schema
from edge.store.users import User
from takt.api.auth import current_user
from takt.api.contract import BEARER, READ_RESPONSES
from takt.api.models import Moment
from takt.api.reads import _jsonable, _not_found, _store, quantity_text

router = APIRouter(prefix="/api/v1", responses=READ_RESPONSES, dependencies=BEARER)  # takt.api.contract
T = schema.ENTITY_TABLES
RequestStatus = Literal["open", "accepted", "in_work", "closed", "active"]


def _request_row(row: dict[str, Any]) -> dict[str, Any]:
    out = _jsonable(row)
    out["parts"] = [dict(zip(("quantity", "item", "lot", "bin"), p.split("\t"), strict=True))
                    for p in row.get("parts") or ()]
    return out


def maintenance_requests(conn: Connection, status: str | None = None,
                         equipment: str | None = None) -> list[dict[str, Any]]:
    """Requests, newest first; ``active``: every one not closed."""
    t = T["maintenance_requests"].table
    query = select(t).order_by(t.c.raised_at.desc(), t.c.request.desc())
    if status == "active":
        query = query.where(t.c.status != "closed")
    elif status:
        query = query.where(t.c.status == status)
    if equipment:
        query = query.where(t.c.equipment == equipment)
    return [_request_row(dict(r._mapping)) for r in conn.execute(query)]


def plan_statuses(conn: Connection, at: datetime, equipment: str | None = None) -> list[dict[str, Any]]:
    """Every active plan with where it stands at ``at``: used, remaining, ok/due/overdue; most used first."""
    plans_t, usage_t = T["maintenance_plans"], T["machine_usage"]
    query = select(plans_t.table).where(plans_t.table.c.active.is_(True))
    if equipment:
        query = query.where(plans_t.table.c.equipment == equipment)
    plans: list[MaintenancePlan] = [plans_t.entity(r) for r in conn.execute(query)]
    usage: dict[str, MachineUsage] = {u.equipment: u for u in (usage_t.entity(r) for r in conn.execute(
        select(usage_t.table)))}
    out: list[dict[str, Any]] = []
    for p in plans:
        s = plan_status(p, usage.get(p.equipment), at)
        out.append({"plan": p.plan, "equipment": p.equipment, "description": p.description, "kind": p.kind,
                    "unit": s.unit, "interval": quantity_text(p.interval), "used": quantity_text(s.used),
                    "remaining": quantity_text(s.remaining), "status": s.status, "blocks_start": p.blocks_start,
                    "last_done_at": p.last_done_at.isoformat(), "share": float(s.used / p.interval)})
    out.sort(key=lambda x: (-x["share"], x["plan"]))
    return out


def _when(at: datetime | None) -> datetime:
    if at is not None and at.tzinfo is None:
        raise HTTPException(422, {"code": "INVALID_TIME", "field": "at",
                                  "message": "at needs a time zone (e.g. 2026-11-25T06:00:00Z)"})
    return (at or datetime.now(UTC)).astimezone(UTC)


@router.get("/maintenance-requests", tags=["maintenance"],
            summary="Maintenance requests, newest first (status active: every one not closed)")
def get_requests(request: Request, status: RequestStatus | None = None, equipment: str | None = None,
                 _: User = Depends(current_user)) -> dict[str, Any]:
    with _store(request).engine.connect() as conn:
        return {"maintenance_requests": maintenance_requests(conn, status, equipment)}


@router.get("/maintenance-requests/{maintenance_request}", tags=["maintenance"],
            summary="A maintenance request with the photos attached to it")
def get_request(request: Request, maintenance_request: str, _: User = Depends(current_user)) -> dict[str, Any]:
    t, photos = T["maintenance_requests"].table, schema.maintenance_photos
    with _store(request).engine.connect() as conn:
        found = [_request_row(dict(r._mapping)) for r in conn.execute(
            select(t).where(t.c.request == maintenance_request))]
        if not found:
            raise _not_found("maintenance request", "REQUEST", maintenance_request)
        found[0]["photos"] = [_jsonable(dict(r._mapping)) for r in conn.execute(
            select(photos.c.photo, photos.c.actor, photos.c.at).where(photos.c.request == maintenance_request)
            .order_by(photos.c.seq))]
    return found[0]


@router.get("/maintenance-plans", tags=["maintenance"],
            summary="Preventive maintenance plans and where each stands by its use (at the given time)")
def get_plans(request: Request, equipment: str | None = None,
              at: Moment | None = Query(None, description="judge at this time (default: now)"),
              _: User = Depends(current_user)) -> dict[str, Any]:
    when = _when(at)
    with _store(request).engine.connect() as conn:
        return {"at": when.isoformat(), "maintenance_plans": plan_statuses(conn, when, equipment)}


@router.get("/maintenance-plans/due", tags=["maintenance"],
            summary="The due and overdue preventive maintenance plans, most overdue first")
def get_due_plans(request: Request, equipment: str | None = None,
                  at: Moment | None = Query(None, description="judge at this time (default: now)"),
                  _: User = Depends(current_user)) -> dict[str, Any]:
    when = _when(at)
    with _store(request).engine.connect() as conn:
        plans = plan_statuses(conn, when, equipment)
    return {"at": when.isoformat(), "due": [p for p in plans if p["status"] == "due"],
            "overdue": [p for p in plans if p["status"] == "overdue"]}
